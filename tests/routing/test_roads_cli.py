"""`kizuna import roads` on the real Helsinki extract, then evacuationRoute on that graph."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pytest
from shapely.geometry import LineString, mapping, shape

from backend.auth.tokens import TokenVerifier
from backend.config import Settings
from backend.geo import haversine_m_array
from backend.routing.engine import RoutingEngine
from backend.routing.graph import WalkGraph
from backend.routing.osm import build_walk_graph_from_pbf
from tests.cli import cli_env, invoke, kizuna
from tests.conftest import GraphQLClient, RollbackDatabase, fresh_database_url, graphql_on
from tests.routing.test_api import ROUTE, circle
from tests.shared_data import require_shared

SUMMARY = re.compile(r"imported walk graph: (\d+) nodes, (\d+) edges, ([\d.]+) km of ways")
# Two street points in central Helsinki, ~1 km apart.
ORIGIN = {"latitude": 60.1699, "longitude": 24.9384}
DESTINATION = {"latitude": 60.1750, "longitude": 24.9500}


@pytest.fixture(scope="module")
def database(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A fresh database of the suite's kind for the commands, with the demo data in it."""
    url = asyncio.run(
        fresh_database_url(database_url, "roads", tmp_path_factory.mktemp("roads-db"))
    )
    seeded = invoke(cli_env(url, tmp_path_factory.mktemp("seed")), "seed-demo")
    assert seeded.exit_code == 0, seeded.output
    return url


@pytest.fixture(scope="module")
def helsinki_pbf() -> Path:
    return require_shared("osm", "Helsinki.osm.pbf")


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("roads")


@pytest.fixture(scope="module")
def imported(helsinki_pbf: Path, data_dir: Path, database: str) -> Iterator[Path]:
    """The graph file written by `kizuna import roads` into a fresh data directory."""
    code, output = kizuna(cli_env(database, data_dir), "import", "roads", str(helsinki_pbf))
    assert code == 0, output
    target = data_dir / "roads" / "walk-graph.npz"
    assert str(target) in output
    yield target


def test_import_roads_writes_the_graph_the_server_loads(helsinki_pbf: Path, imported: Path) -> None:
    reference = build_walk_graph_from_pbf(helsinki_pbf)
    loaded = WalkGraph.load(imported)
    assert (loaded.node_count, loaded.edge_count) == (reference.node_count, reference.edge_count)
    assert np.array_equal(loaded.u, reference.u) and np.allclose(loaded.lon, reference.lon)
    # The command reports what it wrote.
    elsewhere = imported.parent.parent / "again.npz"
    code, output = kizuna(
        {"KIZUNA_DATA_DIR": str(imported.parent.parent)},
        "import",
        "roads",
        str(helsinki_pbf),
        "--output",
        str(elsewhere),
    )
    assert code == 0, output
    assert "the server does not read this file" in output
    match = SUMMARY.search(output)
    assert match, output
    assert int(match[1]) == reference.node_count and int(match[2]) == reference.edge_count
    assert float(match[3]) == pytest.approx(reference.total_length_m / 1000, abs=0.05)


def test_import_roads_refuses_bad_files(tmp_path: Path) -> None:
    env = {"KIZUNA_DATA_DIR": str(tmp_path)}
    code, output = kizuna(env, "import", "roads", str(tmp_path / "missing.osm.pbf"))
    assert code == 1 and "no such file" in output
    garbage = tmp_path / "garbage.osm.pbf"
    garbage.write_bytes(b"\x00\x00\x00\x0fnot a protobuf blob header at all" * 10)
    code, output = kizuna(env, "import", "roads", str(garbage))
    assert code == 1 and "cannot read OpenStreetMap data" in output
    assert not (tmp_path / "roads").exists(), "a refused import writes nothing"


@pytest.fixture
async def helsinki_gql(
    settings: Settings, db: RollbackDatabase, verifier: TokenVerifier, imported: Path
) -> AsyncIterator[GraphQLClient]:
    async with graphql_on(settings, db, verifier, road_graph_path=imported) as gql:
        yield gql


async def route(gql: GraphQLClient, **input: Any) -> dict[str, Any]:
    body = await gql(ROUTE, {"input": input})
    result: dict[str, Any] = body["data"]["evacuationRoute"]
    return result


def networkx_optimum(graph: WalkGraph, origin: Any, destination: Any, avoid: Any) -> float:
    """Independent check: Dijkstra in networkx on the graph minus edges meeting the polygon."""
    engine = RoutingEngine(graph)
    o, d = engine.snap(origin), engine.snap(destination)
    g = nx.Graph()
    for u, v, length, lon_u, lat_u, lon_v, lat_v in zip(
        graph.u,
        graph.v,
        graph.length_m,
        graph.lon[graph.u],
        graph.lat[graph.u],
        graph.lon[graph.v],
        graph.lat[graph.v],
        strict=True,
    ):
        if not LineString([(lon_u, lat_u), (lon_v, lat_v)]).intersects(avoid):
            g.add_edge(int(u), int(v), weight=float(length))
    network = nx.dijkstra_path_length(g, o.node, d.node, weight="weight")
    return float(o.distance_m + network + d.distance_m)


async def test_helsinki_route_avoids_the_polygon_at_near_optimal_length(
    helsinki_gql: GraphQLClient, imported: Path
) -> None:
    plain = await route(helsinki_gql, **{"from": ORIGIN, "toPoint": DESTINATION})
    plain_line = shape(plain["path"])
    assert plain["safe"] is True
    assert 1000 < plain["distanceMeters"] < 1600
    # A 100 m danger spot across the middle of the shortest walk.
    middle = plain_line.interpolate(0.5, normalized=True)
    spot = circle(middle.x, middle.y, 100.0)
    detour = await route(
        helsinki_gql, **{"from": ORIGIN, "toPoint": DESTINATION, "avoid": [mapping(spot)]}
    )
    detour_line = shape(detour["path"])
    assert detour["safe"] is True and detour["crossings"] == []
    assert not detour_line.intersects(spot)
    # As short as possible: equal (within 1 %) to networkx on the same graph without the
    # edges meeting the spot, and longer than the unconstrained walk.
    graph = WalkGraph.load(imported)
    optimum = networkx_optimum(
        graph,
        (ORIGIN["longitude"], ORIGIN["latitude"]),
        (DESTINATION["longitude"], DESTINATION["latitude"]),
        spot,
    )
    assert detour["distanceMeters"] <= optimum * 1.01
    assert detour["distanceMeters"] >= optimum * 0.99
    assert detour["distanceMeters"] > plain["distanceMeters"]


async def test_helsinki_far_from_any_path_is_point_off_network(
    settings: Settings, db: RollbackDatabase, verifier: TokenVerifier, imported: Path
) -> None:
    graph = WalkGraph.load(imported)
    # The grid point of the graph's box that lies farthest from any walkable node.
    min_lon, min_lat, max_lon, max_lat = graph.bbox
    best, best_m = None, 0.0
    for lon in np.linspace(min_lon, max_lon, 40):
        for lat in np.linspace(min_lat, max_lat, 40):
            nearest = float(haversine_m_array(lat, lon, graph.lat, graph.lon).min())
            if nearest > best_m:
                best, best_m = (float(lon), float(lat)), nearest
    assert best is not None and best_m > 60, best_m
    async with graphql_on(
        settings, db, verifier, road_graph_path=imported, route_max_snap_m=50.0
    ) as gql:
        off = await route(
            gql, **{"from": ORIGIN, "toPoint": {"latitude": best[1], "longitude": best[0]}}
        )
        assert (off["code"], off["field"]) == ("POINT_OFF_NETWORK", "toPoint")
        # The distance to the nearest way, which is at most the distance to its nearest node.
        said = re.fullmatch(r"nearest walkable path is (\d+) m away \(limit 50 m\)", off["message"])
        assert said is not None and 50 < int(said.group(1)) <= round(best_m)


async def test_no_designated_shelter_near_helsinki(helsinki_gql: GraphQLClient) -> None:
    # Shelters are Japanese; from Helsinki there is none within the search radius.
    result = await route(helsinki_gql, **{"from": ORIGIN, "hazardType": "FLOOD"})
    assert result["code"] == "NO_SHELTER"


# ---------------------------------------------------------------- regions side by side

AIZU_STATION = {"latitude": 37.5078, "longitude": 139.9335}  # on the demo network only
SHIBUYA_STATION = {"latitude": 35.6580, "longitude": 139.7016}
SHIBUYA_NORTH = {"latitude": 35.6650, "longitude": 139.6980}
AIZU_DEMO_TRIP = {"from": AIZU_STATION, "toPoint": {"latitude": 37.4876, "longitude": 139.9298}}


async def run(env: dict[str, str], *args: str):  # type: ignore[no-untyped-def]
    """The command in a worker thread: it runs its own event loop, as from a shell."""
    return await asyncio.to_thread(invoke, env, *args)


async def run_code(env: dict[str, str], *args: str) -> tuple[int, str]:
    result = await run(env, *args)
    return result.exit_code, result.output


async def install(env: dict[str, str], path: Path, region: str) -> str:
    """`kizuna import roads PATH --region REGION`, which must succeed; its output."""
    code, output = await run_code(env, "import", "roads", str(path), "--region", region)
    assert code == 0, output
    return output


def demo_counts() -> tuple[int, int, int]:
    """Shelters, places the demo data stores, and those of them on the (Aizu) demo network."""
    from backend.demo import DEMO_NEIGHBOURS, DEMO_RESIDENTS
    from backend.portal.demo import DEMO_PORTAL_RESIDENTS
    from backend.shelters.demo import demo_shelter_records

    # every neighbour has one place, their home; the portal's residents also live in 郡山市
    places = sum(len(r[-1]) for r in DEMO_RESIDENTS) + len(DEMO_NEIGHBOURS)
    portal = [p[4] for r in DEMO_PORTAL_RESIDENTS for p in r[-1]]
    in_aizu = sum(1 for address in portal if "会津若松市" in address)
    return len(demo_shelter_records()), places + len(portal), places + in_aizu


def ends_of(path: Path) -> dict[str, Any]:
    """A trip between the two nodes of a graph file that lie farthest apart north-south."""
    graph = WalkGraph.load(path)
    south, north = int(np.argmin(graph.lat)), int(np.argmax(graph.lat))
    return {
        "from": {"latitude": graph.lat[south], "longitude": graph.lon[south]},
        "toPoint": {"latitude": graph.lat[north], "longitude": graph.lon[north]},
    }


@pytest.fixture
async def server(
    settings: Settings, db: RollbackDatabase, verifier: TokenVerifier, tmp_path: Path
) -> AsyncIterator[tuple[GraphQLClient, Path]]:
    """A development server reading <tmp data dir>/roads, and that data directory."""
    async with graphql_on(settings, db, verifier, data_dir=tmp_path) as gql:
        yield gql, tmp_path


async def test_replacing_the_demo_network_warns_with_numbers_and_going_back_works(
    server: tuple[GraphQLClient, Path], database: str, helsinki_pbf: Path
) -> None:
    gql, data_dir = server
    env = cli_env(database, data_dir)
    shelters, places, reached = demo_counts()
    # given a development server on the demo network, where Aizu routes work
    assert (await route(gql, **AIZU_DEMO_TRIP))["__typename"] == "EvacuationRoute"
    # when the Helsinki extract is imported as today, with no region named
    result = await run(env, "import", "roads", str(helsinki_pbf))
    # then it is installed, with a warning that counts what routes no longer reach
    assert result.exit_code == 0, result.output
    assert "(region walk-graph)" in result.stdout
    assert (
        f"all regions together reach 0 of {shelters} shelters and 0 of {places} places "
        f"(before: {shelters} of {shelters} shelters and {reached} of {places} places)"
    ) in result.stdout
    assert "no longer routes on the demo network" in result.stderr
    assert (
        f"warning: {shelters} shelters and {reached} places that routes reached before are "
        "outside every walk graph now"
    ) in result.stderr
    assert f"07202 会津若松市: {shelters} shelters" in result.stderr
    assert "to go back: kizuna roads remove walk-graph" in result.stderr
    # and the running server routes on Helsinki from its next request: Aizu is outside
    outside = await route(gql, **AIZU_DEMO_TRIP)
    assert (outside["code"], outside["field"]) == ("OUTSIDE_ROUTING_AREA", "from")
    helsinki = await route(gql, **{"from": ORIGIN, "toPoint": DESTINATION})
    assert helsinki["__typename"] == "EvacuationRoute"
    # when the operator goes back as told
    result = await run(env, "roads", "remove", "walk-graph")
    # then the demo network serves again, reaching every stored shelter and place
    assert result.exit_code == 0, result.output
    assert "no walk graph left: development routes on the demo network" in result.stdout
    assert f"reach {shelters} of {shelters} shelters and {reached} of {places} places" in (
        result.stdout
    )
    assert (await route(gql, **AIZU_DEMO_TRIP))["__typename"] == "EvacuationRoute"


async def test_two_regions_route_side_by_side_in_one_server(
    server: tuple[GraphQLClient, Path], database: str
) -> None:
    gql, data_dir = server
    env = cli_env(database, data_dir)
    shibuya = require_shared("osm", "shibuya.osm.pbf")
    aizu_streets = require_shared("osm", "street-in-aizu.osm")
    # given Tokyo (PBF) and a few real Aizu streets (OSM XML) imported as two regions
    for region, path in (("tokyo", shibuya), ("aizu", aizu_streets)):
        output = await install(env, path, region)
        assert f"-> {data_dir / 'roads' / region}.npz (region {region})" in output
    code, output = await run_code(env, "roads", "list")
    assert code == 0
    assert re.search(r"^aizu: \d+ nodes", output, re.M) and re.search(r"^tokyo: ", output, re.M)
    # when the same server plans a route in each
    tokyo = await route(gql, **{"from": SHIBUYA_STATION, "toPoint": SHIBUYA_NORTH})
    aizu_trip = ends_of(data_dir / "roads" / "aizu.npz")
    aizu = await route(gql, **aizu_trip)
    # then each walks on its own region's streets
    assert tokyo["__typename"] == aizu["__typename"] == "EvacuationRoute"
    assert 800 < tokyo["distanceMeters"] < 2000
    assert min(c[1] for c in shape(tokyo["path"]).coords) > 35.65
    assert 1000 < aizu["distanceMeters"] < 1500  # the extract's street is ~1.1 km long
    assert shape(aizu["path"]).bounds[0] > 139.9
    # and a walk from one region to the other is outside the origin's network
    across = await route(gql, **{"from": SHIBUYA_STATION, "toPoint": aizu_trip["toPoint"]})
    assert (across["code"], across["field"]) == ("OUTSIDE_ROUTING_AREA", "toPoint")
    # and the demo network is not used while graphs are installed
    demo_only = await route(gql, **AIZU_DEMO_TRIP)
    assert (demo_only["code"], demo_only["field"]) == ("OUTSIDE_ROUTING_AREA", "from")


async def test_a_running_server_follows_added_replaced_and_removed_regions(
    server: tuple[GraphQLClient, Path], database: str, helsinki_pbf: Path
) -> None:
    gql, data_dir = server
    env = cli_env(database, data_dir)
    kotka = require_shared("osm", "test.osm.pbf")
    await install(env, require_shared("osm", "shibuya.osm.pbf"), "tokyo")
    helsinki_trip = {"from": ORIGIN, "toPoint": DESTINATION}
    assert (await route(gql, **helsinki_trip))["code"] == "OUTSIDE_ROUTING_AREA"
    # a region added while the server runs is used on its next request
    await install(env, helsinki_pbf, "finland")
    assert (await route(gql, **helsinki_trip))["__typename"] == "EvacuationRoute"
    # a region replaced by another extract: the new streets, not the old
    await install(env, kotka, "finland")
    assert (await route(gql, **helsinki_trip))["code"] == "OUTSIDE_ROUTING_AREA"
    kotka_trip = ends_of(data_dir / "roads" / "finland.npz")
    assert (await route(gql, **kotka_trip))["__typename"] == "EvacuationRoute"
    # a removed region is gone from the next request; the others stay
    code, output = await run_code(env, "roads", "remove", "finland")
    assert code == 0 and "regions served: tokyo" in output
    assert (await route(gql, **kotka_trip))["code"] == "OUTSIDE_ROUTING_AREA"
    tokyo = await route(gql, **{"from": SHIBUYA_STATION, "toPoint": SHIBUYA_NORTH})
    assert tokyo["__typename"] == "EvacuationRoute"


async def test_a_broken_region_file_leaves_the_other_regions_working(
    server: tuple[GraphQLClient, Path], database: str
) -> None:
    gql, data_dir = server
    env = cli_env(database, data_dir)
    await install(env, require_shared("osm", "shibuya.osm.pbf"), "tokyo")
    (data_dir / "roads" / "broken.npz").write_bytes(b"not a graph")
    # Tokyo still routes; a point no loaded region reaches says which file is broken
    tokyo = await route(gql, **{"from": SHIBUYA_STATION, "toPoint": SHIBUYA_NORTH})
    assert tokyo["__typename"] == "EvacuationRoute"
    elsewhere = await route(gql, **{"from": ORIGIN, "toPoint": DESTINATION})
    assert elsewhere["code"] == "ROUTING_UNAVAILABLE" and "broken.npz" in elsewhere["message"]
    result = await run(env, "roads", "list")
    assert result.exit_code == 0 and "warning: cannot load broken.npz" in result.stderr


def test_region_options_are_checked(database: str, tmp_path: Path) -> None:
    env = cli_env(database, tmp_path)
    shibuya = str(require_shared("osm", "shibuya.osm.pbf"))
    code, output = kizuna(env, "import", "roads", shibuya, "--region", "Tokyo Bay")
    assert code == 1 and "invalid region name 'Tokyo Bay'" in output
    code, output = kizuna(
        env, "import", "roads", shibuya, "--region", "tokyo", "--output", str(tmp_path / "x.npz")
    )
    assert code == 1 and "cannot be combined with --output" in output
    assert not (tmp_path / "roads").exists() and not (tmp_path / "x.npz").exists()
    code, output = kizuna(env, "roads", "remove", "tokyo")
    assert code == 1 and "no region 'tokyo'" in output and "(installed: none)" in output
    pinned = {**env, "KIZUNA_ROAD_GRAPH_PATH": str(tmp_path / "one.npz")}
    code, output = kizuna(pinned, "import", "roads", shibuya, "--region", "tokyo")
    assert code == 1 and "KIZUNA_ROAD_GRAPH_PATH" in output
    code, output = kizuna(pinned, "roads", "remove", "one")
    assert code == 1 and "KIZUNA_ROAD_GRAPH_PATH" in output
