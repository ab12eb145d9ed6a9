"""The outbox worker with the real firebase-admin client against a local fake FCM v1 server:
what each FCM answer does to the outbox row, the device and the delivery records."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from backend.db.base import utcnow
from backend.db.session import Database
from backend.push.models import NotificationCategory, OutboxState
from backend.push.worker import OutboxWorker, WorkerOptions, retry_delay
from notifications.fcm import FcmGateway
from notifications.gateway import LogGateway
from tests.fake_fcm import FakeFcm, Reply
from tests.push.delivery_helpers import (
    clear_push_tables,
    delivery_database,
    delivery_records,
    device,
    make_due,
    outbox_rows,
    queue_messages,
)

FAST_RETRY = WorkerOptions(batch_size=100, concurrency=1, retry_base_seconds=0.2, lease_seconds=30)


@pytest.fixture(scope="module")
async def database(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Database]:
    database = await delivery_database(
        database_url, "push_delivery", tmp_path_factory.mktemp("push")
    )
    yield database
    await database.dispose()


@pytest.fixture
async def db(database: Database) -> Database:
    await clear_push_tables(database)
    return database


@pytest.fixture
def fake() -> Iterator[FakeFcm]:
    with FakeFcm().running() as fake:
        yield fake


@pytest.fixture
async def gateway(fake: FakeFcm, tmp_path: Path) -> AsyncIterator[FcmGateway]:
    gateway = FcmGateway(
        credentials_file=fake.write_service_account(tmp_path / "service-account.json"),
        endpoint=fake.url,
        timeout_seconds=1.0,
    )
    yield gateway
    await gateway.aclose()


def by_token(queued):  # type: ignore[no-untyped-def]
    return {q.token: q for q in queued}


async def test_sent_messages_are_marked_sent_with_a_delivery_record(
    db: Database, fake: FakeFcm, gateway: FcmGateway
) -> None:
    # given: an English device with English text, a Japanese one, and an English device of a
    # notification that has only Japanese text
    english = await queue_messages(db, 1, locale="en-GB", prefix="en")
    japanese = await queue_messages(db, 1, locale="ja-JP", prefix="ja")
    ja_only = await queue_messages(db, 1, locale="en", prefix="enx", english=False)

    # when
    report = await OutboxWorker(db, gateway, FAST_RETRY).drain()

    # then
    assert report.sent == 3
    rows = await outbox_rows(db)
    assert {row.state for row in rows.values()} == {OutboxState.SENT.value}
    assert all(row.sent_at is not None and row.lease_owner is None for row in rows.values())
    records = await delivery_records(db)
    assert sorted((r.outcome, r.gateway, r.attempt) for r in records) == [("sent", "fcm", 1)] * 3
    assert all(r.message_id and r.message_id.startswith("projects/kizuna-test/") for r in records)
    sent = {r.token: r.message for r in fake.received}
    assert sent["en-000000"]["notification"]["title"] == "Evacuation order"
    assert sent["ja-000000"]["notification"]["body"] == "自宅が避難指示の対象区域です"
    assert sent["enx-000000"]["notification"]["title"] == "避難指示"
    # an emergency: high priority, collapsed by notification, the app's data kept
    message = sent["en-000000"]
    assert message["android"]["priority"] == "high"
    assert message["apns"]["headers"]["apns-priority"] == "10"
    assert message["android"]["collapse_key"] == str(english[0].notification_id)
    assert message["data"]["notificationId"] == str(english[0].notification_id)
    assert message["data"]["alertId"].startswith("alert-")
    assert fake.tokens_issued == 1 and fake.unauthorized == 0
    assert japanese and ja_only


async def test_a_non_emergency_goes_out_at_normal_priority(
    db: Database, fake: FakeFcm, gateway: FcmGateway
) -> None:
    await queue_messages(db, 1, category=NotificationCategory.ADVISORY, prefix="adv")

    await OutboxWorker(db, gateway, FAST_RETRY).drain()

    (received,) = fake.received
    assert received.message["android"]["priority"] == "normal"
    assert received.message["data"]["category"] == "advisory"


def pushed(outcome: str) -> float:
    """The push counter of the metrics (0 before the first message of that outcome)."""
    labels = {"gateway": "fcm", "outcome": outcome}
    return REGISTRY.get_sample_value("kizuna_push_messages_total", labels) or 0.0


async def test_unregistered_token_deactivates_the_device(
    db: Database, fake: FakeFcm, gateway: FcmGateway
) -> None:
    # given: two messages, one for a token FCM no longer knows
    queued = by_token(await queue_messages(db, 2, prefix="u"))
    fake.script("u-000000", Reply.unregistered())
    sent_before, invalid_before = pushed("sent"), pushed("invalid_token")

    # when
    report = await OutboxWorker(db, gateway, FAST_RETRY).drain()

    # then
    assert (report.sent, report.invalid_token) == (1, 1)
    assert (pushed("sent") - sent_before, pushed("invalid_token") - invalid_before) == (1, 1)
    gone = queued["u-000000"]
    rows = await outbox_rows(db)
    assert rows[gone.outbox_id].state == OutboxState.DEAD.value
    assert rows[queued["u-000001"].outbox_id].state == OutboxState.SENT.value
    stopped = await device(db, gone.device_id)
    assert (stopped.active, stopped.deactivated_reason) == (False, "unregistered")
    assert (await device(db, queued["u-000001"].device_id)).active
    records = {r.outbox_id: r for r in await delivery_records(db)}
    assert (records[gone.outbox_id].outcome, records[gone.outbox_id].error_code) == (
        "invalid_token",
        "UNREGISTERED",
    )


async def test_a_later_message_for_a_deactivated_device_is_not_sent(
    db: Database, fake: FakeFcm, gateway: FcmGateway
) -> None:
    queued = await queue_messages(db, 3, prefix="off", active=False)

    report = await OutboxWorker(db, gateway, FAST_RETRY).drain()

    assert (report.claimed, report.device_inactive, report.sent) == (3, 3, 0)
    assert fake.received == []
    rows = await outbox_rows(db)
    assert {rows[q.outbox_id].state for q in queued} == {OutboxState.DEAD.value}


async def test_an_invalid_token_argument_deactivates_but_a_bad_payload_does_not(
    db: Database, fake: FakeFcm, gateway: FcmGateway
) -> None:
    queued = by_token(await queue_messages(db, 3, prefix="arg"))
    fake.script("arg-000000", Reply.invalid_token())
    fake.script("arg-000001", Reply.invalid_payload())
    fake.script("arg-000002", Reply.sender_id_mismatch())

    report = await OutboxWorker(db, gateway, FAST_RETRY).drain()

    assert (report.invalid_token, report.failed) == (2, 1)
    assert (await device(db, queued["arg-000000"].device_id)).deactivated_reason == "invalid"
    assert (await device(db, queued["arg-000001"].device_id)).active
    assert (await device(db, queued["arg-000002"].device_id)).deactivated_reason == "invalid"
    rows = await outbox_rows(db)
    assert {row.state for row in rows.values()} == {OutboxState.DEAD.value}


async def test_quota_exceeded_waits_at_least_retry_after(
    db: Database, fake: FakeFcm, gateway: FcmGateway
) -> None:
    # given: FCM answers 429 with Retry-After: 120, then accepts
    (queued,) = await queue_messages(db, 1, prefix="q")
    fake.script("q-000000", Reply.quota_exceeded(120), Reply.ok())
    before = utcnow()

    # when
    worker = OutboxWorker(db, gateway, FAST_RETRY)
    report = await worker.drain()

    # then: retried no earlier than Retry-After (not the 0.2 s backoff), nothing sent meanwhile
    assert (report.retried, report.retry_after) == (1, 120.0)
    row = (await outbox_rows(db))[queued.outbox_id]
    assert row.state == OutboxState.PENDING.value and row.attempts == 1
    assert row.next_attempt_at >= before + timedelta(seconds=120)
    assert row.lease_owner is None
    assert (await OutboxWorker(db, gateway, FAST_RETRY).drain()).claimed == 0
    (record,) = await delivery_records(db)
    assert (record.outcome, record.error_code) == ("retry", "QUOTA_EXCEEDED")

    # when the time has come
    await make_due(db, [queued.outbox_id])
    report = await OutboxWorker(db, gateway, FAST_RETRY).drain()

    # then
    assert report.sent == 1
    assert (await outbox_rows(db))[queued.outbox_id].attempts == 2
    assert len(fake.sends_to("q-000000")) == 2


async def test_unavailable_backs_off_then_succeeds(
    db: Database, fake: FakeFcm, gateway: FcmGateway
) -> None:
    # given: FCM is unavailable for the first attempt
    (queued,) = await queue_messages(db, 1, prefix="down")
    fake.script("down-000000", Reply.unavailable(), Reply.ok())
    before = utcnow()

    # when
    report = await OutboxWorker(db, gateway, FAST_RETRY).drain()

    # then: one request (firebase-admin's own retries are off), rescheduled 0.1-0.2 s later
    assert report.retried == 1
    assert len(fake.sends_to("down-000000")) == 1
    row = (await outbox_rows(db))[queued.outbox_id]
    assert row.state == OutboxState.PENDING.value
    assert before + timedelta(seconds=0.1) <= row.next_attempt_at
    assert row.next_attempt_at <= utcnow() + timedelta(seconds=0.2)

    # when the backoff has passed
    await asyncio.sleep(0.25)
    report = await OutboxWorker(db, gateway, FAST_RETRY).drain()

    # then
    assert report.sent == 1
    records = await delivery_records(db)
    assert [(r.attempt, r.outcome, r.error_code) for r in records] == [
        (1, "retry", "UNAVAILABLE"),
        (2, "sent", None),
    ]


async def test_a_timeout_is_retried(db: Database, fake: FakeFcm, gateway: FcmGateway) -> None:
    # given: the first answer comes after the client's 1 s timeout
    (queued,) = await queue_messages(db, 1, prefix="slow")
    fake.script("slow-000000", Reply.ok(delay=1.5), Reply.ok())

    report = await OutboxWorker(db, gateway, FAST_RETRY).drain()

    assert report.retried == 1
    (record,) = await delivery_records(db)
    assert (record.outcome, record.error_code) == ("retry", "DEADLINE_EXCEEDED")
    await make_due(db, [queued.outbox_id])
    assert (await OutboxWorker(db, gateway, FAST_RETRY).drain()).sent == 1


async def test_retries_end_after_the_last_attempt(
    db: Database, fake: FakeFcm, gateway: FcmGateway
) -> None:
    (queued,) = await queue_messages(db, 1, prefix="never")
    fake.script("never-000000", Reply.internal())
    options = WorkerOptions(concurrency=1, max_attempts=3, retry_base_seconds=0.01)

    for _ in range(3):
        await make_due(db, [queued.outbox_id])
        await OutboxWorker(db, gateway, options).drain()

    row = (await outbox_rows(db))[queued.outbox_id]
    assert (row.state, row.attempts) == (OutboxState.DEAD.value, 3)
    assert len(fake.sends_to("never-000000")) == 3
    assert (await device(db, queued.device_id)).active  # the token was never the problem


async def test_more_than_one_fcm_call_per_batch(
    db: Database, fake: FakeFcm, gateway: FcmGateway
) -> None:
    # 1,100 messages in one batch: three send_each_async calls of at most 500
    await queue_messages(db, 1_100, prefix="many", per_resident=500)

    report = await OutboxWorker(db, gateway, WorkerOptions(batch_size=2_000)).drain()

    assert report.sent == 1_100
    assert len(fake.delivered()) == 1_100
    # as with FCM itself, over one HTTP/2 connection (the token request aside)
    assert fake.connections["HTTP/2"] == 1


async def test_an_expired_lease_lets_another_worker_send(
    db: Database, fake: FakeFcm, tmp_path: Path
) -> None:
    # given: a worker that claims a batch and dies in the send (FCM is slow to answer)
    queued = await queue_messages(db, 10, prefix="lease")
    fake.default = Reply.ok(delay=30)
    patient = FcmGateway(
        credentials_file=fake.write_service_account(tmp_path / "patient.json"),
        endpoint=fake.url,
        timeout_seconds=60,
    )
    lease = WorkerOptions(batch_size=10, concurrency=1, lease_seconds=1.0)
    dying = asyncio.create_task(OutboxWorker(db, patient, lease, name="dying").run_batch())
    while not all(row.lease_owner for row in (await outbox_rows(db)).values()):
        assert not dying.done()
        await asyncio.sleep(0.05)
    owners = {row.lease_owner or "" for row in (await outbox_rows(db)).values()}
    assert len(owners) == 1 and owners.pop().startswith("dying/")
    dying.cancel()  # no record, no more lease renewals: as if its process were killed
    await asyncio.gather(dying, return_exceptions=True)

    # when: another worker tries at once, and again once the lease has run out
    fake.default = Reply.ok()
    other = OutboxWorker(db, patient, lease, name="other")
    assert (await other.drain()).claimed == 0
    await asyncio.sleep(1.1)
    report = await other.drain()
    await patient.aclose()

    # then
    assert report.sent == 10
    rows = await outbox_rows(db)
    assert all(rows[q.outbox_id].state == OutboxState.SENT.value for q in queued)
    assert all(rows[q.outbox_id].attempts == 2 for q in queued)
    records = await delivery_records(db)
    assert {r.worker.split("/")[0] for r in records if r.worker} == {"other"}


async def test_a_slow_send_keeps_its_lease(db: Database, fake: FakeFcm, tmp_path: Path) -> None:
    # given: FCM takes 2.5 s to answer, and leases last 0.9 s unless renewed
    await queue_messages(db, 5, prefix="slowlease")
    fake.default = Reply.ok(delay=2.5)
    patient = FcmGateway(
        credentials_file=fake.write_service_account(tmp_path / "patient.json"),
        endpoint=fake.url,
        timeout_seconds=10,
    )
    lease = WorkerOptions(batch_size=10, concurrency=1, lease_seconds=0.9)
    slow = asyncio.create_task(OutboxWorker(db, patient, lease, name="slow").run_batch())

    # when: another worker looks for due rows long after the first lease would have ended
    await asyncio.sleep(2.0)
    other = await OutboxWorker(db, patient, lease, name="other").drain()
    report = await slow

    # then: the slow worker kept its batch, and each message went out once
    assert other.claimed == 0
    assert report.sent == 5
    assert set(fake.delivered().values()) == {1}
    await patient.aclose()


async def test_workers_running_at_once_send_each_message_once(
    db: Database, fake: FakeFcm, gateway: FcmGateway, database_url: str
) -> None:
    # given: 300 messages and three workers with their own connection pools
    await queue_messages(db, 300, prefix="many")
    url = db.engine.url.render_as_string(hide_password=False)
    pools = [Database.from_url(url) for _ in range(3)]
    options = WorkerOptions(batch_size=20, concurrency=2)

    # when
    try:
        reports = await asyncio.gather(
            *(
                OutboxWorker(pool, gateway, options, name=f"w{i}").drain()
                for i, pool in enumerate(pools)
            )
        )
    finally:
        for pool in pools:
            await pool.dispose()

    # then
    assert sum(r.sent for r in reports) == 300
    delivered = fake.delivered()
    assert len(delivered) == 300 and set(delivered.values()) == {1}
    assert {row.state for row in (await outbox_rows(db)).values()} == {OutboxState.SENT.value}


async def test_the_log_gateway_records_messages_without_credentials(db: Database) -> None:
    await queue_messages(db, 2, prefix="log")

    report = await OutboxWorker(db, LogGateway(), FAST_RETRY).drain()

    assert report.sent == 2
    records = await delivery_records(db)
    assert {(r.gateway, r.outcome) for r in records} == {("log", "sent")}
    assert all(r.message_id and r.message_id.startswith("log:") for r in records)


def test_backoff_grows_with_jitter_and_honours_retry_after() -> None:
    rng = random.Random(7)
    delays = [retry_delay(n, base=2, cap=60, rng=rng) for n in range(1, 8)]
    for attempt, delay in enumerate(delays, start=1):
        step = min(60, 2 * 2 ** (attempt - 1))
        assert step / 2 <= delay <= step
    assert retry_delay(1, base=2, cap=60, retry_after=90, rng=rng) == 90
    assert len({round(retry_delay(3, base=2, cap=60), 6) for _ in range(20)}) > 1


async def test_a_running_worker_deactivates_devices_unused_for_270_days(db: Database) -> None:
    from sqlalchemy import update

    from backend.db.dialect import table_of
    from backend.push.models import Device
    from tests.push.delivery_helpers import writing

    # given two devices, one last seen 271 days ago, one yesterday
    [old, recent] = await queue_messages(db, 2, per_resident=1)
    async with writing(db) as session:
        for queued, age in ((old, 271), (recent, 1)):
            await session.execute(
                update(table_of(Device))
                .where(Device.id == queued.device_id)
                .values(last_seen_at=utcnow() - timedelta(days=age))
            )
    # when a worker runs (its sweep runs once at start)
    worker = OutboxWorker(db, LogGateway(), FAST_RETRY)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    for _ in range(100):
        if not (await device(db, old.device_id)).active:
            break
        await asyncio.sleep(0.05)
    stop.set()
    await task
    # then the stale device is deactivated as stale and the recent one still receives
    stale = await device(db, old.device_id)
    assert (stale.active, stale.deactivated_reason) == (False, "stale")
    assert (await device(db, recent.device_id)).active


async def test_emergencies_are_claimed_before_advisories_queued_earlier(db: Database) -> None:
    from backend.push import outbox
    from tests.push.delivery_helpers import writing

    # given advisories queued first and an evacuation order queued after them
    advisories = await queue_messages(
        db, 3, category=NotificationCategory.ADVISORY, prefix="adv", per_resident=3
    )
    emergency = await queue_messages(db, 1, prefix="emg", per_resident=1)
    # (written through notify() the rows carry the category's priority; here, set it)
    from sqlalchemy import update

    from backend.db.dialect import table_of
    from backend.push.models import OutboxMessage

    async with writing(db) as session:
        await session.execute(
            update(table_of(OutboxMessage))
            .where(OutboxMessage.id.in_([q.outbox_id for q in advisories]))
            .values(priority=2)
        )
        await session.execute(
            update(table_of(OutboxMessage))
            .where(OutboxMessage.id == emergency[0].outbox_id)
            .values(priority=0)
        )
    # when a worker claims one message, then it is the evacuation order
    async with writing(db) as session:
        now = utcnow()
        [claimed] = await outbox.claim(
            session, owner="w", now=now, lease_until=now + timedelta(seconds=30), limit=1
        )
    assert claimed.outbox_id == emergency[0].outbox_id


async def test_more_timeouts_than_http2_streams_do_not_wedge_the_connection(
    fake: FakeFcm, tmp_path: Path
) -> None:
    from notifications.gateway import Outcome, PushMessage

    # given FCM answering slower than the client waits, for more requests than one HTTP/2
    # connection has streams (100): each timed-out stream must be given back
    # (a timeout of 1 s, not less: answers in time must stay in time on a loaded machine)
    fake.default = Reply.ok(delay=2.5)
    gateway = FcmGateway(
        credentials_file=fake.write_service_account(tmp_path / "service-account.json"),
        endpoint=fake.url,
        timeout_seconds=1.0,
    )

    def message(i: int) -> PushMessage:
        return PushMessage(token=f"tok-{i:06d}", title="避難指示", body="本文", data={})

    try:
        timed_out = await gateway.send([message(i) for i in range(130)])
        assert {r.outcome for r in timed_out} == {Outcome.RETRY}
        # when FCM answers in time again, then the same gateway sends at once
        fake.default = Reply.ok()
        sent = await gateway.send([message(i) for i in range(130, 140)])
        assert {r.outcome for r in sent} == {Outcome.SENT}
    finally:
        await gateway.aclose()
