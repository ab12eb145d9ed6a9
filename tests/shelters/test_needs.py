"""Shelter needs: managers post and close them; everyone sees the open ones on the shelter."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from backend.api.ids import encode_id
from backend.shelters import needs as needs_service
from tests.conftest import GraphQLClient
from tests.shelters.checkin_world import (
    AIZU,
    FUKUSHIMA,
    NEEDS_DOC,
    SHELTERS_DOC,
    check_in,
    my_stay,
    set_status,
)

GYM = "DEMO-07202-003"
NEAR_GYM = {"latitude": 37.4885, "longitude": 139.9402}


async def post(gql: GraphQLClient, bearer: str | None, **input: Any) -> dict[str, Any]:
    body = await gql(NEEDS_DOC, {"input": input}, token=bearer, operation_name="PostShelterNeed")
    result: dict[str, Any] = body["data"]["postShelterNeed"]
    return result


async def update(gql: GraphQLClient, bearer: str, **input: Any) -> dict[str, Any]:
    body = await gql(NEEDS_DOC, {"input": input}, token=bearer, operation_name="UpdateShelterNeed")
    result: dict[str, Any] = body["data"]["updateShelterNeed"]
    return result


async def listed(gql: GraphQLClient, shelter_id: str, **variables: Any) -> list[dict[str, Any]]:
    body = await gql(
        NEEDS_DOC, {"shelterId": shelter_id, **variables}, operation_name="ShelterNeeds"
    )
    result: list[dict[str, Any]] = body["data"]["shelterNeeds"]
    return result


def error(payload: dict[str, Any]) -> list[tuple[str, str | None]]:
    assert payload["need"] is None, payload
    return [(e["code"], e["field"]) for e in payload["errors"]]


async def test_managers_post_needs_everyone_sees_and_they_close_them(
    gql: GraphQLClient, token: Any, ids: dict[str, str], manager: str
) -> None:
    # given the gym's reception posts two needs
    water = await post(
        gql,
        manager,
        shelterId=ids[GYM],
        kind="SUPPLIES",
        textJa="飲料水（500mlペットボトル）",
        textEn="Drinking water (500 ml bottles)",
        quantity=200,
    )
    assert water["errors"] == []
    assert water["need"]["kind"] == "SUPPLIES" and water["need"]["state"] == "OPEN"
    helpers = await post(
        gql, manager, shelterId=ids[GYM], kind="VOLUNTEERS", textJa="配膳の手伝い\n夕方から"
    )
    assert helpers["need"]["textEn"] is None and helpers["need"]["quantity"] is None
    # then anyone sees them, newest first: in the list, on the shelter, and in nearest search
    anyone = await listed(gql, ids[GYM])
    assert [n["textJa"] for n in anyone] == [
        "配膳の手伝い\n夕方から",
        "飲料水（500mlペットボトル）",
    ]
    detail = await gql(SHELTERS_DOC, {"id": ids[GYM]}, operation_name="Shelter")
    assert [n["id"] for n in detail["data"]["shelter"]["needs"]] == [n["id"] for n in anyone]
    nearest = await gql(SHELTERS_DOC, {"near": NEAR_GYM}, operation_name="NearestShelters")
    by_id = {s["id"]: s["needs"] for s in nearest["data"]["shelters"]}
    assert len(by_id[ids[GYM]]) == 2 and by_id[ids["DEMO-07202-001"]] == []
    # and so does a resident staying there
    resident = token("evacuee")
    await set_status(gql, manager, ids[GYM], status="OPEN")
    await check_in(gql, resident, shelterId=ids[GYM])
    stay = await my_stay(gql, resident)
    assert stay is not None and len(stay["shelter"]["needs"]) == 2
    # when the water arrives
    done = await update(gql, manager, needId=water["need"]["id"], state="FULFILLED")
    assert done["errors"] == [] and done["need"]["state"] == "FULFILLED"
    assert done["need"]["quantity"] == 200
    # then it is no longer asked for, but is on record
    assert [n["id"] for n in await listed(gql, ids[GYM])] == [helpers["need"]["id"]]
    everything = await listed(gql, ids[GYM], includeClosed=True)
    assert [(n["id"], n["state"]) for n in everything] == [
        (helpers["need"]["id"], "OPEN"),
        (water["need"]["id"], "FULFILLED"),
    ]
    # and the quantity of a need can change or be cleared
    fewer = await update(gql, manager, needId=helpers["need"]["id"], quantity=5)
    assert (fewer["need"]["quantity"], fewer["need"]["state"]) == (5, "OPEN")
    cleared = await update(gql, manager, needId=helpers["need"]["id"], quantity=None)
    assert cleared["need"]["quantity"] is None


@pytest.mark.parametrize(
    ("roles", "code"),
    [
        ([("shelter_manager", FUKUSHIMA)], "NOT_PERMITTED"),
        ([("city_staff", FUKUSHIMA)], "NOT_PERMITTED"),
        ([("community_leader", AIZU)], "NOT_PERMITTED"),
        ([], "NOT_PERMITTED"),
        ([("city_staff", AIZU)], None),
    ],
    ids=["other-manager", "other-staff", "leader", "resident", "staff"],
)
async def test_only_the_municipality_posts_and_updates(
    gql: GraphQLClient,
    token: Any,
    ids: dict[str, str],
    manager: str,
    roles: Any,
    code: str | None,
) -> None:
    someone = token("someone", roles=roles)
    posted = await post(gql, someone, shelterId=ids[GYM], kind="OTHER", textJa="毛布")
    existing = await post(gql, manager, shelterId=ids[GYM], kind="OTHER", textJa="タオル")
    changed = await update(gql, someone, needId=existing["need"]["id"], state="WITHDRAWN")
    if code is None:
        assert posted["errors"] == [] and changed["errors"] == []
        return
    assert error(posted) == [(code, None)] and error(changed) == [(code, None)]
    assert [n["textJa"] for n in await listed(gql, ids[GYM])] == ["タオル"]


async def test_anonymous_callers_must_sign_in(gql: GraphQLClient, ids: dict[str, str]) -> None:
    body = await gql(
        "mutation($input: PostShelterNeedInput!) { postShelterNeed(input: $input)"
        " { errors { code } } }",
        {"input": {"shelterId": ids[GYM], "kind": "OTHER", "textJa": "毛布"}},
        expect_errors=True,
    )
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


@pytest.mark.parametrize(
    ("input", "expected"),
    [
        ({"textJa": ""}, [("VALIDATION", "textJa")]),
        ({"textJa": "あ" * 501}, [("VALIDATION", "textJa")]),
        ({"textJa": "毛布\u0000"}, [("VALIDATION", "textJa")]),
        ({"textEn": "x" * 501}, [("VALIDATION", "textEn")]),
        ({"quantity": 0}, [("VALIDATION", "quantity")]),
        ({"quantity": 1_000_001}, [("VALIDATION", "quantity")]),
        (
            {"textJa": " ", "quantity": -1},
            [("VALIDATION", "textJa"), ("VALIDATION", "quantity")],
        ),
        ({"shelterId": "bm9wZQ"}, [("NOT_FOUND", "shelterId")]),
    ],
    ids=["empty", "long", "control", "long-en", "zero", "huge", "both", "bad-shelter"],
)
async def test_bad_needs_are_typed_errors(
    gql: GraphQLClient,
    ids: dict[str, str],
    manager: str,
    input: dict[str, Any],
    expected: Any,
) -> None:
    payload = await post(
        gql, manager, **{"shelterId": ids[GYM], "kind": "SUPPLIES", "textJa": "毛布", **input}
    )
    assert error(payload) == expected
    assert await listed(gql, ids[GYM]) == []


async def test_bad_updates_and_ids_are_typed_errors(
    gql: GraphQLClient, token: Any, ids: dict[str, str], manager: str
) -> None:
    posted = await post(gql, manager, shelterId=ids[GYM], kind="SUPPLIES", textJa="毛布")
    need_id = posted["need"]["id"]
    assert error(await update(gql, manager, needId=need_id, state=None)) == [
        ("VALIDATION", "state")
    ]
    assert error(await update(gql, manager, needId=need_id, quantity=0)) == [
        ("VALIDATION", "quantity")
    ]
    for bad in ("not-an-id", ids[GYM], encode_id("ShelterNeed", uuid.uuid4())):
        assert error(await update(gql, manager, needId=bad, state="FULFILLED")) == [
            ("NOT_FOUND", "needId")
        ]
    # needs are public, so a manager of another municipality is told they may not change it
    other = token("reception-fukushima", roles=[("shelter_manager", FUKUSHIMA)])
    assert error(await update(gql, other, needId=need_id, state="FULFILLED")) == [
        ("NOT_PERMITTED", None)
    ]
    # and the list of an unknown shelter is a typed error too
    body = await gql(
        NEEDS_DOC, {"shelterId": "bm9wZQ"}, operation_name="ShelterNeeds", expect_errors=True
    )
    extensions = body["errors"][0]["extensions"]
    assert (extensions["code"], extensions["field"]) == ("NOT_FOUND", "shelterId")


async def test_open_needs_per_shelter_are_capped(
    gql: GraphQLClient, ids: dict[str, str], manager: str, monkeypatch: Any
) -> None:
    # given a shelter at the cap of open needs
    monkeypatch.setattr(needs_service, "MAX_OPEN_NEEDS", 2)
    first = await post(gql, manager, shelterId=ids[GYM], kind="OTHER", textJa="一")
    await post(gql, manager, shelterId=ids[GYM], kind="OTHER", textJa="二")
    # when a third is posted: refused
    assert error(await post(gql, manager, shelterId=ids[GYM], kind="OTHER", textJa="三")) == [
        ("LIMIT_EXCEEDED", None)
    ]
    # when one is closed, another may be posted, and the closed one not reopened past the cap
    await update(gql, manager, needId=first["need"]["id"], state="FULFILLED")
    assert (await post(gql, manager, shelterId=ids[GYM], kind="OTHER", textJa="三"))["errors"] == []
    reopened = await update(gql, manager, needId=first["need"]["id"], state="OPEN")
    assert error(reopened) == [("LIMIT_EXCEEDED", None)]
