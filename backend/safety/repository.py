"""SQL of disaster events and safety answers."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from ..db.dialect import chunked, one_of, table_of
from .models import (
    DisasterEvent,
    DisasterEventMunicipality,
    EventState,
    LocationShare,
    SafetyAnswer,
    SafetyLatest,
)


def _batches(session: AsyncSession, ids: Sequence[uuid.UUID]) -> Iterator[list[uuid.UUID]]:
    """PostgreSQL takes any number of ids as one array parameter; SQLite needs IN lists."""
    if session.get_bind().dialect.name == "postgresql":
        if ids:
            yield list(ids)
        return
    yield from chunked(ids)


# --- events ------------------------------------------------------------------------------


async def get_event(session: AsyncSession, event_id: uuid.UUID) -> DisasterEvent | None:
    return await session.get(DisasterEvent, event_id)


async def event_by_alert(session: AsyncSession, alert_id: uuid.UUID) -> DisasterEvent | None:
    return await session.scalar(
        select(DisasterEvent).where(DisasterEvent.source_alert_id == alert_id)
    )


async def municipalities_of(
    session: AsyncSession, event_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[str]]:
    """Each event's municipality codes, sorted."""
    found: dict[uuid.UUID, list[str]] = {e: [] for e in event_ids}
    if not event_ids:
        return found
    rows = await session.execute(
        select(DisasterEventMunicipality.event_id, DisasterEventMunicipality.municipality_code)
        .where(one_of(session, DisasterEventMunicipality.event_id, list(event_ids)))
        .order_by(DisasterEventMunicipality.municipality_code)
    )
    for event_id, code in rows:
        found[event_id].append(code)
    return found


async def open_events_in(session: AsyncSession, codes: Sequence[str]) -> list[DisasterEvent]:
    """Open events covering any of these municipalities, newest first."""
    if not codes:
        return []
    covering = select(DisasterEventMunicipality.event_id).where(
        DisasterEventMunicipality.municipality_code.in_(list(codes))
    )
    result = await session.scalars(
        select(DisasterEvent)
        .where(DisasterEvent.state == EventState.OPEN.value, DisasterEvent.id.in_(covering))
        .order_by(DisasterEvent.started_at.desc(), DisasterEvent.id)
    )
    return list(result)


async def open_among(session: AsyncSession, event_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    """The open events among these ids."""
    result = await session.scalars(
        select(DisasterEvent.id).where(
            DisasterEvent.id.in_(list(event_ids)), DisasterEvent.state == EventState.OPEN.value
        )
    )
    return set(result)


async def states_of(session: AsyncSession, event_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str]:
    """Each known event's state."""
    rows = await session.execute(
        select(DisasterEvent.id, DisasterEvent.state).where(DisasterEvent.id.in_(list(event_ids)))
    )
    return {event_id: state for event_id, state in rows}


async def events_in(
    session: AsyncSession, codes: Sequence[str], *, include_closed: bool, limit: int
) -> list[DisasterEvent]:
    """Events covering any of these municipalities (staff lists), newest first."""
    covering = select(DisasterEventMunicipality.event_id).where(
        DisasterEventMunicipality.municipality_code.in_(list(codes))
    )
    statement = select(DisasterEvent).where(DisasterEvent.id.in_(covering))
    if not include_closed:
        statement = statement.where(DisasterEvent.state == EventState.OPEN.value)
    result = await session.scalars(
        statement.order_by(DisasterEvent.started_at.desc(), DisasterEvent.id).limit(limit)
    )
    return list(result)


# --- answers -----------------------------------------------------------------------------


async def answer_by_key(
    session: AsyncSession, recorded_by: str, idempotency_key: str
) -> SafetyAnswer | None:
    return await session.scalar(
        select(SafetyAnswer).where(
            SafetyAnswer.recorded_by == recorded_by,
            SafetyAnswer.idempotency_key == idempotency_key,
        )
    )


async def existing_keys(
    session: AsyncSession, recorded_by: str, keys: Sequence[str]
) -> dict[str, SafetyAnswer]:
    """Answers already stored under these idempotency keys of one recorder."""
    found: dict[str, SafetyAnswer] = {}
    for batch in chunked(list(keys)):
        rows = await session.scalars(
            select(SafetyAnswer).where(
                SafetyAnswer.recorded_by == recorded_by, SafetyAnswer.idempotency_key.in_(batch)
            )
        )
        found.update({row.idempotency_key or "": row for row in rows})
    return found


@cache
def _latest_statement(dialect: str) -> Any:
    """The upsert of counting answers, built once per dialect: building it (its ``excluded``
    alias above all) cost about 0.5 ms of CPU per answer, a twentieth of a check-in."""
    module = postgresql if dialect == "postgresql" else sqlite
    latest = table_of(SafetyLatest)
    statement = module.insert(latest)
    excluded = statement.excluded
    columns = (
        "answer_id", "status", "answered_at", "municipality_code", "h3_res9", "latitude",
        "longitude", "shelter_id",
    )  # fmt: skip
    return statement.on_conflict_do_update(
        index_elements=["event_id", "resident_id"],
        set_={c: getattr(excluded, c) for c in columns},
        # A paper form answered earlier never overrides a newer answer from the app.
        where=latest.c.answered_at <= excluded.answered_at,
    )


async def add_answers(
    session: AsyncSession, answers: Sequence[dict[str, Any]], latest: Sequence[dict[str, Any]]
) -> None:
    """Store answers (history) and make each the latest where it is newest."""
    if not answers:
        return
    await session.flush()  # pending ORM rows (a new event) go first
    # Core inserts of plain rows: the ORM's bulk path adds nothing here but CPU.
    await session.execute(insert(table_of(SafetyAnswer)), list(answers))
    await session.execute(_latest_statement(session.get_bind().dialect.name), list(latest))


async def latest_of(
    session: AsyncSession, event_id: uuid.UUID, resident_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, SafetyLatest]:
    """The counting answer of each of these people in the event."""
    found: dict[uuid.UUID, SafetyLatest] = {}
    for batch in _batches(session, resident_ids):
        rows = await session.scalars(
            select(SafetyLatest).where(
                SafetyLatest.event_id == event_id, one_of(session, SafetyLatest.resident_id, batch)
            )
        )
        found.update({row.resident_id: row for row in rows})
    return found


async def latest_answers_of(
    session: AsyncSession, resident_ids: Sequence[uuid.UUID], *, since: datetime
) -> list[tuple[SafetyLatest, SafetyAnswer, DisasterEvent]]:
    """The counting answers of these people in events open now or closed after ``since``."""
    found: list[tuple[SafetyLatest, SafetyAnswer, DisasterEvent]] = []
    for batch in _batches(session, resident_ids):
        rows = await session.execute(
            select(SafetyLatest, SafetyAnswer, DisasterEvent)
            .join(SafetyAnswer, SafetyAnswer.id == SafetyLatest.answer_id)
            .join(DisasterEvent, DisasterEvent.id == SafetyLatest.event_id)
            .where(
                one_of(session, SafetyLatest.resident_id, batch),
                (DisasterEvent.state == EventState.OPEN.value) | (DisasterEvent.closed_at > since),
            )
            .order_by(DisasterEvent.started_at.desc())
        )
        found.extend((latest, answer, event) for latest, answer, event in rows)
    return found


async def status_counts(
    session: AsyncSession, event_id: uuid.UUID, resident_ids: Sequence[uuid.UUID]
) -> dict[str, int]:
    """How many of these people's counting answers have each status."""
    counts: dict[str, int] = {}
    for batch in _batches(session, resident_ids):
        rows = await session.execute(
            select(SafetyLatest.status, func.count())
            .where(
                SafetyLatest.event_id == event_id, one_of(session, SafetyLatest.resident_id, batch)
            )
            .group_by(SafetyLatest.status)
        )
        for status, count in rows:
            counts[status] = counts.get(status, 0) + count
    return counts


async def statuses_of(
    session: AsyncSession, event_id: uuid.UUID, resident_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, str]:
    """Each answering person's counting status (a tally over several groups at once)."""
    found: dict[uuid.UUID, str] = {}
    for batch in _batches(session, resident_ids):
        rows = await session.execute(
            select(SafetyLatest.resident_id, SafetyLatest.status).where(
                SafetyLatest.event_id == event_id, one_of(session, SafetyLatest.resident_id, batch)
            )
        )
        found.update(dict(rows.all()))
    return found


async def counts_by_municipality(
    session: AsyncSession, event_id: uuid.UUID, codes: Sequence[str]
) -> list[tuple[str | None, str, int]]:
    """(municipality, status, count) of the event's counting answers in these municipalities."""
    rows = await session.execute(
        select(SafetyLatest.municipality_code, SafetyLatest.status, func.count())
        .where(SafetyLatest.event_id == event_id, SafetyLatest.municipality_code.in_(list(codes)))
        .group_by(SafetyLatest.municipality_code, SafetyLatest.status)
    )
    return [(code, status, count) for code, status, count in rows]


async def counts_by_cell(
    session: AsyncSession, event_id: uuid.UUID, codes: Sequence[str]
) -> list[tuple[int, str, int]]:
    """(res-9 cell, status, count) of the event's counting answers in these municipalities."""
    rows = await session.execute(
        select(SafetyLatest.h3_res9, SafetyLatest.status, func.count())
        .where(
            SafetyLatest.event_id == event_id,
            SafetyLatest.municipality_code.in_(list(codes)),
            SafetyLatest.h3_res9.is_not(None),
        )
        .group_by(SafetyLatest.h3_res9, SafetyLatest.status)
    )
    return [(int(cell or 0), status, count) for cell, status, count in rows]


async def evacuated_positions(
    session: AsyncSession, event_id: uuid.UUID, codes: Sequence[str], *, limit: int
) -> list[SafetyLatest]:
    """Counting EVACUATED answers with a reported position, in these municipalities."""
    result = await session.scalars(
        select(SafetyLatest)
        .where(
            SafetyLatest.event_id == event_id,
            SafetyLatest.status == "evacuated_to_shelter",
            SafetyLatest.municipality_code.in_(list(codes)),
            SafetyLatest.latitude.is_not(None),
        )
        .order_by(SafetyLatest.answered_at.desc())
        .limit(limit)
    )
    return list(result)


async def evacuated_by_shelter(
    session: AsyncSession, event_id: uuid.UUID, codes: Sequence[str]
) -> dict[uuid.UUID, int]:
    """Counting EVACUATED answers naming each shelter, in these municipalities."""
    rows = await session.execute(
        select(SafetyLatest.shelter_id, func.count())
        .where(
            SafetyLatest.event_id == event_id,
            SafetyLatest.status == "evacuated_to_shelter",
            SafetyLatest.municipality_code.in_(list(codes)),
            SafetyLatest.shelter_id.is_not(None),
        )
        .group_by(SafetyLatest.shelter_id)
    )
    return {shelter_id: count for shelter_id, count in rows if shelter_id is not None}


async def evacuated_in_open_events(
    session: AsyncSession, shelter_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, int]:
    """Counting EVACUATED answers of open events naming each of these shelters (one statement,
    on the shelter index: a route reads it for its candidates)."""
    if not shelter_ids:
        return {}
    rows = await session.execute(
        select(SafetyLatest.shelter_id, func.count())
        .join(DisasterEvent, DisasterEvent.id == SafetyLatest.event_id)
        .where(
            one_of(session, SafetyLatest.shelter_id, list(shelter_ids)),
            SafetyLatest.status == "evacuated_to_shelter",
            DisasterEvent.state == EventState.OPEN.value,
        )
        .group_by(SafetyLatest.shelter_id)
    )
    return {shelter_id: count for shelter_id, count in rows if shelter_id is not None}


async def history(
    session: AsyncSession, event_id: uuid.UUID, resident_id: uuid.UUID, *, limit: int
) -> list[SafetyAnswer]:
    """A person's answers in an event, newest first."""
    result = await session.scalars(
        select(SafetyAnswer)
        .where(SafetyAnswer.event_id == event_id, SafetyAnswer.resident_id == resident_id)
        .order_by(SafetyAnswer.answered_at.desc(), SafetyAnswer.recorded_at.desc())
        .limit(limit)
    )
    return list(result)


# --- shared positions --------------------------------------------------------------------


async def location_shares(
    session: AsyncSession, resident_ids: Sequence[uuid.UUID], now: datetime
) -> dict[uuid.UUID, LocationShare]:
    """Unexpired shared positions of these residents."""
    found: dict[uuid.UUID, LocationShare] = {}
    for batch in _batches(session, resident_ids):
        rows = await session.scalars(
            select(LocationShare).where(
                one_of(session, LocationShare.resident_id, batch), LocationShare.expires_at > now
            )
        )
        found.update({row.resident_id: row for row in rows})
    return found


async def stop_location_share(session: AsyncSession, resident_id: uuid.UUID) -> bool:
    result = await session.execute(
        delete(LocationShare).where(LocationShare.resident_id == resident_id)
    )
    return bool(getattr(result, "rowcount", 0))
