"""Storing shelter records: which shelter row each merged record becomes, decided in memory
from one snapshot of the rows its 共通IDs (or its facility) already have, then written in bulk."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ..db.base import utcnow
from ..errors import ValidationFailed
from ..geo import h3_cells, haversine_m
from ..municipalities import service as municipality_service
from . import repository
from .demo import DEMO_ID_PREFIX, is_demo
from .merge import DEFAULT_MERGE_MAX_DISTANCE_M
from .models import HAZARD_COLUMNS, ShelterStatus
from .records import ShelterKind, ShelterRecord, facility_key, fold, parse_common_id

H3_RESOLUTIONS = (7, 9)
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


@dataclass(frozen=True, slots=True)
class DemoReplaced:
    """The demo shelters of a municipality, removed because its real shelters were imported."""

    municipality_code: str
    municipality_name: str
    count: int


@dataclass(frozen=True, slots=True)
class StoreReport:
    """What storing merged records did to the shelters table."""

    inserted: int
    updated: int
    unchanged: int
    removed: int  # shelters whose designations now belong to another shelter
    municipalities: int
    demo_replaced: tuple[DemoReplaced, ...]
    notices: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Writes:
    """The rows one import writes, as decided by the plan."""

    changed: list[dict[str, Any]]
    source_rows: list[dict[str, Any]]
    orphans: list[uuid.UUID]
    inserted: int
    updated: int
    unchanged: int
    notices: tuple[str, ...]


async def store_records(
    session: AsyncSession,
    *,
    records: Sequence[ShelterRecord],
    kinds_by_id: dict[str, set[ShelterKind]],
    merge_max_distance_m: float = DEFAULT_MERGE_MAX_DISTANCE_M,
) -> StoreReport:
    """Insert or update merged records, finding earlier imports through their 共通IDs.

    Real records of a municipality (any record whose 共通ID is not a demo one) replace the
    synthetic demo shelters of that municipality.
    """
    names = await _check_municipalities(session, records)
    common_ids = [cid for r in records for cid in r.common_ids]
    matching = await repository.source_ids_matching(
        session, common_ids=common_ids, facility_keys=[facility_key(c) for c in common_ids]
    )
    shelter_ids = sorted({s.shelter_id for s in matching})
    links = [
        (s.common_id, ShelterKind(s.kind), s.shelter_id)
        for s in await repository.source_ids_of(session, shelter_ids)
    ]
    existing = {row["id"]: row for row in await repository.rows_by_ids(session, shelter_ids)}
    # Thousands of records are paired and compared in memory: off the event loop.
    writes = await asyncio.to_thread(
        _plan_writes, existing, links, records, kinds_by_id, merge_max_distance_m
    )
    update_columns = [c for c in writes.changed[0] if c not in _MANAGED] if writes.changed else []
    await repository.upsert_shelters(session, writes.changed, update_columns=update_columns)
    await repository.upsert_source_ids(session, writes.source_rows)
    await repository.delete_shelters(session, writes.orphans)
    real = sorted({r.municipality_code for r in records if not is_demo(r.common_id)})
    demo = await repository.ids_with_prefix(session, real, DEMO_ID_PREFIX)
    await repository.delete_shelters(session, [shelter_id for shelter_id, _ in demo])
    demo_counts = Counter(code for _, code in demo)
    return StoreReport(
        inserted=writes.inserted,
        updated=writes.updated,
        unchanged=writes.unchanged,
        removed=len(writes.orphans),
        municipalities=len({r.municipality_code for r in records}),
        demo_replaced=tuple(
            DemoReplaced(code, names[code], count) for code, count in sorted(demo_counts.items())
        ),
        notices=writes.notices,
    )


async def _check_municipalities(
    session: AsyncSession, records: Sequence[ShelterRecord]
) -> dict[str, str]:
    """The Japanese names of the known municipalities; refuses records of unknown ones."""
    codes = {r.municipality_code for r in records}
    known = await municipality_service.municipalities_by_codes(session, codes)
    names = {m.code: m.name_ja for m in known}
    unknown = sorted(codes - names.keys())
    if unknown:
        where = {r.municipality_code: r.source for r in records}
        listed = ", ".join(f"{code} ({where[code]})" for code in unknown)
        listed_ja = "、".join(f"{code}（{where[code].text_ja()}）" for code in unknown)
        raise ValidationFailed(
            f"unknown municipality code(s): {listed}; nothing imported",
            f"不明な市区町村コードがあるため取り込めません: {listed_ja}",
        )
    return names


def _plan_writes(
    existing: dict[uuid.UUID, dict[str, Any]],
    links: Sequence[tuple[str, ShelterKind, uuid.UUID]],
    records: Sequence[ShelterRecord],
    kinds_by_id: dict[str, set[ShelterKind]],
    merge_max_distance_m: float,
) -> _Writes:
    plan = _ImportPlan(existing, merge_max_distance_m)
    for common_id, kind, shelter_id in links:
        plan.add_existing_source(common_id, kind, shelter_id)
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
    return _Writes(changed, source_rows, orphans, inserted, updated, unchanged, tuple(plan.notices))


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
        self.by_facility[facility_key(common_id)].add(shelter_id)

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
            if (fold(row["name"]), fold(row["address"])) != (
                fold(record.name),
                fold(record.address),
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
                "facility_key": facility_key(cid),
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
