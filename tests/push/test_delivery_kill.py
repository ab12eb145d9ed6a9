"""A real `kizuna worker` process killed (SIGKILL) in the middle of a batch loses nothing:
after its lease runs out, a second worker sends what it held, and only that in-flight batch
can reach a phone twice."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from backend.config import PROJECT_ROOT
from backend.db.session import Database
from backend.push.models import Device, OutboxMessage, OutboxState
from tests.fake_fcm import FakeFcm, Reply
from tests.push.delivery_helpers import delivery_database, delivery_records, queue_messages

BATCH = 25
CONCURRENCY = 2
LEASE_SECONDS = 3


@pytest.fixture(scope="module")
async def db(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Database]:
    database = await delivery_database(database_url, "push_kill", tmp_path_factory.mktemp("kill"))
    yield database
    await database.dispose()


@pytest.fixture
def fake() -> Iterator[FakeFcm]:
    with FakeFcm().running() as fake:
        yield fake


def start_worker(env: dict[str, str], log: Path, *args: str) -> subprocess.Popen[bytes]:
    """`kizuna worker` in its own process, as an operator starts it."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("KIZUNA_")}
    with log.open("ab") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "backend.cli", "worker", *args],
            cwd=PROJECT_ROOT,
            env={**clean, **env},
            stdout=output,
            stderr=subprocess.STDOUT,
        )


async def held_tokens(db: Database) -> set[str]:
    """Tokens of the rows a worker holds a lease on."""
    async with db.session() as session:
        found = await session.execute(
            select(Device.token)
            .join(OutboxMessage, OutboxMessage.device_id == Device.id)
            .where(OutboxMessage.lease_owner.is_not(None))
        )
        return set(found.scalars())


async def count(db: Database, *conditions) -> int:  # type: ignore[no-untyped-def]
    async with db.session() as session:
        found = await session.execute(
            select(func.count()).select_from(OutboxMessage).where(*conditions)
        )
        return int(found.scalar_one())


async def test_a_worker_killed_mid_batch_loses_nothing(
    db: Database, fake: FakeFcm, tmp_path: Path
) -> None:
    # given: 400 messages; FCM answers the first 200 sends at once and hangs on the others,
    # so the worker is caught with batches in flight
    queued = await queue_messages(db, 400, prefix="kill", per_resident=100)
    fake.after = (200, Reply.ok(delay=60))
    env = {
        "KIZUNA_DATABASE_URL": db.engine.url.render_as_string(hide_password=False),
        "KIZUNA_DATA_DIR": str(tmp_path / "state"),
        "KIZUNA_ENVIRONMENT": "development",
        "KIZUNA_LOG_JSON": "false",
        "KIZUNA_LOG_LEVEL": "WARNING",
        "KIZUNA_FCM_CREDENTIALS_FILE": str(fake.write_service_account(tmp_path / "sa.json")),
        "KIZUNA_FCM_ENDPOINT": fake.url,
        "KIZUNA_FCM_TIMEOUT_SECONDS": "120",
        "KIZUNA_PUSH_LEASE_SECONDS": str(LEASE_SECONDS),
        "KIZUNA_PUSH_POLL_SECONDS": "0.2",
    }
    log = tmp_path / "workers.log"
    first = start_worker(env, log, "--batch-size", str(BATCH), "--concurrency", str(CONCURRENCY))

    # when: FCM has received every message of the batches it holds and answers none of them
    # (nothing has moved for half a second), the worker is killed
    deadline = time.monotonic() + 60
    seen = None
    try:
        while True:
            held = await count(db, OutboxMessage.lease_owner.is_not(None))
            sent = await count(db, OutboxMessage.state == OutboxState.SENT.value)
            now = (fake.total, held, sent)
            if fake.total > 200 and held == BATCH * CONCURRENCY == fake.total - sent:
                if now == seen:
                    break
                seen = now
                await asyncio.sleep(0.5)
                continue
            assert first.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "the worker did not get going: " + log.read_text()
            await asyncio.sleep(0.05)
    finally:
        os.kill(first.pid, signal.SIGKILL)
        first.wait(30)
    in_flight = await held_tokens(db)
    assert len(in_flight) == BATCH * CONCURRENCY
    assert await count(db, OutboxMessage.state == "sent") == fake.total - len(in_flight)

    # and a second worker runs once the lease has run out (FCM answers at once again)
    fake.after = None
    await asyncio.sleep(LEASE_SECONDS + 0.2)
    second = start_worker(env, log, "--once", "--batch-size", "50")
    assert second.wait(120) == 0, log.read_text()

    # then: every message is SENT, exactly one delivery record says so, every phone got it,
    # and only the batches in flight at the kill went out twice
    async with db.session() as session:
        grouped = await session.execute(
            select(OutboxMessage.state, func.count()).group_by(OutboxMessage.state)
        )
        states = {state: number for state, number in grouped.all()}
    assert states == {OutboxState.SENT.value: 400}
    sent_records = [r for r in await delivery_records(db) if r.outcome == "sent"]
    assert sorted(r.outbox_id for r in sent_records) == sorted(q.outbox_id for q in queued)
    delivered = fake.delivered()
    assert {q.token for q in queued} == set(delivered)
    twice = {token for token, times in delivered.items() if times > 1}
    assert twice == in_flight
    assert max(delivered.values()) == 2
    by_row = {r.outbox_id: r.worker or "" for r in sent_records}
    again = [q for q in queued if q.token in in_flight]
    assert all(f":{second.pid}/" in by_row[q.outbox_id] for q in again)
    assert all(f":{first.pid}/" in w or f":{second.pid}/" in w for w in by_row.values())
