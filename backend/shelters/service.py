"""Shelters: GSI import, nearest search, map listing and status updates by managers."""

from __future__ import annotations

import asyncio
import math
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ..auth import service as auth_service
from ..db.base import utcnow
from ..errors import Checker, NotFound, ValidationFailed
from ..geo import check_bbox, check_point
from ..hazards.types import HazardType
from ..ingest.files import parse_all_off_loop, unique_paths
from ..live import changed, shelter_topic
from ..municipalities import service as municipality_service
from ..principal import Principal
from . import nearby, repository
from .demo import DEMO_CAPACITIES, DEMO_ID_PREFIX, DEMO_MUNICIPALITY, demo_shelter_records
from .importing import StoreReport, store_records
from .merge import DEFAULT_MERGE_MAX_DISTANCE_M, merge_shelter_records_detailed
from .models import Shelter, ShelterStatus
from .records import ShelterKind
from .repository import ShelterFilter
from .sharing import MANAGER_ROLES
from .sources import parse_shelter_file

MAX_NEAREST = 50
MAX_CAPACITY = 100_000
MAX_MAP_FEATURES = 2_000
MAX_BBOX_SPAN_DEGREES = 2.0
MAX_SEARCH_RADIUS_M = nearby.MAX_SEARCH_RADIUS_M
# Nearest-shelter answers each process keeps per (H3 cell, filter) for the shelters' current
# data stamp (see nearby.py); callers pass settings.nearest_shelter_cache_size.
NEAREST_CACHE_SIZE = 4_096


class _Unset:
    """Marks a status field the caller did not send (distinct from None = unknown)."""


UNSET: Any = _Unset()


@dataclass(frozen=True, slots=True)
class NearbyShelter:
    """A shelter and its geodesic (WGS 84) distance from the searched point."""

    shelter: Shelter
    distance_m: float


@dataclass(frozen=True, slots=True)
class ShelterImportReport:
    """What one import did, in the terms of the GSI tables an administrator knows.

    ``rows`` GSI rows were read (``emergency_rows`` 指定緊急避難場所 + ``evacuation_rows``
    指定避難所); they are ``places`` shelters once the two designations of one place are
    paired, ``both_designations`` of them being both; ``kept_apart`` same-name pairs were too
    far apart to pair. What storing them did is ``stored`` (its inserted + updated + unchanged
    is ``places``).
    """

    files: int
    rows: int
    emergency_rows: int
    evacuation_rows: int
    places: int
    both_designations: int
    kept_apart: int
    stored: StoreReport
    notices: tuple[str, ...]


# --- import --------------------------------------------------------------------------------


async def import_shelter_files(
    session: AsyncSession,
    paths: Sequence[Path],
    *,
    merge_max_distance_m: float = DEFAULT_MERGE_MAX_DISTANCE_M,
) -> ShelterImportReport:
    """Import GSI shelter files (GeoJSON/CSV) all-or-nothing; re-importing updates in place."""
    if not paths:
        raise ValidationFailed("no files given", "ファイルが指定されていません")
    parsed = await parse_all_off_loop(unique_paths(paths), parse_shelter_file)
    rows = [record for file in parsed for record in file.records]
    # The designation of every 共通ID, before merging pairs them up (one id may be in both files).
    kinds_by_id: dict[str, set[ShelterKind]] = defaultdict(set)
    for record in rows:
        kinds_by_id[record.common_id].update(record.kinds)
    merged = await asyncio.to_thread(
        merge_shelter_records_detailed, rows, max_distance_m=merge_max_distance_m
    )
    notices = [n for file in parsed for n in file.notices]
    notices.extend(c.message for c in merged.conflicts)
    stored = await store_records(
        session,
        records=merged.records,
        kinds_by_id=kinds_by_id,
        merge_max_distance_m=merge_max_distance_m,
    )
    return ShelterImportReport(
        files=len(parsed),
        rows=len(rows),
        emergency_rows=sum(ShelterKind.EMERGENCY_SITE in r.kinds for r in rows),
        evacuation_rows=sum(ShelterKind.EVACUATION_SHELTER in r.kinds for r in rows),
        places=len(merged.records),
        both_designations=sum(
            {ShelterKind.EMERGENCY_SITE, ShelterKind.EVACUATION_SHELTER} <= r.kinds
            for r in merged.records
        ),
        kept_apart=sum(not c.merged for c in merged.conflicts),
        stored=stored,
        notices=tuple(notices) + stored.notices,
    )


async def load_demo_shelters(session: AsyncSession) -> int:
    """Store (or refresh) the synthetic demo shelters, unless the demo municipality has real
    shelters already (real data replaces demo data); returns how many were stored."""
    if await repository.count(session, DEMO_MUNICIPALITY, excluding_prefix=DEMO_ID_PREFIX):
        return 0
    records = demo_shelter_records()
    kinds_by_id = {r.common_id: set(r.kinds) for r in records}
    await store_records(session, records=records, kinds_by_id=kinds_by_id)
    await repository.set_unknown_capacities(session, DEMO_CAPACITIES)
    return len(records)


# --- reads ---------------------------------------------------------------------------------


async def get_shelter(
    session: AsyncSession, shelter_id: uuid.UUID, *, field: str = "id"
) -> Shelter:
    """A shelter by id, or NotFound on ``field``."""
    shelter = await repository.get(session, shelter_id)
    if shelter is None:
        raise NotFound("shelter", "避難所", field=field)
    return shelter


async def shelter_by_common_id(session: AsyncSession, common_id: str) -> Shelter:
    """A shelter by its 共通ID (the demo and commands name shelters so), or NotFound."""
    shelter = await repository.by_common_id(session, common_id)
    if shelter is None:
        raise NotFound("shelter", "避難所", field="commonId")
    return shelter


async def count_shelters(session: AsyncSession, *, municipality_code: str | None = None) -> int:
    """How many shelters are stored (optionally in one municipality)."""
    return await repository.count(session, municipality_code)


async def shelter_locations(session: AsyncSession) -> list[tuple[str | None, float, float]]:
    """(municipality code, latitude, longitude) of every shelter (road coverage checks)."""
    return await repository.locations(session)


def _check_nearest(lat: float, lon: float, limit: int, max_distance_m: float | None) -> None:
    checker = Checker()
    check_point(checker, "near", lat, lon)
    if not 1 <= limit <= MAX_NEAREST:
        checker.add(
            "first",
            f"first must be between 1 and {MAX_NEAREST}",
            f"件数は1〜{MAX_NEAREST}で指定してください",
        )
    if max_distance_m is not None and not (
        math.isfinite(max_distance_m) and 0 < max_distance_m <= MAX_SEARCH_RADIUS_M
    ):
        checker.add(
            "maxDistanceMeters",
            f"maxDistanceMeters must be > 0 and at most {MAX_SEARCH_RADIUS_M:.0f}",
            f"検索する距離は0より大きく{MAX_SEARCH_RADIUS_M:.0f}メートル以下で指定してください",
        )
    checker.raise_if_any()


async def nearest_shelters(
    session: AsyncSession,
    *,
    lat: float,
    lon: float,
    hazard_type: HazardType | None = None,
    kinds: Iterable[ShelterKind] | None = None,
    open_only: bool = False,
    exclude_full: bool = False,
    limit: int = 10,
    max_distance_m: float | None = None,
    cache_size: int = NEAREST_CACHE_SIZE,
) -> list[NearbyShelter]:
    """The ``limit`` shelters nearest to a point (geodesic), nearest first; answered from
    the process's cache of candidates per H3 cell unless ``cache_size`` is 0."""
    _check_nearest(lat, lon, limit, max_distance_m)
    where = ShelterFilter(
        hazard_type=hazard_type,
        kinds=frozenset(kinds or ()),
        open_only=open_only,
        exclude_full=exclude_full,
    )
    found = await nearby.nearest(
        session,
        lat=lat,
        lon=lon,
        where=where,
        limit=limit,
        max_distance_m=max_distance_m,
        cache_size=cache_size,
    )
    return [NearbyShelter(shelter, distance) for shelter, distance in found]


async def any_open_within(
    session: AsyncSession,
    *,
    lat: float,
    lon: float,
    radius_m: float,
    hazard_type: HazardType | None = None,
    cache_size: int = NEAREST_CACHE_SIZE,
) -> bool:
    """Whether an open shelter (for the hazard) lies roughly within the radius (one query;
    the box is a little larger than the circle)."""
    where = ShelterFilter(hazard_type=hazard_type, open_only=True)
    return await nearby.any_open_within(
        session, lat=lat, lon=lon, radius_m=radius_m, where=where, cache_size=cache_size
    )


async def shelters_in_area(
    session: AsyncSession,
    *,
    bbox: tuple[float, float, float, float] | None = None,
    municipality_code: str | None = None,
    hazard_type: HazardType | None = None,
    kinds: Iterable[ShelterKind] | None = None,
    open_only: bool = False,
    limit: int = MAX_MAP_FEATURES,
) -> tuple[list[Shelter], bool]:
    """Shelters in a (min_lon, min_lat, max_lon, max_lat) box or a municipality; truncated?"""
    checker = Checker()
    if (bbox is None) == (municipality_code is None):
        checker.add(
            "bbox",
            "give either bbox or municipalityCode",
            "地図の範囲か市区町村のどちらか一方を指定してください",
        )
    if bbox is not None:
        check_bbox(checker, "bbox", bbox, max_span_degrees=MAX_BBOX_SPAN_DEGREES)
    checker.raise_if_any()
    code = None
    if municipality_code is not None:
        code = (await municipality_service.get_municipality(session, municipality_code)).code
    box = None if bbox is None else (bbox[1], bbox[0], bbox[3], bbox[2])
    where = ShelterFilter(
        hazard_type=hazard_type,
        kinds=frozenset(kinds or ()),
        open_only=open_only,
        municipality_code=code,
    )
    rows = await repository.in_box(session, box, where, limit=limit + 1)
    return rows[:limit], len(rows) > limit


# --- status --------------------------------------------------------------------------------


async def update_status(
    session: AsyncSession,
    principal: Principal,
    shelter_id: uuid.UUID,
    *,
    status: Any = UNSET,
    occupancy: Any = UNSET,
    capacity: Any = UNSET,
) -> Shelter:
    """Open/close a shelter, report occupancy or capacity: managers of its municipality only."""
    shelter = await get_shelter(session, shelter_id)
    auth_service.require_role(principal, shelter.municipality_code, *MANAGER_ROLES)
    checker = Checker()
    if status is None:
        checker.add("status", "status must not be null", "状態を指定してください")
    new_capacity = shelter.capacity if capacity is UNSET else capacity
    new_occupancy = shelter.occupancy if occupancy is UNSET else occupancy
    if capacity is not UNSET and capacity is not None and not 0 <= capacity <= MAX_CAPACITY:
        checker.add(
            "capacity",
            f"capacity must be between 0 and {MAX_CAPACITY}",
            f"収容人数は0〜{MAX_CAPACITY}で指定してください",
        )
    elif occupancy is not UNSET and occupancy is not None and occupancy < 0:
        checker.add("occupancy", "occupancy must not be negative", "避難者数は0以上です")
    elif (
        (occupancy is not UNSET or capacity is not UNSET)
        and new_occupancy is not None
        and new_capacity is not None
        and new_occupancy > new_capacity
    ):
        # Only figures the manager sends are checked: the reception may have recorded more
        # arrivals than the capacity, and that must not block opening or closing.
        checker.add(
            "occupancy" if occupancy is not UNSET else "capacity",
            f"occupancy {new_occupancy} exceeds the capacity {new_capacity}",
            f"避難者数{new_occupancy}が収容人数{new_capacity}を超えています",
        )
    checker.raise_if_any()
    if status is not UNSET:
        shelter.status = ShelterStatus(status).value
    shelter.capacity, shelter.occupancy = new_capacity, new_occupancy
    shelter.status_updated_at = utcnow()
    shelter.status_updated_by = principal.subject or principal.client_id
    await session.flush()
    changed(session, shelter_topic(shelter.id))
    return shelter
