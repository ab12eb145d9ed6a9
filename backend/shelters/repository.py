"""SQL for shelters and their GSI source ids (batched: imports touch thousands of rows)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Table,
    and_,
    case,
    delete,
    func,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from ..db.dialect import chunked, upsert
from ..hazards.types import HazardType
from .models import (
    HAZARD_COLUMNS,
    KIND_COLUMNS,
    NeedState,
    Shelter,
    ShelterNeed,
    ShelterSourceId,
    ShelterStatus,
    ShelterStay,
)
from .records import ShelterKind

# IN lists are chunked well below the 32,766 bound parameters asyncpg and SQLite allow.
IN_CHUNK = 1_000


@dataclass(frozen=True, slots=True)
class ShelterFilter:
    """What the nearest and map queries keep, all in SQL."""

    hazard_type: HazardType | None = None
    kinds: frozenset[ShelterKind] = frozenset()
    open_only: bool = False
    exclude_full: bool = False
    municipality_code: str | None = None

    def clauses(self) -> list[ColumnElement[bool]]:
        result: list[ColumnElement[bool]] = []
        if self.hazard_type is not None:
            result.append(getattr(Shelter, HAZARD_COLUMNS[self.hazard_type]).is_(True))
        if self.kinds:
            result.append(or_(*(getattr(Shelter, KIND_COLUMNS[k]).is_(True) for k in self.kinds)))
        if self.open_only:
            result.append(Shelter.status == ShelterStatus.OPEN.value)
        if self.exclude_full:
            # Full by status, or by count even where a manager left the status open.
            result.append(Shelter.status != ShelterStatus.FULL.value)
            result.append(
                or_(
                    Shelter.capacity.is_(None),
                    Shelter.occupancy.is_(None),
                    Shelter.occupancy < Shelter.capacity,
                )
            )
        if self.municipality_code is not None:
            result.append(Shelter.municipality_code == self.municipality_code)
        return result


def _in_box(min_lat: float, min_lon: float, max_lat: float, max_lon: float) -> ColumnElement[bool]:
    return and_(
        Shelter.latitude.between(min_lat, max_lat), Shelter.longitude.between(min_lon, max_lon)
    )


async def get(session: AsyncSession, shelter_id: uuid.UUID) -> Shelter | None:
    return await session.get(Shelter, shelter_id)


async def by_common_id(session: AsyncSession, common_id: str) -> Shelter | None:
    result = await session.execute(select(Shelter).where(Shelter.common_id == common_id))
    return result.scalars().first()


async def get_many(session: AsyncSession, ids: Sequence[uuid.UUID]) -> list[Shelter]:
    found: list[Shelter] = []
    for chunk in chunked(ids, IN_CHUNK):
        found.extend(await session.scalars(select(Shelter).where(Shelter.id.in_(chunk))))
    return found


async def points_in_box(
    session: AsyncSession,
    box: tuple[float, float, float, float],
    where: ShelterFilter,
) -> list[tuple[uuid.UUID, float, float]]:
    """(id, latitude, longitude) of the shelters in (min_lat, min_lon, max_lat, max_lon)."""
    statement = select(Shelter.id, Shelter.latitude, Shelter.longitude).where(
        _in_box(*box), *where.clauses()
    )
    return [(row[0], row[1], row[2]) for row in await session.execute(statement)]


async def any_in_box(
    session: AsyncSession, box: tuple[float, float, float, float], where: ShelterFilter
) -> bool:
    """Whether any shelter passing ``where`` lies in (min_lat, min_lon, max_lat, max_lon)."""
    statement = select(Shelter.id).where(_in_box(*box), *where.clauses()).limit(1)
    return (await session.scalar(statement)) is not None


async def locations(session: AsyncSession) -> list[tuple[str | None, float, float]]:
    """(municipality code, latitude, longitude) of every shelter."""
    statement = select(Shelter.municipality_code, Shelter.latitude, Shelter.longitude)
    return [(row[0], row[1], row[2]) for row in await session.execute(statement)]


async def in_box(
    session: AsyncSession,
    box: tuple[float, float, float, float] | None,
    where: ShelterFilter,
    *,
    limit: int,
) -> list[Shelter]:
    """Shelters in a box and/or municipality, by 共通ID, at most ``limit``."""
    clauses = where.clauses()
    if box is not None:
        clauses.append(_in_box(*box))
    statement = select(Shelter).where(*clauses).order_by(Shelter.common_id, Shelter.id)
    return list(await session.scalars(statement.limit(limit)))


async def count(
    session: AsyncSession,
    municipality_code: str | None = None,
    *,
    excluding_prefix: str | None = None,
) -> int:
    """How many shelters (of a municipality; without those whose 共通ID has the prefix)."""
    statement = select(func.count()).select_from(Shelter)
    if municipality_code is not None:
        statement = statement.where(Shelter.municipality_code == municipality_code)
    if excluding_prefix is not None:
        statement = statement.where(~Shelter.common_id.startswith(excluding_prefix))
    return int(await session.scalar(statement) or 0)


async def ids_with_prefix(
    session: AsyncSession, municipality_codes: Sequence[str], prefix: str
) -> list[tuple[uuid.UUID, str]]:
    """(id, municipality) of the shelters there whose 共通ID starts with ``prefix``."""
    statement = select(Shelter.id, Shelter.municipality_code).where(
        Shelter.municipality_code.in_(municipality_codes), Shelter.common_id.startswith(prefix)
    )
    return [(row[0], row[1]) for row in await session.execute(statement)]


async def source_ids_matching(
    session: AsyncSession, *, common_ids: Sequence[str], facility_keys: Sequence[str]
) -> list[ShelterSourceId]:
    """Source ids with one of ``common_ids`` or of one of the facilities ``facility_keys``."""
    found: dict[tuple[str, str], ShelterSourceId] = {}
    for column, values in (
        (ShelterSourceId.common_id, common_ids),
        (ShelterSourceId.facility_key, facility_keys),
    ):
        for chunk in chunked(sorted(set(values)), IN_CHUNK):
            for row in await session.scalars(select(ShelterSourceId).where(column.in_(chunk))):
                found[(row.common_id, row.kind)] = row
    return list(found.values())


async def source_ids_of(
    session: AsyncSession, shelter_ids: Sequence[uuid.UUID]
) -> list[ShelterSourceId]:
    found: list[ShelterSourceId] = []
    for chunk in chunked(shelter_ids, IN_CHUNK):
        statement = select(ShelterSourceId).where(ShelterSourceId.shelter_id.in_(chunk))
        found.extend(await session.scalars(statement))
    return found


async def rows_by_ids(session: AsyncSession, ids: Sequence[uuid.UUID]) -> list[dict[str, Any]]:
    """Shelter rows as plain dicts (Core, so no stale ORM objects linger after an upsert)."""
    table = Shelter.__table__
    found: list[dict[str, Any]] = []
    for chunk in chunked(ids, IN_CHUNK):
        result = await session.execute(select(table).where(table.c.id.in_(chunk)))
        found.extend(dict(row) for row in result.mappings())
    return found


async def upsert_shelters(
    session: AsyncSession, rows: Sequence[dict[str, Any]], *, update_columns: list[str]
) -> None:
    """Insert new shelters and update ``update_columns`` of existing ones (executemany)."""
    table = cast(Table, Shelter.__table__)
    await upsert(session, table, rows, index_elements=["id"], update_columns=update_columns)


async def upsert_source_ids(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    await upsert(
        session,
        cast(Table, ShelterSourceId.__table__),
        rows,
        index_elements=["common_id", "kind"],
        update_columns=["shelter_id", "facility_key"],
    )


async def set_unknown_capacities(session: AsyncSession, capacities: dict[str, int]) -> None:
    """Set the capacity of shelters (by 共通ID) whose capacity nobody has reported yet."""
    for common_id, capacity in capacities.items():
        await session.execute(
            update(Shelter)
            .where(Shelter.common_id == common_id, Shelter.capacity.is_(None))
            .values(capacity=capacity)
        )


async def delete_shelters(session: AsyncSession, ids: Sequence[uuid.UUID]) -> None:
    for chunk in chunked(ids, IN_CHUNK):
        await session.execute(delete(Shelter).where(Shelter.id.in_(chunk)))


# --- occupancy: one atomic UPDATE each, so concurrent check-ins never lose a count ----------

_FULL = ShelterStatus.FULL.value


async def add_people(
    session: AsyncSession,
    shelter_id: uuid.UUID,
    people: int,
    *,
    within_capacity: bool,
    at: datetime,
    by: str,
) -> Shelter | None:
    """Count ``people`` more in a shelter that is not closed (``within_capacity``: and not
    full, with room for them); FULL once the count reaches capacity. None when refused.

    The conditions are in the UPDATE itself: PostgreSQL re-checks them on the row a
    concurrent check-in just changed, so capacity is never exceeded by a race.
    """
    occupancy = func.coalesce(Shelter.occupancy, 0)
    after = occupancy + people
    where = [Shelter.id == shelter_id, Shelter.status != ShelterStatus.CLOSED.value]
    if within_capacity:
        where.append(Shelter.status != _FULL)
        where.append(or_(Shelter.capacity.is_(None), after <= Shelter.capacity))
    reaches = and_(Shelter.capacity.is_not(None), after >= Shelter.capacity)
    statement = (
        update(Shelter)
        .where(*where)
        .values(
            occupancy=after,
            status=case((reaches, _FULL), else_=Shelter.status),
            status_updated_at=at,
            status_updated_by=by,
        )
        .returning(Shelter)
        .execution_options(populate_existing=True, synchronize_session=False)
    )
    return (await session.scalars(statement)).one_or_none()


async def remove_people(
    session: AsyncSession, shelter_id: uuid.UUID, people: int, *, at: datetime, by: str
) -> Shelter | None:
    """Count ``people`` fewer (never below 0); a shelter the count had made FULL opens again
    once below capacity (a manager's FULL below capacity stays). None for an unknown id."""
    occupancy = func.coalesce(Shelter.occupancy, 0)
    after = case((occupancy > people, occupancy - people), else_=0)
    # SET expressions see the row before the update: "was full by count, is not any more".
    reopens = and_(
        Shelter.status == _FULL,
        Shelter.capacity.is_not(None),
        occupancy >= Shelter.capacity,
        after < Shelter.capacity,
    )
    statement = (
        update(Shelter)
        .where(Shelter.id == shelter_id)
        .values(
            occupancy=after,
            status=case((reopens, ShelterStatus.OPEN.value), else_=Shelter.status),
            status_updated_at=at,
            status_updated_by=by,
        )
        .returning(Shelter)
        .execution_options(populate_existing=True, synchronize_session=False)
    )
    return (await session.scalars(statement)).one_or_none()


# --- stays ----------------------------------------------------------------------------------


async def current_stay_of(
    session: AsyncSession, resident_id: uuid.UUID
) -> tuple[ShelterStay, Shelter] | None:
    """The resident's current stay and its shelter."""
    statement = (
        select(ShelterStay, Shelter)
        .join(Shelter, Shelter.id == ShelterStay.shelter_id)
        .where(ShelterStay.resident_id == resident_id, ShelterStay.checked_out_at.is_(None))
    )
    row = (await session.execute(statement)).one_or_none()
    return None if row is None else (row[0], row[1])


async def get_stay(session: AsyncSession, stay_id: uuid.UUID) -> ShelterStay | None:
    return await session.get(ShelterStay, stay_id)


async def close_current_stay(
    session: AsyncSession, resident_id: uuid.UUID, *, at: datetime, by: str
) -> ShelterStay | None:
    """End the resident's current stay (row-locked by the UPDATE); None when there is none."""
    statement = (
        update(ShelterStay)
        .where(ShelterStay.resident_id == resident_id, ShelterStay.checked_out_at.is_(None))
        .values(checked_out_at=at, checked_out_by=by)
        .returning(ShelterStay)
        .execution_options(populate_existing=True, synchronize_session=False)
    )
    return (await session.scalars(statement)).one_or_none()


async def close_stay(
    session: AsyncSession, stay_id: uuid.UUID, *, at: datetime, by: str
) -> ShelterStay | None:
    """End a stay that is still current; None when it is not (ended meanwhile, or unknown)."""
    statement = (
        update(ShelterStay)
        .where(ShelterStay.id == stay_id, ShelterStay.checked_out_at.is_(None))
        .values(checked_out_at=at, checked_out_by=by)
        .returning(ShelterStay)
        .execution_options(populate_existing=True, synchronize_session=False)
    )
    return (await session.scalars(statement)).one_or_none()


async def current_stays(
    session: AsyncSession,
    shelter_id: uuid.UUID,
    *,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[ShelterStay]:
    """Current stays of a shelter, newest arrival first, after a (checked_in_at, id) key."""
    statement = select(ShelterStay).where(
        ShelterStay.shelter_id == shelter_id, ShelterStay.checked_out_at.is_(None)
    )
    if after is not None:
        statement = statement.where(
            tuple_(ShelterStay.checked_in_at, ShelterStay.id) < tuple_(*after)
        )
    statement = statement.order_by(ShelterStay.checked_in_at.desc(), ShelterStay.id.desc())
    return list(await session.scalars(statement.limit(limit)))


async def residents_staying_in(
    session: AsyncSession, resident_ids: Sequence[uuid.UUID], municipality_codes: Sequence[str]
) -> set[uuid.UUID]:
    """Which residents stay now in a shelter of one of the municipalities."""
    found: set[uuid.UUID] = set()
    for chunk in chunked(resident_ids, IN_CHUNK):
        statement = (
            select(ShelterStay.resident_id)
            .join(Shelter, Shelter.id == ShelterStay.shelter_id)
            .where(
                ShelterStay.resident_id.in_(chunk),
                ShelterStay.checked_out_at.is_(None),
                Shelter.municipality_code.in_(municipality_codes),
            )
        )
        found.update(r for r in await session.scalars(statement) if r is not None)
    return found


# --- needs ----------------------------------------------------------------------------------


async def get_need(session: AsyncSession, need_id: uuid.UUID) -> ShelterNeed | None:
    return await session.get(ShelterNeed, need_id)


async def needs_of(
    session: AsyncSession,
    shelter_ids: Sequence[uuid.UUID],
    *,
    states: Sequence[NeedState],
    limit: int | None = None,
) -> list[ShelterNeed]:
    """Needs of the shelters in these states, newest first (``limit`` per call)."""
    found: list[ShelterNeed] = []
    for chunk in chunked(shelter_ids, IN_CHUNK):
        statement = (
            select(ShelterNeed)
            .where(
                ShelterNeed.shelter_id.in_(chunk),
                ShelterNeed.state.in_([state.value for state in states]),
            )
            .order_by(ShelterNeed.created_at.desc(), ShelterNeed.id.desc())
        )
        if limit is not None:
            statement = statement.limit(limit)
        found.extend(await session.scalars(statement))
    return found


async def count_needs(session: AsyncSession, shelter_id: uuid.UUID, state: NeedState) -> int:
    statement = (
        select(func.count())
        .select_from(ShelterNeed)
        .where(ShelterNeed.shelter_id == shelter_id, ShelterNeed.state == state.value)
    )
    return int(await session.scalar(statement) or 0)
