"""Devices, preferences and the inbox through the GraphQL API, with the app's documents."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from backend.api.ids import decode_id, encode_id
from backend.push import service
from backend.push.models import Device, Notification, NotificationCategory, OutboxMessage
from backend.push.service import Notice
from tests.api.test_statement_counts import count_statements, operation
from tests.push.test_service import token_of

REGISTER = operation("Devices.graphql", "RegisterDevice")
UNREGISTER = operation("Devices.graphql", "UnregisterDevice")
DEVICES = operation("Devices.graphql", "MyDevices")
PREFERENCES = operation("NotificationPreferences.graphql", "NotificationPreferences")
UPDATE_PREFERENCES = operation("NotificationPreferences.graphql", "UpdateNotificationPreferences")
INBOX = operation("Inbox.graphql", "Inbox")
UNREAD = operation("Inbox.graphql", "UnreadNotificationCount")
ONE = operation("Inbox.graphql", "Notification")
MARK = operation("Inbox.graphql", "MarkNotificationsRead")


async def resident_id(gql, bearer: str) -> uuid.UUID:  # type: ignore[no-untyped-def]
    body = await gql("{ me { id } }", token=bearer)
    return decode_id("Resident", body["data"]["me"]["id"])


async def register(gql, bearer: str, device_token: str, **extra: Any) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    variables = {"token": device_token, "platform": "IOS", "locale": "ja-JP", **extra}
    body = await gql(REGISTER, {"input": variables}, token=bearer)
    return body["data"]["registerDevice"]


async def devices(gql, bearer: str) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    return (await gql(DEVICES, token=bearer))["data"]["me"]["devices"]


async def tell(db, resident: uuid.UUID, key: str, **extra: Any) -> service.NotifyReport:  # type: ignore[no-untyped-def]
    """What another domain does: notify() in its own transaction."""
    async with db.session() as session:
        return await service.notify(session, [notice(resident, key, **extra)])


def notice(resident: uuid.UUID, key: str, **extra: Any) -> Notice:
    values: dict[str, Any] = {
        "category": NotificationCategory.EMERGENCY,
        "title_ja": f"お知らせ {key}",
        "body_ja": "本文",
        "title_en": f"Notice {key}",
        "body_en": "Body",
        "data": {"alertId": key},
        **extra,
    }
    return Notice(resident_id=resident, dedupe_key=key, **values)


async def outbox_states(db) -> dict[tuple[str, uuid.UUID], str]:  # type: ignore[no-untyped-def]
    """(dedupe key, device id) -> state of every outbox row."""
    async with db.session() as session:
        rows = await session.execute(
            select(Notification.dedupe_key, OutboxMessage.device_id, OutboxMessage.state).join(
                Notification, Notification.id == OutboxMessage.notification_id
            )
        )
        return {(key, device): state for key, device, state in rows}


# --- devices --------------------------------------------------------------------------------


async def test_register_lists_and_refreshes_a_device(gql, token) -> None:  # type: ignore[no-untyped-def]
    # given Hanako's app on first start
    hanako = token("push-hanako")
    first = await register(gql, hanako, token_of("h1"), locale="ja_jp", appVersion="1.0.0")
    assert first["errors"] == []
    device = first["device"]
    assert (device["platform"], device["locale"], device["appVersion"]) == ("IOS", "ja-JP", "1.0.0")

    # when the app starts again with a new version and language
    again = await register(gql, hanako, token_of("h1"), locale="EN-us", appVersion="1.1.0")

    # then it is the same device, refreshed
    assert again["device"]["id"] == device["id"]
    assert (again["device"]["locale"], again["device"]["appVersion"]) == ("en-US", "1.1.0")
    assert again["device"]["lastSeenAt"] >= device["lastSeenAt"]
    assert [d["id"] for d in await devices(gql, hanako)] == [device["id"]]


async def test_a_token_moves_to_the_account_that_registers_it(gql, token, db) -> None:  # type: ignore[no-untyped-def]
    # given a shared tablet signed in as Hanako, with a push waiting for it
    hanako, taro = token("move-hanako"), token("move-taro")
    hanako_id, taro_id = await resident_id(gql, hanako), await resident_id(gql, taro)
    tablet = token_of("family-tablet")
    old = (await register(gql, hanako, tablet))["device"]
    old_id = decode_id("Device", old["id"])
    await tell(db, hanako_id, "alert:7:1")

    # when Taro signs in on it
    moved = await register(gql, taro, tablet, platform="ANDROID")

    # then the tablet is Taro's (a new device of his), no longer Hanako's
    assert moved["errors"] == []
    new_id = decode_id("Device", moved["device"]["id"])
    assert new_id != old_id
    assert await devices(gql, hanako) == []
    assert [d["id"] for d in await devices(gql, taro)] == [moved["device"]["id"]]
    # Hanako's waiting push will not reach Taro's tablet
    assert (await outbox_states(db))[("alert:7:1", old_id)] == "dead"
    # the same alert for Taro is pushed to it (not taken for Hanako's duplicate) ...
    assert (await tell(db, taro_id, "alert:7:1")).outbox_written == 1
    assert (await outbox_states(db))[("alert:7:1", new_id)] == "pending"
    # ... and Hanako's next notifications only reach her inbox
    assert (await tell(db, hanako_id, "alert:8:1")).outbox_written == 0
    async with db.session() as session:
        history = await session.get(Device, old_id)
    assert history is not None and (history.active, history.deactivated_reason) == (False, "moved")
    assert history.resident_id == hanako_id and history.token != tablet

    # and when Hanako takes it back, it moves back
    back = await register(gql, hanako, tablet)
    assert [d["id"] for d in await devices(gql, hanako)] == [back["device"]["id"]]
    assert await devices(gql, taro) == []


async def test_unregister_only_my_own_devices(gql, token, db) -> None:  # type: ignore[no-untyped-def]
    # given Hanako's phone with a push waiting, and Taro's phone
    hanako, taro = token("unreg-hanako"), token("unreg-taro")
    mine = (await register(gql, hanako, token_of("unreg-h")))["device"]
    theirs = (await register(gql, taro, token_of("unreg-t")))["device"]
    await tell(db, await resident_id(gql, hanako), "alert:9:1")

    # when Hanako tries to unregister Taro's token, and an unknown one
    for foreign in (token_of("unreg-t"), token_of("never-registered")):
        body = await gql(UNREGISTER, {"token": foreign}, token=hanako)
        payload = body["data"]["unregisterDevice"]
        # then both are the same NotFound on token, and Taro's phone stays
        assert payload["deviceId"] is None
        assert [(e["code"], e["field"]) for e in payload["errors"]] == [("NOT_FOUND", "token")]
    assert [d["id"] for d in await devices(gql, taro)] == [theirs["id"]]

    # when she unregisters her own (twice: the app retries)
    for _ in range(2):
        body = await gql(UNREGISTER, {"token": token_of("unreg-h")}, token=hanako)
        assert body["data"]["unregisterDevice"] == {"deviceId": mine["id"], "errors": []}
    # then it is gone from her list and its waiting push is cancelled
    assert await devices(gql, hanako) == []
    mine_id = decode_id("Device", mine["id"])
    assert (await outbox_states(db))[("alert:9:1", mine_id)] == "dead"
    # and registering again brings it back
    again = await register(gql, hanako, token_of("unreg-h"))
    assert again["device"]["id"] == mine["id"]


async def test_bad_registrations_are_typed_errors_and_write_nothing(gql, token, db) -> None:  # type: ignore[no-untyped-def]
    hanako = token("bad-hanako")
    cases = [
        ({"token": "short"}, ["token"]),
        ({"token": "x" * 1025}, ["token"]),
        ({"token": token_of("ok") + " 空白"}, ["token"]),
        ({"token": token_of("ok") + "/../"}, ["token"]),
        ({"locale": "japanese"}, ["locale"]),
        ({"locale": ""}, ["locale"]),
        ({"appVersion": "1.0\u202e"}, ["appVersion"]),
        ({"appVersion": "9" * 33}, ["appVersion"]),
        # every bad field at once
        (
            {"token": "", "locale": "日本語", "appVersion": "\x00"},
            ["token", "locale", "appVersion"],
        ),
    ]
    for change, fields in cases:
        payload = await register(gql, hanako, token_of("ok"), **change)
        assert payload["device"] is None, change
        assert [e["field"] for e in payload["errors"]] == fields, change
        assert {e["code"] for e in payload["errors"]} == {"VALIDATION"}
    # a platform outside the enum is refused by the schema itself
    body = await gql(
        REGISTER,
        {"input": {"token": token_of("ok"), "platform": "BLACKBERRY", "locale": "ja"}},
        token=hanako,
        expect_errors=True,
    )
    assert body.get("data") is None and "BLACKBERRY" in body["errors"][0]["message"]
    assert await devices(gql, hanako) == []
    async with db.session() as session:
        assert (await session.scalars(select(Device.id))).all() == []


async def test_push_is_for_residents_only(gql, token) -> None:  # type: ignore[no-untyped-def]
    # a system client (another city-OS service) has no devices, inbox or preferences
    client = token("svc-care", client_id="care-app")
    for document, variables in (
        (REGISTER, {"input": {"token": token_of("c"), "platform": "WEB", "locale": "ja"}}),
        (UNREGISTER, {"token": token_of("c")}),
        (DEVICES, {}),
        (INBOX, {}),
        (PREFERENCES, {}),
        (MARK, {"input": {"all": True}}),
    ):
        body = await gql(document, variables, token=client, expect_errors=True)
        assert body["data"] is None
        assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    body = await gql(INBOX, expect_errors=True)  # nobody signed in
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


# --- preferences -----------------------------------------------------------------------------


async def test_preferences_default_and_change(gql, token) -> None:  # type: ignore[no-untyped-def]
    hanako = token("pref-hanako")
    body = await gql(PREFERENCES, token=hanako)
    defaults = {"advisories": True, "cityNotices": True, "earthquakeMinIntensity": "3"}
    assert body["data"]["me"]["notificationPreferences"] == defaults

    # a partial change keeps the rest; 5弱 is stored as JMA's "5-"
    body = await gql(
        UPDATE_PREFERENCES,
        {"input": {"advisories": False, "earthquakeMinIntensity": "５弱"}},
        token=hanako,
    )
    changed = {"advisories": False, "cityNotices": True, "earthquakeMinIntensity": "5-"}
    assert body["data"]["updateNotificationPreferences"] == {"preferences": changed, "errors": []}
    body = await gql(UPDATE_PREFERENCES, {"input": {"cityNotices": False}}, token=hanako)
    changed["cityNotices"] = False
    assert body["data"]["updateNotificationPreferences"]["preferences"] == changed

    # a 震度 that does not exist changes nothing
    for bad in ("8", "0", "5", "6弱強", ""):
        body = await gql(
            UPDATE_PREFERENCES,
            {"input": {"advisories": True, "earthquakeMinIntensity": bad}},
            token=hanako,
        )
        payload = body["data"]["updateNotificationPreferences"]
        assert payload["preferences"] is None
        assert [(e["code"], e["field"]) for e in payload["errors"]] == [
            ("VALIDATION", "earthquakeMinIntensity")
        ]
    assert (await gql(PREFERENCES, token=hanako))["data"]["me"][
        "notificationPreferences"
    ] == changed
    # and someone else still has the defaults
    other = await gql(PREFERENCES, token=token("pref-taro"))
    assert other["data"]["me"]["notificationPreferences"] == defaults


async def test_preferences_decide_what_reaches_the_inbox(gql, token, db) -> None:  # type: ignore[no-untyped-def]
    hanako = token("pref-inbox")
    hanako_id = await resident_id(gql, hanako)
    await gql(
        UPDATE_PREFERENCES,
        {"input": {"advisories": False, "earthquakeMinIntensity": "5+"}},
        token=hanako,
    )
    async with db.session() as session:
        report = await service.notify(
            session,
            [
                notice(hanako_id, "adv", category=NotificationCategory.ADVISORY),
                notice(hanako_id, "eq4", category=NotificationCategory.EARTHQUAKE, intensity="4"),
                notice(hanako_id, "eq6", category=NotificationCategory.EARTHQUAKE, intensity="6-"),
                notice(hanako_id, "evac", category=NotificationCategory.EMERGENCY),
            ],
        )
    assert report.skipped_by_preference == 2
    inbox = (await gql(INBOX, token=hanako))["data"]["me"]["notifications"]
    assert sorted(e["node"]["data"]["alertId"] for e in inbox["edges"]) == ["eq6", "evac"]


# --- inbox ----------------------------------------------------------------------------------


async def fill_inbox(db, resident: uuid.UUID, count: int) -> None:  # type: ignore[no-untyped-def]
    async with db.session() as session:
        await service.notify(session, [notice(resident, f"n:{i:02}") for i in range(count)])


async def test_inbox_pages_newest_first(gql, token, db) -> None:  # type: ignore[no-untyped-def]
    # given 25 notifications, in three calls (so their times differ)
    hanako = token("inbox-hanako")
    hanako_id = await resident_id(gql, hanako)
    for start in (0, 10, 20):
        async with db.session() as session:
            await service.notify(
                session, [notice(hanako_id, f"n:{i:02}") for i in range(start, min(start + 10, 25))]
            )

    # when the app pages through 10 at a time
    seen: list[str] = []
    after = None
    pages = 0
    while True:
        body = await gql(INBOX, {"first": 10, "after": after}, token=hanako)
        connection = body["data"]["me"]["notifications"]
        assert connection["unreadCount"] == 25
        seen += [e["node"]["data"]["alertId"] for e in connection["edges"]]
        pages += 1
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]

    # then every notification comes once, the newest call's first
    assert pages == 3 and len(seen) == 25 and len(set(seen)) == 25
    assert set(seen[:5]) == {f"n:{i}" for i in range(20, 25)}
    assert set(seen[-10:]) == {f"n:{i:02}" for i in range(10)}
    node = (await gql(INBOX, {"first": 1}, token=hanako))["data"]["me"]["notifications"]
    first = node["edges"][0]["node"]
    assert first["category"] == "EMERGENCY" and first["isRead"] is False
    assert first["titleJa"].startswith("お知らせ") and first["titleEn"].startswith("Notice")

    # and a bad page size or cursor is a typed error
    for variables, field in (
        ({"first": 0}, "first"),
        ({"first": 101}, "first"),
        ({"after": "x"}, "after"),
    ):
        body = await gql(INBOX, variables, token=hanako, expect_errors=True)
        assert body["errors"][0]["extensions"]["code"] == "VALIDATION"
        assert body["errors"][0]["extensions"]["field"] == field


async def test_mark_read_by_ids_and_all(gql, token, db) -> None:  # type: ignore[no-untyped-def]
    hanako = token("mark-hanako")
    hanako_id = await resident_id(gql, hanako)
    await fill_inbox(db, hanako_id, 5)
    edges = (await gql(INBOX, token=hanako))["data"]["me"]["notifications"]["edges"]
    ids = [e["node"]["id"] for e in edges]

    # when two are marked read (one of them twice)
    body = await gql(MARK, {"input": {"ids": [ids[0], ids[1], ids[0]]}}, token=hanako)
    payload = body["data"]["markNotificationsRead"]
    assert payload["errors"] == []
    assert (payload["markedCount"], payload["unreadCount"]) == (2, 3)
    assert {n["id"] for n in payload["notifications"]} == {ids[0], ids[1]}
    assert all(n["isRead"] and n["readAt"] for n in payload["notifications"])

    # then the unread-only list and the badge show the other three
    unread = await gql(INBOX, {"unreadOnly": True}, token=hanako)
    assert [e["node"]["id"] for e in unread["data"]["me"]["notifications"]["edges"]] == ids[2:]
    badge = await gql(UNREAD, token=hanako)
    assert badge["data"]["me"]["notifications"]["unreadCount"] == 3

    # marking again keeps the first read time
    before = payload["notifications"]
    again = await gql(MARK, {"input": {"ids": [ids[0]]}}, token=hanako)
    assert again["data"]["markNotificationsRead"]["markedCount"] == 0
    first_read = next(n["readAt"] for n in before if n["id"] == ids[0])
    assert again["data"]["markNotificationsRead"]["notifications"][0]["readAt"] == first_read

    # and all marks the rest
    body = await gql(MARK, {"input": {"all": True}}, token=hanako)
    payload = body["data"]["markNotificationsRead"]
    assert (payload["markedCount"], payload["unreadCount"], payload["errors"]) == (3, 0, [])


async def test_mark_read_refuses_ids_that_are_not_mine_and_marks_nothing(gql, token, db) -> None:  # type: ignore[no-untyped-def]
    # given Hanako's and Taro's inboxes
    hanako, taro = token("markf-hanako"), token("markf-taro")
    await fill_inbox(db, await resident_id(gql, hanako), 2)
    await fill_inbox(db, await resident_id(gql, taro), 1)
    mine = [
        e["node"]["id"]
        for e in (await gql(INBOX, token=hanako))["data"]["me"]["notifications"]["edges"]
    ]
    theirs = (await gql(INBOX, token=taro))["data"]["me"]["notifications"]["edges"][0]["node"]["id"]
    unknown = encode_id("Notification", uuid.uuid4())
    device_id = encode_id("Device", uuid.uuid4())

    cases = [
        ({"ids": [mine[0], theirs]}, "NOT_FOUND", "ids[1]"),
        ({"ids": [unknown, mine[1]]}, "NOT_FOUND", "ids[0]"),
        ({"ids": [mine[0], device_id]}, "NOT_FOUND", "ids[1]"),  # an id of another type
        ({"ids": [mine[0], "not-an-id"]}, "NOT_FOUND", "ids[1]"),
        ({"ids": [mine[0]] * 101}, "LIMIT_EXCEEDED", "ids"),
        ({"ids": [mine[0]], "all": True}, "VALIDATION", "all"),
        ({}, "VALIDATION", "ids"),
        ({"ids": []}, "VALIDATION", "ids"),
    ]
    for given, code, field in cases:
        body = await gql(MARK, {"input": given}, token=hanako)
        payload = body["data"]["markNotificationsRead"]
        assert [(e["code"], e["field"]) for e in payload["errors"]] == [(code, field)], given
        assert payload["markedCount"] is None
    # then nothing was marked, for either of them
    assert (await gql(UNREAD, token=hanako))["data"]["me"]["notifications"]["unreadCount"] == 2
    assert (await gql(UNREAD, token=taro))["data"]["me"]["notifications"]["unreadCount"] == 1


async def test_a_resident_never_sees_anothers_devices_or_notifications(gql, token, db) -> None:  # type: ignore[no-untyped-def]
    # given Hanako with a phone and notifications, and Taro with nothing
    hanako, taro = token("mns-hanako"), token("mns-taro")
    await register(gql, hanako, token_of("mns-h"))
    await fill_inbox(db, await resident_id(gql, hanako), 3)
    hers = (await gql(INBOX, token=hanako))["data"]["me"]["notifications"]["edges"]
    her_id = hers[0]["node"]["id"]
    assert (await gql(ONE, {"id": her_id}, token=hanako))["data"]["notification"]["id"] == her_id

    # then Taro sees none of it, by list, by id, by count
    assert await devices(gql, taro) == []
    inbox = (await gql(INBOX, token=taro))["data"]["me"]["notifications"]
    assert inbox["edges"] == [] and inbox["unreadCount"] == 0
    assert (await gql(ONE, {"id": her_id}, token=taro))["data"]["notification"] is None
    # Hanako's cursor does not open her list to him
    cursor = hers[0]["cursor"]
    paged = await gql(INBOX, {"after": cursor}, token=taro)
    assert paged["data"]["me"]["notifications"]["edges"] == []
    # marking all read as Taro leaves hers unread
    await gql(MARK, {"input": {"all": True}}, token=taro)
    assert (await gql(UNREAD, token=hanako))["data"]["me"]["notifications"]["unreadCount"] == 3


async def test_inbox_screen_statement_count_does_not_grow(gql, token, db, engine) -> None:  # type: ignore[no-untyped-def]
    small, large = token("sc-inbox-small"), token("sc-inbox-large")
    await fill_inbox(db, await resident_id(gql, small), 1)
    await fill_inbox(db, await resident_id(gql, large), 30)
    for bearer in (small, large):
        await register(gql, bearer, token_of(f"sc-{bearer[-12:]}"))
    with count_statements(engine) as few:
        await gql(INBOX, {"first": 20}, token=small)
        await gql(DEVICES, token=small)
    with count_statements(engine) as many:
        body = await gql(INBOX, {"first": 20}, token=large)
        await gql(DEVICES, token=large)
    assert len(body["data"]["me"]["notifications"]["edges"]) == 20
    assert len(few) == len(many), (few, many)
    assert len(many) <= 6, many  # per screen: the resident, a page, the count; the devices
    writes = [q for q in many if q.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))]
    assert writes == []
