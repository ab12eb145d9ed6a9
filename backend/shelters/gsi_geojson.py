"""GSI shelter GeoJSON: one Point feature per place, as split per municipality by
motohasystem/jp-shelter-api (``emergency/072028.json``), including its
``{"type": "unavailable", ...}`` stub for municipalities without published data."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..ingest.json_text import json_type, load_json, member_item_lines
from ..ingest.problems import Problems
from .gsi_rows import (
    KIND_MIXED,
    KIND_UNKNOWN,
    RecordBuilder,
    coordinate_problem,
    detect_kind,
    file_code,
    kind_from_folder,
)
from .records import ParsedShelterFile, ShelterKind


def parse_geojson(
    data: bytes, path: str, explicit_code: str | None, problems: Problems
) -> ParsedShelterFile:
    """Parse a GSI shelter FeatureCollection; every problem is collected with its line."""
    text, doc = load_json(data, problems, what="GeoJSON")
    if not isinstance(doc, dict):
        got, got_ja = json_type(doc)
        problems.fail(
            1,
            f"top level must be a GeoJSON FeatureCollection, got {got}",
            f"最上位がGeoJSONのFeatureCollectionではありません（{got_ja}です）",
        )
    if doc.get("type") == "unavailable":
        return _unavailable_stub(doc, path, explicit_code)
    if doc.get("type") != "FeatureCollection":
        problems.fail(
            1,
            f"not a GeoJSON FeatureCollection (type is {doc.get('type')!r})",
            f"GeoJSONのFeatureCollectionではありません（種類: {doc.get('type')!r}）",
        )
    features = doc.get("features")
    if not isinstance(features, list):
        got, got_ja = json_type(features)
        problems.fail(
            1,
            f"FeatureCollection 'features' must be an array, got {got}",
            f"地物の一覧が配列ではありません（{got_ja}です）",
        )

    code = file_code(path, explicit_code, doc.get("name"))
    lines = member_item_lines(text, "features", len(features))
    keys: set[str] = set()
    for feature in features:
        if isinstance(feature, dict) and isinstance(feature.get("properties"), dict):
            keys.update(feature["properties"])
    kind, mixed = detect_kind(keys)
    notices: list[str] = []
    if mixed:
        problems.fail(None, *KIND_MIXED)
    if kind is None and features:
        problems.fail(None, *KIND_UNKNOWN)
    folder_kind = kind_from_folder(path)
    if kind is None:
        kind = folder_kind
    elif folder_kind is not None and folder_kind != kind:
        notices.append(
            f"{path}: content lists {kind.label_ja} although the folder suggests "
            f"{folder_kind.label_ja}; the content was trusted"
        )

    builder = RecordBuilder(path, kind, code, problems, notices)
    for index, feature in enumerate(features):
        line = lines[index]
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            problems.add(
                line,
                f"features[{index}] is not a GeoJSON Feature",
                f"{index + 1}件目の地物がGeoJSONのFeatureではありません",
            )
            continue
        props = feature.get("properties")
        if not isinstance(props, dict):
            problems.add(
                line,
                f"features[{index}] has no properties object",
                f"{index + 1}件目の地物に属性がありません",
            )
            continue
        lon, lat = _point_coordinates(feature.get("geometry"), line, problems)
        builder.add(line, props, lon, lat, missing_is_error=True)
    problems.raise_if_any()
    return ParsedShelterFile(
        path=path,
        format="geojson",
        kind=kind,
        municipality_code=code,
        encoding="utf-8",
        records=tuple(builder.records),
        notices=tuple(notices),
    )


def _unavailable_stub(doc: Mapping[str, Any], path: str, explicit: str | None) -> ParsedShelterFile:
    data_type = doc.get("dataType")
    kind = (
        {
            "emergency": ShelterKind.EMERGENCY_SITE,
            "evacuation": ShelterKind.EVACUATION_SHELTER,
        }.get(data_type)
        if isinstance(data_type, str)
        else None
    )
    code = file_code(path, explicit, doc.get("code"))
    who = " ".join(str(doc[k]) for k in ("name", "code") if doc.get(k))
    message = doc.get("message") or "no data published"
    return ParsedShelterFile(
        path=path,
        format="geojson",
        kind=kind or kind_from_folder(path),
        municipality_code=code,
        encoding="utf-8",
        records=(),
        notices=(f"{path}: data unavailable for {who or 'this municipality'}: {message}",),
    )


def _point_coordinates(
    geometry: object, line: int | None, problems: Problems
) -> tuple[float | None, float | None]:
    if not isinstance(geometry, dict):
        problems.add(
            line,
            "feature has no geometry (a Point is required)",
            "地物に位置（点の図形）がありません",
        )
        return None, None
    if geometry.get("type") != "Point":
        problems.add(
            line,
            f"geometry must be a Point, got {geometry.get('type')!r}",
            f"図形は点（Point）にしてください（{geometry.get('type')!r}になっています）",
        )
        return None, None
    coords = geometry.get("coordinates")
    if (
        not isinstance(coords, list)
        or len(coords) < 2
        or not all(_is_number(c) for c in coords[:2])
    ):
        problems.add(
            line,
            f"Point coordinates must be [lon, lat] numbers, got {coords!r}",
            f"点の座標は[経度, 緯度]の数値にしてください（{coords!r}）",
        )
        return None, None
    lon, lat = float(coords[0]), float(coords[1])
    if (problem := coordinate_problem(lon, lat)) is not None:
        problems.add(line, *problem)
        return None, None
    return lon, lat


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
