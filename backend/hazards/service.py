"""Hazard zones: import, demo zones, and point/area look-ups through a cached HazardIndex."""

from __future__ import annotations

import asyncio
import json
import math
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, cast

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon, mapping
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from ..db.base import utcnow
from ..db.versions import data_stamp
from ..errors import Checker, ValidationFailed
from ..geo import check_bbox, check_point
from ..ingest.files import parse_all_off_loop, unique_paths
from ..ingest.problems import SourceRef
from ..municipalities import service as municipality_service
from . import repository
from .demo import DEMO_SOURCE, demo_hazard_zones
from .index import SIMPLIFY_FRACTION, HazardIndex, IndexedZone
from .sources import (
    DEPTH_HAZARDS,
    FLOOD_DEPTH_RANK_BOUNDS_M,
    HazardZoneRecord,
    LandslideRank,
    parse_hazard_geojson,
    polygonal_part,
)
from .types import HazardType

MAX_BBOX_SPAN_DEGREES = 2.0
MAX_MAP_FEATURES = 5_000
DEMO_MUNICIPALITY = "07202"


@dataclass(frozen=True, slots=True)
class ZoneInfo:
    """What the API shows of a zone; kept beside the index so look-ups need no query."""

    id: uuid.UUID
    hazard_type: HazardType
    rank: int | None
    depth_m: float | None
    name: str | None
    source: str
    municipality_code: str | None


@dataclass(frozen=True, slots=True)
class HazardMap:
    """Zones of a map view, clipped and simplified; ``truncated`` when capped."""

    zones: list[tuple[ZoneInfo, Polygon | MultiPolygon]]
    truncated: bool


@dataclass(frozen=True, slots=True)
class DemoZonesReplaced:
    """The demo zones of a municipality, removed because real zones of it were imported."""

    municipality_code: str
    municipality_name: str
    count: int
    reason: str  # why the imported zones are this municipality's


@dataclass(frozen=True, slots=True)
class HazardImportReport:
    """What one import did."""

    files: int
    zones: int
    repaired: int
    replaced: int
    repairs: tuple[str, ...]
    demo_replaced: tuple[DemoZonesReplaced, ...]
    notices: tuple[str, ...]


# --- labels --------------------------------------------------------------------------------


def _metres(value: float) -> str:
    return f"{value:g}"


def rank_labels(hazard_type: HazardType, rank: int | None) -> tuple[str, str] | None:
    """Japanese and English label of a zone's rank (depth band, landslide zone kind)."""
    if rank is None:
        return None
    if hazard_type in DEPTH_HAZARDS:
        bounds = FLOOD_DEPTH_RANK_BOUNDS_M
        if rank == 1:
            return f"{_metres(bounds[0])}m未満", f"less than {_metres(bounds[0])} m"
        if 2 <= rank <= len(bounds):
            low, high = _metres(bounds[rank - 2]), _metres(bounds[rank - 1])
            return f"{low}m以上{high}m未満", f"{low} m to less than {high} m"
        if rank == len(bounds) + 1:
            return f"{_metres(bounds[-1])}m以上", f"{_metres(bounds[-1])} m or more"
    if hazard_type is HazardType.LANDSLIDE:
        if rank == LandslideRank.WARNING_AREA:
            return "土砂災害警戒区域", "Landslide warning area (yellow zone)"
        if rank == LandslideRank.SPECIAL_WARNING_AREA:
            return "土砂災害特別警戒区域", "Landslide special warning area (red zone)"
    return f"ランク{rank}", f"Rank {rank}"


# --- index cache ---------------------------------------------------------------------------


_STALE = object()  # a version no stamp equals: the next look-up rebuilds


class _IndexCache:
    """The process's HazardIndex over every stored zone, rebuilt when the zone set changes.

    Each look-up first reads the zones' data stamp (``db/versions.py``: one primary-key read,
    moved by a trigger on every write) and rebuilds only when it differs, so any change shows,
    including imports by another process (the CLI) and rolled-back transactions. No TTL is
    needed and a stale index is never served; concurrent rebuilds are harmless (same result,
    last one kept). The first
    look-up after a change pays the rebuild (parse + STRtree: 1.4 s measured for 10,000
    polygons of 257 vertices), off the event loop in a worker thread.
    """

    def __init__(self) -> None:
        self.version: object = _STALE
        self.index = HazardIndex([])
        self.info: dict[str, ZoneInfo] = {}

    async def get(self, session: AsyncSession) -> tuple[HazardIndex, dict[str, ZoneInfo]]:
        # The stamp is read before the zones, so the index is never older than its stamp.
        version = await data_stamp(session, "hazard_zones")
        if version != self.version:
            zones = await repository.all_zones(session)
            index, info = await asyncio.to_thread(_build_index, zones)
            self.version, self.index, self.info = version, index, info
        return self.index, self.info

    def invalidate(self) -> None:
        self.version = _STALE


def _build_index(zones: Sequence[Row[Any]]) -> tuple[HazardIndex, dict[str, ZoneInfo]]:
    indexed: list[IndexedZone] = []
    info: dict[str, ZoneInfo] = {}
    for zone in zones:
        key = zone.id.hex
        hazard_type = HazardType(zone.hazard_type)
        geometry = shapely.from_geojson(zone.geometry_geojson)
        indexed.append(IndexedZone(key, hazard_type, zone.rank, geometry))
        info[key] = ZoneInfo(
            id=zone.id,
            hazard_type=hazard_type,
            rank=zone.rank,
            depth_m=zone.depth_m,
            name=zone.name,
            source=zone.source,
            municipality_code=zone.municipality_code,
        )
    return HazardIndex(indexed), info


_cache = _IndexCache()


async def hazard_index(session: AsyncSession) -> tuple[HazardIndex, dict[str, ZoneInfo]]:
    """The up-to-date index of all zones and their details (cached per process)."""
    return await _cache.get(session)


# --- import --------------------------------------------------------------------------------


def _check_import_options(
    hazard_type: str, rank_property: str | None, depth_property: str | None
) -> HazardType:
    try:
        parsed = HazardType(hazard_type)
    except ValueError:
        choices = ", ".join(t.value for t in HazardType)
        raise ValidationFailed(
            f"unknown hazard type {hazard_type!r}; one of: {choices}",
            f"不明な災害種別 {hazard_type!r}（{choices}）",
            field="type",
        ) from None
    if rank_property is not None and depth_property is not None:
        raise ValidationFailed(
            "give --rank-property or --depth-property, not both",
            "--rank-property と --depth-property はどちらか一方を指定してください",
        )
    if depth_property is not None and parsed not in DEPTH_HAZARDS:
        raise ValidationFailed(
            f"depth ranks do not apply to {parsed.value} zones; use --rank-property",
            f"{parsed.label_ja}には浸水深ランクを使えません（--rank-property を使用）",
        )
    return parsed


async def import_hazard_files(
    session: AsyncSession,
    paths: Sequence[Path],
    *,
    hazard_type: str,
    rank_property: str | None = None,
    depth_property: str | None = None,
    name_property: str | None = None,
    source: str | None = None,
    municipality_code: str | None = None,
    replace_source: bool = False,
) -> HazardImportReport:
    """Import hazard-zone GeoJSON files all-or-nothing; each file's zones carry its source."""
    if not paths:
        raise ValidationFailed("no files given", "ファイルが指定されていません")
    paths = unique_paths(paths)
    parsed_type = _check_import_options(hazard_type, rank_property, depth_property)
    code = None
    if municipality_code is not None:
        code = (await municipality_service.get_municipality(session, municipality_code)).code
    sources = [(source or path.name)[:255] for path in paths]
    if len(set(sources)) != len(sources):
        raise ValidationFailed(
            "each file needs its own source: give one file per --source, or distinct file names",
            "ファイルごとに異なる出典名が必要です",
        )
    parsed = await parse_all_off_loop(
        paths,
        partial(
            parse_hazard_geojson,
            hazard_type=parsed_type,
            rank_property=rank_property,
            depth_property=depth_property,
            name_property=name_property,
        ),
    )
    existing = await repository.count_by_source(session, sources)
    if existing and not replace_source:
        listed = ", ".join(f"{name} ({n} zones)" for name, n in sorted(existing.items()))
        listed_ja = "、".join(f"{name}（{n} 区域）" for name, n in sorted(existing.items()))
        raise ValidationFailed(
            f"zones from {listed} exist already; pass --replace-source to replace them",
            f"{listed_ja}のハザード区域は取り込み済みです。"
            "置き換えるには --replace-source を指定してください",
        )
    if existing:
        await repository.delete_by_source(session, list(existing))
    records = [
        (label, record) for label, file in zip(sources, parsed, strict=True) for record in file
    ]
    await _store_zones(session, records, municipality_code=code)
    demo_replaced, notices = await _replace_demo_zones(
        session, [record.geometry for _, record in records], municipality_code=code
    )
    repairs = tuple(
        f"{SourceRef(str(path), r.line)}: features[{r.feature_index}]: {r.repair}"
        for path, file in zip(paths, parsed, strict=True)
        for r in file
        if r.repair
    )
    return HazardImportReport(
        files=len(paths),
        zones=len(records),
        repaired=len(repairs),
        replaced=sum(existing.values()),
        repairs=repairs,
        demo_replaced=demo_replaced,
        notices=notices,
    )


async def _replace_demo_zones(
    session: AsyncSession,
    geometries: Sequence[Polygon | MultiPolygon],
    *,
    municipality_code: str | None,
) -> tuple[tuple[DemoZonesReplaced, ...], tuple[str, ...]]:
    """Remove the demo zones of every municipality the imported zones are data of.

    Imported zones are data of municipality M, and replace all of M's demo zones (whatever
    their hazard type: fiction must not sit beside real data), when the import was given
    ``--municipality M``, or when one of the zones lies at least partly inside M's boundary
    (imported with ``kizuna import boundaries``). Without either nothing can tell; M's demo
    zones are kept and a notice says how to replace them.
    """
    replaced: list[DemoZonesReplaced] = []
    notices: list[str] = []
    demo_counts = await repository.count_by_municipality(session, DEMO_SOURCE)
    for code, count in sorted((c, n) for c, n in demo_counts.items() if c is not None):
        municipality = await municipality_service.get_municipality(session, code)
        name = municipality.name_ja
        boundary = await municipality_service.boundary_geojson(session, code)
        if code == municipality_code:
            reason = f"imported with --municipality {code}"
        elif boundary is None:
            if municipality_code is None:
                notices.append(
                    f"kept the {count} demo zones of {name} ({code}): give --municipality {code} "
                    f"if these zones are {name}'s, or import its boundary (kizuna import "
                    "boundaries) so zones inside it replace them"
                )
            continue
        elif await asyncio.to_thread(_any_inside, boundary, geometries):
            reason = "zones lie inside its boundary"
        else:
            continue
        await repository.delete_by_source(session, [DEMO_SOURCE], municipality_code=code)
        replaced.append(DemoZonesReplaced(code, name, count, reason))
    if replaced:
        _cache.invalidate()
    return tuple(replaced), tuple(notices)


def _any_inside(boundary_geojson: str, geometries: Sequence[BaseGeometry]) -> bool:
    """Whether any geometry shares area with the boundary (touching its edge is not enough)."""
    boundary = shapely.from_geojson(boundary_geojson)
    shapely.prepare(boundary)
    candidates = np.empty(len(geometries), dtype=object)
    candidates[:] = geometries
    candidates = candidates[shapely.intersects(boundary, candidates)]
    return bool(len(candidates)) and not bool(shapely.touches(boundary, candidates).all())


async def _store_zones(
    session: AsyncSession,
    records: Sequence[tuple[str, HazardZoneRecord]],
    *,
    municipality_code: str | None,
) -> None:
    # Serialising thousands of polygons is CPU work: off the event loop.
    rows = await asyncio.to_thread(_zone_rows, records, municipality_code)
    await repository.insert_zones(session, rows)
    _cache.invalidate()


def _zone_rows(
    records: Sequence[tuple[str, HazardZoneRecord]], municipality_code: str | None
) -> list[dict[str, Any]]:
    now = utcnow()
    rows: list[dict[str, Any]] = []
    for source, record in records:
        min_lon, min_lat, max_lon, max_lat = record.geometry.bounds
        rows.append(
            {
                "id": uuid.uuid4(),
                "hazard_type": record.hazard_type.value,
                "rank": record.rank,
                "depth_m": record.depth_m,
                "name": record.name[:255] if record.name else None,
                "source": source,
                "feature_id": record.feature_id[:255] if record.feature_id else None,
                "municipality_code": municipality_code,
                "geometry_geojson": json.dumps(mapping(record.geometry), separators=(",", ":")),
                "min_lon": min_lon,
                "min_lat": min_lat,
                "max_lon": max_lon,
                "max_lat": max_lat,
                "created_at": now,
            }
        )
    return rows


async def load_demo_zones(session: AsyncSession) -> int:
    """Store the synthetic Aizu-Wakamatsu demo zones (replacing earlier demo zones), unless
    real zones of Aizu-Wakamatsu are stored already; returns how many were stored."""
    if await _has_real_zones(session, DEMO_MUNICIPALITY):
        return 0
    await repository.delete_by_source(session, [DEMO_SOURCE])
    records = [(DEMO_SOURCE, record) for record in demo_hazard_zones()]
    await _store_zones(session, records, municipality_code=DEMO_MUNICIPALITY)
    return len(records)


async def _has_real_zones(session: AsyncSession, code: str) -> bool:
    """Whether zones other than the demo ones are data of a municipality (as imports decide)."""
    if await repository.count_of_municipality(session, code, excluding_source=DEMO_SOURCE):
        return True
    municipality = await municipality_service.get_municipality(session, code)
    boundary = await municipality_service.boundary_geojson(session, code)
    if boundary is None:
        return False
    # A stored boundary always has its bounding box.
    box = cast(
        tuple[float, float, float, float],
        (municipality.min_lon, municipality.min_lat, municipality.max_lon, municipality.max_lat),
    )
    found = await repository.geometries_meeting_box(session, box, excluding_source=DEMO_SOURCE)
    if not found:
        return False
    return await asyncio.to_thread(
        lambda: _any_inside(boundary, [shapely.from_geojson(g) for g in found])
    )


# --- look-ups ------------------------------------------------------------------------------


def _types(types: Iterable[HazardType] | None) -> list[HazardType] | None:
    return None if types is None else [HazardType(t) for t in types]


async def zones_at(
    session: AsyncSession,
    *,
    lat: float,
    lon: float,
    types: Iterable[HazardType] | None = None,
) -> list[ZoneInfo]:
    """Zones covering a point (a point on a zone's edge counts as inside)."""
    checker = Checker()
    check_point(checker, "", lat, lon)
    checker.raise_if_any()
    index, info = await hazard_index(session)
    return [info[str(hit.zone_id)] for hit in index.zones_at(lon, lat, _types(types))]


async def zones_at_points(
    session: AsyncSession,
    *,
    points: Sequence[tuple[float, float]],
    types: Iterable[HazardType] | None = None,
) -> list[list[ZoneInfo]]:
    """Zones covering each (lat, lon) point, in one vectorised pass over the index."""
    if not points:
        return []
    index, info = await hazard_index(session)
    lon_lat = np.array([(lon, lat) for lat, lon in points], dtype=float)
    hits = index.zones_at_many(lon_lat, _types(types))
    return [[info[str(hit.zone_id)] for hit in per_point] for per_point in hits]


@dataclass(frozen=True, slots=True)
class ZoneLookup:
    """One request's view of the cached index: many geometry look-ups, one version check."""

    index: HazardIndex
    info: dict[str, ZoneInfo]

    def zones_meeting(
        self, geometry: BaseGeometry, types: Iterable[HazardType] | None = None
    ) -> list[tuple[ZoneInfo, Polygon | MultiPolygon]]:
        """Whole zones intersecting a (lon/lat) geometry, with their exact polygons."""
        return [
            (self.info[str(z.zone_id)], z.geometry)
            for z in self.index.zones_meeting(geometry, _types(types))
        ]


async def zone_lookup(session: AsyncSession) -> ZoneLookup:
    """The up-to-date zone index for a series of look-ups within one request."""
    index, info = await hazard_index(session)
    return ZoneLookup(index, info)


async def zones_extent(
    session: AsyncSession, municipality_code: str
) -> tuple[float, float, float, float] | None:
    """The (min_lon, min_lat, max_lon, max_lat) box of a municipality's zones, or None."""
    return await repository.extent(session, municipality_code)


def _precision(tolerance: float) -> int:
    # Coordinates finer than the simplification tolerance only add bytes.
    return max(5, min(7, math.ceil(-math.log10(tolerance)) + 1)) if tolerance > 0 else 7


async def hazard_map(
    session: AsyncSession,
    *,
    bbox: tuple[float, float, float, float],
    types: Iterable[HazardType] | None = None,
) -> HazardMap:
    """Zones meeting a (min_lon, min_lat, max_lon, max_lat) box, clipped and simplified."""
    checker = Checker()
    check_bbox(checker, "bbox", bbox, max_span_degrees=MAX_BBOX_SPAN_DEGREES)
    checker.raise_if_any()
    index, info = await hazard_index(session)
    # The index simplifies to 1/1000 of the box width; coordinates get matching precision.
    shapes = index.intersecting(bbox, _types(types))
    grid = 10.0 ** -_precision((bbox[2] - bbox[0]) * SIMPLIFY_FRACTION)
    result: list[tuple[ZoneInfo, Polygon | MultiPolygon]] = []
    for shape in shapes[:MAX_MAP_FEATURES]:
        geometry = polygonal_part(shapely.set_precision(shape.geometry, grid))
        if geometry is not None:
            result.append((info[str(shape.zone_id)], geometry))
    return HazardMap(zones=result, truncated=len(shapes) > MAX_MAP_FEATURES)
