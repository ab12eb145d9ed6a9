"""notify() and device upkeep at the service level: preferences, idempotency, fan-out."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.db.base import utcnow
from backend.push import service
from backend.push.models import (
    Device,
    Notification,
    NotificationCategory,
    OutboxMessage,
    OutboxState,
)
from backend.push.service import Notice
from backend.residents.models import Resident

C = NotificationCategory


def token_of(name: str) -> str:
    """A well-formed FCM-like token, unique per name."""
    return f"{name}:APA91b" + uuid.uuid5(uuid.NAMESPACE_URL, name).hex * 3


async def create_resident(session: AsyncSession, subject: str) -> uuid.UUID:
    resident = Resident(subject=subject, display_name=subject)
    session.add(resident)
    await session.flush()
    return resident.id


async def create_device(
    session: AsyncSession, resident_id: uuid.UUID, name: str, locale: str = "ja"
) -> Device:
    return await service.register_device(session, resident_id, token_of(name), "ios", locale)


def notice(resident_id: uuid.UUID, key: str, category: C = C.EMERGENCY, **extra) -> Notice:  # type: ignore[no-untyped-def]
    return Notice(
        resident_id=resident_id,
        category=category,
        dedupe_key=key,
        title_ja="避難指示",
        body_ja="自宅が避難指示の対象区域です",
        title_en="Evacuation order",
        body_en="Your home is in the evacuation order area",
        data={"alertId": key},
        **extra,
    )


async def count(session: AsyncSession, model: type, *where) -> int:  # type: ignore[no-untyped-def]
    return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def test_one_inbox_row_per_resident_and_one_push_per_active_device(session) -> None:  # type: ignore[no-untyped-def]
    # given Hanako with two phones (one signed out) and Taro with none
    hanako = await create_resident(session, "svc-hanako")
    taro = await create_resident(session, "svc-taro")
    phone = await create_device(session, hanako, "hanako-phone")
    tablet = await create_device(session, hanako, "hanako-tablet", locale="en-US")
    old = await create_device(session, hanako, "hanako-old")
    await service.unregister_device(session, hanako, token_of("hanako-old"))

    # when both are told about an alert
    report = await service.notify(session, [notice(hanako, "alert:1:1"), notice(taro, "alert:1:1")])

    # then each has one inbox row, and only Hanako's active devices get a push
    assert report == service.NotifyReport(
        inbox_written=2, outbox_written=2, skipped_by_preference=0, duplicates=0
    )
    rows = (await session.scalars(select(OutboxMessage))).all()
    assert {r.device_id for r in rows} == {phone.id, tablet.id}
    assert old.id not in {r.device_id for r in rows}
    assert {r.idempotency_key for r in rows} == {f"alert:1:1:{phone.id}", f"alert:1:1:{tablet.id}"}
    assert all(r.state == OutboxState.PENDING.value and r.attempts == 0 for r in rows)
    inbox = (
        await session.scalars(select(Notification).where(Notification.resident_id == taro))
    ).one()
    assert (inbox.category, inbox.title_ja, inbox.data) == (
        "emergency",
        "避難指示",
        {"alertId": "alert:1:1"},
    )


async def test_a_second_call_with_the_same_notices_writes_nothing(session) -> None:  # type: ignore[no-untyped-def]
    hanako = await create_resident(session, "svc-idem")
    await create_device(session, hanako, "idem-phone")
    notices = [notice(hanako, "alert:2:1"), notice(hanako, "alert:2:1"), notice(hanako, "notice:9")]

    first = await service.notify(session, notices)
    second = await service.notify(session, notices)

    assert first == service.NotifyReport(2, 2, 0, 1)  # the repeat inside the call is a duplicate
    assert second == service.NotifyReport(0, 0, 0, 3)
    assert await count(session, Notification, Notification.resident_id == hanako) == 2
    assert await count(session, OutboxMessage) == 2


async def test_a_device_registered_later_gets_only_later_notifications(session) -> None:  # type: ignore[no-untyped-def]
    hanako = await create_resident(session, "svc-later")
    await service.notify(session, [notice(hanako, "alert:3:1")])
    phone = await create_device(session, hanako, "later-phone")

    again = await service.notify(
        session, [notice(hanako, "alert:3:1"), notice(hanako, "alert:3:2")]
    )

    assert again == service.NotifyReport(1, 1, 0, 1)
    keys = set(await session.scalars(select(OutboxMessage.idempotency_key)))
    assert keys == {f"alert:3:2:{phone.id}"}


PREFERENCE_CASES = [
    # (preferences, category, intensity, delivered)
    (
        {"advisories": False, "city_notices": False, "earthquake_min_intensity": "7"},
        C.EMERGENCY,
        None,
        True,
    ),
    (
        {"advisories": False, "city_notices": False, "earthquake_min_intensity": "7"},
        C.WARNING,
        None,
        True,
    ),
    ({}, C.ADVISORY, None, True),
    ({"advisories": False}, C.ADVISORY, None, False),
    ({}, C.CITY_NOTICE, None, True),
    ({"city_notices": False}, C.CITY_NOTICE, None, False),
    ({}, C.EARTHQUAKE, "3", True),  # default: from 震度3
    ({}, C.EARTHQUAKE, "2", False),
    ({"earthquake_min_intensity": "5+"}, C.EARTHQUAKE, "5-", False),
    ({"earthquake_min_intensity": "5+"}, C.EARTHQUAKE, "5+", True),
    ({"earthquake_min_intensity": "5弱"}, C.EARTHQUAKE, "4", False),
    ({"earthquake_min_intensity": "5弱"}, C.EARTHQUAKE, "5弱", True),
    ({"earthquake_min_intensity": "6-"}, C.EARTHQUAKE, "6+", True),
    ({"earthquake_min_intensity": "6+"}, C.EARTHQUAKE, "6-", False),
    ({"earthquake_min_intensity": "1"}, C.EARTHQUAKE, "1", True),
    ({"earthquake_min_intensity": "7"}, C.EARTHQUAKE, "6+", False),
    ({"earthquake_min_intensity": "7"}, C.EARTHQUAKE, "7", True),
]


@pytest.mark.parametrize(("preferences", "category", "intensity", "delivered"), PREFERENCE_CASES)
async def test_preferences_are_honoured(
    session, preferences, category, intensity, delivered
) -> None:  # type: ignore[no-untyped-def]
    # given a resident with a device and these preferences
    resident = await create_resident(session, "svc-pref")
    await create_device(session, resident, "pref-phone")
    if preferences:
        await service.update_preferences(session, resident, **preferences)
    # when told something of this category
    report = await service.notify(session, [notice(resident, "x:1", category, intensity=intensity)])
    # then it reaches inbox and phone, or neither
    expected = (1, 1, 0) if delivered else (0, 0, 1)
    assert (report.inbox_written, report.outbox_written, report.skipped_by_preference) == expected
    assert await count(session, Notification, Notification.resident_id == resident) == expected[0]


async def test_bad_notices_fail_the_call_before_anything_is_written(session) -> None:  # type: ignore[no-untyped-def]
    resident = await create_resident(session, "svc-bad")
    good = notice(resident, "ok:1")
    for bad in (
        notice(resident, "eq:1", C.EARTHQUAKE),  # an earthquake without its 震度
        notice(resident, "eq:2", C.EARTHQUAKE, intensity="8"),
        notice(resident, "k" * 201),
        Notice(resident, C.EMERGENCY, "empty", title_ja="", body_ja="本文"),
    ):
        with pytest.raises(ValueError, match=r"notices\[1\]"):
            await service.notify(session, [good, bad])
    assert await count(session, Notification, Notification.resident_id == resident) == 0


async def test_long_titles_are_shortened_not_refused(session) -> None:  # type: ignore[no-untyped-def]
    resident = await create_resident(session, "svc-long")
    long = Notice(resident, C.EMERGENCY, "long:1", title_ja="避" * 300, body_ja="本文")
    assert (await service.notify(session, [long])).inbox_written == 1
    stored = await session.scalar(select(Notification).where(Notification.resident_id == resident))
    assert stored is not None and len(stored.title_ja) == 200 and stored.title_ja.endswith("…")


async def test_many_notices_cross_chunk_boundaries(session) -> None:  # type: ignore[no-untyped-def]
    # given 3 residents, 2 with phones, and more notices than one chunk holds
    residents = [await create_resident(session, f"svc-many-{i}") for i in range(3)]
    await create_device(session, residents[0], "many-0")
    await create_device(session, residents[1], "many-1a")
    await create_device(session, residents[1], "many-1b")
    total = service.NOTIFY_CHUNK * 2 + 7
    notices = [notice(residents[i % 3], f"bulk:{i}") for i in range(total)]
    notices += notices[:5]  # and some repeats across chunks

    report = await service.notify(session, notices)

    per_resident = [len(range(r, total, 3)) for r in range(3)]
    assert report.inbox_written == total
    assert report.duplicates == 5
    assert report.outbox_written == per_resident[0] * 1 + per_resident[1] * 2
    assert await count(session, OutboxMessage) == report.outbox_written
    assert (await service.notify(session, notices)).inbox_written == 0


async def test_stale_devices_are_deactivated_with_their_waiting_pushes(session) -> None:  # type: ignore[no-untyped-def]
    resident = await create_resident(session, "svc-stale")
    now = utcnow()
    old = await service.register_device(
        session, resident, token_of("stale-old"), "android", "ja", now=now - timedelta(days=271)
    )
    fresh = await service.register_device(
        session, resident, token_of("stale-fresh"), "android", "ja", now=now - timedelta(days=269)
    )
    await service.notify(session, [notice(resident, "stale:1")])

    assert await service.deactivate_stale_devices(session, now) == 1

    await session.refresh(old)
    await session.refresh(fresh)
    assert (old.active, old.deactivated_reason) == (False, "stale")
    assert fresh.active
    states = dict(
        (await session.execute(select(OutboxMessage.device_id, OutboxMessage.state))).all()
    )
    assert states == {old.id: "dead", fresh.id: "pending"}
    assert await service.deactivate_stale_devices(session, now) == 0


async def test_an_eleventh_device_supersedes_the_least_recently_seen(session) -> None:  # type: ignore[no-untyped-def]
    resident = await create_resident(session, "svc-cap")
    start = utcnow() - timedelta(hours=1)
    devices = [
        await service.register_device(
            session, resident, token_of(f"cap-{i}"), "web", "ja", now=start + timedelta(minutes=i)
        )
        for i in range(service.MAX_ACTIVE_DEVICES + 1)
    ]
    active = await service.list_devices(session, resident)
    assert len(active) == service.MAX_ACTIVE_DEVICES
    assert devices[0].id not in {d.id for d in active}
    assert devices[0].deactivated_reason == "superseded"


def test_locales_are_normalised() -> None:
    assert service.normalize_locale("ja") == "ja"
    assert service.normalize_locale("JA_jp") == "ja-JP"
    assert service.normalize_locale("zh-hant-tw") == "zh-Hant-TW"
    assert service.normalize_locale("es-419") == "es-419"
    for bad in ("", "j", "japanese", "ja-JPN1", "ja JP", "日本語"):
        assert service.normalize_locale(bad) is None
    assert service.message_language("ja-JP") == "ja"
    assert service.message_language("en-GB") == "en"
    assert service.message_language("zh-Hant-TW") == "en"
