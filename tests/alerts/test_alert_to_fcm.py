"""End to end: a CAP alert ingested reaches the fake FCM server for exactly the devices of
residents with a place inside its area (just inside the edge: yes; just outside: no), in
each device's language; an exercise of the same alert reaches nobody."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from backend.alerts.ingest import ingest_document
from backend.config import Settings
from backend.db.session import Database, RequestDatabase
from backend.principal import Principal, PrincipalKind
from backend.push import service as push_service
from backend.push.models import OutboxMessage
from backend.push.worker import OutboxWorker, WorkerOptions
from backend.residents import service as residents_service
from backend.residents.models import PlaceKind
from notifications.fcm import FcmGateway
from tests.fake_fcm import FakeFcm
from tests.push.delivery_helpers import delivery_database, writing

EXAMPLES = Path(__file__).resolve().parents[2] / "backend" / "alerts" / "examples"
ORDER = (EXAMPLES / "aizu-demo-evacuation.cap.xml").read_bytes()
EAST = 139.921  # the east edge of the example's polygon (lat 37.483-37.487)
PEOPLE = {
    # subject: (home (lat, lon), device token, locale)
    "inside-ja": ((37.4850, EAST - 0.0001), "token-inside-ja-0000000000000000000", "ja-JP"),
    "inside-en": ((37.4860, EAST - 0.0002), "token-inside-en-0000000000000000000", "en-US"),
    "outside": ((37.4850, EAST + 0.0001), "token-outside-00000000000000000000000", "ja-JP"),
}


@pytest.fixture(scope="module")
async def database(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Database]:
    database = await delivery_database(
        database_url, "alert_to_fcm", tmp_path_factory.mktemp("alert-fcm")
    )
    yield database
    await database.dispose()


@pytest.fixture
def fake() -> Iterator[FakeFcm]:
    with FakeFcm().running() as fake:
        yield fake


async def test_an_alert_reaches_fcm_for_exactly_the_devices_inside(
    database: Database, fake: FakeFcm, settings: Settings, tmp_path: Path
) -> None:
    # given three residents with a phone each, two just inside the area's edge, one outside
    async with writing(database) as session:
        for subject, ((lat, lon), token, locale) in PEOPLE.items():
            principal = Principal(kind=PrincipalKind.RESIDENT, subject=subject)
            resident = await residents_service.get_or_create_resident(session, principal)
            await residents_service.add_place(
                session, settings, resident, kind=PlaceKind.HOME, label="自宅",
                latitude=lat, longitude=lon,
            )  # fmt: skip
            await push_service.register_device(session, resident.id, token, "android", locale)
    # when an exercise of the order is ingested, then delivered
    exercise = ORDER.replace(b"<status>Actual</status>", b"<status>Exercise</status>").replace(
        b"evacuation-1<", b"evacuation-exercise<"
    )
    gateway = FcmGateway(
        credentials_file=fake.write_service_account(tmp_path / "service-account.json"),
        endpoint=fake.url,
        timeout_seconds=2.0,
    )
    worker = OutboxWorker(database, gateway, WorkerOptions(batch_size=100, concurrency=1))
    try:
        db = RequestDatabase(database.new_session())
        await ingest_document(db, settings, exercise, "exercise.xml", via="test")
        await worker.drain()
        # then nothing reached FCM
        assert fake.received == []
        # when the actual order is ingested and the worker delivers
        report = await ingest_document(db, settings, ORDER, "order.xml", via="test")
        await db.close()
        assert report.concerned_residents == 2
        # and its two pushes wait at the emergency priority, ahead of anything less urgent
        async with database.session() as session:
            priorities = (await session.scalars(select(OutboxMessage.priority))).all()
        assert priorities == [0, 0]
        await worker.drain()
    finally:
        await gateway.aclose()
    # then exactly the two phones inside got one message each, in their own language
    assert fake.delivered() == {PEOPLE["inside-ja"][1]: 1, PEOPLE["inside-en"][1]: 1}
    [ja] = fake.sends_to(PEOPLE["inside-ja"][1])
    [en] = fake.sends_to(PEOPLE["inside-en"][1])
    assert ja.message["notification"]["body"].startswith("自宅が避難指示の対象区域です")
    assert en.message["notification"]["body"].startswith("Your home is in the area of")
    assert fake.sends_to(PEOPLE["outside"][1]) == []


async def test_the_same_new_alert_delivered_twice_at_once_is_stored_once(
    database: Database, settings: Settings
) -> None:
    import asyncio

    # given a new alert that two relays deliver at the same moment
    document = ORDER.replace(b"evacuation-1<", b"evacuation-race<")

    async def deliver(name: str) -> list[bool]:
        db = RequestDatabase(database.new_session())
        try:
            report = await ingest_document(db, settings, document, name, via="test")
        finally:
            await db.close()
        return [outcome.duplicate for _, outcome in report.outcomes]

    # when both are ingested concurrently, then neither fails and exactly one stores it
    first, second = await asyncio.gather(deliver("a.xml"), deliver("b.xml"))
    assert sorted(first + second) == [False, True]
