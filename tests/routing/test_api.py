"""evacuationRoute through the GraphQL API on the demo network, shelters and hazard zones."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import httpx
import pytest
import shapely
from geopy.distance import geodesic
from shapely.geometry import LineString, Point, mapping, shape

from backend.app import create_app
from backend.auth.tokens import TokenVerifier
from backend.config import Environment, Settings
from backend.hazards import service as hazards_service
from backend.hazards.demo import demo_hazard_zones
from backend.hazards.types import HazardType
from backend.routing.demo import AIZU_WAKAMATSU_STATION, TSURUGA_CASTLE, build_demo_graph
from backend.routing.engine import RoutingEngine
from backend.routing.errors import RoutingError
from backend.shelters import service as shelters_service
from tests.conftest import GraphQLClient, RollbackDatabase

REPO = Path(__file__).resolve().parents[2]
ROUTE = (REPO / "graphql" / "operations" / "EvacuationRoute.graphql").read_text()
UPDATE_STATUS = """
mutation($input: UpdateShelterStatusInput!) {
  updateShelterStatus(input: $input) { shelter { id status } errors { code field } }
}"""
ADD_PLACE = """
mutation($input: AddPlaceInput!) { addPlace(input: $input) { place { id } errors { code } } }
"""
SHELTER_IDS = """
query($near: CoordinatesInput!) { shelters(near: $near, first: 10) { id commonId } }
"""

STATION = {"latitude": AIZU_WAKAMATSU_STATION[1], "longitude": AIZU_WAKAMATSU_STATION[0]}
CASTLE = {"latitude": TSURUGA_CASTLE[1], "longitude": TSURUGA_CASTLE[0]}
HANAKO_HOME = {"latitude": 37.4850, "longitude": 139.9180}  # in a demo flood zone
# Either side of the demo inland-flooding pocket: the shortest walk crosses it.
POCKET_WEST = {"latitude": 37.504, "longitude": 139.916}
POCKET_EAST = {"latitude": 37.504, "longitude": 139.931}
TOKYO = {"latitude": 35.6812, "longitude": 139.7671}


def lonlat(point: dict[str, float]) -> tuple[float, float]:
    return point["longitude"], point["latitude"]


def zones_of(hazard: HazardType) -> list[Any]:
    return [z.geometry for z in demo_hazard_zones() if z.hazard_type is hazard]


def circle(lon: float, lat: float, radius_m: float) -> Any:
    """A metric circle as a lon/lat polygon."""
    r_lat = math.degrees(radius_m / 6_371_008.8)
    disk = Point(0.0, 0.0).buffer(r_lat, quad_segs=16)
    stretched = shapely.affinity.scale(disk, xfact=1.0 / math.cos(math.radians(lat)), yfact=1.0)
    return shapely.affinity.translate(stretched, lon, lat)


async def route(gql: GraphQLClient, token: str | None = None, **input: Any) -> dict[str, Any]:
    body = await gql(ROUTE, {"input": input}, token=token)
    result: dict[str, Any] = body["data"]["evacuationRoute"]
    return result


def line(result: dict[str, Any]) -> LineString:
    assert result["__typename"] == "EvacuationRoute", result
    geometry = shape(result["path"])
    assert isinstance(geometry, LineString)
    return geometry


@pytest.fixture
async def demo_world(session: Any) -> None:
    """The demo hazard zones and shelters, visible to the API."""
    await hazards_service.load_demo_zones(session)
    await shelters_service.load_demo_shelters(session)
    await session.commit()


@pytest.fixture
async def shelter_ids(gql: GraphQLClient, demo_world: None) -> dict[str, str]:
    body = await gql(SHELTER_IDS, {"near": CASTLE})
    return {s["commonId"]: s["id"] for s in body["data"]["shelters"]}


@pytest.fixture(scope="module")
def demo_engine() -> RoutingEngine:
    return RoutingEngine(build_demo_graph())


# --------------------------------------------------------------------------- routes


async def test_nearest_flood_shelter_is_nearest_on_foot(
    gql: GraphQLClient, demo_world: None, demo_engine: RoutingEngine
) -> None:
    result = await route(gql, **{"from": STATION, "hazardType": "FLOOD"})
    path = line(result)
    shelter = result["shelter"]
    assert "FLOOD" in shelter["hazardTypes"]
    assert result["hazardType"] == "FLOOD"
    assert result["candidatesCompared"] >= 2
    # Starts at the exact origin and ends at the shelter.
    assert path.coords[0] == pytest.approx(lonlat(STATION))
    assert path.coords[-1] == pytest.approx((shelter["longitude"], shelter["latitude"]))
    # Walking is never shorter than the straight line; time follows the default speed.
    crow = geodesic(
        (STATION["latitude"], STATION["longitude"]), (shelter["latitude"], shelter["longitude"])
    ).m
    assert result["distanceMeters"] >= crow * 0.995
    assert result["walkingSpeedMetersPerSecond"] == 1.0
    assert result["durationSeconds"] == pytest.approx(result["distanceMeters"])
    # No other flood-designated shelter is nearer on foot (checked on the engine directly).
    flood = zones_of(HazardType.FLOOD)
    others = [r for r in shelters_service_demo_points() if HazardType.FLOOD in r[2]]
    walks = {
        name: demo_engine.route(lonlat(STATION), point, flood).distance_m
        for name, point, _ in others
    }
    assert shelter["name"] == min(walks, key=walks.__getitem__)
    assert result["distanceMeters"] == pytest.approx(min(walks.values()), rel=1e-6)


def shelters_service_demo_points() -> list[tuple[str, tuple[float, float], frozenset[HazardType]]]:
    from backend.shelters.demo import demo_shelter_records

    return [(r.name, (r.lon, r.lat), r.hazard_types) for r in demo_shelter_records()]


async def test_route_keeps_out_of_the_hazard_zones(gql: GraphQLClient, demo_world: None) -> None:
    pocket = shapely.union_all(zones_of(HazardType.INLAND_FLOOD))
    plain = await route(gql, **{"from": POCKET_WEST, "toPoint": POCKET_EAST})
    assert line(plain).intersects(pocket), "the test needs a shortest walk through the zone"
    around = await route(
        gql, **{"from": POCKET_WEST, "toPoint": POCKET_EAST, "hazardType": "INLAND_FLOOD"}
    )
    assert around["safe"] is True and around["crossings"] == []
    assert not line(around).intersects(pocket)
    assert around["hazardZonesAvoided"] >= 1
    assert around["distanceMeters"] > plain["distanceMeters"]
    assert around["shelter"] is None
    # Zones of other hazards are not avoided: an earthquake route may cross the pocket.
    quake = await route(
        gql, **{"from": POCKET_WEST, "toPoint": POCKET_EAST, "hazardType": "EARTHQUAKE"}
    )
    assert quake["distanceMeters"] == pytest.approx(plain["distanceMeters"])


async def test_home_inside_a_flood_zone_gets_the_least_exposed_route(
    gql: GraphQLClient, demo_world: None
) -> None:
    result = await route(gql, **{"from": HANAKO_HOME, "hazardType": "FLOOD"})
    path = line(result)
    assert result["safe"] is False
    assert result["shelter"] is not None
    crossings = result["crossings"]
    assert crossings and all(c["hazardZone"]["hazardType"] == "FLOOD" for c in crossings)
    assert all(c["avoidIndex"] is None for c in crossings)
    assert sum(c["lengthMeters"] for c in crossings) == pytest.approx(result["exposureMeters"])
    assert 0 < result["exposureMeters"] < result["distanceMeters"]
    # The crossings are real: metres of the path inside the flood zones, segment by segment.
    flood = shapely.union_all(zones_of(HazardType.FLOOD))
    inside_m = 0.0
    for a, b in zip(path.coords[:-1], path.coords[1:], strict=True):
        segment = LineString([a, b])
        if segment.length:
            fraction = segment.intersection(flood).length / segment.length
            inside_m += fraction * geodesic((a[1], a[0]), (b[1], b[0])).m
    assert inside_m == pytest.approx(result["exposureMeters"], rel=0.01)


async def test_route_avoids_a_reported_danger_spot(gql: GraphQLClient, demo_world: None) -> None:
    plain = await route(gql, **{"from": STATION, "toPoint": CASTLE})
    middle = line(plain).interpolate(0.5, normalized=True)
    spot = circle(middle.x, middle.y, 120.0)
    detour = await route(gql, **{"from": STATION, "toPoint": CASTLE, "avoid": [mapping(spot)]})
    assert detour["safe"] is True
    assert not line(detour).intersects(spot)
    assert plain["distanceMeters"] < detour["distanceMeters"] < plain["distanceMeters"] * 1.5


async def test_destination_inside_an_avoid_area_reports_the_crossing(
    gql: GraphQLClient, demo_world: None
) -> None:
    spot = circle(*lonlat(CASTLE), 150.0)
    far = circle(139.950, 37.480, 50.0)
    result = await route(
        gql,
        **{
            "from": STATION,
            "toPoint": CASTLE,
            "avoid": [mapping(far), mapping(spot)],
        },
    )
    assert result["safe"] is False
    assert [c["avoidIndex"] for c in result["crossings"]] == [1]
    crossing = result["crossings"][0]
    assert crossing["hazardZone"] is None
    # Entering a 150 m circle to reach its centre costs about its radius, not more.
    assert 140 <= crossing["lengthMeters"] <= 260


async def test_support_needed_walks_at_half_speed(gql: GraphQLClient, demo_world: None) -> None:
    normal = await route(gql, **{"from": STATION, "hazardType": "FLOOD"})
    support = await route(gql, **{"from": STATION, "hazardType": "FLOOD", "needsSupport": True})
    assert support["walkingSpeedMetersPerSecond"] == 0.5
    assert support["durationSeconds"] == pytest.approx(2 * normal["durationSeconds"])
    custom = await route(
        gql, **{"from": STATION, "hazardType": "FLOOD", "walkingSpeedMetersPerSecond": 1.25}
    )
    assert custom["durationSeconds"] == pytest.approx(normal["distanceMeters"] / 1.25)


async def test_route_to_a_chosen_shelter(gql: GraphQLClient, shelter_ids: dict[str, str]) -> None:
    target = shelter_ids["DEMO-07202-005"]
    result = await route(gql, **{"from": STATION, "toShelterId": target, "hazardType": "FLOOD"})
    assert result["shelter"]["id"] == target
    assert result["candidatesCompared"] == 0
    assert line(result).coords[-1] == pytest.approx(
        (result["shelter"]["longitude"], result["shelter"]["latitude"])
    )


async def test_full_shelters_are_skipped_and_open_ones_preferred(
    gql: GraphQLClient, shelter_ids: dict[str, str], token: Any
) -> None:
    staff = token("staff-1", roles=[("city_staff", "07202")])
    nearest = (await route(gql, **{"from": STATION, "hazardType": "FLOOD"}))["shelter"]
    other_id = next(
        shelter_ids[c]
        for c in ("DEMO-07202-001", "DEMO-07202-003")
        if shelter_ids[c] != nearest["id"]
    )

    async def set_status(shelter_id: str, status: str) -> None:
        body = await gql(
            UPDATE_STATUS, {"input": {"id": shelter_id, "status": status}}, token=staff
        )
        assert body["data"]["updateShelterStatus"]["errors"] == []

    # Peacetime: nothing is open, so every designated shelter counts; openOnly finds none.
    refused = await route(gql, **{"from": STATION, "hazardType": "FLOOD", "openOnly": True})
    assert refused["code"] == "NO_SHELTER"
    # The city opens the farther shelter: from now on it is the destination by default.
    await set_status(other_id, "OPEN")
    opened = await route(gql, **{"from": STATION, "hazardType": "FLOOD"})
    assert opened["shelter"]["id"] == other_id and opened["shelter"]["status"] == "OPEN"
    # It fills up: the closed but not full nearest shelter is used again.
    await set_status(other_id, "FULL")
    again = await route(gql, **{"from": STATION, "hazardType": "FLOOD"})
    assert again["shelter"]["id"] == nearest["id"]
    await set_status(nearest["id"], "FULL")
    none_left = await route(gql, **{"from": STATION, "hazardType": "FLOOD"})
    assert none_left["__typename"] == "RouteError" and none_left["code"] == "NO_SHELTER"
    assert "flood" in none_left["message"] and none_left["messageJa"]


async def test_zones_avoided_depend_only_on_the_route(
    gql: GraphQLClient, shelter_ids: dict[str, str], token: Any
) -> None:
    # given a walk to the nearest landslide shelter from the west of town, where the other
    # candidate lies beyond it, near the demo landslide zones in the east
    west = {"latitude": 37.495, "longitude": 139.905}
    before = await route(gql, **{"from": west, "hazardType": "LANDSLIDE"})
    assert before["candidatesCompared"] == 2
    # when the city opens that shelter, so that it is the only candidate left
    staff = token("staff-1", roles=[("city_staff", "07202")])
    body = await gql(
        UPDATE_STATUS,
        {"input": {"id": before["shelter"]["id"], "status": "OPEN"}},
        token=staff,
    )
    assert body["data"]["updateShelterStatus"]["errors"] == []
    after = await route(gql, **{"from": west, "hazardType": "LANDSLIDE"})
    # then the same route reports the same zones, as a route asked to that shelter does
    assert after["candidatesCompared"] == 1
    assert after["shelter"]["id"] == before["shelter"]["id"]
    assert after["path"] == before["path"]
    assert after["hazardZonesAvoided"] == before["hazardZonesAvoided"]
    chosen = await route(
        gql, **{"from": west, "toShelterId": before["shelter"]["id"], "hazardType": "LANDSLIDE"}
    )
    assert chosen["hazardZonesAvoided"] == before["hazardZonesAvoided"]


async def test_from_my_place(gql: GraphQLClient, demo_world: None, token: Any) -> None:
    hanako, taro = token("route-hanako"), token("route-taro")
    body = await gql(
        ADD_PLACE,
        {"input": {"kind": "HOME", "label": "自宅", **HANAKO_HOME}},
        token=hanako,
    )
    place_id = body["data"]["addPlace"]["place"]["id"]
    mine = await route(gql, hanako, fromPlaceId=place_id, hazardType="FLOOD")
    assert line(mine).coords[0] == pytest.approx(lonlat(HANAKO_HOME))
    # Someone else's place is unknown to them, exactly like a made-up id.
    foreign = await route(gql, taro, fromPlaceId=place_id, hazardType="FLOOD")
    assert (foreign["code"], foreign["field"]) == ("NOT_FOUND", "fromPlaceId")
    assert "37.48" not in str(foreign)
    # Without signing in, a saved place cannot be used at all.
    anonymous = await gql(
        ROUTE, {"input": {"fromPlaceId": place_id, "hazardType": "FLOOD"}}, expect_errors=True
    )
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


# ----------------------------------------------------------------------- bad input

TRIANGLE = {
    "type": "Polygon",
    "coordinates": [[[139.93, 37.49], [139.931, 37.49], [139.93, 37.491], [139.93, 37.49]]],
}
BAD_POLYGON_RING = {"type": "Polygon", "coordinates": [[[139.93, 37.49], [139.94, 37.49]]]}


@pytest.mark.parametrize(
    ("input", "code", "field"),
    [
        (
            {"from": {"latitude": 95.0, "longitude": 139.9}, "hazardType": "FLOOD"},
            "VALIDATION",
            "from.latitude",
        ),
        (
            {"from": {"latitude": 37.5, "longitude": -190.0}, "hazardType": "FLOOD"},
            "VALIDATION",
            "from.longitude",
        ),
        ({"hazardType": "FLOOD"}, "VALIDATION", "from"),
        ({"from": STATION, "fromPlaceId": "x", "hazardType": "FLOOD"}, "VALIDATION", "from"),
        ({"from": STATION}, "VALIDATION", "hazardType"),
        (
            {"from": STATION, "toPoint": CASTLE, "toShelterId": "U2hlbHRlcjox"},
            "NOT_FOUND",
            "toShelterId",
        ),
        ({"from": STATION, "toShelterId": "not-an-id"}, "NOT_FOUND", "toShelterId"),
        (
            {"from": STATION, "toPoint": {"latitude": 37.5, "longitude": 200.0}},
            "VALIDATION",
            "toPoint.longitude",
        ),
        (
            {"from": STATION, "toPoint": CASTLE, "walkingSpeedMetersPerSecond": 0.0},
            "VALIDATION",
            "walkingSpeedMetersPerSecond",
        ),
        (
            {"from": STATION, "toPoint": CASTLE, "walkingSpeedMetersPerSecond": 12.0},
            "VALIDATION",
            "walkingSpeedMetersPerSecond",
        ),
        (
            {
                "from": STATION,
                "toPoint": CASTLE,
                "avoid": [{"type": "Point", "coordinates": [139.93, 37.49]}],
            },
            "VALIDATION",
            "avoid[0]",
        ),
        (
            {
                "from": STATION,
                "toPoint": CASTLE,
                "avoid": [mapping(circle(139.93, 37.49, 50)), BAD_POLYGON_RING],
            },
            "VALIDATION",
            "avoid[1]",
        ),
        (
            {
                "from": STATION,
                "toPoint": CASTLE,
                "avoid": [
                    {
                        "type": "Polygon",
                        "coordinates": [[[500, 37], [501, 37], [501, 38], [500, 37]]],
                    }
                ],
            },
            "VALIDATION",
            "avoid[0]",
        ),
        ({"from": STATION, "toPoint": CASTLE, "avoid": ["not geojson"]}, "VALIDATION", "avoid[0]"),
        (
            {
                "from": STATION,
                "toPoint": CASTLE,
                "avoid": [{"type": "Polygon", "coordinates": "x"}],
            },
            "VALIDATION",
            "avoid[0]",
        ),
        (
            {
                "from": STATION,
                "toPoint": CASTLE,
                "avoid": [TRIANGLE] * 201,
            },
            "VALIDATION",
            "avoid",
        ),
        ({"from": TOKYO, "hazardType": "FLOOD"}, "OUTSIDE_ROUTING_AREA", "from"),
        ({"from": STATION, "toPoint": TOKYO}, "OUTSIDE_ROUTING_AREA", "toPoint"),
    ],
)
async def test_bad_input_is_a_typed_route_error(
    gql: GraphQLClient, demo_world: None, input: dict[str, Any], code: str, field: str
) -> None:
    result = await route(gql, **input)
    assert result["__typename"] == "RouteError"
    assert (result["code"], result["field"]) == (code, field), result
    assert field in result["fields"]
    assert result["message"] and result["messageJa"]


async def test_several_problems_are_reported_together(gql: GraphQLClient, demo_world: None) -> None:
    result = await route(
        gql,
        **{
            "from": {"latitude": -91.0, "longitude": 139.9},
            "toPoint": CASTLE,
            "walkingSpeedMetersPerSecond": -1.0,
            "avoid": [{"type": "LineString", "coordinates": []}],
        },
    )
    assert result["fields"] == ["from.latitude", "walkingSpeedMetersPerSecond", "avoid[0]"]


async def test_oversized_avoid_polygons_are_refused(gql: GraphQLClient, demo_world: None) -> None:
    # 10 detailed areas: within the count limit (200) but over the vertex budget (2,000).
    detailed = shapely.set_precision(shapely.segmentize(circle(139.93, 37.49, 200), 0.00005), 1e-5)
    assert 200 < shapely.get_num_coordinates(detailed) < 2_000 / 5
    result = await route(
        gql, **{"from": STATION, "toPoint": CASTLE, "avoid": [mapping(detailed)] * 10}
    )
    assert (result["code"], result["field"]) == ("VALIDATION", "avoid")


async def test_malformed_graphql_input_is_a_graphql_error(gql: GraphQLClient) -> None:
    body = await gql(ROUTE, {"input": {"from": {"latitude": "north"}}}, expect_errors=True)
    assert body["errors"] and body.get("data") is None


async def test_no_walk_graph_in_production_is_routing_unavailable(
    settings: Settings, db: RollbackDatabase, verifier: TokenVerifier, tmp_path: Path
) -> None:
    production = settings.model_copy(
        update={
            "environment": Environment.PRODUCTION,
            "road_graph_path": tmp_path / "missing.npz",
        }
    )
    app = create_app(production, database=db, verifier=verifier)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://kizuna.test"
    ) as client:
        result = await route(GraphQLClient(client), **{"from": STATION, "hazardType": "FLOOD"})
    assert result["code"] == "ROUTING_UNAVAILABLE"


async def test_real_aizu_shelters_are_chosen_by_walking_distance(
    gql: GraphQLClient, session: Any, demo_engine: RoutingEngine
) -> None:
    """With the real GSI list of 07202, the chosen flood shelter is the nearest on foot among
    the candidates, never worse than walking to the straight-line nearest one."""
    from tests.shelters.test_api import AIZU, gsi_paths

    await shelters_service.import_shelter_files(session, gsi_paths(AIZU))
    await session.commit()
    near = await gql(
        """query($near: CoordinatesInput!) {
             shelters(near: $near, hazardType: FLOOD, first: 8) { id name latitude longitude }
           }""",
        {"near": STATION},
    )
    candidates = near["data"]["shelters"]
    assert len(candidates) == 8
    result = await route(gql, **{"from": STATION, "hazardType": "FLOOD"})
    chosen = result["shelter"]
    assert chosen["id"] in {c["id"] for c in candidates}
    assert "FLOOD" in chosen["hazardTypes"]
    walks = {}
    for c in candidates:
        try:
            walks[c["id"]] = demo_engine.route(
                lonlat(STATION), (c["longitude"], c["latitude"])
            ).distance_m
        except RoutingError:  # beyond the demo network: not reachable on foot here
            continue
    assert walks, "some real shelters lie on the demo network"
    assert result["distanceMeters"] == pytest.approx(min(walks.values()), rel=1e-6)
    assert result["distanceMeters"] <= walks.get(candidates[0]["id"], math.inf)
