"""SQL of routing's own tables: route assignments (shelter load) and ticket gate openings."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import and_, delete, func, insert, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from ..db.dialect import one_of, table_of
from .models import RouteAssignment, TicketGateOpening

Box = tuple[float, float, float, float]

# --- route assignments ---------------------------------------------------------------------


async def planned_people(
    session: AsyncSession,
    shelter_ids: Sequence[uuid.UUID],
    *,
    since: datetime,
    excluding_key: str | None,
) -> dict[uuid.UUID, int]:
    """People of the assignments to each shelter issued since ``since`` (one statement for
    all), leaving out the requester's own (``excluding_key``)."""
    if not shelter_ids:
        return {}
    conditions = [
        one_of(session, RouteAssignment.shelter_id, list(shelter_ids)),
        RouteAssignment.issued_at >= since,
    ]
    if excluding_key is not None:
        conditions.append(
            or_(
                RouteAssignment.requester_key.is_(None),
                RouteAssignment.requester_key != excluding_key,
            )
        )
    rows = await session.execute(
        select(RouteAssignment.shelter_id, func.sum(RouteAssignment.party_size))
        .where(*conditions)
        .group_by(RouteAssignment.shelter_id)
    )
    return {shelter_id: int(people or 0) for shelter_id, people in rows}


async def lock_shelter(session: AsyncSession, shelter_id: uuid.UUID) -> None:
    """Serialise the transactions recording routes to this shelter until this one ends.

    PostgreSQL: a transaction-level advisory lock on the shelter's id (its rows need not
    exist yet). SQLite: a writing transaction holds the database's one write lock already.
    """
    if session.get_bind().dialect.name == "postgresql":
        key = int.from_bytes(shelter_id.bytes[:8], "big", signed=True)
        await session.execute(select(func.pg_advisory_xact_lock(key)))


@cache
def _assign_statement(dialect: str) -> Any:
    """A requester's row replaces their earlier one (built once per dialect)."""
    module = postgresql if dialect == "postgresql" else sqlite
    statement = module.insert(table_of(RouteAssignment))
    excluded = statement.excluded
    return statement.on_conflict_do_update(
        index_elements=["requester_key"],
        set_={c: getattr(excluded, c) for c in ("shelter_id", "party_size", "issued_at")},
    )


async def assign(
    session: AsyncSession,
    *,
    shelter_id: uuid.UUID,
    party_size: int,
    issued_at: datetime,
    requester_key: str | None,
) -> None:
    """Store an assignment; a keyed requester's replaces their earlier one."""
    row = {
        "id": uuid.uuid4(),
        "shelter_id": shelter_id,
        "party_size": party_size,
        "issued_at": issued_at,
        "requester_key": requester_key,
    }
    if requester_key is None:
        await session.execute(insert(table_of(RouteAssignment)), [row])
    else:
        await session.execute(_assign_statement(session.get_bind().dialect.name), [row])


async def prune(session: AsyncSession, shelter_id: uuid.UUID, *, before: datetime) -> None:
    """Forget a shelter's assignments issued before ``before`` (they count no more)."""
    await session.execute(
        delete(RouteAssignment).where(
            RouteAssignment.shelter_id == shelter_id, RouteAssignment.issued_at < before
        )
    )


# --- ticket gate openings ------------------------------------------------------------------


async def add_opening(session: AsyncSession, opening: TicketGateOpening) -> None:
    session.add(opening)
    await session.flush()


async def get_opening(session: AsyncSession, opening_id: uuid.UUID) -> TicketGateOpening | None:
    return await session.get(TicketGateOpening, opening_id)


async def openings_of(
    session: AsyncSession, event_id: uuid.UUID, *, include_closed: bool, limit: int
) -> list[TicketGateOpening]:
    """An event's openings, newest first."""
    statement = select(TicketGateOpening).where(TicketGateOpening.event_id == event_id)
    if not include_closed:
        statement = statement.where(TicketGateOpening.closed_at.is_(None))
    statement = statement.order_by(TicketGateOpening.opened_at.desc(), TicketGateOpening.id)
    return list(await session.scalars(statement.limit(limit)))


async def count_open(session: AsyncSession, event_id: uuid.UUID) -> int:
    """How many of an event's openings are open."""
    count = await session.scalar(
        select(func.count()).where(
            TicketGateOpening.event_id == event_id, TicketGateOpening.closed_at.is_(None)
        )
    )
    return int(count or 0)


async def open_areas_in(
    session: AsyncSession, box: Box, *, limit: int
) -> list[tuple[uuid.UUID, uuid.UUID, str]]:
    """(id, event id, area GeoJSON) of the open openings meeting the box, newest first."""
    min_lon, min_lat, max_lon, max_lat = box
    rows = await session.execute(
        select(TicketGateOpening.id, TicketGateOpening.event_id, TicketGateOpening.area_geojson)
        .where(
            TicketGateOpening.closed_at.is_(None),
            and_(
                TicketGateOpening.min_lat <= max_lat,
                TicketGateOpening.max_lat >= min_lat,
                TicketGateOpening.min_lon <= max_lon,
                TicketGateOpening.max_lon >= min_lon,
            ),
        )
        .order_by(TicketGateOpening.opened_at.desc(), TicketGateOpening.id)
        .limit(limit)
    )
    return [(opening_id, event_id, area) for opening_id, event_id, area in rows]
