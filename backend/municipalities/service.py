"""Municipality reference data, boundary import and point-in-municipality look-up."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import MultiPolygon, Polygon, shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy.ext.asyncio import AsyncSession

from ..errors import NotFound, ValidationFailed
from . import repository
from .models import Municipality
from .reference import FUKUSHIMA, normalize_code

MAX_BOUNDARY_BYTES = 20 * 1024 * 1024

# Parsed, prepared boundaries keyed by (code, updated_at): parsing a 6,000-vertex polygon
# per look-up would dominate the cost of saving a place.
_prepared: dict[tuple[str, object], BaseGeometry] = {}


async def sync_reference(session: AsyncSession) -> int:
    """Insert or update the Fukushima municipalities; returns how many are known."""
    await repository.upsert_reference(session, FUKUSHIMA)
    return await repository.count(session)


async def get_municipality(session: AsyncSession, code: str) -> Municipality:
    """A municipality by its 5- or 6-digit code, or NotFound."""
    normalized = normalize_code(code)
    municipality = await repository.get(session, normalized) if normalized else None
    if municipality is None:
        raise NotFound("municipality", "市区町村", field="municipalityCode")
    return municipality


async def list_municipalities(
    session: AsyncSession, *, prefecture_code: str | None = None
) -> list[Municipality]:
    """All known municipalities, optionally of one prefecture, by code."""
    return await repository.list_all(session, prefecture_code)


def _boundary_geometry(municipality: Municipality) -> BaseGeometry:
    key = (municipality.code, municipality.updated_at)
    geometry = _prepared.get(key)
    if geometry is None:
        geometry = shape(json.loads(municipality.boundary_geojson or "null"))
        shapely.prepare(geometry)
        _prepared[key] = geometry
    return geometry


async def locate(session: AsyncSession, *, lat: float, lon: float) -> str | None:
    """The code of the municipality whose imported boundary contains the point, if any."""
    point = shapely.Point(lon, lat)
    for municipality in await repository.candidates_containing(session, lat, lon):
        if _boundary_geometry(municipality).covers(point):
            return municipality.code
    return None


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
    raw = await asyncio.to_thread(path.read_bytes)
    code, boundary = parse_boundary(raw, code_hint=code or path.stem)
    municipality = await repository.get(session, code)
    if municipality is None:
        raise NotFound("municipality", "市区町村")
    minx, miny, maxx, maxy = boundary.bounds
    municipality.boundary_geojson = json.dumps(shapely.geometry.mapping(boundary))
    municipality.boundary_source = path.name[:255]
    municipality.min_lon, municipality.min_lat = minx, miny
    municipality.max_lon, municipality.max_lat = maxx, maxy
    await session.flush()
    return municipality
