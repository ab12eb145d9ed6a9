"""SQL for residents and places."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, CursorResult, false, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ..db.dialect import insert_ignoring_conflicts, one_of, table_of
from .models import Place, Resident


async def by_subject(session: AsyncSession, subject: str) -> Resident | None:
    return await session.scalar(select(Resident).where(Resident.subject == subject))


async def get_many(session: AsyncSession, ids: list[uuid.UUID]) -> list[Resident]:
    return list(await session.scalars(select(Resident).where(Resident.id.in_(ids))))


async def insert_if_absent(session: AsyncSession, values: dict[str, object]) -> None:
    await insert_ignoring_conflicts(
        session, table_of(Resident), [values], index_elements=["subject"]
    )


async def places_of(session: AsyncSession, resident_id: uuid.UUID) -> list[Place]:
    statement = (
        select(Place).where(Place.resident_id == resident_id).order_by(Place.created_at, Place.id)
    )
    return list(await session.scalars(statement))


async def places_of_many(session: AsyncSession, resident_ids: list[uuid.UUID]) -> list[Place]:
    statement = (
        select(Place)
        .where(Place.resident_id.in_(resident_ids))
        .order_by(Place.created_at, Place.id)
    )
    return list(await session.scalars(statement))


async def homes_of_many(session: AsyncSession, resident_ids: list[uuid.UUID]) -> list[Place]:
    statement = select(Place).where(Place.resident_id.in_(resident_ids), Place.kind == "home")
    return list(await session.scalars(statement))


async def ids_living_in(
    session: AsyncSession, resident_ids: list[uuid.UUID], municipality_codes: set[str]
) -> set[uuid.UUID]:
    statement = select(Resident.id).where(
        Resident.id.in_(resident_ids),
        Resident.home_municipality_code.in_(sorted(municipality_codes)),
    )
    return set(await session.scalars(statement))


async def place_locations(session: AsyncSession) -> list[tuple[str | None, float, float]]:
    """(municipality code, latitude, longitude) of every saved place."""
    statement = select(Place.municipality_code, Place.latitude, Place.longitude)
    return [(row[0], row[1], row[2]) for row in await session.execute(statement)]


async def place_of(
    session: AsyncSession, resident_id: uuid.UUID, place_id: uuid.UUID
) -> Place | None:
    return await session.scalar(
        select(Place).where(Place.id == place_id, Place.resident_id == resident_id)
    )


async def count_places(session: AsyncSession, resident_id: uuid.UUID) -> int:
    statement = select(func.count()).select_from(Place).where(Place.resident_id == resident_id)
    return int(await session.scalar(statement) or 0)


async def home_of(session: AsyncSession, resident_id: uuid.UUID) -> Place | None:
    return await session.scalar(
        select(Place).where(Place.resident_id == resident_id, Place.kind == "home")
    )


async def count_residents_in(session: AsyncSession, municipality_code: str) -> int:
    statement = (
        select(func.count())
        .select_from(Resident)
        .where(Resident.home_municipality_code == municipality_code)
    )
    return int(await session.scalar(statement) or 0)


async def count_places_in(session: AsyncSession, municipality_code: str) -> dict[str, int]:
    statement = (
        select(Place.kind, func.count())
        .where(Place.municipality_code == municipality_code)
        .group_by(Place.kind)
    )
    return {kind: int(n) for kind, n in (await session.execute(statement)).all()}


class PlaceLocation(NamedTuple):
    id: uuid.UUID
    resident_id: uuid.UUID
    kind: str
    latitude: float
    longitude: float
    municipality_code: str | None


async def places_for_relocation(
    session: AsyncSession,
    *,
    boxes: Sequence[tuple[float, float, float, float]],
    municipality_codes: Sequence[str],
) -> list[PlaceLocation]:
    """Places inside any (min_lon, min_lat, max_lon, max_lat) box or located in these codes."""
    conditions: list[ColumnElement[bool]] = [
        Place.longitude.between(min_lon, max_lon) & Place.latitude.between(min_lat, max_lat)
        for min_lon, min_lat, max_lon, max_lat in boxes
    ]
    if municipality_codes:
        conditions.append(Place.municipality_code.in_(list(municipality_codes)))
    if not conditions:
        return []
    statement = select(
        Place.id,
        Place.resident_id,
        Place.kind,
        Place.latitude,
        Place.longitude,
        Place.municipality_code,
    ).where(or_(*conditions))
    return [PlaceLocation(*row) for row in await session.execute(statement)]


# Ids per UPDATE ... WHERE id IN (...): well under every driver's parameter limit.
_ID_CHUNK = 1_000


async def set_place_municipalities(
    session: AsyncSession, ids_by_code: Mapping[str | None, Sequence[uuid.UUID]]
) -> None:
    for code, ids in ids_by_code.items():
        for start in range(0, len(ids), _ID_CHUNK):
            await session.execute(
                update(Place)
                .where(Place.id.in_(ids[start : start + _ID_CHUNK]))
                .values(municipality_code=code)
                .execution_options(synchronize_session=False)
            )


async def set_derived_home_municipalities(
    session: AsyncSession, resident_ids_by_code: Mapping[str | None, Sequence[uuid.UUID]]
) -> int:
    """Set the home municipality of residents who did not choose one; returns how many."""
    updated = 0
    for code, ids in resident_ids_by_code.items():
        for start in range(0, len(ids), _ID_CHUNK):
            result: CursorResult[Any] = await session.execute(  # type: ignore[assignment]
                update(Resident)
                .where(
                    Resident.id.in_(ids[start : start + _ID_CHUNK]),
                    Resident.municipality_chosen.is_(false()),
                    Resident.home_municipality_code.is_distinct_from(code),
                )
                .values(home_municipality_code=code)
                .execution_options(synchronize_session=False)
            )
            updated += result.rowcount or 0
    return updated


class PlaceSpot(NamedTuple):
    """A place as area look-ups need it: whose, what, where (no ORM object per row)."""

    id: uuid.UUID
    resident_id: uuid.UUID
    kind: str
    label: str
    latitude: float
    longitude: float
    municipality_code: str | None
    address: str | None


_SPOT_COLUMNS = (
    Place.id,
    Place.resident_id,
    Place.kind,
    Place.label,
    Place.latitude,
    Place.longitude,
    Place.municipality_code,
    Place.address,
)
# Values per IN list: well under SQLite's and asyncpg's parameter limits.
_IN_CHUNK = 900


async def _spots(session: AsyncSession, column: Any, values: Sequence[Any]) -> list[PlaceSpot]:
    spots: list[PlaceSpot] = []
    for start in range(0, len(values), _IN_CHUNK):
        chunk = list(values[start : start + _IN_CHUNK])
        rows = await session.execute(select(*_SPOT_COLUMNS).where(column.in_(chunk)))
        spots.extend(PlaceSpot(*row) for row in rows)
    return spots


class PlacePin(NamedTuple):
    """A place as polygon targeting needs it: whose, what, its H3 res-7 cell, and its position
    only where an exact test follows (None otherwise)."""

    id: uuid.UUID
    resident_id: uuid.UUID
    kind: str
    h3_res7: int
    latitude: float | None = None
    longitude: float | None = None


_PIN_COLUMNS = (Place.id, Place.resident_id, Place.kind, Place.h3_res7)


async def pins_in_cells(
    session: AsyncSession, cells: Sequence[int], *, positions: bool
) -> list[PlacePin]:
    """Places whose res-7 cell is one of ``cells``, with their position when ``positions``.

    Hundreds of thousands of rows for a large alert: few columns, one statement on
    PostgreSQL (an array parameter), and Core rows (no ORM result processing).
    """
    postgres = session.get_bind().dialect.name == "postgresql"
    step = max(1, len(cells)) if postgres else _IN_CHUNK
    connection = await session.connection()
    pins: list[PlacePin] = []
    for start in range(0, len(cells), step):
        where = one_of(session, Place.h3_res7, list(cells[start : start + step]))
        if positions:
            rows = await connection.execute(
                select(*_PIN_COLUMNS, Place.latitude, Place.longitude).where(where)
            )
            pins.extend(PlacePin(i, r, k, c, lat, lon) for i, r, k, c, lat, lon in rows)
        else:
            pins.extend(
                PlacePin(i, r, k, c)
                for i, r, k, c in await connection.execute(select(*_PIN_COLUMNS).where(where))
            )
    return pins


async def spots_in_municipalities(session: AsyncSession, codes: Sequence[str]) -> list[PlaceSpot]:
    return await _spots(session, Place.municipality_code, codes)


async def spots_of_residents(
    session: AsyncSession, resident_ids: Sequence[uuid.UUID], kinds: Sequence[str] | None = None
) -> list[PlaceSpot]:
    spots = await _spots(session, Place.resident_id, resident_ids)
    return spots if kinds is None else [s for s in spots if s.kind in kinds]
