"""Hazard-zone GeoJSON parsing: ranks, depth ranks, repairs and refusals."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from shapely.geometry import MultiPolygon, Polygon

from backend.hazards.sources import (
    HazardFileError,
    LandslideRank,
    depth_to_rank,
    parse_hazard_geojson,
)
from backend.hazards.types import GSI_HAZARD_COLUMNS, HazardType
from backend.ingest.problems import MAX_PROBLEMS
from tests.ingest.wording import english_words

# A 0.01 degree square near Aizu-Wakamatsu city hall.
LON, LAT = 139.92, 37.49
SQUARE = [[LON, LAT], [LON + 0.01, LAT], [LON + 0.01, LAT + 0.01], [LON, LAT + 0.01], [LON, LAT]]


def _feature(geometry: dict[str, Any] | None, **properties: Any) -> dict[str, Any]:
    return {"type": "Feature", "properties": properties, "geometry": geometry}


def _polygon(*rings: list[list[float]]) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": list(rings)}


def _collection(*features: dict[str, Any]) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": list(features)}).encode()


def test_hazard_types_carry_labels_and_gsi_columns() -> None:
    assert [t.value for t in HazardType] == [
        "flood",
        "landslide",
        "storm_surge",
        "earthquake",
        "tsunami",
        "large_fire",
        "inland_flood",
        "volcano",
    ]
    assert HazardType.LANDSLIDE.gsi_column == "崖崩れ、土石流及び地滑り"
    assert HazardType.from_gsi_column("内水氾濫") is HazardType.INLAND_FLOOD
    assert HazardType.VOLCANO.label_en == "Volcanic phenomena"
    assert HazardType.FLOOD.label_ja == "洪水"
    assert len(set(GSI_HAZARD_COLUMNS)) == 8


@pytest.mark.parametrize(
    ("depth", "rank"),
    [
        (0.0, 1),
        (0.49, 1),
        (0.5, 2),
        (2.99, 2),
        (3.0, 3),
        (4.99, 3),
        (5.0, 4),
        (9.99, 4),
        (10.0, 5),
        (19.99, 5),
        (20.0, 6),
        (35.0, 6),
    ],
)
def test_depth_to_rank_follows_mlit_ranks(depth: float, rank: int) -> None:
    assert depth_to_rank(depth) == rank


@pytest.mark.parametrize("depth", [-0.1, math.nan, math.inf])
def test_depth_to_rank_refuses_nonsense(depth: float) -> None:
    with pytest.raises(ValueError):
        depth_to_rank(depth)


def test_parse_with_rank_property(tmp_path: Path) -> None:
    path = tmp_path / "landslide.geojson"
    path.write_bytes(
        _collection(
            _feature(_polygon(SQUARE), 区域区分="1", name="東山 A", 出典="福島県"),
            {**_feature(_polygon(SQUARE), 区域区分=2), "id": 17},
        )
    )
    zones = parse_hazard_geojson(path, "landslide", rank_property="区域区分")
    assert [z.rank for z in zones] == [
        LandslideRank.WARNING_AREA,
        LandslideRank.SPECIAL_WARNING_AREA,
    ]
    assert zones[0].hazard_type is HazardType.LANDSLIDE
    assert zones[0].name == "東山 A" and zones[0].source == "福島県"
    assert zones[1].feature_id == "17" and zones[1].name is None
    assert zones[0].properties["区域区分"] == "1"
    assert zones[0].repair is None
    assert isinstance(zones[0].geometry, Polygon)
    assert zones[0].geometry.bounds == pytest.approx((LON, LAT, LON + 0.01, LAT + 0.01))


def test_parse_with_depth_property_maps_to_ranks() -> None:
    data = _collection(
        _feature(_polygon(SQUARE), depth=0.3),
        _feature(_polygon(SQUARE), depth="2.5"),
        _feature(_polygon(SQUARE), depth=12),
    )
    zones = parse_hazard_geojson(data, HazardType.FLOOD, depth_property="depth")
    assert [(z.depth_m, z.rank) for z in zones] == [(0.3, 1), (2.5, 2), (12.0, 5)]


def test_parse_single_feature_multipolygon_with_hole_and_altitude() -> None:
    outer = [[LON, LAT, 5.0], [LON + 0.02, LAT, 5.0], [LON + 0.02, LAT + 0.02, 5.0], [LON, LAT]]
    hole = [[LON + 0.012, LAT + 0.002], [LON + 0.018, LAT + 0.002], [LON + 0.018, LAT + 0.008]]
    far_square = [[x + 0.05, y] for x, y in SQUARE]
    geometry = {"type": "MultiPolygon", "coordinates": [[outer, hole], [far_square]]}
    data = json.dumps(_feature(geometry, rank=1)).encode()
    [zone] = parse_hazard_geojson(data, "inland_flood", rank_property="rank")
    assert isinstance(zone.geometry, MultiPolygon)
    assert not zone.geometry.has_z
    assert len(zone.geometry.geoms[0].interiors) == 1
    assert zone.repair is None


def test_bow_tie_is_repaired_and_reported() -> None:
    bow_tie = [
        [LON, LAT],
        [LON + 0.01, LAT + 0.01],
        [LON + 0.01, LAT],
        [LON, LAT + 0.01],
        [LON, LAT],
    ]
    data = _collection(_feature(_polygon(SQUARE)), _feature(_polygon(bow_tie)))
    zones = parse_hazard_geojson(data, "flood")
    assert [z.repair is not None for z in zones] == [False, True]
    repaired = zones[1]
    assert "Self-intersection" in (repaired.repair or "")
    assert repaired.geometry.is_valid
    assert isinstance(repaired.geometry, MultiPolygon) and len(repaired.geometry.geoms) == 2
    # The two triangles of the bow-tie each cover a quarter of the square.
    assert repaired.geometry.area == pytest.approx(0.5 * 0.01 * 0.01)
    assert repaired.rank is None


def test_polygon_without_area_is_refused() -> None:
    flat = [[LON, LAT], [LON + 0.01, LAT], [LON + 0.02, LAT], [LON, LAT]]
    with pytest.raises(HazardFileError) as info:
        parse_hazard_geojson(_collection(_feature(_polygon(flat))), "flood")
    [problem] = info.value.problems
    assert problem.message.startswith("features[0]: ")
    assert "repairing it leaves no area" in problem.message


def test_linestring_is_refused_with_feature_index() -> None:
    line = {"type": "LineString", "coordinates": [[LON, LAT], [LON + 0.01, LAT]]}
    data = _collection(_feature(_polygon(SQUARE)), _feature(line))
    with pytest.raises(HazardFileError) as info:
        parse_hazard_geojson(data, "flood")
    assert [str(p) for p in info.value.problems] == [
        "<bytes>:1: features[1]: geometry must be a Polygon or MultiPolygon, got 'LineString'"
    ]


def test_all_problems_are_reported_together() -> None:
    out_of_range = [[LON, LAT], [LON, 91.0], [LON + 0.01, LAT], [LON, LAT]]
    data = _collection(
        _feature(_polygon(SQUARE), rank=1),
        _feature(_polygon(out_of_range), rank=1),
        _feature({"type": "Polygon", "coordinates": []}, rank=1),
        _feature(None, rank=1),
        _feature(_polygon(SQUARE), rank=3),
        _feature(_polygon(SQUARE)),
        _feature(_polygon([[LON, LAT], [LON + 1, LAT]]), rank=1),
        _feature(_polygon([[LON, "x"], [LON + 1, LAT], [LON, LAT + 1]]), rank=1),
    )
    with pytest.raises(HazardFileError) as info:
        parse_hazard_geojson(data, "landslide", rank_property="rank")
    assert [p.message for p in info.value.problems] == [
        "features[1]: latitude 91.0 is out of range (-90..90)",
        "features[2]: empty Polygon",
        "features[3]: feature has no geometry",
        "features[4]: rank 3 is outside 1..2 for landslide zones",
        "features[5]: missing rank property 'rank'",
        "features[6]: a ring needs at least 4 positions, got 2",
        "features[7]: a position must be [lon, lat] numbers, got [139.92, 'x']",
    ]
    assert english_words(info.value.message_ja, "<bytes>") == []


def test_problem_list_is_capped() -> None:
    bad = _feature({"type": "Point", "coordinates": [LON, LAT]})
    with pytest.raises(HazardFileError) as info:
        parse_hazard_geojson(_collection(*[bad] * 70), "flood")
    assert info.value.total == 70 and len(info.value.problems) == MAX_PROBLEMS
    assert "and 20 more" in str(info.value)


def test_invalid_json_and_wrong_top_level() -> None:
    with pytest.raises(HazardFileError, match="invalid JSON at line 2 column 1"):
        parse_hazard_geojson(b'{"type": "FeatureCollection",\n}', "flood")
    with pytest.raises(HazardFileError, match="expected a GeoJSON FeatureCollection or Feature"):
        parse_hazard_geojson(b'{"type": "Polygon", "coordinates": []}', "flood")


def test_size_cap(tmp_path: Path) -> None:
    data = _collection(_feature(_polygon(SQUARE)))
    with pytest.raises(HazardFileError, match="the limit is 10 bytes"):
        parse_hazard_geojson(data, "flood", max_bytes=10)
    path = tmp_path / "big.geojson"
    path.write_bytes(data)
    with pytest.raises(HazardFileError, match=f"file is {len(data)} bytes, the limit is 10 bytes"):
        parse_hazard_geojson(path, "flood", max_bytes=10)
    assert len(parse_hazard_geojson(path, "flood", max_bytes=len(data))) == 1


def test_caller_mistakes_are_value_errors() -> None:
    data = _collection(_feature(_polygon(SQUARE)))
    with pytest.raises(ValueError, match="not both"):
        parse_hazard_geojson(data, "flood", rank_property="a", depth_property="b")
    with pytest.raises(ValueError, match="depth ranks do not apply"):
        parse_hazard_geojson(data, "landslide", depth_property="depth")
    with pytest.raises(ValueError):
        parse_hazard_geojson(data, "meteor")
