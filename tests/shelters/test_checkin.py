"""Shelter check-in through the GraphQL API: self, QR and family check-in, moves, check-out,
closed and full shelters, the reception's arrivals and departures, and bad input."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from backend.api.ids import encode_id
from tests.conftest import GraphQLClient
from tests.shelters.checkin_world import (
    ACCESS_LOG,
    AIZU,
    FUKUSHIMA,
    check_in,
    check_out,
    family,
    my_stay,
    record_arrival,
    record_departure,
    set_status,
    shelter,
)

SCHOOL, GYM, HALL = "DEMO-07202-001", "DEMO-07202-003", "DEMO-07202-004"


@pytest.fixture
async def opened(gql: GraphQLClient, ids: dict[str, str], manager: str) -> dict[str, str]:
    """The demo school, gym and hall open (capacities 250, 400, unknown)."""
    for common_id in (SCHOOL, GYM, HALL):
        await set_status(gql, manager, ids[common_id], status="OPEN")
    return ids


def error(payload: dict[str, Any]) -> tuple[str, str | None]:
    assert payload.get("stay") is None, payload
    [first] = payload["errors"]
    assert first["messageJa"]
    return first["code"], first["field"]


async def test_resident_checks_in_and_out_and_occupancy_follows(
    gql: GraphQLClient, token: Any, opened: dict[str, str]
) -> None:
    # given an open shelter and a resident
    hanako = token("hanako")
    # when she checks in
    payload = await check_in(gql, hanako, shelterId=opened[GYM])
    # then she is counted, and her app shows where she is
    assert payload["errors"] == []
    stay = payload["stay"]
    assert (stay["how"], stay["partySize"], stay["checkedOutAt"]) == ("SELF", 1, None)
    assert stay["shelter"] == {
        "id": opened[GYM],
        "name": "デモ市民体育館（架空）",
        "status": "OPEN",
        "capacity": 400,
        "occupancy": 1,
    }
    mine = await my_stay(gql, hanako)
    assert mine is not None and mine["id"] == stay["id"] and mine["shelter"]["needs"] == []
    # when she leaves
    left = await check_out(gql, hanako)
    # then the count goes down and she is nowhere
    assert left["errors"] == [] and left["stay"]["checkedOutAt"] is not None
    assert left["stay"]["shelter"]["occupancy"] == 0
    assert await my_stay(gql, hanako) is None
    assert error(await check_out(gql, hanako)) == ("NOT_FOUND", None)
    assert (await shelter(gql, opened[GYM]))["occupancy"] == 0


async def test_scanning_the_qr_code_checks_in_once(
    gql: GraphQLClient, token: Any, opened: dict[str, str]
) -> None:
    # given the code posted at the school's entrance
    code = (await shelter(gql, opened[SCHOOL]))["checkInCode"]
    assert code == f"kizuna://shelter/checkin?id={opened[SCHOOL]}"
    taro = token("taro")
    # when Taro scans it twice
    first = await check_in(gql, taro, code=code)
    again = await check_in(gql, taro, code=f"  {code}\n")
    # then he is checked in once, by QR
    assert first["stay"]["how"] == "QR" and again["stay"]["id"] == first["stay"]["id"]
    assert again["stay"]["shelter"]["occupancy"] == 1


async def test_checking_in_elsewhere_moves_the_stay(
    gql: GraphQLClient, token: Any, opened: dict[str, str], manager: str
) -> None:
    # given Hanako at the gym
    hanako = token("hanako")
    await check_in(gql, hanako, shelterId=opened[GYM])
    # when she checks in at the school
    moved = await check_in(gql, hanako, shelterId=opened[SCHOOL])
    # then she left the gym (counted out) and is at the school only
    assert moved["errors"] == []
    assert moved["leftShelter"] == {
        "id": opened[GYM],
        "name": "デモ市民体育館（架空）",
        "occupancy": 0,
        "status": "OPEN",
    }
    assert moved["stay"]["shelter"]["occupancy"] == 1
    mine = await my_stay(gql, hanako)
    assert mine is not None and mine["shelter"]["id"] == opened[SCHOOL]
    assert (await shelter(gql, opened[GYM]))["occupancy"] == 0


async def test_a_family_member_checks_in_and_out_a_consenting_member(
    gql: GraphQLClient, token: Any, opened: dict[str, str]
) -> None:
    # given Hanako's family: Taro shares his name with the family, Yuki does not
    hanako, tokens, members = await family(
        gql, token, "fam-hanako", {"fam-taro": True, "fam-yuki": False}
    )
    # when Hanako checks Taro in
    payload = await check_in(gql, hanako, shelterId=opened[GYM], memberId=members["fam-taro"])
    # then Taro is checked in, as a proxy check-in, and only Taro
    assert payload["errors"] == [] and payload["stay"]["how"] == "PROXY"
    taro_stay = await my_stay(gql, tokens["fam-taro"])
    assert taro_stay is not None and taro_stay["id"] == payload["stay"]["id"]
    assert await my_stay(gql, hanako) is None
    # and the read of Taro's name is in Taro's access log
    log = (await gql(ACCESS_LOG, token=tokens["fam-taro"]))["data"]["myDataAccessLog"]["edges"]
    assert [e["node"] for e in log] == [
        {
            "viewerSubject": "fam-hanako",
            "relationship": "family",
            "purposeCode": "family_safety",
            "itemCodes": ["name"],
        }
    ]
    # when Hanako checks Yuki in, who shares nothing: refused, and nothing changes
    refused = await check_in(gql, hanako, shelterId=opened[GYM], memberId=members["fam-yuki"])
    assert error(refused) == ("NOT_PERMITTED", "memberId")
    assert await my_stay(gql, tokens["fam-yuki"]) is None
    assert (await shelter(gql, opened[GYM]))["occupancy"] == 1
    # when Hanako checks Taro out again
    out = await check_out(gql, hanako, memberId=members["fam-taro"])
    assert out["errors"] == [] and out["stay"]["shelter"]["occupancy"] == 0
    assert await my_stay(gql, tokens["fam-taro"]) is None


async def test_no_proxy_check_in_outside_the_family(
    gql: GraphQLClient, token: Any, opened: dict[str, str]
) -> None:
    # given two families, each member sharing their name with their own family
    _, tokens, members = await family(gql, token, "a-owner", {"a-member": True})
    other, _, other_members = await family(gql, token, "b-owner", {"b-member": True})
    # when the other family's owner names a member of the first family
    refused = await check_in(gql, other, shelterId=opened[GYM], memberId=members["a-member"])
    # then it looks like an unknown member, and nothing changes
    assert error(refused) == ("NOT_FOUND", "memberId")
    assert await my_stay(gql, tokens["a-member"]) is None
    # and a member id that is no FamilyMember at all, or garbage, is the same
    for member_id in (opened[GYM], "not-an-id"):
        payload = await check_in(gql, other, shelterId=opened[GYM], memberId=member_id)
        assert error(payload) == ("NOT_FOUND", "memberId")
    assert (await shelter(gql, opened[GYM]))["occupancy"] is None
    # and checking out someone else's member is refused too
    out = await check_out(gql, tokens["a-member"], memberId=other_members["b-member"])
    assert error(out) == ("NOT_FOUND", "memberId")


async def test_closed_and_full_shelters_refuse_residents_but_not_the_reception(
    gql: GraphQLClient, token: Any, ids: dict[str, str], manager: str
) -> None:
    # given a closed shelter
    closed = await check_in(gql, token("r1"), shelterId=ids[GYM])
    assert error(closed) == ("SHELTER_CLOSED", "shelterId")
    # given it opens with room for two
    await set_status(gql, manager, ids[GYM], status="OPEN", capacity=2)
    first = await check_in(gql, token("r1"), shelterId=ids[GYM])
    assert first["stay"]["shelter"]["status"] == "OPEN"
    second = await check_in(gql, token("r2"), shelterId=ids[GYM])
    # then the second check-in fills it
    assert second["stay"]["shelter"] == {
        "id": ids[GYM],
        "name": "デモ市民体育館（架空）",
        "status": "FULL",
        "capacity": 2,
        "occupancy": 2,
    }
    # and a third resident is sent elsewhere, by id or by code
    assert error(await check_in(gql, token("r3"), shelterId=ids[GYM])) == (
        "SHELTER_FULL",
        "shelterId",
    )
    code = (await shelter(gql, ids[GYM]))["checkInCode"]
    assert error(await check_in(gql, token("r3"), code=code)) == ("SHELTER_FULL", "code")
    assert await my_stay(gql, token("r3")) is None
    # but the reception still records the family at its door
    party = await record_arrival(
        gql, manager, shelterId=ids[GYM], label="山田さん一家", partySize=3
    )
    assert party["errors"] == []
    assert (party["stay"]["how"], party["stay"]["partySize"]) == ("MANAGER", 3)
    assert party["stay"]["shelter"]["occupancy"] == 5
    assert party["stay"]["shelter"]["status"] == "FULL"
    # when people leave it opens again once below capacity
    out = await record_departure(gql, manager, party["stay"]["id"])
    assert (out["stay"]["shelter"]["occupancy"], out["stay"]["shelter"]["status"]) == (2, "FULL")
    out = await check_out(gql, token("r1"))
    assert (out["stay"]["shelter"]["occupancy"], out["stay"]["shelter"]["status"]) == (1, "OPEN")
    # and a shelter closed with people inside lets them check out, and takes nobody in
    await set_status(gql, manager, ids[GYM], status="CLOSED")
    assert error(await check_in(gql, token("r3"), shelterId=ids[GYM])) == (
        "SHELTER_CLOSED",
        "shelterId",
    )
    arrival = await record_arrival(gql, manager, shelterId=ids[GYM], label="後から来た方")
    assert error(arrival) == ("SHELTER_CLOSED", "shelterId")
    out = await check_out(gql, token("r2"))
    assert (out["stay"]["shelter"]["occupancy"], out["stay"]["shelter"]["status"]) == (0, "CLOSED")


async def test_a_manager_full_below_capacity_stays_full(
    gql: GraphQLClient, token: Any, ids: dict[str, str], manager: str
) -> None:
    # given a shelter its manager marked FULL (no room left on the floor) with one evacuee
    await set_status(gql, manager, ids[GYM], status="OPEN", capacity=100)
    await check_in(gql, token("r1"), shelterId=ids[GYM])
    await set_status(gql, manager, ids[GYM], status="FULL")
    # when the evacuee leaves
    out = await check_out(gql, token("r1"))
    # then the manager's FULL stands
    assert (out["stay"]["shelter"]["occupancy"], out["stay"]["shelter"]["status"]) == (0, "FULL")


async def test_the_reception_records_named_residents_and_moves_them(
    gql: GraphQLClient, token: Any, opened: dict[str, str], ids: dict[str, str], manager: str
) -> None:
    # given Hanako checked in at the gym by herself
    hanako = token("rec-hanako")
    await check_in(gql, hanako, shelterId=opened[GYM])
    # when the school's reception records her arrival by her regional-ID subject
    arrival = await record_arrival(gql, manager, shelterId=opened[SCHOOL], subject="rec-hanako")
    # then her stay moved to the school
    assert arrival["errors"] == [] and arrival["stay"]["how"] == "MANAGER"
    assert arrival["leftShelter"] == {"id": opened[GYM], "occupancy": 0, "status": "OPEN"}
    mine = await my_stay(gql, hanako)
    assert mine is not None and mine["id"] == arrival["stay"]["id"]
    # and recording her again changes nothing
    again = await record_arrival(gql, manager, shelterId=opened[SCHOOL], subject="rec-hanako")
    assert again["stay"]["id"] == arrival["stay"]["id"]
    assert again["stay"]["shelter"]["occupancy"] == 1
    # when a manager of another municipality records a departure of that stay: unknown to them
    other = token("reception-fukushima", roles=[("shelter_manager", FUKUSHIMA)])
    assert error(await record_departure(gql, other, arrival["stay"]["id"])) == (
        "NOT_FOUND",
        "stayId",
    )
    # when her own reception records it: she left, once
    out = await record_departure(gql, manager, arrival["stay"]["id"])
    assert out["errors"] == [] and out["stay"]["shelter"]["occupancy"] == 0
    assert error(await record_departure(gql, manager, arrival["stay"]["id"])) == (
        "CONFLICT",
        "stayId",
    )
    assert await my_stay(gql, hanako) is None


@pytest.mark.parametrize(
    ("input", "expected"),
    [
        ({}, [("VALIDATION", "label")]),
        ({"label": "   "}, [("VALIDATION", "label")]),
        ({"label": "x" * 101}, [("VALIDATION", "label")]),
        ({"label": "田中\u202eさん"}, [("VALIDATION", "label")]),
        ({"label": "田中さん", "partySize": 0}, [("VALIDATION", "partySize")]),
        ({"label": "田中さん", "partySize": 501}, [("VALIDATION", "partySize")]),
        (
            {"subject": "s" * 300, "partySize": -1},
            [("VALIDATION", "subject"), ("VALIDATION", "partySize")],
        ),
        ({"subject": "nobody-has-this"}, [("NOT_FOUND", "subject")]),
        ({"label": "田中さん", "shelterId": "bm9wZQ"}, [("NOT_FOUND", "shelterId")]),
    ],
    ids=[
        "nothing",
        "blank",
        "long",
        "bidi",
        "zero",
        "too-many",
        "all-at-once",
        "unknown",
        "bad-shelter",
    ],  # fmt: skip
)
async def test_bad_arrivals_are_typed_errors(
    gql: GraphQLClient, opened: dict[str, str], manager: str, input: dict[str, Any], expected: Any
) -> None:
    payload = await record_arrival(gql, manager, **{"shelterId": opened[GYM], **input})
    assert payload["stay"] is None
    assert [(e["code"], e["field"]) for e in payload["errors"]] == expected
    assert (await shelter(gql, opened[GYM]))["occupancy"] is None


@pytest.mark.parametrize(
    ("roles", "code"),
    [
        ([("shelter_manager", FUKUSHIMA)], "NOT_PERMITTED"),
        ([("city_staff", FUKUSHIMA)], "NOT_PERMITTED"),
        ([("community_leader", AIZU)], "NOT_PERMITTED"),
        ([], "NOT_PERMITTED"),
        ([("city_staff", AIZU)], None),
        ([("city_admin", AIZU)], None),
    ],
    ids=["other-manager", "other-staff", "leader", "resident", "staff", "admin"],
)
async def test_only_the_municipality_records_arrivals(
    gql: GraphQLClient, token: Any, opened: dict[str, str], roles: Any, code: str | None
) -> None:
    payload = await record_arrival(
        gql, token("someone", roles=roles), shelterId=opened[GYM], label="田中さん"
    )
    if code is None:
        assert payload["errors"] == []
    else:
        assert error(payload) == (code, None)
        assert (await shelter(gql, opened[GYM]))["occupancy"] is None


async def test_anonymous_callers_must_sign_in(gql: GraphQLClient, opened: dict[str, str]) -> None:
    for operation, input in (
        ("CheckInToShelter", {"shelterId": opened[GYM]}),
        ("RecordShelterArrival", {"shelterId": opened[GYM], "label": "田中さん"}),
    ):
        document = (
            "mutation($input: CheckInToShelterInput!) { checkInToShelter(input: $input)"
            " { errors { code } } }"
            if operation == "CheckInToShelter"
            else "mutation($input: RecordShelterArrivalInput!) {"
            " recordShelterArrival(input: $input) { errors { code } } }"
        )
        body = await gql(document, {"input": input}, expect_errors=True)
        assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    body = await gql("{ myShelterStay { id } }", expect_errors=True)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


@pytest.mark.parametrize(
    ("input", "expected"),
    [
        ({}, ("VALIDATION", "shelterId")),
        ({"code": "CODE", "shelterId": "SHELTER"}, ("VALIDATION", "shelterId")),
        ({"code": "hello"}, ("VALIDATION", "code")),
        ({"code": ""}, ("VALIDATION", "code")),
        ({"code": "kizuna://family/join?code=ABCDEFGHJK"}, ("VALIDATION", "code")),
        ({"code": "https://shelter/checkin?id=SHELTER"}, ("VALIDATION", "code")),
        ({"code": "kizuna://shelter/checkin?id=SHELTER&id=SHELTER"}, ("VALIDATION", "code")),
        ({"code": "kizuna://shelter/checkin?id=SHELTER&x=1"}, ("VALIDATION", "code")),
        ({"code": "kizuna://shelter/checkin?id="}, ("VALIDATION", "code")),
        ({"code": "kizuna://shelter/checkin?id=COMMUNITY"}, ("VALIDATION", "code")),
        ({"code": "kizuna://shelter/checkin?id=%%%"}, ("VALIDATION", "code")),
        ({"code": "kizuna://shelter/checkin?id=SHELTER" + "x" * 400}, ("VALIDATION", "code")),
        ({"code": "kizuna://shelter/checkin?id=UNKNOWN"}, ("NOT_FOUND", "code")),
        ({"shelterId": "not-an-id"}, ("NOT_FOUND", "shelterId")),
        ({"shelterId": "COMMUNITY"}, ("NOT_FOUND", "shelterId")),
        ({"shelterId": "UNKNOWN"}, ("NOT_FOUND", "shelterId")),
    ],
    ids=[
        "neither",
        "both",
        "not-a-url",
        "empty",
        "family-code",
        "other-scheme",
        "two-ids",
        "extra-field",
        "empty-id",
        "community-id",
        "garbage-id",
        "oversized",
        "unknown-shelter",
        "bad-id",
        "foreign-id",
        "unknown-id",
    ],  # fmt: skip
)
async def test_bad_codes_and_ids_are_typed_errors(
    gql: GraphQLClient, token: Any, opened: dict[str, str], input: dict[str, str], expected: Any
) -> None:
    # given the placeholders spelled out
    real = opened[GYM]
    values = {
        "SHELTER": real,
        "COMMUNITY": encode_id("Community", uuid.uuid4()),
        "UNKNOWN": encode_id("Shelter", uuid.uuid4()),
    }
    for key in list(input):
        for placeholder, value in values.items():
            input[key] = input[key].replace(placeholder, value)
    bearer = token("scanner")
    # when the app sends it
    payload = await check_in(gql, bearer, **input)
    # then a typed error names the field, and nobody is checked in
    assert error(payload) == expected
    assert await my_stay(gql, bearer) is None
    assert (await shelter(gql, real))["occupancy"] is None
