"""Pedestrian routing engine: graph building, snapping, avoidance and persistence."""

from __future__ import annotations

import math
from collections.abc import Set as AbstractSet
from pathlib import Path

import networkx as nx
import numpy as np
import osmium
import pytest
import shapely
from shapely.geometry import LineString, MultiPolygon, Point, Polygon

from backend.errors import ErrorCode
from backend.geo import haversine_m, haversine_m_array
from backend.hazards.demo import demo_hazard_zones
from backend.routing.demo import AIZU_WAKAMATSU_STATION, TSURUGA_CASTLE, build_demo_graph
from backend.routing.engine import RoutingEngine
from backend.routing.errors import (
    InvalidCoordinate,
    NoRoute,
    OutsideGraphArea,
    PointOffNetwork,
    RoutingError,
)
from backend.routing.graph import HIGHWAY_CLASSES, WalkGraph
from backend.routing.osm import build_walk_graph_from_pbf
from backend.routing.policy import highway_code
from tests.shared_data import require_shared

# Two street points in central Helsinki, ~1 km apart.
ORIGIN = (24.9384, 60.1699)
DESTINATION = (24.9500, 60.1750)


def circle(lon: float, lat: float, radius_m: float) -> Polygon:
    """A metric circle as a lon/lat polygon (lon stretched by 1/cos(lat))."""
    r_lat = math.degrees(radius_m / 6_371_008.8)
    disk = Point(0.0, 0.0).buffer(r_lat, quad_segs=32)
    stretched = shapely.affinity.scale(disk, xfact=1.0 / math.cos(math.radians(lat)), yfact=1.0)
    return shapely.affinity.translate(stretched, lon, lat)


def to_networkx(graph: WalkGraph, forbidden: AbstractSet[int] = frozenset()) -> nx.Graph:
    g = nx.Graph()
    for e, (a, b, length) in enumerate(
        zip(graph.u.tolist(), graph.v.tolist(), graph.length_m.tolist(), strict=True)
    ):
        if e not in forbidden:
            g.add_edge(a, b, length=length)
    return g


def node_point(graph: WalkGraph, node: int) -> tuple[float, float]:
    return float(graph.lon[node]), float(graph.lat[node])


def lon_lat_distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle metres between two (lon, lat) points, as the engine stores them."""
    return haversine_m(a[1], a[0], b[1], b[0])


def path_length_m(coords: list[tuple[float, float]]) -> float:
    arr = np.asarray(coords)
    return float(haversine_m_array(arr[:-1, 1], arr[:-1, 0], arr[1:, 1], arr[1:, 0]).sum())


def inside_m(coords: list[tuple[float, float]], polygon: Polygon) -> float:
    """Metres of a lon/lat polyline inside a polygon, segment by segment."""
    total = 0.0
    for a, b in zip(coords, coords[1:], strict=False):
        segment = LineString([a, b])
        if segment.length > 0:
            fraction = segment.intersection(polygon).length / segment.length
            total += fraction * lon_lat_distance_m(a, b)
    return total


@pytest.fixture(scope="module")
def helsinki_pbf() -> Path:
    return require_shared("osm", "Helsinki.osm.pbf")


@pytest.fixture(scope="module")
def helsinki(helsinki_pbf: Path) -> WalkGraph:
    return build_walk_graph_from_pbf(helsinki_pbf)


@pytest.fixture(scope="module")
def engine(helsinki: WalkGraph) -> RoutingEngine:
    return RoutingEngine(helsinki)


# ------------------------------------------------------------------ graph building


def test_helsinki_graph_is_plausible(helsinki: WalkGraph) -> None:
    assert 3_000 < helsinki.node_count < 20_000
    assert helsinki.node_count - 1 <= helsinki.edge_count < 3 * helsinki.node_count
    assert 50_000 < helsinki.total_length_m < 200_000
    assert helsinki.component_labels()[0] == 1
    assert (helsinki.u != helsinki.v).all()
    assert (helsinki.length_m > 0).all()
    # Distinct OSM nodes at one location (there is such a pair in the file) are merged.
    locations = np.column_stack((helsinki.lon, helsinki.lat))
    assert len(np.unique(locations, axis=0)) == helsinki.node_count
    min_lon, min_lat, max_lon, max_lat = helsinki.bbox
    assert 24.93 < min_lon < max_lon < 24.96 and 60.16 < min_lat < max_lat < 60.18
    # Edge length is the haversine distance of its endpoints.
    expected = haversine_m_array(
        helsinki.lat[helsinki.u],
        helsinki.lon[helsinki.u],
        helsinki.lat[helsinki.v],
        helsinki.lon[helsinki.v],
    )
    np.testing.assert_allclose(helsinki.length_m, expected)


def test_only_walkable_ways_are_kept(helsinki_pbf: Path, helsinki: WalkGraph) -> None:
    kept = set(helsinki.way_id.tolist())
    excluded, allowed = set(), set()
    for way in osmium.FileProcessor(helsinki_pbf, osmium.osm.WAY).with_filter(
        osmium.filter.KeyFilter("highway")
    ):
        (allowed if highway_code(way.tags) is not None else excluded).add(way.id)
    assert kept <= allowed
    assert not kept & excluded
    # The file has cycleways tagged foot=no, private service roads and pedestrian areas.
    assert len(excluded) > 100


def test_motorways_are_excluded() -> None:
    pbf = require_shared("osm", "test.osm.pbf")
    graph = build_walk_graph_from_pbf(pbf)
    motorways = {
        way.id
        for way in osmium.FileProcessor(pbf, osmium.osm.WAY).with_filter(
            osmium.filter.TagFilter(("highway", "motorway"), ("highway", "motorway_link"))
        )
    }
    assert len(motorways) == 15
    assert graph.edge_count > 1000
    assert not motorways & set(graph.way_id.tolist())
    assert "motorway" not in HIGHWAY_CLASSES


@pytest.mark.parametrize(
    ("tags", "walkable"),
    [
        ({"highway": "footway"}, True),
        ({"highway": "trunk"}, True),
        ({"highway": "motorway", "foot": "yes"}, False),
        ({"highway": "construction"}, False),
        ({"highway": "cycleway", "foot": "no"}, False),
        ({"highway": "service", "access": "private"}, False),
        ({"highway": "service", "access": "private", "foot": "yes"}, True),
        ({"highway": "pedestrian", "area": "yes"}, False),
        ({"highway": "trail"}, False),
        ({"highway": "trail", "foot": "designated"}, True),
        ({"building": "yes"}, False),
    ],
)
def test_tag_policy(tags: dict[str, str], walkable: bool) -> None:
    assert (highway_code(tags) is not None) is walkable


def test_largest_component_option(helsinki_pbf: Path, helsinki: WalkGraph) -> None:
    full = build_walk_graph_from_pbf(helsinki_pbf, largest_component=False)
    count, _ = full.component_labels()
    assert count > 1
    assert full.node_count > helsinki.node_count


def test_from_edges_drops_loops_and_duplicates() -> None:
    graph = WalkGraph.from_edges([0.0, 0.001, 0.002], [0.0, 0.0, 0.0], [0, 1, 0, 1], [1, 0, 0, 2])
    assert graph.edge_count == 2
    assert sorted(zip(graph.u.tolist(), graph.v.tolist(), strict=True)) == [(0, 1), (1, 2)]


# ------------------------------------------------------------------------ routing


def test_route_is_connected_and_measured(engine: RoutingEngine, helsinki: WalkGraph) -> None:
    route = engine.route(ORIGIN, DESTINATION, walking_speed_mps=1.25)
    assert route.safe and route.exposures == []
    assert route.coordinates[0] == ORIGIN and route.coordinates[-1] == DESTINATION
    edges = set(zip(helsinki.u.tolist(), helsinki.v.tolist(), strict=True))
    for a, b in zip(route.nodes, route.nodes[1:], strict=False):
        assert (a, b) in edges or (b, a) in edges
    line = route.as_linestring()
    assert line.is_valid and line.geom_type == "LineString"
    edge_sum = sum(
        lon_lat_distance_m(node_point(helsinki, a), node_point(helsinki, b))
        for a, b in zip(route.nodes, route.nodes[1:], strict=False)
    )
    # Origin -> its projection on the nearest edge -> along that edge to the first node ...
    # the last node -> along the last edge -> the projection -> the destination.
    ends = route.coordinates[:2], route.coordinates[-2:]
    assert path_length_m(ends[0]) == pytest.approx(route.origin_snap_m, abs=0.01)
    assert path_length_m(ends[1]) == pytest.approx(route.destination_snap_m, abs=0.01)
    partial = lon_lat_distance_m(route.coordinates[1], node_point(helsinki, route.nodes[0]))
    partial += lon_lat_distance_m(node_point(helsinki, route.nodes[-1]), route.coordinates[-2])
    assert route.distance_m == pytest.approx(
        edge_sum + partial + route.origin_snap_m + route.destination_snap_m, abs=1e-6
    )
    assert route.distance_m == pytest.approx(path_length_m(route.coordinates), abs=1e-6)
    assert route.distance_m >= lon_lat_distance_m(ORIGIN, DESTINATION)
    assert route.duration_s == pytest.approx(route.distance_m / 1.25)
    # Shortest: matches networkx on the same graph.
    best = nx.shortest_path_length(
        to_networkx(helsinki), route.nodes[0], route.nodes[-1], weight="length"
    )
    assert edge_sum == pytest.approx(best, abs=1e-6)


def test_avoid_polygon_gives_optimal_detour(engine: RoutingEngine, helsinki: WalkGraph) -> None:
    source = engine.snap(ORIGIN).node
    target = engine.snap(DESTINATION).node
    start, end = node_point(helsinki, source), node_point(helsinki, target)
    plain = engine.route(start, end)
    mid = plain.coordinates[len(plain.coordinates) // 2]
    hazard = circle(*mid, 60.0)
    assert plain.as_linestring().intersects(hazard)

    route = engine.route(start, end, avoid=[hazard])
    assert route.safe and route.exposures == []
    assert not route.as_linestring().intersects(hazard)
    assert route.distance_m > plain.distance_m

    # Independent optimum: networkx without every edge that intersects the polygon.
    forbidden = {
        e
        for e in range(helsinki.edge_count)
        if LineString(
            [node_point(helsinki, int(helsinki.u[e])), node_point(helsinki, int(helsinki.v[e]))]
        ).intersects(hazard)
    }
    best = nx.shortest_path_length(
        to_networkx(helsinki, forbidden), source, target, weight="length"
    )
    assert route.distance_m == pytest.approx(best, abs=1e-6)


def test_least_exposed_fallback_when_destination_enclosed(
    engine: RoutingEngine, helsinki: WalkGraph
) -> None:
    target = engine.snap(DESTINATION).node
    end = node_point(helsinki, target)
    hazard = circle(*end, 150.0)
    far = circle(ORIGIN[0] + 0.005, ORIGIN[1] - 0.003, 20.0)
    plain = engine.route(ORIGIN, end)

    route = engine.route(ORIGIN, end, avoid=[far, hazard])
    assert not route.safe
    assert [e.avoid_index for e in route.exposures] == [1]
    exposure = route.exposures[0].length_m
    assert exposure == pytest.approx(inside_m(route.coordinates, hazard), abs=1e-6)
    # Reaching the centre of a 150 m circle takes at least 150 m inside it, and the
    # least-exposed route is never more exposed than the plain shortest one.
    assert 150.0 * 0.99 <= exposure <= inside_m(plain.coordinates, hazard) + 1e-6
    assert route.as_linestring().intersects(hazard)


def test_origin_inside_polygon_still_routes(engine: RoutingEngine) -> None:
    hazard = circle(*ORIGIN, 80.0)
    route = engine.route(ORIGIN, DESTINATION, avoid=[hazard])
    assert not route.safe
    assert route.exposures[0].avoid_index == 0
    assert 80.0 * 0.99 <= route.exposures[0].length_m < 300.0


def test_never_safe_when_connector_crosses_polygon(engine: RoutingEngine) -> None:
    # A tiny polygon right on the straight connector from the point to its snapped node.
    snap = engine.snap(ORIGIN)
    node = node_point(engine.graph, snap.node)
    mid = ((ORIGIN[0] + node[0]) / 2, (ORIGIN[1] + node[1]) / 2)
    hazard = circle(*mid, 0.5)
    route = engine.route(ORIGIN, DESTINATION, avoid=[hazard])
    assert route.as_linestring().intersects(hazard)
    assert not route.safe and route.exposures[0].avoid_index == 0


def test_avoid_accepts_multipolygon_and_invalid_polygon(engine: RoutingEngine) -> None:
    plain = engine.route(ORIGIN, DESTINATION)
    mid = plain.coordinates[len(plain.coordinates) // 2]
    multi = MultiPolygon([circle(*mid, 40.0), circle(mid[0] + 0.01, mid[1], 10.0)])
    x, y = mid
    d = 0.0005
    bowtie = Polygon([(x - d, y - d), (x + d, y + d), (x + d, y - d), (x - d, y + d)])
    assert not bowtie.is_valid
    for hazard in (multi, bowtie):
        route = engine.route(ORIGIN, DESTINATION, avoid=[hazard])
        assert route.safe and not route.as_linestring().intersects(hazard)
    with pytest.raises(TypeError):
        engine.route(ORIGIN, DESTINATION, avoid=[Point(*mid)])  # type: ignore[list-item]


def test_same_point_route(engine: RoutingEngine) -> None:
    route = engine.route(ORIGIN, ORIGIN)
    assert route.distance_m == pytest.approx(2 * route.origin_snap_m)
    # Out to the nearest way and back: no node walked.
    assert route.nodes == [] and route.safe and len(route.edges) == 1


def test_distances_from_matches_routes(engine: RoutingEngine) -> None:
    candidates = [DESTINATION, (24.9450, 60.1670), (24.9420, 60.1760), (float("nan"), 60.17)]
    hazard = circle(*engine.route(ORIGIN, DESTINATION).coordinates[40], 50.0)
    for avoid in ([], [hazard]):
        distances = engine.distances_from(ORIGIN, candidates, avoid=avoid)
        assert distances[3] is None
        for point, distance in zip(candidates[:3], distances[:3], strict=True):
            assert distance == pytest.approx(engine.route(ORIGIN, point, avoid).distance_m)


def test_distances_from_inside_hazard_uses_least_exposed(engine: RoutingEngine) -> None:
    hazard = circle(*ORIGIN, 80.0)
    candidates = [DESTINATION, (24.9450, 60.1670)]
    distances = engine.distances_from(ORIGIN, candidates, avoid=[hazard])
    for point, distance in zip(candidates, distances, strict=True):
        assert distance == pytest.approx(engine.route(ORIGIN, point, [hazard]).distance_m)


# ------------------------------------------------------------------------- errors


def test_point_far_away_is_outside_area(engine: RoutingEngine) -> None:
    with pytest.raises(OutsideGraphArea) as info:
        engine.route((ORIGIN[0], ORIGIN[1] + 0.045), DESTINATION)  # 5 km north
    assert info.value.code == ErrorCode.OUTSIDE_ROUTING_AREA
    assert isinstance(info.value, RoutingError) and "outside" in str(info.value)


def test_point_off_network(engine: RoutingEngine) -> None:
    min_lon, min_lat, _, _ = engine.graph.bbox
    # Just inside the padded bbox, diagonally off its corner: >= 600 m from every node.
    point = (min_lon - 0.9 * 500 / 55_600, min_lat - 0.9 * 500 / 111_200)
    with pytest.raises(PointOffNetwork) as info:
        engine.route(point, DESTINATION)
    assert info.value.code == ErrorCode.POINT_OFF_NETWORK
    assert info.value.distance_m > 500
    # Five kilometres is fine when the engine allows snapping that far.
    lenient = RoutingEngine(engine.graph, max_snap_m=10_000)
    assert lenient.snap(point).distance_m == pytest.approx(info.value.distance_m)


@pytest.mark.parametrize(
    "point",
    [(float("nan"), 60.17), (24.94, float("inf")), (24.94, 91.0), (181.0, 60.17), (1.0,), "ab"],
)
def test_invalid_coordinates(engine: RoutingEngine, point: object) -> None:
    with pytest.raises(InvalidCoordinate) as info:
        engine.route(point, DESTINATION)  # type: ignore[arg-type]
    assert info.value.code == ErrorCode.INVALID_COORDINATE


def test_invalid_walking_speed(engine: RoutingEngine) -> None:
    with pytest.raises(ValueError):
        engine.route(ORIGIN, DESTINATION, walking_speed_mps=0)


def test_disconnected_points_give_no_route(helsinki_pbf: Path) -> None:
    full = build_walk_graph_from_pbf(helsinki_pbf, largest_component=False)
    engine = RoutingEngine(full)
    _, labels = full.component_labels()
    main = int(np.argmax(np.bincount(labels)))
    island = int(np.flatnonzero(labels != main)[0])
    mainland = int(np.flatnonzero(labels == main)[0])
    with pytest.raises(NoRoute) as info:
        engine.route(node_point(full, mainland), node_point(full, island))
    assert info.value.code == ErrorCode.NO_ROUTE
    distances = engine.distances_from(
        node_point(full, mainland), [node_point(full, island), node_point(full, mainland)]
    )
    assert distances == [None, 0.0]


# -------------------------------------------------------------------- persistence


def test_save_load_round_trip(helsinki: WalkGraph, tmp_path: Path) -> None:
    path = tmp_path / "helsinki.npz"
    helsinki.save(path)
    loaded = WalkGraph.load(path)
    fields = (
        "lon", "lat", "u", "v", "length_m", "highway", "way_id", "node_id", "flags", "incline",
        "conditional", "node_flags",
    )  # fmt: skip
    for field in fields:
        original, restored = getattr(helsinki, field), getattr(loaded, field)
        assert restored.dtype == original.dtype
        np.testing.assert_array_equal(restored, original)
    assert loaded.bbox == helsinki.bbox
    assert loaded.conditional_records == helsinki.conditional_records
    assert loaded.metadata == helsinki.metadata and "import" in loaded.metadata
    a = RoutingEngine(helsinki).route(ORIGIN, DESTINATION)
    b = RoutingEngine(loaded).route(ORIGIN, DESTINATION)
    assert a == b


def test_a_format_1_file_still_loads(helsinki: WalkGraph, tmp_path: Path) -> None:
    # A region imported before edge flags existed keeps working beside new ones: every edge
    # plain walkable, no barriers.
    path = tmp_path / "v1.npz"
    v1 = {
        name: getattr(helsinki, name)
        for name in ("lon", "lat", "u", "v", "length_m", "highway", "way_id", "node_id")
    }
    np.savez(path, format_version=np.int32(1), highway_classes=np.array(HIGHWAY_CLASSES), **v1)
    loaded = WalkGraph.load(path)
    assert loaded.edge_count == helsinki.edge_count
    assert not loaded.flags.any() and not loaded.node_flags.any()
    assert (loaded.conditional == -1).all() and loaded.metadata == {}
    route = RoutingEngine(loaded).route(ORIGIN, DESTINATION)
    assert route.safe and route.distance_m > 0


def test_load_rejects_other_versions(helsinki: WalkGraph, tmp_path: Path) -> None:
    path = tmp_path / "old.npz"
    np.savez(path, format_version=np.int32(999), lon=helsinki.lon)
    with pytest.raises(ValueError, match="version"):
        WalkGraph.load(path)
    np.savez(tmp_path / "other.npz", something=np.arange(3))
    with pytest.raises(ValueError, match="not a walk graph"):
        WalkGraph.load(tmp_path / "other.npz")


# --------------------------------------------------------------------------- demo


def test_demo_graph_routes_station_to_castle() -> None:
    graph = build_demo_graph()
    again = build_demo_graph()
    np.testing.assert_array_equal(graph.lon, again.lon)
    np.testing.assert_array_equal(graph.u, again.u)
    assert 1_000 < graph.node_count < 5_000
    assert graph.component_labels()[0] == 1
    min_lon, min_lat, max_lon, max_lat = graph.bbox
    assert min_lon < 139.906 and max_lon > 139.954 and min_lat < 37.476 and max_lat > 37.514

    engine = RoutingEngine(graph)
    route = engine.route(AIZU_WAKAMATSU_STATION, TSURUGA_CASTLE)
    crow = lon_lat_distance_m(AIZU_WAKAMATSU_STATION, TSURUGA_CASTLE)
    assert route.safe
    assert crow <= route.distance_m < 1.5 * crow
    assert route.coordinates[0] == AIZU_WAKAMATSU_STATION
    assert route.coordinates[-1] == TSURUGA_CASTLE


def test_engine_is_safe_to_share_across_threads() -> None:
    # The server runs searches in worker threads with hazard polygons that the hazard index
    # has prepared and shares; GEOS prepared geometries are not thread-safe, so the engine
    # must never use the caller's objects for its predicate queries (this crashed before).
    from concurrent.futures import ThreadPoolExecutor

    graph = build_demo_graph()
    engine = RoutingEngine(graph)
    zones = np.array([z.geometry for z in demo_hazard_zones()], dtype=object)
    shapely.prepare(zones)
    rng = np.random.default_rng(1)
    starts = rng.integers(0, graph.node_count, 120).tolist()
    targets = [node_point(graph, int(n)) for n in rng.integers(0, graph.node_count, 3)]

    def work(start: int) -> int:
        costs = engine.walk_costs_from(node_point(graph, start), targets, list(zones))
        route = engine.route(node_point(graph, start), targets[0], list(zones))
        return sum(c is not None for c in costs) + len(route.nodes)

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(work, starts))
    assert all(r > 0 for r in results)


def test_least_exposed_route_weighs_areas_by_severity() -> None:
    # A wall across the whole demo network: deep water (~90 m wide) in its northern half,
    # shallow water twice as wide in its southern half. Counting metres alike, the deep
    # crossing is the least exposed; weighing depth, the shallow one is.
    engine = RoutingEngine(build_demo_graph())
    deep = shapely.box(139.9295, 37.495, 139.9305, 37.52)
    shallow = shapely.box(139.9290, 37.47, 139.9310, 37.495)
    origin, destination = (139.920, 37.510), (139.940, 37.510)
    plain = engine.route(origin, destination, [deep, shallow])
    assert not plain.safe and [e.avoid_index for e in plain.exposures] == [0]
    weighted = engine.route(origin, destination, [deep, shallow], severities=[6.0, 1.0])
    assert not weighted.safe and [e.avoid_index for e in weighted.exposures] == [1]
    assert weighted.distance_m > plain.distance_m
    # The candidate ranking weighs the same way: exposure is severity x metres.
    (cost,) = engine.walk_costs_from(origin, [destination], [deep, shallow], [6.0, 1.0])
    assert cost is not None
    assert cost.exposure_m == pytest.approx(weighted.exposure_m, rel=0.05, abs=1.0)
    with pytest.raises(ValueError, match="severities"):
        engine.route(origin, destination, [deep, shallow], severities=[1.0])
