"""Routes on a real Japanese street network (渋谷区, ../shared/data/osm/shibuya.osm.pbf).

What the walk graph lets a person walk is checked against the file itself: the test reads the
raw OSM tags with pyosmium (its own reading, not the import's policy code) and asserts that
routes planned through the GraphQL API never walk what the policy closes — steps and
escalators for STEP_FREE, closed ticket gates, road tunnels without a pedestrian right,
carriageways whose sidewalks are separate ways, ways closed at the request's hour.
"""

from __future__ import annotations

import math
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import osmium
import pytest
import shapely
from shapely.geometry import mapping

from backend.auth.tokens import TokenVerifier
from backend.config import Settings
from backend.routing import policy
from backend.routing.engine import Profile, RoutingEngine, SearchOptions
from backend.routing.errors import NoRoute, PointOffNetwork
from backend.routing.graph import WalkGraph
from backend.routing.osm import import_walk_graph
from tests.cli import cli_env, kizuna
from tests.conftest import GraphQLClient, RollbackDatabase, graphql_on
from tests.routing.test_api import circle, route
from tests.shared_data import require_shared

Segment = tuple[tuple[int, int], tuple[int, int]]
CAR_ROADS = {
    "trunk", "trunk_link", "primary", "primary_link", "secondary", "secondary_link", "tertiary",
    "tertiary_link", "unclassified",
}  # fmt: skip
PAIRS = 60


def key(lon: float, lat: float) -> tuple[int, int]:
    """A coordinate as OSM's fixed-point integers (routes echo node coordinates exactly)."""
    return round(lon * 1e7), round(lat * 1e7)


def segment(a: tuple[int, int], b: tuple[int, int]) -> Segment:
    return (a, b) if a <= b else (b, a)


@dataclass
class Truth:
    """What the raw file says, read independently of the import."""

    ways: dict[int, dict[str, str]] = field(default_factory=dict)
    way_segments: dict[int, set[Segment]] = field(default_factory=dict)
    gates: set[tuple[int, int]] = field(default_factory=set)
    street_nodes: list[tuple[float, float]] = field(default_factory=list)

    def segments(self, predicate: Any) -> set[Segment]:
        found: set[Segment] = set()
        for way_id, tags in self.ways.items():
            if predicate(tags):
                found |= self.way_segments[way_id]
        return found


@pytest.fixture(scope="module")
def shibuya_pbf() -> Path:
    return require_shared("osm", "shibuya.osm.pbf")


@pytest.fixture(scope="module")
def truth(shibuya_pbf: Path) -> Truth:
    found = Truth()
    processor = osmium.FileProcessor(str(shibuya_pbf), osmium.osm.NODE | osmium.osm.WAY)
    for entity in processor.with_locations():
        if isinstance(entity, osmium.osm.Node):
            barrier = entity.tags.get("barrier")
            # Ticket gates, and gates where a fee is paid (a station's fare gate line).
            if barrier == "turnstile" or (barrier and entity.tags.get("fee") == "yes"):
                found.gates.add(key(entity.location.lon, entity.location.lat))
            continue
        if not isinstance(entity, osmium.osm.Way) or "highway" not in entity.tags:
            continue
        tags = dict(entity.tags)
        points = [key(n.location.lon, n.location.lat) for n in entity.nodes if n.location.valid()]
        found.ways[entity.id] = tags
        found.way_segments[entity.id] = {
            segment(a, b) for a, b in zip(points, points[1:], strict=False) if a != b
        }
        outdoors = not any(k in tags for k in ("level", "indoor", "tunnel", "bridge", "layer"))
        if tags["highway"] in ("residential", "footway", "pedestrian", "unclassified") and outdoors:
            found.street_nodes += [(p[0] / 1e7, p[1] / 1e7) for p in points]
    return found


@pytest.fixture(scope="module")
def data_dir(
    tmp_path_factory: pytest.TempPathFactory, shibuya_pbf: Path, database_url: str
) -> Path:
    """A data directory where `kizuna import roads --region shibuya` installed the graph."""
    directory = tmp_path_factory.mktemp("shibuya")
    env = cli_env(database_url, directory)
    code, output = kizuna(env, "import", "roads", str(shibuya_pbf), "--region", "shibuya")
    assert code == 0, output
    assert "ways left out by the tag policy:" in output
    assert "road_tunnel:" in output and "sidewalk_separate:" in output
    assert "islands dropped:" in output and "walkable area: lon 139.69" in output
    return directory


@pytest.fixture(scope="module")
def graph(data_dir: Path) -> WalkGraph:
    return WalkGraph.load(data_dir / "roads" / "shibuya.npz")


@pytest.fixture
async def gql(
    settings: Settings, db: RollbackDatabase, verifier: TokenVerifier, data_dir: Path
) -> AsyncIterator[GraphQLClient]:
    async with graphql_on(settings, db, verifier, data_dir=data_dir) as client:
        yield client


@pytest.fixture(scope="module")
def pairs(truth: Truth) -> list[tuple[dict[str, float], dict[str, float]]]:
    """Street-level origin/destination pairs 300 m to 1.5 km apart (seeded)."""
    rng = random.Random(20261201)
    nodes = truth.street_nodes
    found: list[tuple[dict[str, float], dict[str, float]]] = []
    while len(found) < PAIRS:
        (lon1, lat1), (lon2, lat2) = rng.choice(nodes), rng.choice(nodes)
        metres = math.hypot((lon2 - lon1) * 90_500, (lat2 - lat1) * 111_000)
        if 300 < metres < 1500:
            # A few metres off the node, as a phone's position would be.
            found.append(
                (
                    {"longitude": lon1 + 0.00003, "latitude": lat1 + 0.00002},
                    {"longitude": lon2 - 0.00002, "latitude": lat2 + 0.00003},
                )
            )
    return found


def walked(result: dict[str, Any]) -> tuple[set[Segment], set[tuple[int, int]]]:
    """The segments and points of a route's path, as fixed-point coordinates."""
    assert result["__typename"] == "EvacuationRoute", result
    points = [key(lon, lat) for lon, lat in result["path"]["coordinates"]]
    return {segment(a, b) for a, b in zip(points, points[1:], strict=False)}, set(points)


async def routes(
    gql: GraphQLClient, pairs: list[tuple[dict[str, float], dict[str, float]]], **extra: Any
) -> list[dict[str, Any]]:
    found = []
    for origin, destination in pairs:
        found.append(await route(gql, **{"from": origin, "toPoint": destination, **extra}))
    return found


# --------------------------------------------------------------------- the tag policy


def is_steps(tags: dict[str, str]) -> bool:
    return tags["highway"] == "steps" and tags.get("conveying") in (None, "no")


def is_escalator(tags: dict[str, str]) -> bool:
    return tags.get("conveying") not in (None, "no") and tags["highway"] != "footway"


def is_car_tunnel(tags: dict[str, str]) -> bool:
    sidewalk = {tags.get(k) for k in policy.SIDEWALK_KEYS}
    return (
        tags["highway"] in CAR_ROADS
        and tags.get("tunnel") == "yes"
        and tags.get("foot") not in ("yes", "designated", "permissive")
        and not sidewalk & {"yes", "both", "left", "right"}
    )


def has_separate_sidewalks(tags: dict[str, str]) -> bool:
    return tags.get("sidewalk:both") == "separate" or tags.get("sidewalk") == "separate"


RULE_EXAMPLES = {
    # rule -> the test's own reading of the tags it is about
    "highway_class": lambda t: t["highway"] in ("motorway", "motorway_link"),
    "area": lambda t: t.get("area") == "yes",
    "foot_denied": lambda t: t.get("foot") == "no" and "foot:conditional" not in t,
    "road_tunnel": is_car_tunnel,
    "sidewalk_separate": lambda t: has_separate_sidewalks(t) and "foot" not in t,
    "not_walkable": lambda t: t["highway"] == "yes",
}


@pytest.mark.parametrize("rule", sorted(RULE_EXAMPLES))
def test_each_exclusion_rule_leaves_its_real_ways_out(
    rule: str, truth: Truth, graph: WalkGraph
) -> None:
    examples = [w for w, tags in truth.ways.items() if RULE_EXAMPLES[rule](tags)]
    assert examples, f"the Shibuya file has ways {rule} is about"
    for way_id in examples:
        rule_found = policy.excluding_rule(truth.ways[way_id])
        assert rule_found is not None, (way_id, truth.ways[way_id])
    assert {policy.excluding_rule(truth.ways[w]).code for w in examples} >= {rule}  # type: ignore[union-attr]
    assert not np.isin(graph.way_id, examples).any(), "no edge of an excluded way is in the graph"
    report = graph.metadata["import"]["excluded"]
    assert report[rule][0] >= sum(
        1
        for w in examples
        if policy.excluding_rule(truth.ways[w]).code == rule  # type: ignore[union-attr]
    )


def test_kept_ways_carry_the_flags_profiles_read(truth: Truth, graph: WalkGraph) -> None:
    def flags_of(predicate: Any) -> tuple[np.ndarray, np.ndarray]:
        ways = [w for w, tags in truth.ways.items() if predicate(tags)]
        edges = np.isin(graph.way_id, ways)
        assert edges.any(), "the file has such ways in the graph"
        return graph.flags[edges], graph.way_id[edges]

    steps, _ = flags_of(is_steps)
    assert ((steps & policy.STEPS) > 0).all()
    escalators, _ = flags_of(is_escalator)
    assert ((escalators & policy.ESCALATOR) > 0).all()
    directed, _ = flags_of(lambda t: is_escalator(t) and t.get("conveying") == "forward")
    assert ((directed & policy.FORWARD_ONLY) > 0).all()
    elevators, _ = flags_of(lambda t: t["highway"] == "elevator")
    assert ((elevators & policy.ELEVATOR) > 0).all()
    indoor, _ = flags_of(lambda t: t.get("indoor") == "yes")
    assert ((indoor & policy.OFF_STREET_LEVEL) > 0).all()
    # oneway binds cars, not people: one-way streets carry no direction for walkers.
    oneway, _ = flags_of(lambda t: t.get("oneway") == "yes" and "oneway:foot" not in t)
    assert not (oneway & (policy.FORWARD_ONLY | policy.BACKWARD_ONLY)).any()
    gate_nodes = {key(lon, lat) for lon, lat in zip(graph.lon, graph.lat, strict=True)}
    gated = (graph.node_flags & policy.TICKET_GATE) > 0
    flagged = {key(lon, lat) for lon, lat in zip(graph.lon[gated], graph.lat[gated], strict=True)}
    assert flagged == truth.gates & gate_nodes and flagged


# ------------------------------------------------------------------- routes on the API


async def test_step_free_routes_use_no_steps_or_escalators(
    gql: GraphQLClient, truth: Truth, pairs: list[Any]
) -> None:
    steps = truth.segments(lambda t: t["highway"] == "steps")
    escalators = truth.segments(is_escalator)
    walk = await routes(gql, pairs, profile="WALK")
    step_free = await routes(gql, pairs, profile="STEP_FREE")
    walks_with_steps = 0
    for walked_on_foot, rolled in zip(walk, step_free, strict=True):
        on_foot, _ = walked(walked_on_foot)
        walks_with_steps += bool(on_foot & steps)
        if rolled["__typename"] == "RouteError":
            assert rolled["code"] == "NO_ROUTE", rolled  # e.g. a platform only stairs reach
            continue
        segments, _ = walked(rolled)
        assert not segments & steps, "a STEP_FREE route walks steps"
        assert not segments & escalators, "a STEP_FREE route rides an escalator"
        assert rolled["profile"] == "STEP_FREE"
        assert rolled["stepsUsed"] == rolled["escalatorsUsed"] == 0
    # The pairs do exercise the rule: on foot, some of these walks take stairs.
    assert walks_with_steps >= 3, walks_with_steps
    # Counted by the server too (also when a walk starts part-way along a stairway).
    assert sum(r["stepsUsed"] > 0 for r in walk) >= walks_with_steps


async def test_no_route_walks_a_closed_gate_a_car_tunnel_or_a_separated_carriageway(
    gql: GraphQLClient, truth: Truth, pairs: list[Any]
) -> None:
    tunnels = truth.segments(is_car_tunnel)
    carriageways = truth.segments(lambda t: has_separate_sidewalks(t) and "foot" not in t)
    assert tunnels and carriageways and truth.gates
    for result in await routes(gql, pairs, profile="WALK"):
        segments, points = walked(result)
        assert not points & truth.gates, "a route passes a closed ticket gate"
        assert result["ticketGatesPassed"] == 0
        assert not segments & tunnels, "a route walks a road tunnel without pedestrian right"
        assert not segments & carriageways, "a route walks a carriageway with separate sidewalks"


async def test_conditional_access_follows_the_request_time(
    gql: GraphQLClient, truth: Truth, graph: WalkGraph
) -> None:
    # A link closed to everyone 08:00-20:00 (access:conditional=no @ (08:00-20:00)).
    (way_id,) = [
        w for w, t in truth.ways.items() if t.get("access:conditional") == "no @ (08:00-20:00)"
    ]
    closed_link = truth.way_segments[way_id]
    ends = sorted({p for s in closed_link for p in s})
    a, b = ends[0], ends[-1]
    origin = {"longitude": a[0] / 1e7, "latitude": a[1] / 1e7}
    destination = {"longitude": b[0] / 1e7, "latitude": b[1] / 1e7}
    night = await route(
        gql, **{"from": origin, "toPoint": destination, "departAt": "2026-12-01T22:30:00+09:00"}
    )
    day = await route(
        gql, **{"from": origin, "toPoint": destination, "departAt": "2026-12-01T10:00:00+09:00"}
    )
    assert walked(night)[0] & closed_link, "at night the open link is the way"
    assert not walked(day)[0] & closed_link, "by day the closed link is not walked"
    assert day["distanceMeters"] > night["distanceMeters"]
    assert night["departAt"].startswith("2026-12-01T22:30:00")
    # Without an offset the time is Japan time: 10:00 in Tokyo is closed.
    naive = await route(
        gql, **{"from": origin, "toPoint": destination, "departAt": "2026-12-01T10:00:00"}
    )
    assert naive["distanceMeters"] == pytest.approx(day["distanceMeters"])


async def test_snapping_projects_onto_the_street_and_reports_the_distance(
    gql: GraphQLClient, graph: WalkGraph
) -> None:
    # A point over an indoor or underground way with a street-level way a few metres away:
    # the walk starts on the street.
    engine = RoutingEngine(graph)
    off_street = np.flatnonzero((graph.flags & policy.OFF_STREET_LEVEL) > 0)
    rng = np.random.default_rng(7)
    chosen = None
    for edge in rng.permutation(off_street)[:400]:
        lon = float(graph.lon[graph.u[edge]] + graph.lon[graph.v[edge]]) / 2
        lat = float(graph.lat[graph.u[edge]] + graph.lat[graph.v[edge]]) / 2
        snap = engine.snap((lon, lat))
        if snap.street_level and 3 < snap.distance_m < 30:
            chosen = (lon, lat, snap)
            break
    assert chosen is not None, "the file has off-street ways under streets"
    lon, lat, snap = chosen
    far = {"longitude": 139.7005, "latitude": 35.6600}
    result = await route(gql, **{"from": {"longitude": lon, "latitude": lat}, "toPoint": far})
    assert result["__typename"] == "EvacuationRoute", result
    assert result["originStreetLevel"] is True
    assert result["originSnapMeters"] == pytest.approx(snap.distance_m, abs=0.01)
    # The walk starts at a point on a street-level way (the projection), not at a node.
    start = result["path"]["coordinates"][1]
    street = (graph.flags & policy.OFF_STREET_LEVEL) == 0
    lines = graph.edge_lines()[street]
    assert shapely.distance(lines, shapely.points(*start)).min() < 1e-7
    first_leg = math.hypot((start[0] - lon) * 90_500, (start[1] - lat) * 110_950)
    assert first_leg == pytest.approx(snap.distance_m, rel=0.02)


async def test_a_point_beyond_the_snapping_distance_is_refused(
    settings: Settings,
    db: RollbackDatabase,
    verifier: TokenVerifier,
    data_dir: Path,
    graph: WalkGraph,
) -> None:
    # A point of the area more than 20 m from every way (a park's lawn, a block's inside).
    strict_engine = RoutingEngine(graph, max_snap_m=20.0)
    off_network = None
    min_lon, min_lat, max_lon, max_lat = graph.bbox
    for lon in np.linspace(min_lon + 0.002, max_lon - 0.002, 30):
        for lat in np.linspace(min_lat + 0.002, max_lat - 0.002, 30):
            try:
                strict_engine.snap((float(lon), float(lat)))
            except PointOffNetwork:
                off_network = {"longitude": float(lon), "latitude": float(lat)}
                break
        if off_network:
            break
    assert off_network is not None
    async with graphql_on(settings, db, verifier, data_dir=data_dir, route_max_snap_m=20.0) as gql:
        result = await route(
            gql, **{"from": off_network, "toPoint": {"longitude": 139.7005, "latitude": 35.6600}}
        )
    assert result["__typename"] == "RouteError", result
    assert (result["code"], result["field"]) == ("POINT_OFF_NETWORK", "from")
    assert "limit 20 m" in result["message"]


async def test_bad_profile_or_time_is_a_typed_error(gql: GraphQLClient) -> None:
    body = await gql(
        "query { evacuationRoute(input: {from: {latitude: 35.66, longitude: 139.70}, "
        "toPoint: {latitude: 35.661, longitude: 139.701}, profile: CRAWL}) { __typename } }",
        expect_errors=True,
    )
    assert body["errors"] and body.get("data") is None
    body = await gql(
        "query { evacuationRoute(input: {from: {latitude: 35.66, longitude: 139.70}, "
        'toPoint: {latitude: 35.661, longitude: 139.701}, departAt: "yesterday"}) '
        "{ __typename } }",
        expect_errors=True,
    )
    assert body["errors"] and body.get("data") is None
    # Times Japan time cannot represent, or far from now, are refused as such (this graph has
    # ways open by the hour, so the time is evaluated).
    for far in ("9999-12-31T23:59:00-12:00", "0001-01-01T00:00:00+14:00", "2030-01-01T00:00:00"):
        result = await route(
            gql,
            **{
                "from": {"latitude": 35.66, "longitude": 139.70},
                "toPoint": {"latitude": 35.661, "longitude": 139.701},
                "departAt": far,
            },
        )
        assert (result["__typename"], result["code"], result["field"]) == (
            "RouteError",
            "VALIDATION",
            "departAt",
        ), result


# --------------------------------------------------------------- gates, engine level


def test_opened_gates_are_walked_only_inside_the_opened_area(graph: WalkGraph) -> None:
    engine = RoutingEngine(graph)
    gates = np.flatnonzero((graph.node_flags & policy.TICKET_GATE) > 0)
    everywhere = SearchOptions(open_gate_areas=[circle(139.70, 35.66, 5000)])
    used = 0
    for gate in gates:
        # Either side of the gate along the graph: its neighbours.
        neighbours = np.concatenate([graph.v[graph.u == gate], graph.u[graph.v == gate]])
        if len(neighbours) < 2:
            continue
        a, b = neighbours[:2]
        start = (float(graph.lon[a]), float(graph.lat[a]))
        end = (float(graph.lon[b]), float(graph.lat[b]))
        try:
            opened = engine.route(start, end, options=everywhere)
        except Exception:  # noqa: BLE001 - the ends may snap to the street above
            continue
        if opened.gates_passed:
            used += 1
            elsewhere = SearchOptions(open_gate_areas=[circle(139.75, 35.70, 300)])
            for options in (SearchOptions(), elsewhere):
                try:  # may go round, or find no way; never through
                    closed_gates = engine.route(start, end, options=options)
                except NoRoute:
                    continue
                assert closed_gates.gates_passed == 0
                assert closed_gates.distance_m > opened.distance_m
    assert used >= 1, "opening the gates lets some walks through them"


def test_one_graph_serves_both_profiles(shibuya_pbf: Path) -> None:
    graph, report = import_walk_graph(shibuya_pbf)
    engine = RoutingEngine(graph)
    # STEP_FREE closes every step and escalator edge; WALK none of them.
    walk = engine._closures(SearchOptions(profile=Profile.WALK))
    step_free = engine._closures(SearchOptions(profile=Profile.STEP_FREE))
    stairs = (graph.flags & (policy.STEPS | policy.ESCALATOR)) > 0
    assert stairs.any() and step_free.edges[stairs].all() and not walk.edges[stairs].any()
    assert report.excluded["road_tunnel"][0] >= 1 and report.ticket_gates >= 16


async def test_gates_the_city_opens_for_an_event_are_walked(
    gql: GraphQLClient, graph: WalkGraph, truth: Truth, token: Any
) -> None:
    from tests.routing.test_ticket_gates import CLOSE_EVENT, bearer, open_event, open_gates

    # given a walk the gates would shorten (found on the graph: either side of a gate)
    engine = RoutingEngine(graph)
    everywhere = SearchOptions(open_gate_areas=[circle(139.70, 35.66, 5000)])
    found = None
    for gate in np.flatnonzero((graph.node_flags & policy.TICKET_GATE) > 0):
        neighbours = np.concatenate([graph.v[graph.u == gate], graph.u[graph.v == gate]])
        for a, b in zip(neighbours, neighbours[1:], strict=False):
            start = (float(graph.lon[a]), float(graph.lat[a]))
            end = (float(graph.lon[b]), float(graph.lat[b]))
            try:
                if engine.route(start, end, options=everywhere).gates_passed:
                    found = (gate, start, end)
                    break
            except NoRoute:
                continue
        if found:
            break
    assert found is not None, "some walk in Shibuya is shorter through a ticket gate"
    gate, start, end = found
    walk = {
        "from": {"longitude": start[0], "latitude": start[1]},
        "toPoint": {"longitude": end[0], "latitude": end[1]},
    }
    gate_point = key(float(graph.lon[gate]), float(graph.lat[gate]))
    # when the gates are closed (every day), the walk never passes one
    closed = await route(gql, **walk)
    if closed["__typename"] == "EvacuationRoute":
        assert closed["ticketGatesPassed"] == 0 and not walked(closed)[1] & truth.gates
    # when staff open the gates around the station for an event
    staff = bearer(token, "staff")
    event_id = await open_event(gql, token)
    area = circle(*(p / 1e7 for p in gate_point), 200)
    opened = await open_gates(gql, staff, event_id, area=mapping(area))
    assert opened["errors"] == [], opened
    through = await route(gql, **walk)
    # then the walk goes through the opened gate, and is shorter for it
    assert through["ticketGatesPassed"] >= 1 and walked(through)[1] & truth.gates
    if closed["__typename"] == "EvacuationRoute":
        assert through["distanceMeters"] < closed["distanceMeters"]
    # and once the event is over, the gates are closed again
    over = await gql(CLOSE_EVENT, {"id": event_id}, token=staff)
    assert over["data"]["closeDisasterEvent"]["errors"] == []
    after = await route(gql, **walk)
    if after["__typename"] == "EvacuationRoute":
        assert after["ticketGatesPassed"] == 0 and not walked(after)[1] & truth.gates
