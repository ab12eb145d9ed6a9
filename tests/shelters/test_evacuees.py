"""The reception's evacuee list: who is there, and of each resident only what they consented
to (shelter_registration), for the managers of the shelter's municipality only."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import GraphQLClient
from tests.consent.world import BUNDLE, PERSONAL_DATA, grant
from tests.shelters.checkin_world import (
    ACCESS_LOG,
    AIZU,
    FUKUSHIMA,
    check_in,
    check_out,
    evacuees,
    record_arrival,
    set_status,
)

GYM, SCHOOL, FUKUSHIMA_SHELTER = "DEMO-07202-003", "DEMO-07202-001", "TEST-07201-001"
TO_MANAGERS = {"kind": "ROLE", "role": "shelter_manager"}


@pytest.fixture
async def opened(gql: GraphQLClient, ids: dict[str, str], token: Any) -> dict[str, str]:
    """The gym, the school and the 福島市 shelter open."""
    for common_id, code in ((GYM, AIZU), (SCHOOL, AIZU), (FUKUSHIMA_SHELTER, FUKUSHIMA)):
        manager = token(f"opener-{code}", roles=[("shelter_manager", code)])
        await set_status(gql, manager, ids[common_id], status="OPEN", capacity=50)
    return ids


@pytest.fixture
def tokens(token: Any) -> dict[str, str]:
    return {
        "manager": token("reception-aizu", roles=[("shelter_manager", AIZU)]),
        "staff": token("staff-aizu", roles=[("city_staff", AIZU)]),
        "other_manager": token("reception-fukushima", roles=[("shelter_manager", FUKUSHIMA)]),
        "leader": token("leader-aizu", roles=[("community_leader", AIZU)]),
        "resident": token("neighbour"),
        "hanako": token("ev-hanako", name="はなこ"),
        "taro": token("ev-taro", name="たろう"),
    }


PROFILE = """
mutation($input: UpdateProfileInput!) { updateProfile(input: $input) { errors { field } } }
"""


async def hanako_consents(gql: GraphQLClient, tokens: dict[str, str]) -> None:
    """Hanako's profile, and her consent: name and phone to the shelter she stays at."""
    await gql(
        PROFILE,
        {
            "input": {
                "familyName": "会津",
                "givenName": "花子",
                "phone": "0242-00-0000",
                "address": "会津若松市東栄町1-1",
            }
        },
        token=tokens["hanako"],
    )
    await grant(gql, tokens["hanako"], "shelter_registration", TO_MANAGERS, ["name", "phone"])


def nodes(body: dict[str, Any]) -> list[dict[str, Any]]:
    assert "errors" not in body, body
    return [e["node"] for e in body["data"]["shelterEvacuees"]["edges"]]


async def log_of(gql: GraphQLClient, bearer: str) -> list[dict[str, Any]]:
    body = await gql(ACCESS_LOG, token=bearer)
    return [e["node"] for e in body["data"]["myDataAccessLog"]["edges"]]


async def read_hanako(gql: GraphQLClient, bearer: str) -> dict[str, Any]:
    body = await gql(
        PERSONAL_DATA,
        {"input": {"subject": "ev-hanako", "purpose": "shelter_registration"}},
        token=bearer,
    )
    result: dict[str, Any] = body["data"]["personalData"]
    return result


async def test_the_reception_sees_each_evacuee_as_far_as_they_consented(
    gql: GraphQLClient, tokens: dict[str, str], opened: dict[str, str]
) -> None:
    # given Hanako (consented: name, phone), Taro (consented nothing) and a party without
    # the app, in this order, at the gym
    await hanako_consents(gql, tokens)
    await check_in(gql, tokens["hanako"], shelterId=opened[GYM])
    await check_in(gql, tokens["taro"], shelterId=opened[GYM])
    party = await record_arrival(
        gql, tokens["manager"], shelterId=opened[GYM], label="山田さん一家", partySize=3
    )
    assert party["errors"] == []
    # when the gym's reception opens its list
    body = await evacuees(gql, tokens["manager"], opened[GYM])
    # then everyone is there, newest first, with time and how
    assert body["data"]["shelter"]["occupancy"] == 5
    listed = nodes(body)
    assert [(n["how"], n["partySize"], n["registered"], n["label"]) for n in listed] == [
        ("MANAGER", 3, False, "山田さん一家"),
        ("SELF", 1, True, None),
        ("SELF", 1, True, None),
    ]
    assert all(n["checkedInAt"] for n in listed)
    # and only Hanako's consented items are shown; Taro and the party show no person
    assert listed[0]["person"] is None and listed[1]["person"] is None
    person = listed[2]["person"]
    assert {i["item"]: i["value"] for i in person["items"]} == {
        "name": "会津 花子",
        "phone": "0242-00-0000",
    }
    assert set(person["refusedItems"]) == {"kana", "age", "gender", "address", "household"}
    # and the read is in Hanako's access log, nothing in Taro's
    assert await log_of(gql, tokens["hanako"]) == [
        {
            "viewerSubject": "reception-aizu",
            "relationship": "shelter_manager",
            "purposeCode": "shelter_registration",
            "itemCodes": ["name", "phone"],
        }
    ]
    assert await log_of(gql, tokens["taro"]) == []
    # and the municipality's staff see the same
    staff_view = nodes(await evacuees(gql, tokens["staff"], opened[GYM]))
    assert [n["person"] is not None for n in staff_view] == [False, False, True]


@pytest.mark.parametrize(
    ("viewer", "code"),
    [
        ("other_manager", "NOT_PERMITTED"),
        ("leader", "NOT_PERMITTED"),
        ("resident", "NOT_PERMITTED"),
        ("hanako", "NOT_PERMITTED"),
        (None, "UNAUTHENTICATED"),
    ],
)
async def test_nobody_else_sees_the_list(
    gql: GraphQLClient,
    tokens: dict[str, str],
    opened: dict[str, str],
    viewer: str | None,
    code: str,
) -> None:
    # given Hanako, consenting, at the gym
    await hanako_consents(gql, tokens)
    await check_in(gql, tokens["hanako"], shelterId=opened[GYM])
    # when anyone but the gym's municipality asks for its list
    body = await evacuees(gql, tokens[viewer] if viewer else None, opened[GYM])
    # then it is refused, and nothing was read
    assert body["data"] is None or body["data"].get("shelterEvacuees") is None
    assert body["errors"][0]["extensions"]["code"] == code
    assert await log_of(gql, tokens["hanako"]) == []


async def test_a_manager_sees_nothing_of_someone_not_in_their_shelters(
    gql: GraphQLClient, tokens: dict[str, str], opened: dict[str, str]
) -> None:
    # given Hanako, consenting, not checked in anywhere
    await hanako_consents(gql, tokens)
    # then no manager may read her
    for viewer in ("manager", "staff", "other_manager"):
        assert (await read_hanako(gql, tokens[viewer]))["__typename"] == "AccessDenied"
    # when she checks in at the gym (会津若松市)
    await check_in(gql, tokens["hanako"], shelterId=opened[GYM])
    # then 会津若松市's reception may read what she consented to, 福島市's may not
    assert (await read_hanako(gql, tokens["manager"]))["__typename"] == "PersonalData"
    assert (await read_hanako(gql, tokens["other_manager"]))["__typename"] == "AccessDenied"
    # and the school's list (same municipality, another shelter) does not have her
    assert nodes(await evacuees(gql, tokens["manager"], opened[SCHOOL])) == []
    # when she moves on to a shelter in 福島市
    await check_in(gql, tokens["hanako"], shelterId=opened[FUKUSHIMA_SHELTER])
    # then it is the other way round
    assert (await read_hanako(gql, tokens["manager"]))["__typename"] == "AccessDenied"
    assert (await read_hanako(gql, tokens["other_manager"]))["__typename"] == "PersonalData"
    assert nodes(await evacuees(gql, tokens["manager"], opened[GYM])) == []
    # and once she leaves, nobody may
    await check_out(gql, tokens["hanako"])
    assert (await read_hanako(gql, tokens["other_manager"]))["__typename"] == "AccessDenied"
    assert nodes(await evacuees(gql, tokens["other_manager"], opened[FUKUSHIMA_SHELTER])) == []


async def test_pages_read_only_the_evacuees_they_show(
    gql: GraphQLClient, token: Any, tokens: dict[str, str], opened: dict[str, str]
) -> None:
    # given three consenting residents checked in one after the other
    people = [token(f"page-{i}") for i in range(3)]
    for bearer in people:
        await grant(gql, bearer, "shelter_registration", TO_MANAGERS, ["name"])
        await check_in(gql, bearer, shelterId=opened[GYM])
    # when the reception reads a page of two
    first = await evacuees(gql, tokens["manager"], opened[GYM], first=2)
    page = first["data"]["shelterEvacuees"]
    assert len(page["edges"]) == 2 and page["pageInfo"]["hasNextPage"] is True
    # then the first to arrive (not on the page) was not read
    assert await log_of(gql, people[0]) == []
    assert len(await log_of(gql, people[2])) == 1
    # and the next page has them, and only them
    rest = await evacuees(
        gql, tokens["manager"], opened[GYM], first=2, after=page["pageInfo"]["endCursor"]
    )
    page = rest["data"]["shelterEvacuees"]
    assert len(page["edges"]) == 1 and page["pageInfo"]["hasNextPage"] is False
    assert len(await log_of(gql, people[0])) == 1
    assert len(await log_of(gql, people[1])) == 1


@pytest.mark.parametrize(
    ("page", "code", "field"),
    [
        ({"first": 0}, "VALIDATION", "first"),
        ({"first": 101}, "VALIDATION", "first"),
        ({"after": "not-a-cursor"}, "VALIDATION", "after"),
        ({"shelterId": "not-an-id"}, "NOT_FOUND", "shelterId"),
    ],
)
async def test_bad_arguments_are_typed_errors(
    gql: GraphQLClient,
    tokens: dict[str, str],
    opened: dict[str, str],
    page: dict[str, Any],
    code: str,
    field: str,
) -> None:
    shelter_id = page.pop("shelterId", opened[GYM])
    body = await evacuees(gql, tokens["manager"], shelter_id, **page)
    extensions = body["errors"][0]["extensions"]
    assert (extensions["code"], extensions["field"]) == (code, field)


async def test_the_registration_bundle_can_be_granted(
    gql: GraphQLClient, tokens: dict[str, str], opened: dict[str, str]
) -> None:
    # given the catalog offers the shelter registration bundle
    body = await gql("{ consentCatalog { bundles { code available } relationships { code } } }")
    catalog = body["data"]["consentCatalog"]
    assert {"code": "shelter_registration_basic", "available": True} in catalog["bundles"]
    assert {"code": "shelter_manager"} in catalog["relationships"]
    # when Hanako accepts it and checks in
    accepted = await gql(BUNDLE, {"bundle": "shelter_registration_basic"}, token=tokens["hanako"])
    consents = accepted["data"]["grantBundledConsent"]["consents"]
    assert [c["recipient"]["role"] for c in consents] == ["shelter_manager"]
    await check_in(gql, tokens["hanako"], shelterId=opened[GYM])
    # then the reception sees every item of the bundle
    [evacuee] = nodes(await evacuees(gql, tokens["manager"], opened[GYM]))
    assert {i["item"] for i in evacuee["person"]["items"]} == {
        "name",
        "kana",
        "age",
        "gender",
        "address",
        "phone",
        "household",
    }
