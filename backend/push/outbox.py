"""SQL of the push outbox: claiming due messages with a lease and recording what happened.

Kept apart from the push repository (devices, preferences, inbox) because only the worker
uses it. Every write checks ``lease_owner``: a worker whose lease ran out (and whose rows
another worker claimed meanwhile) records its attempt but no longer changes the row.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ..db.dialect import table_of
from .models import DeliveryRecord, Device, Notification, OutboxMessage, OutboxState

_OUTBOX = table_of(OutboxMessage)
_DEVICES = table_of(Device)
_DELIVERIES = table_of(DeliveryRecord)
_PENDING = OutboxState.PENDING.value


@dataclass(frozen=True, slots=True)
class Claimed:
    """One claimed outbox row with what is needed to build its push message."""

    outbox_id: int
    attempt: int
    notification_id: uuid.UUID
    device_id: uuid.UUID
    token: str
    locale: str
    device_active: bool
    category: str
    title_ja: str
    body_ja: str
    title_en: str | None
    body_en: str | None
    data: dict[str, str]


async def any_due(session: AsyncSession, *, now: datetime) -> bool:
    """Whether some pending message is due (a read: no lock, cheap while idle)."""
    found = await session.execute(
        select(_OUTBOX.c.id)
        .where(_OUTBOX.c.state == _PENDING, _OUTBOX.c.next_attempt_at <= now)
        .limit(1)
    )
    return found.first() is not None


async def claim(
    session: AsyncSession, *, owner: str, now: datetime, lease_until: datetime, limit: int
) -> list[Claimed]:
    """Lease up to ``limit`` due messages to ``owner``, oldest due first.

    PostgreSQL: FOR UPDATE SKIP LOCKED, so workers claiming at once take disjoint rows without
    waiting. SQLite: the caller's transaction holds the database's write lock (BEGIN
    IMMEDIATE), so claims are serialised already. The claim moves ``next_attempt_at`` to the
    lease's end: the rows of a worker killed mid-batch come due again exactly then, and the
    claim query needs no lease condition beyond the (state, next_attempt_at) index.
    """
    due = (
        select(_OUTBOX.c.id)
        .where(_OUTBOX.c.state == _PENDING, _OUTBOX.c.next_attempt_at <= now)
        # Index order (state, priority, next_attempt_at), so the scan stops after ``limit``
        # rows: emergencies first, then the oldest due (a tie-breaker such as id made
        # PostgreSQL sort every due row on every claim).
        .order_by(_OUTBOX.c.priority, _OUTBOX.c.next_attempt_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    lease = {
        "lease_owner": owner,
        "lease_until": lease_until,
        "next_attempt_at": lease_until,
        # Counted at the claim: a message whose send kills the worker still runs out.
        "attempts": _OUTBOX.c.attempts + 1,
    }
    if session.get_bind().dialect.name == "postgresql":
        # One round trip: lock, lease and read the batch in a single statement.
        picked = due.cte("due")
        leased = (
            update(_OUTBOX)
            .where(_OUTBOX.c.id == picked.c.id)
            .values(**lease)
            .returning(
                _OUTBOX.c.id, _OUTBOX.c.attempts, _OUTBOX.c.notification_id, _OUTBOX.c.device_id
            )
            .cte("leased")
        )
        rows = await session.execute(
            _batch(leased.c.id, leased.c.attempts, leased.c.notification_id, leased.c.device_id)
        )
        return [Claimed(*tuple(row)) for row in rows]
    ids = list((await session.execute(due)).scalars())
    if not ids:
        return []
    await session.execute(update(_OUTBOX).where(_OUTBOX.c.id.in_(ids)).values(**lease))
    rows = await session.execute(
        _batch(
            _OUTBOX.c.id, _OUTBOX.c.attempts, _OUTBOX.c.notification_id, _OUTBOX.c.device_id
        ).where(_OUTBOX.c.id.in_(ids))
    )
    return [Claimed(*tuple(row)) for row in rows]


async def renew_lease(
    session: AsyncSession, *, owner: str, ids: Sequence[int], lease_until: datetime
) -> None:
    """Extend ``owner``'s lease on rows it still holds."""
    await session.execute(
        update(_OUTBOX)
        .where(_OUTBOX.c.id.in_(ids), _OUTBOX.c.lease_owner == owner)
        .values(lease_until=lease_until, next_attempt_at=lease_until)
    )


def _batch(outbox_id: Any, attempts: Any, notification_id: Any, device_id: Any) -> Select[Any]:
    """The claimed rows with their device and notification, in outbox order."""
    return (
        select(
            outbox_id,
            attempts,
            notification_id,
            Device.id,
            Device.token,
            Device.locale,
            Device.active,
            Notification.category,
            Notification.title_ja,
            Notification.body_ja,
            Notification.title_en,
            Notification.body_en,
            Notification.data,
        )
        .join(Device, Device.id == device_id)
        .join(Notification, Notification.id == notification_id)
        .order_by(outbox_id)
    )


@dataclass(frozen=True, slots=True)
class Attempt:
    """A delivery record: one hand-over of one message to the gateway."""

    outbox_id: int
    attempt: int
    outcome: str
    message_id: str | None
    error_code: str | None


async def mark_sent(
    session: AsyncSession, *, owner: str, ids: Sequence[int], now: datetime
) -> None:
    if ids:
        await session.execute(
            update(_OUTBOX)
            .where(_OUTBOX.c.id.in_(ids), _OUTBOX.c.lease_owner == owner)
            .values(state=OutboxState.SENT.value, sent_at=now, lease_owner=None, lease_until=None)
        )


async def mark_dead(session: AsyncSession, *, owner: str, ids: Sequence[int]) -> None:
    if ids:
        await session.execute(
            update(_OUTBOX)
            .where(_OUTBOX.c.id.in_(ids), _OUTBOX.c.lease_owner == owner)
            .values(state=OutboxState.DEAD.value, lease_owner=None, lease_until=None)
        )


async def reschedule(
    session: AsyncSession, *, owner: str, due: Sequence[tuple[int, datetime]]
) -> None:
    """Release messages for another attempt at the given times (one statement, many rows)."""
    if not due:
        return
    statement = (
        update(_OUTBOX)
        .where(_OUTBOX.c.id == bindparam("b_id"), _OUTBOX.c.lease_owner == bindparam("b_owner"))
        .values(next_attempt_at=bindparam("b_when"), lease_owner=None, lease_until=None)
    )
    await session.execute(
        statement, [{"b_id": i, "b_owner": owner, "b_when": when} for i, when in due]
    )


async def deactivate_devices(
    session: AsyncSession, *, reasons: dict[uuid.UUID, str], now: datetime
) -> None:
    """Stop pushing to devices whose token the push service refused for good."""
    by_reason: dict[str, list[uuid.UUID]] = {}
    for device_id, reason in reasons.items():
        by_reason.setdefault(reason, []).append(device_id)
    for reason, device_ids in by_reason.items():
        await session.execute(
            update(_DEVICES)
            .where(_DEVICES.c.id.in_(device_ids), _DEVICES.c.active.is_(True))
            .values(active=False, deactivated_reason=reason, updated_at=now)
        )


async def add_records(
    session: AsyncSession, *, attempts: Sequence[Attempt], gateway: str, worker: str, at: datetime
) -> None:
    if not attempts:
        return
    rows: list[dict[str, Any]] = [
        {
            "outbox_id": a.outbox_id,
            "attempt": a.attempt,
            "outcome": a.outcome,
            "gateway": gateway,
            "message_id": a.message_id,
            "error_code": a.error_code,
            "worker": worker,
            "at": at,
        }
        for a in attempts
    ]
    await session.execute(insert(_DELIVERIES), rows)
