"""notify() fan-out: inbox and outbox rows for 10,000 and 100,000 notices vs per-row inserts.

Run: python bench/push_notify.py [--residents 100000] [--baseline 500] [--database-url URL]
Creates a fresh database (SQLite file in a temp folder by default; for PostgreSQL pass the
URL of an empty scratch database: the benchmark migrates it and fills it), N residents of
whom 60 % have one active phone, 20 % two and 5 % one signed-out phone, and 10 % turned
advisories off. Then it times push.service.notify() (the batched path other domains call),
commit included, for 10,000 and 100,000 notices (one per resident, a mix of emergencies and
advisories), and, in the same run, the naive baseline: per notice a preference read, an
existence check, one INSERT for the inbox row, a device read and one INSERT per device. The
baseline runs on --baseline notices only (it is linear) and is extrapolated from them.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import func, insert, select

from backend.db.base import utcnow
from backend.db.migrate import upgrade
from backend.db.session import Database
from backend.push import service
from backend.push.models import (
    Device,
    Notification,
    NotificationCategory,
    NotificationPreference,
    OutboxMessage,
)
from backend.push.service import Notice
from backend.residents.models import Resident

CHUNK = 10_000


async def populate(database: Database, count: int) -> list[uuid.UUID]:
    now = utcnow()
    ids = [uuid.uuid4() for _ in range(count)]
    devices: list[dict[str, object]] = []
    for n, rid in enumerate(ids):
        phones = 1 if n % 20 < 12 else 2 if n % 20 < 16 else 0
        for p in range(phones):
            devices.append(_device(rid, f"{n}-{p}", active=True, now=now))
        if n % 20 == 19:
            devices.append(_device(rid, f"{n}-old", active=False, now=now))
    async with database.session() as session:
        for start in range(0, count, CHUNK):
            await session.execute(
                insert(Resident),
                [
                    {
                        "id": rid,
                        "subject": f"bench-{rid.hex}",
                        "gender": "unspecified",
                        "preferred_language": "ja",
                        "municipality_chosen": False,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for rid in ids[start : start + CHUNK]
                ],
            )
        for start in range(0, len(devices), CHUNK):
            await session.execute(insert(Device), devices[start : start + CHUNK])
        await session.execute(
            insert(NotificationPreference),
            [
                {
                    "resident_id": rid,
                    "advisories": False,
                    "city_notices": True,
                    "earthquake_min_intensity": "3",
                    "created_at": now,
                    "updated_at": now,
                }
                for rid in ids[::10]
            ],
        )
    return ids


def _device(resident_id: uuid.UUID, name: str, *, active: bool, now: object) -> dict[str, object]:
    return {
        "id": uuid.uuid4(),
        "resident_id": resident_id,
        "token": f"bench-{name}:APA91b{uuid.uuid4().hex}{uuid.uuid4().hex}",
        "platform": "android",
        "locale": "ja-JP" if hash(name) % 4 else "en-US",
        "active": active,
        "deactivated_reason": None if active else "signed_out",
        "last_seen_at": now,
        "created_at": now,
        "updated_at": now,
    }


def notices_for(residents: Sequence[uuid.UUID], run: str) -> list[Notice]:
    return [
        Notice(
            resident_id=rid,
            # every fourth an advisory (some residents turned those off), the rest emergencies
            category=NotificationCategory.ADVISORY
            if n % 4 == 0
            else NotificationCategory.EMERGENCY,
            dedupe_key=f"alert:{run}:1",
            title_ja="避難指示（警戒レベル4）",
            body_ja="自宅が避難指示の対象区域です。直ちに避難してください。",
            title_en="Evacuation order (level 4)",
            body_en="Your home is in the evacuation order area. Evacuate now.",
            data={"alertId": run},
        )
        for n, rid in enumerate(residents)
    ]


async def naive(database: Database, notices: Sequence[Notice]) -> tuple[int, int]:
    """One statement per row: what notify() would be without batching."""
    inbox = outbox = 0
    now = utcnow()
    async with database.session() as session:
        for notice in notices:
            preference = await session.get(NotificationPreference, notice.resident_id)
            if (
                notice.category is NotificationCategory.ADVISORY
                and preference is not None
                and not preference.advisories
            ):
                continue
            exists = await session.scalar(
                select(Notification.id).where(
                    Notification.resident_id == notice.resident_id,
                    Notification.dedupe_key == notice.dedupe_key,
                )
            )
            if exists is not None:
                continue
            notification_id = uuid.uuid4()
            await session.execute(
                insert(Notification).values(
                    id=notification_id,
                    resident_id=notice.resident_id,
                    dedupe_key=notice.dedupe_key,
                    category=notice.category.value,
                    title_ja=notice.title_ja,
                    body_ja=notice.body_ja,
                    title_en=notice.title_en,
                    body_en=notice.body_en,
                    data=notice.data,
                    created_at=now,
                )
            )
            inbox += 1
            device_ids = await session.scalars(
                select(Device.id).where(
                    Device.resident_id == notice.resident_id, Device.active.is_(True)
                )
            )
            for device_id in device_ids.all():
                await session.execute(
                    insert(OutboxMessage).values(
                        notification_id=notification_id,
                        device_id=device_id,
                        idempotency_key=f"{notice.dedupe_key}:{device_id}",
                        state="pending",
                        attempts=0,
                        next_attempt_at=now,
                        created_at=now,
                    )
                )
                outbox += 1
    return inbox, outbox


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--residents", type=int, default=100_000)
    parser.add_argument("--baseline", type=int, default=500)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    url = args.database_url or f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / 'bench.sqlite3'}"
    database = Database.from_url(url)
    await upgrade(database.engine)
    started = time.perf_counter()
    residents = await populate(database, args.residents)
    async with database.session() as session:
        devices = await session.scalar(select(func.count()).select_from(Device))
    print(f"database: {url.split('@')[-1]}")
    print(
        f"{len(residents)} residents, {devices} devices "
        f"(populated in {time.perf_counter() - started:.1f} s)"
    )
    print(f"{'strategy':<30}{'notices':>9}{'inbox':>9}{'outbox':>9}{'seconds':>9}{'notices/s':>11}")

    rates: dict[str, float] = {}
    sizes = [n for n in (10_000, 100_000) if n <= len(residents)] or [len(residents)]
    for size in sizes:
        notices = notices_for(residents[:size], f"batched-{size}")
        started = time.perf_counter()
        async with database.session() as session:
            report = await service.notify(session, notices)
        elapsed = time.perf_counter() - started
        rates[f"notify {size}"] = size / elapsed
        print(
            f"{'notify() batched':<30}{size:>9}{report.inbox_written:>9}"
            f"{report.outbox_written:>9}{elapsed:>9.2f}{size / elapsed:>11.0f}"
        )
        # the same call again: everything is a duplicate, nothing is written
        started = time.perf_counter()
        async with database.session() as session:
            again = await service.notify(session, notices)
        elapsed = time.perf_counter() - started
        assert again.inbox_written == again.outbox_written == 0
        name = "notify() repeated (no-op)"
        print(f"{name:<30}{size:>9}{0:>9}{0:>9}{elapsed:>9.2f}{size / elapsed:>11.0f}")

    size = min(args.baseline, len(residents))
    notices = notices_for(residents[-size:], "naive")
    started = time.perf_counter()
    inbox, outbox = await naive(database, notices)
    elapsed = time.perf_counter() - started
    naive_rate = size / elapsed
    print(
        f"{'per-row baseline':<30}{size:>9}{inbox:>9}{outbox:>9}{elapsed:>9.2f}{naive_rate:>11.0f}"
    )
    for name, rate in rates.items():
        count = int(name.split()[1])
        print(
            f"{name}: {rate / naive_rate:.0f}x the per-row rate "
            f"(per-row would take ~{count / naive_rate:.0f} s)"
        )
    await database.dispose()


if __name__ == "__main__":
    asyncio.run(main())
