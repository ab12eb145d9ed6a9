"""Shelters: GSI import, nearest search, map listing and status updates by managers."""

from __future__ import annotations

import asyncio
import math
import unicodedata
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from geopy.distance import geodesic
from sqlalchemy.ext.asyncio import AsyncSession

from ..auth import service as auth_service
from ..db.base import utcnow
from ..errors import Checker, DomainError, NotFound, ValidationFailed
from ..geo import MEAN_EARTH_RADIUS_M, check_bbox, check_point, h3_cells
from ..hazards.types import HazardType
from ..municipalities import service as municipality_service
from ..principal import Principal, Role
from . import nearby, repository
from .demo import demo_shelter_records
from .models import HAZARD_COLUMNS, Shelter, ShelterStatus
from .repository import ShelterFilter
from .sources import (
    DEFAULT_MERGE_MAX_DISTANCE_M,
    ParsedShelterFile,
    ShelterFileError,
    ShelterKind,
    ShelterRecord,
    merge_shelter_records_detailed,
    parse_common_id,
    parse_shelter_file,
)

H3_RESOLUTIONS = (7, 9)
MANAGER_ROLES = (Role.SHELTER_MANAGER, Role.CITY_STAFF, Role.CITY_ADMIN)
MAX_NEAREST = 50
MAX_CAPACITY = 100_000
MAX_MAP_FEATURES = 2_000
MAX_BBOX_SPAN_DEGREES = 2.0
EARTH_RADIUS_M = MEAN_EARTH_RADIUS_M
MAX_SEARCH_RADIUS_M = nearby.MAX_SEARCH_RADIUS_M
# Nearest-shelter answers each process keeps per (H3 cell, filter) for the shelters' current
# data stamp (see nearby.py); callers pass settings.nearest_shelter_cache_size.
NEAREST_CACHE_SIZE = 4_096

_NAME_MAX = 255
_ID_MAX = 64
# Columns a re-import may overwrite; status, occupancy, capacity, elevation and the welfare
# designation belong to the municipality and survive every import.
_MANAGED = frozenset(
    {
        "id",
        "created_at",
        "capacity",
        "status",
        "occupancy",
        "status_updated_at",
        "status_updated_by",
        "elevation_m",
        "is_welfare_shelter",
    }
)
_COMPARED_SKIP = frozenset({"updated_at"})


class _Unset:
    """Marks a status field the caller did not send (distinct from None = unknown)."""


UNSET: Any = _Unset()


@dataclass(frozen=True, slots=True)
class NearbyShelter:
    """A shelter and its geodesic (WGS 84) distance from the searched point."""

    shelter: Shelter
    distance_m: float


@dataclass(frozen=True, slots=True)
class StoreReport:
    """What storing merged records did to the shelters table."""

    inserted: int
    updated: int
    unchanged: int
    merged_away: int
    municipalities: int
    notices: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ShelterImportReport:
    """What one import did; ``rows`` are GSI rows read, ``records`` places after merging."""

    files: int
    rows: int
    records: int
    inserted: int
    updated: int
    unchanged: int
    merged_away: int
    municipalities: int
    notices: tuple[str, ...]


# --- import --------------------------------------------------------------------------------


def _parse_all(paths: Sequence[Path]) -> list[ParsedShelterFile]:
    """Parse every file; all refusals are reported together, so one run shows every mistake."""
    parsed: list[ParsedShelterFile] = []
    refused: list[DomainError] = []
    for path in dict.fromkeys(p.resolve() for p in paths):
        try:
            parsed.append(parse_shelter_file(path))
        except ShelterFileError as exc:
            refused.append(exc)
        except OSError as exc:
            refused.append(
                ValidationFailed(f"{path}: cannot read: {exc}", f"{path}: 読み込めません: {exc}")
            )
    if len(refused) == 1:
        raise refused[0]
    if refused:
        raise ValidationFailed(
            f"{len(refused)} files refused, nothing imported:\n"
            + "\n".join(e.message for e in refused),
            f"{len(refused)} 件のファイルに問題があるため何も取り込んでいません:\n"
            + "\n".join(e.message_ja for e in refused),
        )
    return parsed


def _check_lengths(records: Iterable[ShelterRecord]) -> None:
    problems = []
    for record in records:
        for label, value, limit in (
            ("共通ID", record.common_id, _ID_MAX),
            ("施設・場所名", record.name, _NAME_MAX),
            ("住所", record.address or "", _NAME_MAX),
        ):
            if len(value) > limit:
                problems.append(f"{record.source}: {label} is longer than {limit} characters")
    if problems:
        body = "\n".join(problems[:50])
        raise ValidationFailed(
            f"shelter data refused:\n{body}", f"避難所データに長すぎる値があります:\n{body}"
        )


async def import_shelter_files(
    session: AsyncSession,
    paths: Sequence[Path],
    *,
    merge_max_distance_m: float = DEFAULT_MERGE_MAX_DISTANCE_M,
) -> ShelterImportReport:
    """Import GSI shelter files (GeoJSON/CSV) all-or-nothing; re-importing updates in place."""
    if not paths:
        raise ValidationFailed("no files given", "ファイルが指定されていません")
    parsed = await asyncio.to_thread(_parse_all, paths)
    rows = [record for file in parsed for record in file.records]
    # The designation of every 共通ID, before merging pairs them up (one id may be in both files).
    kinds_by_id: dict[str, set[ShelterKind]] = defaultdict(set)
    for record in rows:
        kinds_by_id[record.common_id].update(record.kinds)
    merged = merge_shelter_records_detailed(rows, max_distance_m=merge_max_distance_m)
    notices = [n for file in parsed for n in file.notices]
    notices.extend(c.message for c in merged.conflicts)
    report = await store_records(
        session,
        records=merged.records,
        kinds_by_id=kinds_by_id,
        merge_max_distance_m=merge_max_distance_m,
    )
    return ShelterImportReport(
        files=len(parsed),
        rows=len(rows),
        records=len(merged.records),
        inserted=report.inserted,
        updated=report.updated,
        unchanged=report.unchanged,
        merged_away=report.merged_away,
        municipalities=report.municipalities,
        notices=tuple(notices) + report.notices,
    )


async def store_records(
    session: AsyncSession,
    *,
    records: Sequence[ShelterRecord],
    kinds_by_id: dict[str, set[ShelterKind]],
    merge_max_distance_m: float = DEFAULT_MERGE_MAX_DISTANCE_M,
) -> StoreReport:
    """Insert or update merged records, finding earlier imports through their 共通IDs."""
    _check_lengths(records)
    known = {m.code for m in await municipality_service.list_municipalities(session)}
    unknown = sorted({r.municipality_code for r in records} - known)
    if unknown:
        where = {r.municipality_code: str(r.source) for r in records}
        listed = ", ".join(f"{code} ({where[code]})" for code in unknown)
        raise ValidationFailed(
            f"unknown municipality code(s): {listed}; nothing imported",
            f"不明な市区町村コードがあるため取り込めません: {listed}",
        )
    common_ids = [cid for r in records for cid in r.common_ids]
    facility_keys = [_facility_key(cid) for cid in common_ids]
    matching = await repository.source_ids_matching(
        session, common_ids=common_ids, facility_keys=facility_keys
    )
    shelter_ids = sorted({s.shelter_id for s in matching})
    sources = await repository.source_ids_of(session, shelter_ids)
    existing = {row["id"]: row for row in await repository.rows_by_ids(session, shelter_ids)}

    plan = _ImportPlan(existing, merge_max_distance_m)
    for source in sources:
        plan.add_existing_source(source.common_id, ShelterKind(source.kind), source.shelter_id)
    for record in records:
        plan.claim(record, kinds_by_id)
    shelter_rows, source_rows, orphans = plan.result()

    now = utcnow()
    inserted = updated = unchanged = 0
    changed: list[dict[str, Any]] = []
    for row in shelter_rows:
        before = existing.get(row["id"])
        if before is None:
            inserted += 1
        elif all(row[k] == before.get(k) for k in row if k not in _COMPARED_SKIP):
            unchanged += 1
            continue
        else:
            updated += 1
        changed.append({**row, "updated_at": now})
    update_columns = [c for c in changed[0] if c not in _MANAGED] if changed else []
    await repository.upsert_shelters(session, changed, update_columns=update_columns)
    await repository.upsert_source_ids(session, source_rows)
    await repository.delete_shelters(session, orphans)
    return StoreReport(
        inserted=inserted,
        updated=updated,
        unchanged=unchanged,
        merged_away=len(orphans),
        municipalities=len({r.municipality_code for r in records}),
        notices=tuple(plan.notices),
    )


async def load_demo_shelters(session: AsyncSession) -> int:
    """Store (or refresh) the synthetic demo shelters; returns how many there are."""
    records = demo_shelter_records()
    kinds_by_id = {r.common_id: set(r.kinds) for r in records}
    await store_records(session, records=records, kinds_by_id=kinds_by_id)
    return len(records)


def _facility_key(common_id: str) -> str:
    parts = parse_common_id(common_id)
    return parts.facility_key if parts else common_id


def _fold(text: str | None) -> str:
    # The same folding merge_shelter_records uses to pair designations of one place.
    return "".join(unicodedata.normalize("NFKC", text or "").split())


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance on the mean Earth sphere, in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    h = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


class _ImportPlan:
    """Decides which shelter row each merged record becomes, in memory, from one snapshot.

    A record takes the first not yet claimed shelter that owns one of its 共通IDs; with none,
    it pairs with an existing shelter of the other designation at the same facility (same
    facility key, name and address, within the merge distance) exactly as
    ``merge_shelter_records`` would have paired them in one import; otherwise it is new.
    Fields belong to designations: name/point/address to the emergency site when there is one,
    hazard flags to the emergency site, 受入対象者 to the evacuation shelter.
    """

    def __init__(self, existing: dict[uuid.UUID, dict[str, Any]], max_distance_m: float) -> None:
        self.existing = existing
        self.max_distance_m = max_distance_m
        self.owner: dict[tuple[str, ShelterKind], uuid.UUID] = {}
        self.keys: dict[uuid.UUID, set[tuple[str, ShelterKind]]] = defaultdict(set)
        self.by_facility: dict[str, set[uuid.UUID]] = defaultdict(set)
        self.claimed: dict[uuid.UUID, ShelterRecord] = {}
        self.touched: set[uuid.UUID] = set()
        self.notices: list[str] = []

    def add_existing_source(self, common_id: str, kind: ShelterKind, shelter_id: uuid.UUID) -> None:
        self.owner[(common_id, kind)] = shelter_id
        self.keys[shelter_id].add((common_id, kind))
        self.by_facility[_facility_key(common_id)].add(shelter_id)

    def claim(self, record: ShelterRecord, kinds_by_id: dict[str, set[ShelterKind]]) -> None:
        ordered_ids = [record.common_id] + [c for c in record.common_ids if c != record.common_id]
        keys = [(cid, kind) for cid in ordered_ids for kind in sorted(kinds_by_id[cid])]
        hits = list(dict.fromkeys(self.owner[k] for k in keys if k in self.owner))
        target = next((s for s in hits if s not in self.claimed), None)
        if target is None and not hits:
            target = self._partner(record)
        if target is None:
            target = uuid.uuid4()
        elif len(hits) > 1:
            self.notices.append(
                f"{record.source}: {record.name} ({', '.join(record.common_ids)}) was "
                f"{len(hits)} shelters before; they are merged into one"
            )
        self.claimed[target] = record
        for key in keys:
            previous = self.owner.get(key)
            if previous is not None and previous != target:
                self.keys[previous].discard(key)
                self.touched.add(previous)
            self.owner[key] = target
            self.keys[target].add(key)

    def _partner(self, record: ShelterRecord) -> uuid.UUID | None:
        """The existing shelter of the other designation this record pairs with, if any."""
        parts = parse_common_id(record.common_id)
        if parts is None or len(record.kinds) != 1:
            return None
        (kind,) = record.kinds
        candidates = []
        for shelter_id in self.by_facility.get(parts.facility_key, ()):
            row, keys = self.existing.get(shelter_id), self.keys[shelter_id]
            if row is None or shelter_id in self.claimed or not keys:
                continue
            if kind in {k for _, k in keys}:
                continue
            if (_fold(row["name"]), _fold(row["address"])) != (
                _fold(record.name),
                _fold(record.address),
            ):
                continue
            distance = haversine_m(record.lat, record.lon, row["latitude"], row["longitude"])
            if distance <= self.max_distance_m:
                candidates.append((row["common_id"], shelter_id))
        return min(candidates)[1] if candidates else None

    def result(
        self,
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[uuid.UUID]]:
        """Shelter rows to write, source-id rows to write, and shelters left without ids."""
        shelter_rows = [self._row(sid, record) for sid, record in self.claimed.items()]
        orphans: list[uuid.UUID] = []
        for shelter_id in sorted(self.touched - set(self.claimed)):
            if self.keys[shelter_id]:
                # Lost one designation to another record; keep the rest consistent.
                shelter_rows.append(self._finish(dict(self.existing[shelter_id]), shelter_id))
            else:
                orphans.append(shelter_id)
        source_rows = [
            {
                "common_id": cid,
                "kind": kind.value,
                "shelter_id": shelter_id,
                "facility_key": _facility_key(cid),
            }
            for shelter_id in self.claimed
            for cid, kind in sorted(self.keys[shelter_id])
        ]
        return shelter_rows, source_rows, orphans

    def _row(self, shelter_id: uuid.UUID, record: ShelterRecord) -> dict[str, Any]:
        existing = self.existing.get(shelter_id)
        row = dict(existing) if existing is not None else _new_row(shelter_id)
        designations = {kind for _, kind in self.keys[shelter_id]}
        emergency = ShelterKind.EMERGENCY_SITE
        # An evacuation-only record does not override the emergency site's name and point.
        if existing is None or emergency in record.kinds or emergency not in designations:
            res7, res9 = h3_cells(record.lat, record.lon, H3_RESOLUTIONS)
            row.update(
                common_id=record.common_id,
                name=record.name,
                address=record.address,
                municipality_code=record.municipality_code,
                latitude=record.lat,
                longitude=record.lon,
                h3_res7=res7,
                h3_res9=res9,
                note=record.note,
            )
        if emergency in record.kinds:
            for hazard, column in HAZARD_COLUMNS.items():
                row[column] = hazard in record.hazard_types
        if ShelterKind.EVACUATION_SHELTER in record.kinds:
            row.update(target_group=record.target_group, other_matters=record.other_matters)
        return self._finish(row, shelter_id)

    def _finish(self, row: dict[str, Any], shelter_id: uuid.UUID) -> dict[str, Any]:
        """Designation flags from the source ids; fields of a lost designation are cleared."""
        designations = {kind for _, kind in self.keys[shelter_id]}
        row["is_emergency_site"] = ShelterKind.EMERGENCY_SITE in designations
        row["is_evacuation_shelter"] = ShelterKind.EVACUATION_SHELTER in designations
        if not row["is_emergency_site"]:
            row.update({column: False for column in HAZARD_COLUMNS.values()})
        if not row["is_evacuation_shelter"]:
            row.update(target_group=None, other_matters=None)
        return row


def _new_row(shelter_id: uuid.UUID) -> dict[str, Any]:
    now = utcnow()
    return {
        "id": shelter_id,
        "created_at": now,
        "updated_at": now,
        "capacity": None,
        "status": ShelterStatus.CLOSED.value,
        "occupancy": None,
        "status_updated_at": None,
        "status_updated_by": None,
        "elevation_m": None,
        "is_welfare_shelter": False,
        "target_group": None,
        "other_matters": None,
        **{column: False for column in HAZARD_COLUMNS.values()},
    }


# --- reads ---------------------------------------------------------------------------------


async def get_shelter(session: AsyncSession, shelter_id: uuid.UUID) -> Shelter:
    """A shelter by id, or NotFound."""
    shelter = await repository.get(session, shelter_id)
    if shelter is None:
        raise NotFound("shelter", "避難所", field="id")
    return shelter


async def count_shelters(session: AsyncSession, *, municipality_code: str | None = None) -> int:
    """How many shelters are stored (optionally in one municipality)."""
    return await repository.count(session, municipality_code)


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


async def nearest_shelters_naive(
    session: AsyncSession,
    *,
    lat: float,
    lon: float,
    hazard_type: HazardType | None = None,
    limit: int = 10,
) -> list[tuple[uuid.UUID, float]]:
    """Baseline for the benchmark: geodesic distance to every shelter, sorted."""
    points = await repository.all_points(session, ShelterFilter(hazard_type=hazard_type))
    ranked = sorted(
        (geodesic((lat, lon), (p_lat, p_lon)).meters, sid) for sid, p_lat, p_lon in points
    )
    return [(sid, distance) for distance, sid in ranked[:limit]]


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
    elif new_occupancy is not None and new_capacity is not None and new_occupancy > new_capacity:
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
    return shelter
