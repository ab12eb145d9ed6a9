"""Hazard zones through the GraphQL API, checked against shapely on the demo zones."""

from __future__ import annotations

import json
import uuid

import numpy as np
import pytest
import shapely
from shapely.geometry import Point, box, shape

from backend.db.base import utcnow
from backend.hazards import repository as hazards_repository
from backend.hazards import service as hazards_service
from backend.hazards.demo import YUGAWA, demo_hazard_zones
from backend.hazards.index import geometry_vertex_count
from backend.shelters import service as shelters_service
from tests.api.test_statement_counts import count_statements, operation

HAZARDS_AT = """
query($lat: Float!, $lon: Float!, $types: [HazardType!]) {
  hazardsAt(latitude: $lat, longitude: $lon, types: $types) {
    id hazardType rank name labelJa labelEn rankLabelJa rankLabelEn
  }
}"""
HAZARD_MAP = """
query($bbox: BoundingBoxInput!, $types: [HazardType!]) { hazardMap(bbox: $bbox, types: $types) }
"""
ADD_PLACE = """
mutation($input: AddPlaceInput!) { addPlace(input: $input) { place { id } errors { code } } }
"""
# 会津若松市 as a whole (bounds of its N03 boundary polygon)
CITY = {"minLongitude": 139.83, "minLatitude": 37.32, "maxLongitude": 140.12, "maxLatitude": 37.59}


def expected_at(lon: float, lat: float, types: set[str] | None = None) -> set[tuple[str, int, str]]:
    """(HAZARD_TYPE, rank, name) of every demo zone covering the point, by shapely."""
    point = Point(lon, lat)
    return {
        (z.hazard_type.name, z.rank, z.name)
        for z in demo_hazard_zones()
        if z.geometry.covers(point) and (types is None or z.hazard_type.name in types)
    }


def sample_points() -> list[tuple[float, float]]:
    """A grid over the demo zones plus points on the river line and in landslide areas."""
    zones = demo_hazard_zones()
    min_lon, min_lat, max_lon, max_lat = shapely.union_all([z.geometry for z in zones]).bounds
    grid = [
        (float(lon), float(lat))
        for lon in np.linspace(min_lon, max_lon, 7)
        for lat in np.linspace(min_lat, max_lat, 7)
    ]
    landslides = [
        z.geometry.representative_point().coords[0]
        for z in zones
        if z.hazard_type.value == "landslide"
    ]
    return grid + list(YUGAWA[1:-1]) + landslides


async def load_demo(session) -> None:  # type: ignore[no-untyped-def]
    await hazards_service.load_demo_zones(session)
    await session.commit()


async def test_hazards_at_matches_shapely(gql, session) -> None:  # type: ignore[no-untyped-def]
    # given the demo zones
    await load_demo(session)
    points = sample_points()
    covered = 0
    for lon, lat in points:
        # when the zones at a point are asked for
        body = await gql(HAZARDS_AT, {"lat": lat, "lon": lon})
        zones = body["data"]["hazardsAt"]
        # then they are exactly those whose polygon covers it
        assert {(z["hazardType"], z["rank"], z["name"]) for z in zones} == expected_at(lon, lat)
        covered += bool(zones)
    # the sample has both sides: points in zones (every river point, every landslide) and not
    assert 6 + 6 <= covered < len(points)


async def test_hazards_at_labels_and_type_filter(gql, session) -> None:  # type: ignore[no-untyped-def]
    await load_demo(session)
    lon, lat = YUGAWA[3]  # on the river: the deepest flood band
    body = await gql(HAZARDS_AT, {"lat": lat, "lon": lon, "types": ["FLOOD"]})
    (zone,) = body["data"]["hazardsAt"]
    assert zone["hazardType"] == "FLOOD" and zone["rank"] == 3
    assert (zone["labelJa"], zone["labelEn"]) == ("洪水", "Flood")
    assert (zone["rankLabelJa"], zone["rankLabelEn"]) == ("3m以上5m未満", "3 m to less than 5 m")
    body = await gql(HAZARDS_AT, {"lat": lat, "lon": lon, "types": ["LANDSLIDE"]})
    assert body["data"]["hazardsAt"] == []
    landslide = next(z for z in demo_hazard_zones() if z.hazard_type.value == "landslide")
    lon, lat = landslide.geometry.representative_point().coords[0]
    body = await gql(HAZARDS_AT, {"lat": lat, "lon": lon, "types": ["LANDSLIDE"]})
    labels = {(z["rank"], z["rankLabelJa"]) for z in body["data"]["hazardsAt"]}
    assert (1, "土砂災害警戒区域") in labels


async def test_my_hazards_per_place_in_a_fixed_number_of_statements(  # type: ignore[no-untyped-def]
    gql, token, session, engine
) -> None:
    # given demo zones and two residents, one with 2 saved places and one with 6
    await load_demo(session)
    points = sample_points()[::4]
    few, many = token("few"), token("many")
    for bearer, chosen in ((few, points[:2]), (many, points[2:8])):
        for lon, lat in chosen:
            body = await gql(
                ADD_PLACE,
                {"input": {"kind": "SCHOOL", "label": "学校", "latitude": lat, "longitude": lon}},
                token=bearer,
            )
            assert body["data"]["addPlace"]["errors"] == []
    my_hazards = operation("Hazards.graphql", "MyHazards")
    await gql(my_hazards, token=few)  # warm-up: the index is built on first use

    # when each asks for the hazards at their places
    with count_statements(engine) as small:
        await gql(my_hazards, token=few)
    with count_statements(engine) as large:
        body = await gql(my_hazards, token=many)

    # then every place gets exactly the zones covering it, with no query per place
    results = body["data"]["myHazards"]
    assert len(results) == 6
    for item in results:
        place = item["place"]
        zones = {(z["hazardType"], z["rank"], z["name"]) for z in item["zones"]}
        assert zones == expected_at(place["longitude"], place["latitude"])
    assert any(item["zones"] for item in results)
    assert len(small) == len(large), (small, large)


async def test_my_hazards_needs_a_resident(gql) -> None:  # type: ignore[no-untyped-def]
    body = await gql("{ myHazards { place { id } } }", expect_errors=True)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_hazard_map_of_the_city_is_simplified_and_small(gql, session) -> None:  # type: ignore[no-untyped-def]
    # given the demo zones
    await load_demo(session)
    zones = demo_hazard_zones()
    city = box(CITY["minLongitude"], CITY["minLatitude"], CITY["maxLongitude"], CITY["maxLatitude"])

    # when the map layer of the whole city is asked for
    body = await gql(HAZARD_MAP, {"bbox": CITY})
    collection = body["data"]["hazardMap"]

    # then every zone is there, with far fewer vertices than stored, and no shape moved
    # further than the simplification tolerance (1/1000 of the view's width)
    features = collection["features"]
    assert collection["truncated"] is False
    assert len(features) == sum(1 for z in zones if z.geometry.intersects(city))
    sent = sum(geometry_vertex_count(shape(f["geometry"])) for f in features)
    stored = sum(geometry_vertex_count(z.geometry) for z in zones)
    assert sent < stored * 0.6, (sent, stored)
    assert len(json.dumps(collection)) < 60_000
    tolerance = (CITY["maxLongitude"] - CITY["minLongitude"]) / 1000
    by_key = {(z.hazard_type.name, z.rank, z.name): z.geometry for z in zones}
    for feature in features:
        props = feature["properties"]
        original = by_key[(props["hazardType"], props["rank"], props["name"])]
        simplified = shape(feature["geometry"])
        assert simplified.is_valid
        assert original.hausdorff_distance(simplified) <= 1.5 * tolerance
        assert props["labelJa"] and props["rankLabelEn"]


async def test_hazard_map_zoomed_in_keeps_detail_and_filters_types(gql, session) -> None:  # type: ignore[no-untyped-def]
    await load_demo(session)
    lon, lat = YUGAWA[3]
    view = {
        "minLongitude": lon - 0.005,
        "minLatitude": lat - 0.004,
        "maxLongitude": lon + 0.005,
        "maxLatitude": lat + 0.004,
    }
    body = await gql(HAZARD_MAP, {"bbox": view, "types": ["FLOOD"]})
    features = body["data"]["hazardMap"]["features"]
    view_box = box(
        view["minLongitude"], view["minLatitude"], view["maxLongitude"], view["maxLatitude"]
    )
    expected = {
        (z.hazard_type.name, z.rank)
        for z in demo_hazard_zones()
        if z.hazard_type.name == "FLOOD" and z.geometry.intersection(view_box).area > 0
    }
    assert {(f["properties"]["hazardType"], f["properties"]["rank"]) for f in features} == expected
    for feature in features:
        clipped = shape(feature["geometry"])
        # clipped to the view (up to the coordinate rounding)
        assert view_box.buffer(1e-6).covers(clipped)


@pytest.mark.parametrize(
    ("bbox", "field"),
    [
        ({**CITY, "minLongitude": 140.2}, "bbox.maxLongitude"),
        ({**CITY, "maxLatitude": 37.0}, "bbox.maxLatitude"),
        ({**CITY, "minLongitude": 137.0}, "bbox.maxLongitude"),
        ({**CITY, "minLatitude": -95.0}, "bbox.minLatitude"),
        ({**CITY, "maxLongitude": 181.0}, "bbox.maxLongitude"),
    ],
    ids=["min-gt-max-lon", "min-gt-max-lat", "too-wide", "lat-range", "lon-range"],
)
async def test_invalid_bbox_is_a_validation_error(gql, bbox, field) -> None:  # type: ignore[no-untyped-def]
    body = await gql(HAZARD_MAP, {"bbox": bbox}, expect_errors=True)
    assert body["data"] is None
    extensions = body["errors"][0]["extensions"]
    assert (extensions["code"], extensions["field"]) == ("VALIDATION", field)
    assert extensions["messageJa"]


@pytest.mark.parametrize(
    ("lat", "lon", "fields"),
    [
        (91.0, 139.9, ["latitude"]),
        (37.5, 181.0, ["longitude"]),
        (-91, -181, ["latitude", "longitude"]),
    ],
)
async def test_invalid_point_is_a_validation_error(gql, lat, lon, fields) -> None:  # type: ignore[no-untyped-def]
    body = await gql(HAZARDS_AT, {"lat": lat, "lon": lon}, expect_errors=True)
    extensions = body["errors"][0]["extensions"]
    assert extensions["code"] == "VALIDATION" and extensions["fields"] == fields


async def test_index_follows_zone_changes_made_elsewhere(gql, session) -> None:  # type: ignore[no-untyped-def]
    # given a point with no zone, looked up once (so the process has built its index)
    lon, lat = YUGAWA[3]
    assert (await gql(HAZARDS_AT, {"lat": lat, "lon": lon}))["data"]["hazardsAt"] == []

    # when a zone is written as another process would (no in-process invalidation)
    square = box(lon - 0.001, lat - 0.001, lon + 0.001, lat + 0.001)
    await hazards_repository.insert_zones(
        session,
        [
            {
                "id": uuid.uuid4(),
                "hazard_type": "tsunami",
                "rank": 2,
                "depth_m": 1.2,
                "name": "別プロセスで追加",
                "source": "other-process",
                "feature_id": None,
                "municipality_code": None,
                "geometry_geojson": json.dumps(shapely.geometry.mapping(square)),
                "min_lon": square.bounds[0],
                "min_lat": square.bounds[1],
                "max_lon": square.bounds[2],
                "max_lat": square.bounds[3],
                "created_at": utcnow(),
            }
        ],
    )
    await session.commit()

    # then the next look-up sees it
    zones = (await gql(HAZARDS_AT, {"lat": lat, "lon": lon}))["data"]["hazardsAt"]
    assert [(z["hazardType"], z["name"], z["rankLabelJa"]) for z in zones] == [
        ("TSUNAMI", "別プロセスで追加", "0.5m以上3m未満")
    ]


async def test_sibling_map_fields_in_one_request(gql, token, session) -> None:  # type: ignore[no-untyped-def]
    # given demo zones and shelters, and a resident with a place on the river
    await load_demo(session)
    await shelters_service.load_demo_shelters(session)
    await session.commit()
    lon, lat = YUGAWA[3]
    bearer = token("sibling")
    await gql(
        ADD_PLACE,
        {"input": {"kind": "HOME", "label": "家", "latitude": lat, "longitude": lon}},
        token=bearer,
    )
    # when the map screen asks for everything at once (fields resolved concurrently)
    body = await gql(
        """
        query($lat: Float!, $lon: Float!, $bbox: BoundingBoxInput!) {
          hazardsAt(latitude: $lat, longitude: $lon) { rank }
          myHazards { zones { rank } }
          hazardMap(bbox: $bbox)
          sheltersGeoJSON(bbox: $bbox)
          shelters(near: {latitude: $lat, longitude: $lon}, first: 3) {
            name municipality { nameJa }
          }
        }""",
        {"lat": lat, "lon": lon, "bbox": CITY},
        token=bearer,
    )
    # then every field is answered (PostgreSQL refuses concurrent use of one connection)
    data = body["data"]
    assert [z["rank"] for z in data["hazardsAt"]] == [3]
    assert [z["rank"] for z in data["myHazards"][0]["zones"]] == [3]
    assert data["hazardMap"]["features"] and len(data["sheltersGeoJSON"]["features"]) == 5
    assert {s["municipality"]["nameJa"] for s in data["shelters"]} == {"会津若松市"}
