"""Setup for the delivery tests: a database of the suite's kind that commits for real (workers
in other connections and processes must see each other's writes), residents made through the
residents service, and devices, inbox entries and outbox rows written directly, as the push
service's ``notify()`` would write them."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from backend.db.base import utcnow
from backend.db.dialect import table_of
from backend.db.migrate import upgrade
from backend.db.session import WRITES, Database
from backend.principal import Principal, PrincipalKind
from backend.push.models import (
    DeliveryRecord,
    Device,
    Notification,
    NotificationCategory,
    OutboxMessage,
)
from backend.residents import service as residents_service
from tests.conftest import fresh_database_url


async def delivery_database(base_url: str, suffix: str, folder: Path) -> Database:
    """A migrated, empty database of the suite's kind (PostgreSQL: its own database)."""
    url = await fresh_database_url(base_url, suffix, folder)
    database = Database.from_url(url)
    await upgrade(database.engine)
    return database


@asynccontextmanager
async def writing(database: Database) -> AsyncIterator[AsyncSession]:
    """A write transaction that takes SQLite's write lock first, as the app's do: a deferred
    one that reads, then writes while a worker commits, fails at once (WAL snapshot)."""
    async with database.session() as session:
        await session.connection(execution_options={WRITES: True})
        yield session


async def clear_push_tables(database: Database) -> None:
    async with writing(database) as session:
        for model in (DeliveryRecord, OutboxMessage, Notification, Device):
            await session.execute(delete(table_of(model)))


@dataclass(frozen=True)
class Queued:
    outbox_id: int
    token: str
    device_id: uuid.UUID
    notification_id: uuid.UUID


async def queue_messages(
    database: Database,
    count: int,
    *,
    locale: str = "ja",
    category: NotificationCategory = NotificationCategory.EMERGENCY,
    english: bool = True,
    prefix: str = "tok",
    per_resident: int = 50,
    active: bool = True,
) -> list[Queued]:
    """``count`` outbox rows, one device each, ``per_resident`` devices per resident."""
    queued: list[Queued] = []
    now = utcnow()
    run = uuid.uuid4().hex[:8]
    async with writing(database) as session:
        for start in range(0, count, per_resident):
            principal = Principal(kind=PrincipalKind.RESIDENT, subject=f"push-{run}-{start}")
            resident = await residents_service.get_or_create_resident(session, principal)
            notification_id = uuid.uuid4()
            await session.execute(
                insert(table_of(Notification)).values(
                    id=notification_id,
                    resident_id=resident.id,
                    dedupe_key=f"alert:{run}:{start}",
                    category=category.value,
                    title_ja="避難指示",
                    body_ja="自宅が避難指示の対象区域です",
                    title_en="Evacuation order" if english else None,
                    body_en="Your home is in the evacuation order area" if english else None,
                    data={"alertId": f"alert-{run}"},
                    created_at=now,
                )
            )
            devices: list[dict[str, Any]] = []
            for index in range(start, min(count, start + per_resident)):
                devices.append(
                    {
                        "id": uuid.uuid4(),
                        "resident_id": resident.id,
                        "token": f"{prefix}-{index:06d}",
                        "platform": "android",
                        "locale": locale,
                        "active": active,
                        "last_seen_at": now,
                        "created_at": now,
                        "updated_at": now,
                    }
                )
            await session.execute(insert(table_of(Device)), devices)
            rows = [
                {
                    "notification_id": notification_id,
                    "device_id": device["id"],
                    "idempotency_key": f"{notification_id}:{device['id']}",
                    "state": "pending",
                    "attempts": 0,
                    "next_attempt_at": now,
                    "created_at": now,
                }
                for device in devices
            ]
            await session.execute(insert(table_of(OutboxMessage)), rows)
            ids = (
                await session.execute(
                    select(OutboxMessage.id, OutboxMessage.device_id).where(
                        OutboxMessage.notification_id == notification_id
                    )
                )
            ).all()
            by_device = {device_id: outbox_id for outbox_id, device_id in ids}
            queued.extend(
                Queued(by_device[d["id"]], d["token"], d["id"], notification_id) for d in devices
            )
    return queued


async def outbox_rows(database: Database) -> dict[int, OutboxMessage]:
    async with database.session() as session:
        rows = (await session.execute(select(OutboxMessage))).scalars().all()
        return {row.id: row for row in rows}


async def delivery_records(database: Database) -> list[DeliveryRecord]:
    async with database.session() as session:
        found = await session.execute(select(DeliveryRecord).order_by(DeliveryRecord.id))
        return list(found.scalars())


async def device(database: Database, device_id: uuid.UUID) -> Device:
    async with database.session() as session:
        found = await session.get(Device, device_id)
        assert found is not None
        return found


async def make_due(database: Database, ids: Sequence[int], when: datetime | None = None) -> None:
    """Move the next attempt of these rows to ``when`` (default: now), as time passing would."""
    async with writing(database) as session:
        await session.execute(
            update(table_of(OutboxMessage))
            .where(table_of(OutboxMessage).c.id.in_(list(ids)))
            .values(next_attempt_at=when or utcnow())
        )
