"""Who sees what of Hanako: every role x every purpose x every item, through GraphQL.

The table EXPECTED is the specification: for each viewer, the items of each purpose they may
read. Everything else must be refused — as `refusedItems` when some items are readable, or
as AccessDenied when none is — and an unknown person must look exactly like a refusal.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from backend.consent.catalog import PURPOSES
from tests.conftest import GraphQLClient, savepoint_per_test, shared_world, token_maker
from tests.consent.world import (
    CARE_ITEMS,
    CARE_MANAGER_ITEMS,
    CHECK_IN,
    PERSONAL_DATA,
    PREFILL_ITEMS,
    SHELTER_ITEMS,
    SUPPORTER_ITEMS,
    World,
    build_world,
)
from tests.shelters.checkin_world import set_status

ALL_ITEMS_OF = {p.code: set(p.items) for p in PURPOSES}

EXPECTED: dict[str, dict[str, set[str]]] = {
    # Hanako reads everything of her own, for every purpose
    "self": {code: items for code, items in ALL_ITEMS_OF.items()},
    # Taro (family): her name, safety answers, home and shared position; her age and supply
    # needs (pets, medication, diet) for the household's supplies list, not her gender
    "family": {
        "family_safety": {"name", "safety_status"},
        "family_location": {"home_place", "current_location"},
        "household_supplies": {"age", "supply_needs"},
    },
    # the town-association leader: what Hanako chose for the community
    "leader": {"community_safety": {"name", "age", "address", "phone", "safety_status"}},
    # the leader of another town association of the same city: nothing
    "other_leader": {},
    # city staff of Hanako's municipality: all of plan support, beyond what she chose for
    # them (PLAN_STAFF_ITEMS), because her plan is the municipality's own record (law, logged
    # as law:municipal_plan_record); and (they run the reception of its shelters) what she
    # chose for the shelter she stays at; and what she lets fill in the applications she
    # sends to the city (not her household; staff of another city get none of it)
    "staff_same": {
        "plan_support": ALL_ITEMS_OF["plan_support"],
        "shelter_registration": set(SHELTER_ITEMS),
        "application_prefill": set(PREFILL_ITEMS),
    },
    # the supporter her approved plan names: what she chose for supporters (no health notes)
    "supporter": {"plan_support": set(SUPPORTER_ITEMS)},
    # her care manager, named in her proxy consent: what she chose for them
    "care_manager": {"plan_support": set(CARE_MANAGER_ITEMS)},
    # the managers of 会津若松市's shelters, one of which Hanako is checked in at
    "shelter_manager": {"shelter_registration": set(SHELTER_ITEMS)},
    # a registered care service named in her care-linkage consent
    "client_with": {"care_linkage": set(CARE_ITEMS)},
    # everyone else sees nothing at all
    "stranger": {},
    "staff_other": {},
    "shelter_manager_other": {},
    "client_without": {},
    "client_expired": {},
    "client_revoked": {},
    "client_unregistered": {},
    # a supporter named in someone else's plan, and a care manager she did not name
    "supporter_other": {},
    "care_manager_other": {},
}
CASES = [(viewer, purpose) for viewer in EXPECTED for purpose in ALL_ITEMS_OF]


@pytest.fixture(scope="module")
async def module_world(engine, settings, verifier):  # type: ignore[no-untyped-def]
    """Hanako's world, built once for the whole table (every viewer x purpose)."""
    async with shared_world(engine, settings, verifier) as (database, api):
        async with database.session() as session:
            world = await build_world(api, token_maker(verifier), session)
        yield database, api, world


@pytest.fixture
async def world(module_world) -> AsyncIterator[World]:  # type: ignore[no-untyped-def]
    database, _, built = module_world
    async with savepoint_per_test(database):
        yield built


@pytest.fixture
def gql(module_world) -> GraphQLClient:  # type: ignore[no-untyped-def]
    """The module's API client (the world lives in its transaction)."""
    return module_world[1]


async def test_the_table_covers_every_item_of_the_catalog(gql) -> None:  # type: ignore[no-untyped-def]
    body = await gql("{ consentCatalog { items { code } purposes { code itemCodes } } }")
    catalog = body["data"]["consentCatalog"]
    items = {i["code"] for i in catalog["items"]}
    covered = {i for p in catalog["purposes"] for i in p["itemCodes"]}
    assert covered == items, "every data item must be reachable through some purpose"
    assert {p["code"] for p in catalog["purposes"]} == set(ALL_ITEMS_OF)
    assert len(items) == 16


@pytest.mark.parametrize(("viewer", "purpose"), CASES, ids=[f"{v}-{p}" for v, p in CASES])
async def test_visibility(gql, world: World, viewer: str, purpose: str) -> None:  # type: ignore[no-untyped-def]
    # given Hanako's consents (tests/consent/world.py)
    expected = EXPECTED[viewer].get(purpose, set())
    requested = sorted(ALL_ITEMS_OF[purpose])
    # when the viewer asks for every item of the purpose
    body = await gql(
        PERSONAL_DATA,
        {"input": {"subjectId": world.hanako_id, "purpose": purpose, "items": requested}},
        token=world.tokens[viewer],
    )
    result = body["data"]["personalData"]
    # then exactly the expected items come back, and the rest is refused
    if expected:
        assert result["__typename"] == "PersonalData"
        assert {i["item"] for i in result["items"]} == expected
        assert set(result["refusedItems"]) == set(requested) - expected
    else:
        assert result == {
            "__typename": "AccessDenied",
            "code": "NOT_PERMITTED",
            "message": "no consent covers this data for you and this purpose",
            "messageJa": "この利用目的であなたに提供することへの同意がありません",
        }


@pytest.mark.parametrize("viewer", [v for v in EXPECTED if v != "self"])
async def test_unknown_person_looks_like_a_refusal(gql, world: World, viewer: str) -> None:  # type: ignore[no-untyped-def]
    denied = await gql(
        PERSONAL_DATA,
        {"input": {"subject": "nobody-has-this-subject", "purpose": "family_safety"}},
        token=world.tokens[viewer],
    )
    refused_for_real = await gql(
        PERSONAL_DATA,
        {"input": {"subjectId": world.hanako_id, "purpose": "portal_personalization"}},
        token=world.tokens[viewer],
    )
    assert denied["data"]["personalData"] == refused_for_real["data"]["personalData"]
    garbage_id = await gql(
        PERSONAL_DATA,
        {"input": {"subjectId": "not-an-id", "purpose": "family_safety"}},
        token=world.tokens[viewer],
    )
    assert garbage_id["data"]["personalData"]["__typename"] == "AccessDenied"


async def test_values_are_the_real_ones(gql, world: World) -> None:  # type: ignore[no-untyped-def]
    body = await gql(
        PERSONAL_DATA,
        {"input": {"subjectId": world.hanako_id, "purpose": "community_safety"}},
        token=world.tokens["leader"],
    )
    values = {i["item"]: i["value"] for i in body["data"]["personalData"]["items"]}
    assert values["name"] == "会津 花子"
    assert values["address"] == "会津若松市東栄町1-1"
    assert values["phone"] == "0242-00-0000"
    assert isinstance(values["age"], int) and values["age"] >= 75
    body = await gql(
        PERSONAL_DATA,
        {"input": {"subject": "hanako", "purpose": "plan_support", "items": ["home_place"]}},
        token=world.tokens["staff_same"],
    )
    values = {i["item"]: i["value"] for i in body["data"]["personalData"]["items"]}
    assert values["home_place"] == {"type": "Point", "coordinates": [139.93, 37.49]}


async def test_shelter_managers_see_her_only_while_she_stays_in_their_municipality(  # type: ignore[no-untyped-def]
    gql, world: World
) -> None:
    async def visible(viewer: str) -> set[str]:
        body = await gql(
            PERSONAL_DATA,
            {"input": {"subjectId": world.hanako_id, "purpose": "shelter_registration"}},
            token=world.tokens[viewer],
        )
        result = body["data"]["personalData"]
        return {i["item"] for i in result.get("items", [])}

    # given Hanako moves on from 会津若松市's gym to a shelter in 福島市, opened by its manager
    there = world.shelter_ids["TEST-07201-001"]
    await set_status(gql, world.tokens["shelter_manager_other"], there, status="OPEN")
    body = await gql(
        CHECK_IN,
        {"input": {"shelterId": there}},
        token=world.tokens["self"],
    )
    assert body["data"]["checkInToShelter"]["errors"] == []
    # then 会津若松市 (her own municipality, whose shelters she is not in) sees nothing
    assert await visible("shelter_manager") == set()
    assert await visible("staff_same") == set()
    # and 福島市's managers and staff see what she consented to
    assert await visible("shelter_manager_other") == set(SHELTER_ITEMS)
    assert await visible("staff_other") == set(SHELTER_ITEMS)
    # and once she leaves, no manager does
    body = await gql(
        "mutation { checkOutOfShelter(input: {}) { errors { code } } }",
        token=world.tokens["self"],
    )
    assert body["data"]["checkOutOfShelter"]["errors"] == []
    for viewer in ("shelter_manager", "shelter_manager_other", "staff_same", "staff_other"):
        assert await visible(viewer) == set()


async def test_anonymous_callers_must_sign_in(gql, world: World) -> None:  # type: ignore[no-untyped-def]
    body = await gql(
        PERSONAL_DATA,
        {"input": {"subjectId": world.hanako_id, "purpose": "family_safety"}},
        expect_errors=True,
    )
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_every_read_of_others_is_logged_and_nothing_else(gql, world: World) -> None:  # type: ignore[no-untyped-def]
    log_query = """
    { myDataAccessLog(first: 50) { edges { node {
        viewerKind viewerSubject viewerClientId relationship purposeCode itemCodes } } } }"""
    before = await gql(log_query, token=world.tokens["self"])
    # (building the world logged the reads of her plan by her care manager and city staff)
    earlier = [e["node"] for e in before["data"]["myDataAccessLog"]["edges"]]
    assert {(n["viewerSubject"], n["relationship"]) for n in earlier} == {
        ("cm-yamada", "person"),
        ("staff-aizu", "city_staff,law:municipal_plan_record"),
    }
    # when a permitted read, a refused read and a self read happen
    await gql(
        PERSONAL_DATA,
        {"input": {"subjectId": world.hanako_id, "purpose": "care_linkage", "items": ["name"]}},
        token=world.tokens["client_with"],
    )
    await gql(
        PERSONAL_DATA,
        {"input": {"subjectId": world.hanako_id, "purpose": "care_linkage"}},
        token=world.tokens["client_without"],
    )
    await gql(
        PERSONAL_DATA,
        {"input": {"subjectId": world.hanako_id, "purpose": "care_linkage"}},
        token=world.tokens["self"],
    )
    # then exactly the permitted read by the other party is in Hanako's log
    after = await gql(log_query, token=world.tokens["self"])
    nodes = [e["node"] for e in after["data"]["myDataAccessLog"]["edges"]][: -len(earlier)]
    assert nodes == [
        {
            "viewerKind": "system_client",
            "viewerSubject": "svc-care",
            "viewerClientId": "care-app",
            "relationship": "system_client",
            "purposeCode": "care_linkage",
            "itemCodes": ["name"],
        }
    ]
    # and nobody else can read Hanako's log: each resident sees only their own
    taro_log = await gql(log_query, token=world.tokens["family"])
    assert taro_log["data"]["myDataAccessLog"]["edges"] == []
