"""HazardIndex against shapely ground truth, bbox simplification, and the demo zones."""

from __future__ import annotations

import json

import numpy as np
import pytest
import shapely
from shapely.geometry import MultiPolygon, Point, Polygon, shape

from backend.hazards.demo import (
    CITY_HALL_LON_LAT,
    DEMO_SOURCE,
    YUGAWA,
    demo_feature_collection,
    demo_hazard_zones,
)
from backend.hazards.index import HazardIndex, IndexedZone, ZoneHit, geometry_vertex_count
from backend.hazards.sources import parse_hazard_geojson
from backend.hazards.types import HazardType
from tests.shared_data import require_shared

TYPES = list(HazardType)


def _random_zones(seed: int = 7, count: int = 120) -> list[IndexedZone]:
    """Overlapping blobs (some multi-part, some with holes) over a 0.2 degree square."""
    rng = np.random.default_rng(seed)
    zones = []
    for i in range(count):
        parts = []
        for _ in range(int(rng.integers(1, 3))):
            x, y = rng.uniform(139.85, 140.05), rng.uniform(37.40, 37.60)
            blob = Point(x, y).buffer(rng.uniform(0.002, 0.03), quad_segs=int(rng.integers(2, 12)))
            if rng.random() < 0.3:
                blob = blob.difference(Point(x, y).buffer(0.001))
            parts.append(blob)
        geometry = shapely.union_all(parts)
        assert isinstance(geometry, Polygon | MultiPolygon)
        zones.append(
            IndexedZone(f"z{i}", TYPES[int(rng.integers(0, 8))], int(rng.integers(1, 7)), geometry)
        )
    return zones


def _truth(zones: list[IndexedZone], lon: float, lat: float, types=None) -> list[ZoneHit]:
    point = Point(lon, lat)
    return [
        ZoneHit(z.zone_id, z.hazard_type, z.rank)
        for z in zones
        if z.geometry.covers(point) and (types is None or z.hazard_type in types)
    ]


def test_zones_at_matches_shapely_ground_truth() -> None:
    zones = _random_zones()
    index = HazardIndex(zones)
    assert len(index) == len(zones)
    rng = np.random.default_rng(42)
    points = np.column_stack((rng.uniform(139.83, 140.07, 3000), rng.uniform(37.38, 37.62, 3000)))
    hits = 0
    for lon, lat in points:
        expected = _truth(zones, lon, lat)
        assert index.zones_at(lon, lat) == expected
        hits += bool(expected)
    assert hits > 500  # the sample really exercises the positive case


def test_zones_at_many_matches_zones_at_and_filters_types() -> None:
    zones = _random_zones(seed=3)
    index = HazardIndex(zones)
    rng = np.random.default_rng(1)
    points = np.column_stack((rng.uniform(139.83, 140.07, 2000), rng.uniform(37.38, 37.62, 2000)))
    wanted = {HazardType.FLOOD, HazardType.LANDSLIDE}
    many = index.zones_at_many(points, types=wanted)
    assert len(many) == len(points)
    for (lon, lat), result in zip(points, many, strict=True):
        assert result == _truth(zones, lon, lat, wanted)
        assert result == index.zones_at(lon, lat, types=wanted)
    assert index.zones_at_many([]) == []
    assert index.zones_at_many(points[:5]) == [index.zones_at(x, y) for x, y in points[:5]]


def test_point_on_boundary_counts_and_bad_points_are_refused() -> None:
    square = shapely.box(139.9, 37.4, 140.0, 37.5)
    index = HazardIndex([IndexedZone(1, HazardType.FLOOD, 2, square)])
    assert index.zones_at(139.9, 37.45) == [(1, HazardType.FLOOD, 2)]
    assert index.zones_at(139.95, 37.45, types=[HazardType.TSUNAMI]) == []
    with pytest.raises(ValueError):
        index.zones_at(float("nan"), 37.0)
    with pytest.raises(ValueError):
        index.zones_at_many([(139.9, 95.0)])
    assert HazardIndex([]).zones_at(139.9, 37.4) == []


def test_intersecting_clips_and_simplifies_a_detailed_boundary() -> None:
    # The real municipal boundary is a 5,958-position ring: a good detailed polygon.
    path = require_shared("boundaries", "07202.json")
    boundary = shape(json.loads(path.read_text(encoding="utf-8"))["features"][0]["geometry"])
    index = HazardIndex([IndexedZone("city", HazardType.FLOOD, 1, boundary)])
    city_view = boundary.bounds
    [shape_] = index.intersecting(city_view)
    assert geometry_vertex_count(boundary) == 5958
    # Tolerance is the bbox width / 1000 (~25 m here): far fewer vertices, same area.
    assert geometry_vertex_count(shape_.geometry) < geometry_vertex_count(boundary) / 4
    assert shape_.geometry.is_valid
    assert shape_.geometry.area == pytest.approx(boundary.area, rel=0.01)

    # A small view keeps the detail and is clipped to the view.
    minlon, minlat = CITY_HALL_LON_LAT[0] - 0.01, CITY_HALL_LON_LAT[1] - 0.01
    small = (minlon, minlat, minlon + 0.02, minlat + 0.02)
    [clipped] = index.intersecting(small)
    assert shapely.box(*small).buffer(1e-12).covers(clipped.geometry)
    assert clipped.geometry.area == pytest.approx(0.02 * 0.02, rel=1e-6)

    # tolerance=0 disables simplification; other types are filtered out.
    [exact] = index.intersecting(city_view, tolerance=0)
    assert geometry_vertex_count(exact.geometry) >= geometry_vertex_count(boundary) - 10
    assert index.intersecting(city_view, types=[HazardType.TSUNAMI]) == []


def test_intersecting_skips_zones_only_touching_the_bbox() -> None:
    index = HazardIndex(
        [
            IndexedZone("west", HazardType.FLOOD, 1, shapely.box(139.8, 37.4, 139.9, 37.5)),
            IndexedZone("east", HazardType.FLOOD, 1, shapely.box(139.95, 37.4, 140.0, 37.5)),
        ]
    )
    shapes = index.intersecting((139.9, 37.4, 139.96, 37.5))
    assert [s.zone_id for s in shapes] == ["east"]
    with pytest.raises(ValueError):
        index.intersecting((140.0, 37.4, 139.9, 37.5))


def test_demo_zones_are_valid_and_inside_aizu_wakamatsu() -> None:
    path = require_shared("boundaries", "07202.json")
    boundary = shape(json.loads(path.read_text(encoding="utf-8"))["features"][0]["geometry"])
    zones = demo_hazard_zones()
    assert zones == demo_hazard_zones()  # deterministic
    assert {z.hazard_type for z in zones} == {
        HazardType.FLOOD,
        HazardType.LANDSLIDE,
        HazardType.INLAND_FLOOD,
    }
    assert {z.rank for z in zones if z.hazard_type is HazardType.FLOOD} == {1, 2, 3}
    assert {z.rank for z in zones if z.hazard_type is HazardType.LANDSLIDE} == {1, 2}
    for zone in zones:
        assert zone.geometry.is_valid and not zone.geometry.is_empty, zone.name
        assert boundary.contains(zone.geometry), zone.name
        assert zone.source == DEMO_SOURCE and "デモ用の架空データ" in zone.source
        assert zone.properties["synthetic"] is True

    index = HazardIndex.from_records(zones)
    # On the Yugawa centre line: the deepest flood rank; at city hall: no flood at all.
    on_river = index.zones_at(*YUGAWA[3], types=[HazardType.FLOOD])
    assert [hit.rank for hit in on_river] == [3]
    assert index.zones_at(*CITY_HALL_LON_LAT, types=[HazardType.FLOOD]) == []


def test_demo_feature_collection_round_trips_through_the_parser() -> None:
    collection = demo_feature_collection()
    data = json.dumps(collection, ensure_ascii=False).encode()
    zones = parse_hazard_geojson(data, "flood", rank_property="rank")
    originals = demo_hazard_zones()
    assert len(zones) == len(originals)
    for parsed, original in zip(zones, originals, strict=True):
        assert parsed.repair is None
        assert parsed.geometry.equals(original.geometry)
        assert parsed.properties["hazard_type"] == original.hazard_type.value
