"""Parse hazard-zone GeoJSON (flood depth, landslide warning areas, ...) into plain records.

Input is a GeoJSON FeatureCollection (or one Feature) of Polygon / MultiPolygon features in
lon/lat (WGS 84 / JGD2011). Each feature becomes a ``HazardZoneRecord`` with a shapely geometry
and an integer rank read from a property the caller names, either directly (``rank_property``)
or as a depth in metres mapped to the MLIT flood depth ranks (``depth_property``).

Validation is all-or-nothing like the shelter import (``backend.ingest``): every problem (up
to ``MAX_PROBLEMS``) is reported in one ``HazardFileError`` with its line and feature index.
Invalid polygons (bow-ties, self-intersections) are repaired with ``shapely.make_valid`` keeping
only polygonal parts; the record says why it was repaired so the CLI can print "repaired N
features".
"""

from __future__ import annotations

import bisect
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path
from types import MappingProxyType
from typing import Any

import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from ..errors import Checker
from ..ingest.files import check_size, read_capped
from ..ingest.json_text import document_line, load_json, member_item_lines
from ..ingest.problems import FileRefused, Problems
from .types import HazardType

DEFAULT_MAX_BYTES = 64 * 1024 * 1024

# MLIT 浸水深ランク: <0.5 m, 0.5-3, 3-5, 5-10, 10-20, >=20 m -> ranks 1..6 (lower bound inclusive).
FLOOD_DEPTH_RANK_BOUNDS_M: tuple[float, ...] = (0.5, 3.0, 5.0, 10.0, 20.0)
DEPTH_HAZARDS = frozenset(
    {HazardType.FLOOD, HazardType.INLAND_FLOOD, HazardType.STORM_SURGE, HazardType.TSUNAMI}
)


class LandslideRank(IntEnum):
    """Ranks of 土砂災害 zones under 土砂災害防止法."""

    WARNING_AREA = 1  # 土砂災害警戒区域 (yellow zone)
    SPECIAL_WARNING_AREA = 2  # 土砂災害特別警戒区域 (red zone)


# Allowed ranks per hazard type; types not listed accept any positive rank.
RANK_SCALES: Mapping[HazardType, range] = MappingProxyType(
    {
        **{t: range(1, len(FLOOD_DEPTH_RANK_BOUNDS_M) + 2) for t in DEPTH_HAZARDS},
        HazardType.LANDSLIDE: range(1, 3),
    }
)

_NAME_KEYS = ("name", "名称", "NAME", "title")
_SOURCE_KEYS = ("source", "出典")


def depth_to_rank(depth_m: float) -> int:
    """MLIT flood depth rank (1..6) of an inundation depth in metres."""
    if not math.isfinite(depth_m) or depth_m < 0:
        raise ValueError(f"depth must be a finite number >= 0, got {depth_m!r}")
    return bisect.bisect_right(FLOOD_DEPTH_RANK_BOUNDS_M, depth_m) + 1


@dataclass(frozen=True, slots=True)
class HazardZoneRecord:
    """One hazard zone feature; geometry is a valid, non-empty (Multi)Polygon in lon/lat."""

    feature_index: int
    feature_id: str | None  # GeoJSON Feature "id", when present
    hazard_type: HazardType
    rank: int | None  # None when the caller named neither a rank nor a depth property
    depth_m: float | None
    geometry: Polygon | MultiPolygon
    name: str | None
    source: str | None
    properties: Mapping[str, Any]
    repair: str | None  # why the geometry had to be repaired; None when valid as given
    line: int | None = None  # where the feature starts in its file


class HazardFileError(FileRefused):
    """A hazard file was refused; ``problems`` lists the first ``MAX_PROBLEMS`` problems."""

    what = "hazard file"
    what_ja = "ハザードデータ"


class _FeatureProblems:
    """The file's problems, each naming the feature (``features[i]``) at its line."""

    def __init__(self, problems: Problems, index: int, line: int | None) -> None:
        self.problems, self.index, self.line = problems, index, line

    def add(self, message: str, message_ja: str) -> None:
        self.problems.add(
            self.line,
            f"features[{self.index}]: {message}",
            f"{self.index + 1}件目の地物: {message_ja}",
        )


def parse_hazard_geojson(
    source: str | os.PathLike[str] | bytes,
    hazard_type: HazardType | str,
    rank_property: str | None = None,
    depth_property: str | None = None,
    *,
    name_property: str | None = None,
    source_property: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> list[HazardZoneRecord]:
    """Parse and validate a hazard-zone GeoJSON file or its bytes; raise HazardFileError."""
    hazard_type = HazardType(hazard_type)
    if rank_property is not None and depth_property is not None:
        raise ValueError("give rank_property or depth_property, not both")
    if depth_property is not None and hazard_type not in DEPTH_HAZARDS:
        raise ValueError(f"depth ranks do not apply to {hazard_type.value} zones")

    origin = "<bytes>" if isinstance(source, bytes) else os.fspath(source)
    problems = Problems(origin, HazardFileError)
    if isinstance(source, bytes):
        check_size(source, max_bytes, problems)
        data = source
    else:
        data = read_capped(Path(source), max_bytes, problems)

    features, lines = _load_features(data, problems)
    records: list[HazardZoneRecord] = []
    for index, feature in enumerate(features):
        record = _parse_feature(
            _FeatureProblems(problems, index, lines[index]),
            feature,
            hazard_type,
            rank_property,
            depth_property,
            name_property,
            source_property,
        )
        if record is not None:
            records.append(record)
    problems.raise_if_any()
    return records


def _load_features(data: bytes, problems: Problems) -> tuple[list[Any], list[int | None]]:
    """The features of a FeatureCollection (or the one Feature) and the lines they start on."""
    text, doc = load_json(data, problems, what="GeoJSON")
    kind = doc.get("type") if isinstance(doc, dict) else None
    if kind == "Feature":
        return [doc], [document_line(text)]
    if kind == "FeatureCollection" and isinstance(doc.get("features"), list):
        features = list(doc["features"])
        return features, member_item_lines(text, "features", len(features))
    problems.fail(
        document_line(text),
        f"expected a GeoJSON FeatureCollection or Feature, got type {kind!r}",
        f"GeoJSONのFeatureCollectionまたはFeatureではありません（種類: {kind!r}）",
    )


def _parse_feature(
    problems: _FeatureProblems,
    feature: object,
    hazard_type: HazardType,
    rank_property: str | None,
    depth_property: str | None,
    name_property: str | None,
    source_property: str | None,
) -> HazardZoneRecord | None:
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        problems.add("not a GeoJSON Feature", "GeoJSONのFeatureではありません")
        return None
    props = feature.get("properties") or {}
    if not isinstance(props, dict):
        problems.add("properties must be an object", "属性がオブジェクトではありません")
        return None
    ok = True
    geometry, repair = _build_geometry(feature.get("geometry"), problems)
    if geometry is None:
        ok = False

    rank: int | None = None
    depth: float | None = None
    if rank_property is not None:
        rank = _rank_value(props.get(rank_property), rank_property, hazard_type, problems)
        ok = ok and rank is not None
    elif depth_property is not None:
        depth = _depth_value(props.get(depth_property), depth_property, problems)
        if depth is None:
            ok = False
        else:
            rank = depth_to_rank(depth)
    if not ok or geometry is None:
        return None
    feature_id = feature.get("id")
    return HazardZoneRecord(
        feature_index=problems.index,
        feature_id=None if feature_id is None else str(feature_id),
        hazard_type=hazard_type,
        rank=rank,
        depth_m=depth,
        geometry=geometry,
        name=_first_text(props, (name_property,) if name_property else _NAME_KEYS),
        source=_first_text(props, (source_property,) if source_property else _SOURCE_KEYS),
        properties=MappingProxyType(dict(props)),
        repair=repair,
        line=problems.line,
    )


def _first_text(props: Mapping[str, Any], keys: Sequence[str]) -> str | None:
    for key in keys:
        value = props.get(key)
        if value is not None and str(value).strip():
            return str(value).strip()
    return None


def _rank_value(
    value: object, prop: str, hazard_type: HazardType, problems: _FeatureProblems
) -> int | None:
    if value is None:
        problems.add(f"missing rank property {prop!r}", f"ランクの属性 {prop!r} がありません")
        return None
    rank: int | None = None
    if isinstance(value, bool):
        rank = None
    elif isinstance(value, int):
        rank = value
    elif isinstance(value, float) and value.is_integer():
        rank = int(value)
    elif isinstance(value, str) and value.strip().isdigit():
        rank = int(value.strip())
    if rank is None:
        problems.add(
            f"rank property {prop!r} must be an integer, got {value!r}",
            f"ランクの属性 {prop!r} は整数にしてください（{value!r}）",
        )
        return None
    scale = RANK_SCALES.get(hazard_type)
    if scale is not None and rank not in scale:
        problems.add(
            f"rank {rank} is outside {scale.start}..{scale.stop - 1} for {hazard_type.value} zones",
            f"{hazard_type.label_ja}のランク {rank} が範囲外です"
            f"（{scale.start}〜{scale.stop - 1}）",
        )
        return None
    if rank < 1:
        problems.add(f"rank must be >= 1, got {rank}", f"ランクは1以上にしてください（{rank}）")
        return None
    return rank


def _depth_value(value: object, prop: str, problems: _FeatureProblems) -> float | None:
    depth: float | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        depth = float(value)
    elif isinstance(value, str):
        try:
            depth = float(value.strip())
        except ValueError:
            depth = None
    if value is None:
        problems.add(f"missing depth property {prop!r}", f"浸水深の属性 {prop!r} がありません")
        return None
    if depth is None or not math.isfinite(depth) or depth < 0:
        problems.add(
            f"depth property {prop!r} must be a number of metres >= 0, got {value!r}",
            f"浸水深の属性 {prop!r} は0以上の数値（メートル）にしてください（{value!r}）",
        )
        return None
    return depth


def _build_geometry(
    geometry: object, problems: _FeatureProblems
) -> tuple[Polygon | MultiPolygon | None, str | None]:
    if not isinstance(geometry, dict):
        problems.add("feature has no geometry", "図形がありません")
        return None, None
    try:
        return parse_polygon_geometry(geometry)
    except InvalidGeometry as exc:
        problems.add(str(exc), exc.message_ja)
        return None, None


class InvalidGeometry(ValueError):
    """A GeoJSON geometry that is not a usable Polygon/MultiPolygon (message says why).

    ``message_ja`` says the same in Japanese, phrased to follow 「回避エリア1番目の」.
    """

    def __init__(self, message: str, message_ja: str = "図形が正しい多角形ではありません") -> None:
        super().__init__(message)
        self.message_ja = message_ja


def count_positions(geometry: object) -> int:
    """Positions in a Polygon/MultiPolygon's coordinates, counted before anything is parsed."""
    if not isinstance(geometry, dict):
        return 0
    # Levels of arrays above the positions: rings (and polygons of a MultiPolygon).
    levels = {"Polygon": 1, "MultiPolygon": 2}.get(geometry.get("type"))  # type: ignore[arg-type]
    if levels is None:
        return 0
    arrays = [geometry.get("coordinates")]
    for _ in range(levels):
        arrays = [item for array in arrays if isinstance(array, list) for item in array]
    return sum(len(ring) for ring in arrays if isinstance(ring, list))


def parse_polygon_geometry(
    geometry: object, *, repair: bool = True
) -> tuple[Polygon | MultiPolygon, str | None]:
    """A GeoJSON Polygon/MultiPolygon as shapely; a self-intersecting one repaired if asked.

    Returns (geometry, repair note or None); raises InvalidGeometry for anything else: other
    types, bad or out-of-range positions, rings with fewer than 4 positions, empty results,
    and invalid polygons when ``repair`` is False. Repair (``make_valid``) costs about n^3.4
    on a self-intersecting star of n vertices: it is for imported files, bounded by their
    caps and parsed in a worker thread, never for a client's request.
    """
    if not isinstance(geometry, dict):
        raise InvalidGeometry("a geometry must be a GeoJSON object", "形が多角形ではありません")
    kind = geometry.get("type")
    coords = geometry.get("coordinates")
    if kind not in ("Polygon", "MultiPolygon"):
        raise InvalidGeometry(
            f"geometry must be a Polygon or MultiPolygon, got {kind!r}"[:200],
            "形が多角形ではありません",
        )
    if not isinstance(coords, list) or not coords:
        raise InvalidGeometry(f"empty {kind}", "多角形が空です")
    try:
        if kind == "Polygon":
            geom: Polygon | MultiPolygon = _polygon(coords)
        else:
            geom = MultiPolygon([_polygon(p) for p in coords])
    except _CoordinateError as exc:
        raise InvalidGeometry(str(exc), exc.message_ja) from None
    if geom.is_empty:
        raise InvalidGeometry(f"empty {kind}", "多角形が空です")
    if geom.is_valid:
        return geom, None
    reason = shapely.is_valid_reason(geom)
    if not repair:
        crossing = "Self-intersection" in reason or "Ring Self-intersection" in reason
        raise InvalidGeometry(
            f"invalid {kind} ({reason}): draw it without self-intersections"[:300],
            "多角形が自己交差しています" if crossing else "多角形の形が正しくありません",
        )
    fixed = polygonal_part(shapely.make_valid(geom))
    if fixed is None:
        raise InvalidGeometry(
            f"invalid {kind} ({reason}) and repairing it leaves no area",
            "多角形の形が正しくありません",
        )
    return fixed, f"{reason}; repaired with make_valid"


def parse_client_polygons(
    checker: Checker,
    field: str,
    geometries: Sequence[object],
    *,
    max_count: int,
    max_vertices: int,
    label_en: str,
    label_ja: str,
) -> list[Polygon | MultiPolygon]:
    """Polygons a client sent (avoid areas, alert areas): counted and capped before any
    geometry is built, each refused (never repaired) when invalid, problems on ``checker``."""
    polygons: list[Polygon | MultiPolygon] = []
    if len(geometries) > max_count:
        checker.add(field, f"at most {max_count} {label_en}", f"{label_ja}は{max_count}件までです")
    elif sum(map(count_positions, geometries)) > max_vertices:
        checker.add(
            field,
            f"{label_en} may have at most {max_vertices} vertices",
            f"{label_ja}の頂点数は合計{max_vertices}までです",
        )
    else:
        for i, geometry in enumerate(geometries):
            polygon = _client_polygon(checker, f"{field}[{i}]", f"{label_ja}{i + 1}番目", geometry)
            if polygon is not None:
                polygons.append(polygon)
    return polygons


def parse_client_polygon(
    checker: Checker,
    field: str,
    geometry: object,
    *,
    max_vertices: int,
    label_en: str,
    label_ja: str,
) -> Polygon | MultiPolygon | None:
    """One polygon a client sent (an area): its vertices capped before any geometry is built,
    refused (never repaired) when invalid; None with the problem on ``checker``."""
    if count_positions(geometry) > max_vertices:
        checker.add(
            field,
            f"{label_en} may have at most {max_vertices} vertices",
            f"{label_ja}の頂点数は{max_vertices}までです",
        )
        return None
    return _client_polygon(checker, field, label_ja, geometry)


def _client_polygon(
    checker: Checker, field: str, label_ja: str, geometry: object
) -> Polygon | MultiPolygon | None:
    try:
        # make_valid grows about n^3.4 (a 101-vertex star took 9 s): refuse, never repair.
        polygon, _ = parse_polygon_geometry(geometry, repair=False)
    except InvalidGeometry as exc:
        checker.add(field, f"{field}: {exc}", f"{label_ja}の{exc.message_ja}")
        return None
    return polygon


class _CoordinateError(ValueError):
    def __init__(self, message: str, message_ja: str) -> None:
        super().__init__(message)
        self.message_ja = message_ja


def _polygon(rings: object) -> Polygon:
    if not isinstance(rings, list) or not rings:
        raise _CoordinateError("a polygon needs at least one ring", "多角形に輪郭がありません")
    shell, *holes = (_ring(r) for r in rings)
    return Polygon(shell, holes)


def _ring(ring: object) -> list[tuple[float, float]]:
    if not isinstance(ring, list):
        raise _CoordinateError(
            f"a ring must be an array of positions, got {ring!r}"[:200],
            "多角形の輪郭が座標の配列ではありません",
        )
    points = [_position(p) for p in ring]
    # GeoJSON rings are closed; tolerate an open ring by closing it.
    if points and points[0] != points[-1]:
        points.append(points[0])
    if len(points) < 4:
        raise _CoordinateError(
            f"a ring needs at least 4 positions, got {len(ring)}", "多角形の輪郭の点が4点未満です"
        )
    return points


def _position(position: object) -> tuple[float, float]:
    if (
        not isinstance(position, list)
        or len(position) < 2
        or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in position[:2])
    ):
        raise _CoordinateError(
            f"a position must be [lon, lat] numbers, got {position!r}"[:200],
            "座標が[経度, 緯度]の数値ではありません",
        )
    lon, lat = (_coordinate(v) for v in position[:2])  # any altitude is dropped
    if not (math.isfinite(lon) and -180.0 <= lon <= 180.0):
        raise _CoordinateError(
            f"longitude {lon} is out of range (-180..180)", "経度が範囲外です(-180〜180)"
        )
    if not (math.isfinite(lat) and -90.0 <= lat <= 90.0):
        raise _CoordinateError(
            f"latitude {lat} is out of range (-90..90)", "緯度が範囲外です(-90〜90)"
        )
    return lon, lat


def _coordinate(value: float) -> float:
    # An integer like 10**400 (JSON allows it) overflows float(): out of range, not a crash.
    if isinstance(value, int) and abs(value) > 1_000:
        return math.inf if value > 0 else -math.inf
    return float(value)


def polygonal_part(geometry: BaseGeometry) -> Polygon | MultiPolygon | None:
    """The polygonal part of a geometry (e.g. a make_valid result), or None when it has none."""
    if isinstance(geometry, Polygon | MultiPolygon):
        return None if geometry.is_empty else geometry
    polygons: list[Polygon] = []
    for part in getattr(geometry, "geoms", ()):
        if isinstance(part, Polygon) and not part.is_empty:
            polygons.append(part)
        elif isinstance(part, MultiPolygon):
            polygons.extend(p for p in part.geoms if not p.is_empty)
    if not polygons:
        return None
    # Parts of a make_valid collection do not overlap, but union makes that a guarantee.
    merged = shapely.union_all(polygons)
    return merged if isinstance(merged, Polygon | MultiPolygon) else polygonal_part(merged)
