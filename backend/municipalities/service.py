"""Municipality reference data, boundary import and point-in-municipality look-up."""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon, shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy.ext.asyncio import AsyncSession

from ..errors import NotFound, ValidationFailed
from . import repository
from .models import Municipality
from .reference import national_reference, normalize_code, served_codes

MAX_BOUNDARY_BYTES = 20 * 1024 * 1024
# Bulk look-ups fetch the boundaries meeting the 1-degree cells their points fall in; past
# this many cells one box around all points is cheaper to query.
MAX_LOOKUP_CELLS = 400

# Parsed, prepared boundaries by code, with the updated_at they were read at: parsing a
# 6,000-vertex polygon (and reading its text) per look-up would dominate the cost of saving
# a place. Used on the event loop thread only (GEOS prepared geometries are not thread-safe).
_prepared: dict[str, tuple[object, BaseGeometry]] = {}


class MunicipalityNotServed(ValidationFailed):
    """A municipality of Japan that this installation does not serve (no staff, no clients)."""

    def __init__(self, municipality: Municipality, *, field: str = "municipalityCode") -> None:
        super().__init__(
            f"municipality {municipality.code} ({municipality.prefecture_name_ja}"
            f"{municipality.name_ja}) is not served by this installation",
            f"{municipality.prefecture_name_ja}{municipality.name_ja}は"
            "このサービスの対象市区町村ではありません",
            field=field,
        )


@cache
def _reference_rows(served: frozenset[str]) -> dict[str, tuple[Any, ...]]:
    """The wanted REFERENCE_COLUMNS of every municipality, by code."""
    return {
        ref.code: (
            ref.prefecture_code,
            ref.prefecture_name_ja,
            ref.name_ja,
            ref.name_kana,
            ref.name_en,
            ref.designated_city_code,
            ref.code in served,
        )
        for ref in national_reference()
    }


async def sync_reference(session: AsyncSession, *, served_selection: Sequence[str]) -> int:
    """Bring every municipality of Japan and its served flag up to date; returns rows written.

    Runs at every start, so only rows that differ are written: a database in step costs one
    SELECT. Municipalities gone from the table (merged) stay for the records naming them.
    """
    wanted = _reference_rows(served_codes(served_selection))
    stored = await repository.reference_rows(session)
    changed = [
        {"code": code, **dict(zip(repository.REFERENCE_COLUMNS, row, strict=True))}
        for code, row in wanted.items()
        if stored.get(code) != row
    ]
    await repository.upsert_reference(session, changed)
    served_index = repository.REFERENCE_COLUMNS.index("served")
    gone = [code for code, row in stored.items() if row[served_index] and code not in wanted]
    await repository.unserve(session, gone)
    return len(changed)


async def get_municipality(
    session: AsyncSession, code: str, *, field: str = "municipalityCode"
) -> Municipality:
    """A municipality of Japan by its 5- or 6-digit code, or NotFound."""
    normalized = normalize_code(code)
    municipality = await repository.get(session, normalized) if normalized else None
    if municipality is None:
        raise NotFound("municipality", "市区町村", field=field)
    return municipality


async def get_served_municipality(
    session: AsyncSession, code: str, *, field: str = "municipalityCode"
) -> Municipality:
    """A municipality this installation serves, else NotFound or MunicipalityNotServed."""
    municipality = await get_municipality(session, code, field=field)
    if not municipality.served:
        raise MunicipalityNotServed(municipality, field=field)
    return municipality


async def existing_codes(session: AsyncSession, codes: set[str]) -> set[str]:
    """Those of ``codes`` (5-digit) that name known municipalities."""
    return await repository.existing_codes(session, codes) if codes else set()


async def boundary_geojson(session: AsyncSession, code: str) -> str | None:
    """The imported boundary of a municipality as GeoJSON text, or None."""
    return await repository.boundary_geojson(session, code)


async def municipalities_by_codes(session: AsyncSession, codes: set[str]) -> list[Municipality]:
    """The known municipalities among ``codes`` (5-digit)."""
    return await repository.get_many(session, sorted(codes)) if codes else []


async def served_among(session: AsyncSession, codes: set[str]) -> set[str]:
    """Those of ``codes`` that name served municipalities."""
    return await repository.served_among(session, codes) if codes else set()


async def list_municipalities(
    session: AsyncSession, *, prefecture_code: str | None = None, served_only: bool = False
) -> list[Municipality]:
    """Known municipalities, optionally of one prefecture and/or served only, by code."""
    return await repository.list_all(session, prefecture_code, served_only=served_only)


def _box_area(box: tuple[float | None, ...]) -> float:
    min_lon, min_lat, max_lon, max_lat = (v or 0.0 for v in box)
    return (max_lon - min_lon) * (max_lat - min_lat)


def _parse_prepared(geojson: str) -> BaseGeometry:
    geometry = shapely.from_geojson(geojson)
    shapely.prepare(geometry)
    return geometry


async def _boundary_geometry(session: AsyncSession, municipality: Municipality) -> BaseGeometry:
    cached = _prepared.get(municipality.code)
    if cached is not None and cached[0] == municipality.updated_at:
        return cached[1]
    geojson = await repository.boundary_geojson(session, municipality.code)
    # Prepared in a worker thread, then only ever used on this (the event loop's) thread.
    geometry = await asyncio.to_thread(_parse_prepared, geojson or "null")
    _prepared[municipality.code] = (municipality.updated_at, geometry)
    return geometry


async def locate(session: AsyncSession, *, lat: float, lon: float) -> str | None:
    """The code of the municipality whose imported boundary contains the point, if any.

    Where boundaries overlap (a designated city and its wards), the smallest one wins.
    """
    candidates = await repository.candidates_containing(session, lat, lon)
    candidates.sort(key=lambda m: (_box_area((m.min_lon, m.min_lat, m.max_lon, m.max_lat)), m.code))
    for municipality in candidates:
        if shapely.intersects_xy(await _boundary_geometry(session, municipality), lon, lat):
            return municipality.code
    return None


def _locate_points(
    boundaries: list[repository.BoundaryRow], lats: np.ndarray, lons: np.ndarray
) -> list[str | None]:
    """Worker-thread part of ``locate_many``: parse, prepare and test, smallest boundary first."""
    found: list[str | None] = [None] * len(lats)
    unplaced = np.ones(len(lats), dtype=bool)
    for code, geojson, min_lon, min_lat, max_lon, max_lat in sorted(
        boundaries, key=lambda b: (_box_area(b[2:]), b[0])
    ):
        in_box = unplaced & (lons >= min_lon) & (lons <= max_lon)
        in_box &= (lats >= min_lat) & (lats <= max_lat)
        indices = np.flatnonzero(in_box)
        if not len(indices):
            continue
        # Parsed here, in this thread, and never shared: prepared geometries are not thread-safe.
        geometry = _parse_prepared(geojson)
        inside = indices[shapely.intersects_xy(geometry, lons[indices], lats[indices])]
        unplaced[inside] = False
        for index in inside:
            found[index] = code
    return found


async def locate_many(
    session: AsyncSession, points: Sequence[tuple[float, float]]
) -> list[str | None]:
    """``locate`` for many (lat, lon) points at once: one query, geometry in a worker thread."""
    if not points:
        return []
    lats = np.fromiter((p[0] for p in points), dtype=float, count=len(points))
    lons = np.fromiter((p[1] for p in points), dtype=float, count=len(points))
    cells = {(math.floor(lon), math.floor(lat)) for lat, lon in points}
    if len(cells) > MAX_LOOKUP_CELLS:
        boxes = [(float(lons.min()), float(lats.min()), float(lons.max()), float(lats.max()))]
    else:
        boxes = [(x, y, x + 1.0, y + 1.0) for x, y in sorted(cells)]
    boundaries = await repository.boundaries_overlapping(session, boxes)
    return await asyncio.to_thread(_locate_points, boundaries, lats, lons)


def parse_boundary(raw: bytes, *, code_hint: str | None = None) -> tuple[str, BaseGeometry]:
    """Code and polygon of a boundary GeoJSON (FeatureCollection, Feature or geometry)."""
    if len(raw) > MAX_BOUNDARY_BYTES:
        raise ValidationFailed("boundary file too large", "境界ファイルが大きすぎます")
    try:
        document: Any = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationFailed(f"invalid JSON: {exc}", f"JSONとして読めません: {exc}") from exc
    features = []
    if isinstance(document, dict) and document.get("type") == "FeatureCollection":
        features = [f for f in document.get("features") or [] if isinstance(f, dict)]
    elif isinstance(document, dict) and document.get("type") == "Feature":
        features = [document]
    elif isinstance(document, dict) and document.get("type") in {"Polygon", "MultiPolygon"}:
        features = [{"type": "Feature", "properties": {}, "geometry": document}]
    if not features:
        raise ValidationFailed(
            "expected a GeoJSON FeatureCollection, Feature or (Multi)Polygon",
            "GeoJSONのFeatureCollection・Feature・(Multi)Polygonが必要です",
        )
    polygons: list[Polygon] = []
    code = normalize_code(code_hint) if code_hint else None
    for feature in features:
        properties = feature.get("properties") or {}
        for key in ("code", "N03_007", "municipality_code"):
            if not code and isinstance(properties.get(key), str):
                code = normalize_code(properties[key])
        try:
            geometry = shape(feature.get("geometry"))
        except (AttributeError, TypeError, ValueError, shapely.errors.GEOSException) as exc:
            raise ValidationFailed(f"invalid geometry: {exc}", "ジオメトリが不正です") from exc
        if not geometry.is_valid:
            geometry = shapely.make_valid(geometry)
        parts = getattr(geometry, "geoms", [geometry])
        polygons.extend(p for p in parts if isinstance(p, Polygon) and not p.is_empty)
    if not polygons:
        raise ValidationFailed("no polygon in the boundary file", "境界ポリゴンがありません")
    if code is None:
        raise ValidationFailed(
            "municipality code unknown: name the file <code>.json or pass --code",
            "市区町村コードが不明です",
        )
    minx, miny, maxx, maxy = MultiPolygon(polygons).bounds
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise ValidationFailed("coordinates out of range", "座標が範囲外です")
    boundary = polygons[0] if len(polygons) == 1 else MultiPolygon(polygons)
    return code, boundary


async def import_boundary(
    session: AsyncSession, path: Path, *, code: str | None = None
) -> Municipality:
    """Store the boundary of one municipality from a GeoJSON file (e.g. N03-derived 07202.json)."""

    def read() -> tuple[str, BaseGeometry, str]:
        code_found, boundary = parse_boundary(path.read_bytes(), code_hint=code or path.stem)
        return code_found, boundary, shapely.to_geojson(boundary)

    # Parsing (and repairing) thousands of vertices is no work for the event loop.
    found_code, boundary, geojson = await asyncio.to_thread(read)
    municipality = await repository.get(session, found_code)
    if municipality is None:
        raise NotFound("municipality", "市区町村")
    minx, miny, maxx, maxy = boundary.bounds
    municipality.boundary_geojson = geojson
    municipality.boundary_source = path.name[:255]
    municipality.min_lon, municipality.min_lat = minx, miny
    municipality.max_lon, municipality.max_lat = maxx, maxy
    await session.flush()
    return municipality
