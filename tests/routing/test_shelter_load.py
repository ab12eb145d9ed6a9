"""Shelter load through evacuationRoute: routes count the people already sent to a shelter
against its capacity and spread a district over the shelters that still have room."""

from __future__ import annotations

import dataclasses
import json
import math
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.api.ids import decode_id
from backend.config import Settings
from backend.db.base import utcnow
from backend.routing import load, repository
from backend.routing.models import RouteAssignment
from backend.shelters.demo import demo_shelter_records
from backend.shelters.importing import store_records
from tests.conftest import GraphQLClient

OPERATIONS = Path(__file__).resolve().parents[2] / "graphql" / "operations"
ROUTE = (OPERATIONS / "EvacuationRoute.graphql").read_text()
SAFETY_CHECK_IN = (OPERATIONS / "SafetyCheckIn.graphql").read_text()
SHELTERS = """
query($near: CoordinatesInput!) { shelters(near: $near, first: 10) { id commonId } }
"""
UPDATE_STATUS = """
mutation($input: UpdateShelterStatusInput!) {
  updateShelterStatus(input: $input) { shelter { id } errors { code field } }
}"""
OPEN_EVENT = """
mutation($input: OpenDisasterEventInput!) {
  openDisasterEvent(input: $input) { event { id } errors { code field } }
}"""
CLOSE_EVENT = """
mutation($id: ID!) { closeDisasterEvent(input: {eventId: $id}) { errors { code } } }
"""
ADD_PLACE = """
mutation($input: AddPlaceInput!) { addPlace(input: $input) { place { id } errors { code } } }
"""

AIZU = "07202"
STAFF = [("city_staff", AIZU)]
# A district in the west of the demo network, a shelter ~450 m east of it and one ~2.2 km.
DISTRICT = (37.4950, 139.9150)
NEAR = "TEST-LOAD-NEAR"
FAR = "TEST-LOAD-FAR"
SHELTER_POINTS = {NEAR: (37.4950, 139.9200), FAR: (37.4950, 139.9400)}
REQUESTS = 500
CAPACITY = 300


async def add_two_shelters(session: AsyncSession) -> None:
    """Two flood shelters and nothing else: NEAR is clearly the nearest from the district."""
    template = demo_shelter_records()[0]
    records = [
        dataclasses.replace(
            template,
            common_id=common_id,
            common_ids=(common_id,),
            name=f"テスト{common_id}（架空）",
            lat=lat,
            lon=lon,
        )
        for common_id, (lat, lon) in SHELTER_POINTS.items()
    ]
    await store_records(
        session,
        records=records,
        kinds_by_id={r.common_id: set(r.kinds) for r in records},
    )
    await session.commit()


@pytest.fixture
async def two_shelters(session: AsyncSession, gql: GraphQLClient, token: Any) -> dict[str, str]:
    """Global ids of NEAR and FAR (closed: peacetime, so both are candidates)."""
    await add_two_shelters(session)
    body = await gql(SHELTERS, {"near": point(*DISTRICT)})
    return {s["commonId"]: s["id"] for s in body["data"]["shelters"]}


def point(lat: float, lon: float) -> dict[str, float]:
    return {"latitude": lat, "longitude": lon}


def district_points(count: int, seed: int = 311) -> list[dict[str, float]]:
    """Points within ~150 m of the district's centre."""
    rng = np.random.default_rng(seed)
    lat0, lon0 = DISTRICT
    radius = 150.0 * np.sqrt(rng.random(count))
    angle = rng.random(count) * 2 * math.pi
    dlat = np.degrees(radius * np.sin(angle) / 6_371_008.8)
    dlon = np.degrees(radius * np.cos(angle) / 6_371_008.8) / math.cos(math.radians(lat0))
    return [point(float(lat0 + a), float(lon0 + b)) for a, b in zip(dlat, dlon, strict=True)]


async def set_shelter(gql: GraphQLClient, token: Any, shelter_id: str, **changes: Any) -> None:
    body = await gql(
        UPDATE_STATUS, {"input": {"id": shelter_id, **changes}}, token=token("staff", roles=STAFF)
    )
    assert body["data"]["updateShelterStatus"]["errors"] == [], body


async def route(gql: GraphQLClient, bearer: str | None = None, **input: Any) -> dict[str, Any]:
    body = await gql(ROUTE, {"input": {"hazardType": "FLOOD", **input}}, token=bearer)
    result: dict[str, Any] = body["data"]["evacuationRoute"]
    return result


def destination(result: dict[str, Any], ids: dict[str, str]) -> str:
    assert result["__typename"] == "EvacuationRoute", result
    by_id = {v: k for k, v in ids.items()}
    return by_id[result["shelter"]["id"]]


# --------------------------------------------------------------------------- spreading


async def test_a_district_is_spread_over_two_shelters_by_capacity(
    gql: GraphQLClient, token: Any, two_shelters: dict[str, str]
) -> None:
    # given two shelters of capacity 300, one clearly nearer to the district
    for shelter_id in two_shelters.values():
        await set_shelter(gql, token, shelter_id, capacity=CAPACITY)

    # when 500 people of the district ask for their nearest flood shelter, one after another
    sent: Counter[str] = Counter()
    for origin in district_points(REQUESTS):
        result = await route(gql, **{"from": origin})
        to = destination(result, two_shelters)
        # then each route reports the load it saw, which is what was sent before it
        shelter_load = result["shelterLoad"]
        assert shelter_load == {
            "capacity": CAPACITY,
            "planned": sent[to],
            "checkedIn": 0,
            "expected": sent[to] + 1,
            "overCapacity": False,
        }
        # and the farther shelter is used only once the nearer one has no room left
        if to == FAR:
            assert sent[NEAR] == CAPACITY
        sent[to] += 1

    # neither shelter is planned beyond its capacity, and the counts add up
    assert sent == {NEAR: CAPACITY, FAR: REQUESTS - CAPACITY}
    last = await route(gql, **{"from": point(*DISTRICT), "toShelterId": two_shelters[FAR]})
    assert last["shelterLoad"]["planned"] == REQUESTS - CAPACITY


async def test_when_every_shelter_is_full_the_nearest_is_chosen_and_says_so(
    gql: GraphQLClient, token: Any, two_shelters: dict[str, str]
) -> None:
    # given two shelters with room for two people each
    for shelter_id in two_shelters.values():
        await set_shelter(gql, token, shelter_id, capacity=2)

    # when five people ask
    results = [await route(gql, **{"from": origin}) for origin in district_points(5)]

    # then two go to each, and the fifth to the nearest, over its capacity
    assert [destination(r, two_shelters) for r in results] == [NEAR, NEAR, FAR, FAR, NEAR]
    assert [r["shelterLoad"]["overCapacity"] for r in results] == [False] * 4 + [True]
    assert results[-1]["shelterLoad"]["expected"] == 3


async def test_a_party_counts_by_its_size_and_an_unknown_capacity_is_never_full(
    gql: GraphQLClient, token: Any, two_shelters: dict[str, str]
) -> None:
    # given the nearer shelter with room for 5, the farther one with no capacity set
    await set_shelter(gql, token, two_shelters[NEAR], capacity=5)
    origin = point(*DISTRICT)

    # when a family of 4 asks, then a family of 2
    first = await route(gql, **{"from": origin, "partySize": 4})
    second = await route(gql, **{"from": origin, "partySize": 2})

    # then the first fits the nearer shelter; the second would overfill it and goes on
    assert destination(first, two_shelters) == NEAR
    assert first["shelterLoad"] == {
        "capacity": 5,
        "planned": 0,
        "checkedIn": 0,
        "expected": 4,
        "overCapacity": False,
    }
    assert destination(second, two_shelters) == FAR
    assert second["shelterLoad"]["capacity"] is None
    assert second["shelterLoad"]["overCapacity"] is False
    # and a route to a point has no shelter, hence no load
    to_point = await route(gql, **{"from": origin, "toPoint": point(37.5, 139.93)})
    assert to_point["shelter"] is None and to_point["shelterLoad"] is None


@pytest.mark.parametrize("size", [0, -1, 51, 10**6])
async def test_a_party_size_out_of_range_is_a_typed_error(
    gql: GraphQLClient, two_shelters: dict[str, str], size: int
) -> None:
    result = await route(
        gql, **{"from": point(*DISTRICT), "partySize": size, "walkingSpeedMetersPerSecond": 9.0}
    )
    assert result["__typename"] == "RouteError"
    assert result["code"] == "VALIDATION"
    # every problem at once
    assert set(result["fields"]) == {"partySize", "walkingSpeedMetersPerSecond"}


# --------------------------------------------------------------------------- requesters


async def test_a_resident_asking_again_replaces_their_own_assignment(
    gql: GraphQLClient, token: Any, two_shelters: dict[str, str]
) -> None:
    # given a signed-in resident walking with two others
    hanako = token("hanako-load", name="会津花子")
    origin = point(*DISTRICT)

    # when she asks three times
    answers = [await route(gql, hanako, **{"from": origin, "partySize": 3}) for _ in range(3)]

    # then her own earlier route never counts against her, and her party is counted once
    assert [a["shelterLoad"]["planned"] for a in answers] == [0, 0, 0]
    assert [a["shelterLoad"]["expected"] for a in answers] == [3, 3, 3]
    others = await route(gql, **{"from": origin})
    assert others["shelterLoad"]["planned"] == 3
    # while anonymous callers cannot be recognised: each of their routes counts
    again = await route(gql, **{"from": origin})
    assert again["shelterLoad"]["planned"] == 3 + 1

    # when she chooses the farther shelter instead, her party moves there
    moved = await route(
        gql, hanako, **{"from": origin, "toShelterId": two_shelters[FAR], "partySize": 3}
    )
    assert moved["shelterLoad"]["planned"] == 0
    near = await route(gql, **{"from": origin, "toShelterId": two_shelters[NEAR]})
    far = await route(gql, **{"from": origin, "toShelterId": two_shelters[FAR]})
    assert near["shelterLoad"]["planned"] == 2  # the two anonymous routes
    assert far["shelterLoad"]["planned"] == 3  # her party


async def test_assignments_older_than_the_window_no_longer_count(
    gql: GraphQLClient, session: AsyncSession, settings: Settings, two_shelters: dict[str, str]
) -> None:
    # given 40 people sent to the nearer shelter before the window, and 2 within it
    near_id = decode_id("Shelter", two_shelters[NEAR])
    window = timedelta(minutes=settings.route_load_window_minutes)
    for issued_at, size in ((utcnow() - window - timedelta(minutes=1), 40), (utcnow(), 2)):
        await repository.assign(
            session, shelter_id=near_id, party_size=size, issued_at=issued_at, requester_key=None
        )
    await session.commit()

    # when someone asks for a route there
    result = await route(gql, **{"from": point(*DISTRICT), "toShelterId": two_shelters[NEAR]})

    # then only the recent people count, and the old row is gone
    assert result["shelterLoad"]["planned"] == 2
    sizes = await session.scalars(
        select(RouteAssignment.party_size).where(RouteAssignment.shelter_id == near_id)
    )
    assert sorted(sizes) == [1, 2]


# --------------------------------------------------------------------------- checked in


async def test_people_checked_in_count_while_their_event_is_open(
    gql: GraphQLClient, token: Any, two_shelters: dict[str, str]
) -> None:
    # given an open event and the nearer shelter open, with room for 3
    near = two_shelters[NEAR]
    await set_shelter(gql, token, near, status="OPEN", capacity=3)
    staff = token("staff", roles=STAFF)
    opened = await gql(
        OPEN_EVENT, {"input": {"name": "豪雨", "municipalityCodes": [AIZU]}}, token=staff
    )
    event_id = opened["data"]["openDisasterEvent"]["event"]["id"]

    # when a resident answers "evacuated to" it (which checks her in as well)
    body = await gql(
        SAFETY_CHECK_IN,
        {"input": {"eventId": event_id, "status": "EVACUATED_TO_SHELTER", "shelterId": near}},
        token=token("checked-in"),
        operation_name="ReportSafety",
    )
    assert body["data"]["reportSafety"]["errors"] == [], body

    # then routes count her once (her answer and her stay are the same person)
    origin = point(*DISTRICT)
    first = await route(gql, **{"from": origin, "toShelterId": near})
    assert first["shelterLoad"]["checkedIn"] == 1
    assert first["shelterLoad"]["expected"] == 1 + 1
    # the reception's count is taken when it is larger (people without the app) ...
    await set_shelter(gql, token, near, occupancy=2)
    crowded = await route(gql, **{"from": origin, "toShelterId": near})
    assert crowded["shelterLoad"]["checkedIn"] == 2
    # ... and the answers when they are (the count was reset, the answer stands)
    await set_shelter(gql, token, near, occupancy=0)
    reset = await route(gql, **{"from": origin, "toShelterId": near})
    assert reset["shelterLoad"]["checkedIn"] == 1
    # a nearest-shelter route now finds it full: 3 planned + 1 checked in + 1 > 3
    nearest = await route(gql, **{"from": origin})
    assert destination(nearest, two_shelters) == NEAR  # only open shelters count now ...
    assert nearest["shelterLoad"]["overCapacity"] is True  # ... and it is over capacity

    # when the event closes, its answers no longer count
    closed = await gql(CLOSE_EVENT, {"id": event_id}, token=staff)
    assert closed["data"]["closeDisasterEvent"]["errors"] == []
    after = await route(gql, **{"from": origin, "toShelterId": near})
    assert after["shelterLoad"]["checkedIn"] == 0


# --------------------------------------------------------------------------- privacy


async def test_a_route_shows_counts_only_and_stores_no_one_s_identity(
    gql: GraphQLClient,
    token: Any,
    session: AsyncSession,
    settings: Settings,
    two_shelters: dict[str, str],
) -> None:
    # given a resident with a name and a home who is routed to the nearer shelter
    subject = "yamada-taro-subject"
    taro = token(subject, name="山田太郎")
    home = {"kind": "HOME", "label": "山田家", "latitude": 37.49512, "longitude": 139.91507}
    placed = await gql(ADD_PLACE, {"input": home}, token=taro)
    place_id = placed["data"]["addPlace"]["place"]["id"]
    mine = await route(gql, taro, fromPlaceId=place_id, partySize=2)
    assert destination(mine, two_shelters) == NEAR

    # when another resident and an anonymous caller ask for routes there
    seen = [
        await route(gql, token("someone-else"), **{"from": point(*DISTRICT)}),
        await route(gql, **{"from": point(*DISTRICT), "toShelterId": two_shelters[NEAR]}),
    ]

    # then they see how many are heading there ...
    assert [s["shelterLoad"]["planned"] for s in seen] == [2, 3]
    # ... and nothing of who: no name, subject, place, home position or stored key
    key = load.requester_key(settings, subject)
    for answer in seen:
        text = json.dumps(answer, ensure_ascii=False)
        for secret in (subject, "山田", place_id, "37.49512", "139.91507", key, key[:16]):
            assert secret not in text
    # the load has counts and nothing else
    assert set(seen[0]["shelterLoad"]) == {
        "capacity", "planned", "checkedIn", "expected", "overCapacity"
    }  # fmt: skip
    # and the table keeps a keyed hash, never the subject
    rows = (await session.execute(select(RouteAssignment))).scalars().all()
    assert key in {row.requester_key for row in rows}
    for row in rows:
        assert subject not in repr(vars(row))


async def test_the_requester_key_is_a_keyed_hash_of_the_subject(settings: Settings) -> None:
    configured = settings.model_copy(update={"route_load_secret": SecretStr("s" * 32)})
    keys = {load.requester_key(s, "taro") for s in (settings, configured)}
    assert len(keys) == 2 and all(len(k) == 64 and "taro" not in k for k in keys)
    assert load.requester_key(configured, "taro") == load.requester_key(configured, "taro")
