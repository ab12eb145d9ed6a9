"""SQL for residents and places."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    CursorResult,
    all_,
    and_,
    bindparam,
    false,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession

from ..db.dialect import (
    chunked,
    fetch_freshly_planned,
    insert_ignoring_conflicts,
    one_of,
    table_of,
)
from .models import Place, Resident


async def ids_by_subjects(session: AsyncSession, subjects: Sequence[str]) -> dict[str, uuid.UUID]:
    found: dict[str, uuid.UUID] = {}
    for batch in chunked(list(subjects)):
        rows = await session.execute(
            select(Resident.subject, Resident.id).where(Resident.subject.in_(batch))
        )
        found.update({subject: rid for subject, rid in rows})
    return found


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


async def born_on_in(
    session: AsyncSession, municipality_code: str, birth_dates: Sequence[Any]
) -> list[Resident]:
    found: list[Resident] = []
    for batch in chunked(sorted(set(birth_dates))):
        statement = select(Resident).where(
            Resident.home_municipality_code == municipality_code,
            Resident.birth_date.in_(batch),
        )
        found.extend(await session.scalars(statement))
    return found


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
        for chunk in chunked(ids, _ID_CHUNK):
            await session.execute(
                update(Place)
                .where(Place.id.in_(chunk))
                .values(municipality_code=code)
                .execution_options(synchronize_session=False)
            )


async def set_derived_home_municipalities(
    session: AsyncSession, resident_ids_by_code: Mapping[str | None, Sequence[uuid.UUID]]
) -> int:
    """Set the home municipality of residents who did not choose one; returns how many."""
    updated = 0
    for code, ids in resident_ids_by_code.items():
        for chunk in chunked(ids, _ID_CHUNK):
            result: CursorResult[Any] = await session.execute(  # type: ignore[assignment]
                update(Resident)
                .where(
                    Resident.id.in_(chunk),
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


async def _spots(session: AsyncSession, column: Any, values: Sequence[Any]) -> list[PlaceSpot]:
    spots: list[PlaceSpot] = []
    for chunk in chunked(values):
        rows = await session.execute(select(*_SPOT_COLUMNS).where(column.in_(chunk)))
        spots.extend(PlaceSpot(*row) for row in rows)
    return spots


class PlacePoints(NamedTuple):
    """Places as the exact point-in-polygon test needs them, column by column."""

    resident_ids: list[uuid.UUID]
    kinds: list[str]
    latitudes: list[float]
    longitudes: list[float]


# Hundreds of thousands of places for a large alert: on PostgreSQL they come back as one row
# of arrays (array_agg), not a row per place. A row object per place, kept alive until the
# last arrives, made Python's garbage collector walk them over and over: 1.1 s of 2 s.


async def kinds_in_cells(
    session: AsyncSession,
    cells7: Sequence[int],
    cells9: Sequence[int],
    within7: Sequence[int],
) -> dict[uuid.UUID, list[str]]:
    """Per resident, the kinds of their places whose res-7 cell is one of ``cells7``, or whose
    res-9 cell is one of ``cells9`` while their res-7 cell is one of ``within7``."""
    pairs: Iterable[Sequence[Any]]
    if session.get_bind().dialect.name == "postgresql":
        in_cells9 = and_(
            one_of(session, Place.h3_res9, cells9), one_of(session, Place.h3_res7, within7)
        )
        statement = select(func.array_agg(Place.resident_id), func.array_agg(Place.kind)).where(
            or_(one_of(session, Place.h3_res7, cells7), in_cells9)
        )
        [(resident_ids, place_kinds)] = await fetch_freshly_planned(session, statement)
        pairs = zip(resident_ids or (), place_kinds or (), strict=True)  # NULL: no row
    else:
        rows: list[tuple[uuid.UUID, str]] = []
        for chunk in chunked(cells7):
            by_cell7 = select(Place.resident_id, Place.kind).where(Place.h3_res7.in_(chunk))
            rows.extend((r, k) for r, k in await session.execute(by_cell7))
        within = set(within7)
        for chunk in chunked(cells9):
            by_cell9 = select(Place.resident_id, Place.kind, Place.h3_res7).where(
                Place.h3_res9.in_(chunk)
            )
            rows.extend((r, k) for r, k, cell in await session.execute(by_cell9) if cell in within)
        pairs = rows
    kinds: dict[uuid.UUID, list[str]] = {}
    for resident_id, kind in pairs:
        if resident_id in kinds:
            kinds[resident_id].append(kind)
        else:
            kinds[resident_id] = [kind]
    return kinds


async def points_in_cells(
    session: AsyncSession, cells7: Sequence[int], except9: Sequence[int]
) -> PlacePoints:
    """Places whose res-7 cell is one of ``cells7`` and whose res-9 cell is none of ``except9``."""
    columns = (Place.resident_id, Place.kind, Place.latitude, Place.longitude)
    if session.get_bind().dialect.name == "postgresql":
        excluded = bindparam(None, list(except9), type_=postgresql.ARRAY(BigInteger))
        statement = select(*(func.array_agg(c) for c in columns)).where(
            one_of(session, Place.h3_res7, cells7), Place.h3_res9 != all_(excluded)
        )
        [row] = await fetch_freshly_planned(session, statement)
        return PlacePoints(*(list(values or ()) for values in row))  # NULL: no row
    excluded_cells = set(except9)
    points = PlacePoints([], [], [], [])
    for chunk in chunked(cells7):
        placed = select(*columns, Place.h3_res9).where(Place.h3_res7.in_(chunk))
        for resident_id, kind, latitude, longitude, cell in await session.execute(placed):
            if cell not in excluded_cells:
                points.resident_ids.append(resident_id)
                points.kinds.append(kind)
                points.latitudes.append(latitude)
                points.longitudes.append(longitude)
    return points


async def spots_in_municipalities(session: AsyncSession, codes: Sequence[str]) -> list[PlaceSpot]:
    return await _spots(session, Place.municipality_code, codes)


async def spots_of_residents_homed_in(
    session: AsyncSession, codes: Sequence[str]
) -> list[PlaceSpot]:
    """Places of residents whose home municipality is one of ``codes`` (wherever they lie)."""
    homed = select(Resident.id).where(Resident.home_municipality_code.in_(list(codes)))
    rows = await session.execute(select(*_SPOT_COLUMNS).where(Place.resident_id.in_(homed)))
    return [PlaceSpot(*row) for row in rows]


async def spots_of_residents(
    session: AsyncSession, resident_ids: Sequence[uuid.UUID], kinds: Sequence[str] | None = None
) -> list[PlaceSpot]:
    spots = await _spots(session, Place.resident_id, resident_ids)
    return spots if kinds is None else [s for s in spots if s.kind in kinds]
