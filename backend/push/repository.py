"""SQL for devices, preferences, the inbox and the writing side of the outbox.

Bulk writes are INSERT … ON CONFLICT DO NOTHING … RETURNING run as one executemany per
chunk (``db.dialect.insert_new``): SQLAlchemy's "insertmanyvalues" turns it into multi-row
VALUES statements under each driver's bind-parameter limit, and RETURNING names the new rows.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from ..db.dialect import chunked, insert_new, one_of, table_of
from .models import Device, Notification, NotificationPreference, OutboxMessage, OutboxState

# Ids per IN (...) list: far below SQLite's 32,766 and asyncpg's 32,767 bind parameters.
IN_CHUNK = 2000


# --- devices -----------------------------------------------------------------------------


async def device_by_token(session: AsyncSession, token: str) -> Device | None:
    return await session.scalar(select(Device).where(Device.token == token))


async def active_devices_of(session: AsyncSession, resident_id: uuid.UUID) -> list[Device]:
    statement = (
        select(Device)
        .where(Device.resident_id == resident_id, Device.active.is_(True))
        .order_by(Device.last_seen_at.desc(), Device.id)
    )
    return list(await session.scalars(statement))


async def active_device_ids_of_residents(
    session: AsyncSession, resident_ids: Sequence[uuid.UUID]
) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """(resident id, device id) of every active device of these residents."""
    found: list[tuple[uuid.UUID, uuid.UUID]] = []
    for chunk in chunked(resident_ids, IN_CHUNK):
        rows = await session.execute(
            select(Device.resident_id, Device.id).where(
                one_of(session, Device.resident_id, chunk), Device.active.is_(True)
            )
        )
        found.extend((r, d) for r, d in rows)
    return found


async def deactivate_devices(
    session: AsyncSession, device_ids: Sequence[uuid.UUID], *, reason: str, now: datetime
) -> None:
    for chunk in chunked(device_ids, IN_CHUNK):
        await session.execute(
            update(Device)
            .where(Device.id.in_(chunk))
            .values(active=False, deactivated_reason=reason, updated_at=now)
        )


async def stale_device_ids(session: AsyncSession, *, seen_before: datetime) -> list[uuid.UUID]:
    statement = select(Device.id).where(Device.active.is_(True), Device.last_seen_at < seen_before)
    return list(await session.scalars(statement))


async def cancel_pending_pushes(session: AsyncSession, device_ids: Sequence[uuid.UUID]) -> int:
    """Mark the devices' waiting outbox rows dead, so no worker claims them any more."""
    cancelled = 0
    for chunk in chunked(device_ids, IN_CHUNK):
        result = await session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.device_id.in_(chunk),
                OutboxMessage.state == OutboxState.PENDING.value,
            )
            .values(state=OutboxState.DEAD.value)
        )
        cancelled += int(getattr(result, "rowcount", 0) or 0)
    return cancelled


# --- preferences --------------------------------------------------------------------------


async def preference(
    session: AsyncSession, resident_id: uuid.UUID
) -> NotificationPreference | None:
    return await session.get(NotificationPreference, resident_id)


async def preferences_of(
    session: AsyncSession, resident_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, tuple[bool, bool, str]]:
    """resident id -> (advisories, city notices, earthquake minimum) for those with a row."""
    found: dict[uuid.UUID, tuple[bool, bool, str]] = {}
    for chunk in chunked(resident_ids, IN_CHUNK):
        rows = await session.execute(
            select(
                NotificationPreference.resident_id,
                NotificationPreference.advisories,
                NotificationPreference.city_notices,
                NotificationPreference.earthquake_min_intensity,
            ).where(one_of(session, NotificationPreference.resident_id, chunk))
        )
        for resident_id, advisories, city_notices, minimum in rows:
            found[resident_id] = (advisories, city_notices, minimum)
    return found


# --- inbox ----------------------------------------------------------------------------------


async def insert_notifications(
    session: AsyncSession, rows: Sequence[dict[str, Any]]
) -> set[uuid.UUID]:
    """Insert inbox rows, skipping (resident, dedupe key) pairs that exist; the new ids."""
    new = await insert_new(
        session,
        table_of(Notification),
        rows,
        index_elements=["resident_id", "dedupe_key"],
        returning="id",
    )
    return set(new)


async def insert_outbox(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> int:
    """Insert outbox rows, skipping idempotency keys that exist; how many were new."""
    new = await insert_new(
        session, table_of(OutboxMessage), rows, index_elements=["idempotency_key"], returning="id"
    )
    return len(new)


async def notifications_page(
    session: AsyncSession,
    resident_id: uuid.UUID,
    *,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
    unread_only: bool,
) -> list[Notification]:
    """Newest first."""
    statement = (
        select(Notification)
        .where(Notification.resident_id == resident_id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(limit)
    )
    if unread_only:
        statement = statement.where(Notification.read_at.is_(None))
    if after is not None:
        statement = statement.where(
            tuple_(Notification.created_at, Notification.id) < tuple_(*after)
        )
    return list(await session.scalars(statement))


async def count_unread(session: AsyncSession, resident_id: uuid.UUID) -> int:
    statement = (
        select(func.count())
        .select_from(Notification)
        .where(Notification.resident_id == resident_id, Notification.read_at.is_(None))
    )
    return int(await session.scalar(statement) or 0)


async def own_notification_ids(
    session: AsyncSession, resident_id: uuid.UUID, ids: Sequence[uuid.UUID]
) -> set[uuid.UUID]:
    statement = select(Notification.id).where(
        Notification.resident_id == resident_id, Notification.id.in_(ids)
    )
    return set(await session.scalars(statement))


async def mark_read(
    session: AsyncSession,
    resident_id: uuid.UUID,
    *,
    ids: Sequence[uuid.UUID] | None,
    now: datetime,
) -> int:
    """Set read_at on unread notifications of the resident (those in ``ids``, or all)."""
    statement = (
        update(Notification)
        .where(Notification.resident_id == resident_id, Notification.read_at.is_(None))
        .values(read_at=now)
    )
    if ids is not None:
        statement = statement.where(Notification.id.in_(ids))
    result = await session.execute(statement)
    return int(getattr(result, "rowcount", 0) or 0)


async def notifications_by_ids(
    session: AsyncSession, resident_id: uuid.UUID, ids: Sequence[uuid.UUID]
) -> list[Notification]:
    statement = (
        select(Notification)
        .where(Notification.resident_id == resident_id, Notification.id.in_(ids))
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        # read_at was just set by an UPDATE: refresh rows this session has loaded before.
        .execution_options(populate_existing=True)
    )
    return list(await session.scalars(statement))
