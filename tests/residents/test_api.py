"""Resident sign-in, profile and places through the GraphQL API."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import h3
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.municipalities import service as municipality_service
from backend.residents.models import Place, Resident
from tests.shared_data import require_shared

ME = "{ me { id displayName municipalityChosen homeMunicipality { code } places { id kind } } }"
UPDATE_PROFILE = """
mutation($input: UpdateProfileInput!) {
  updateProfile(input: $input) {
    me { displayName familyName givenName familyNameKana givenNameKana birthDate gender phone
         address preferredLanguage municipalityChosen homeMunicipality { code nameJa } }
    errors { code field message messageJa }
  }
}"""
ADD_PLACE = """
mutation($input: AddPlaceInput!) {
  addPlace(input: $input) {
    place { id kind label address latitude longitude location municipalityCode }
    errors { code field message messageJa }
  }
}"""
UPDATE_PLACE = """
mutation($input: UpdatePlaceInput!) {
  updatePlace(input: $input) {
    place { id kind label latitude longitude municipalityCode }
    errors { code field message }
  }
}"""
REMOVE_PLACE = """
mutation($input: RemovePlaceInput!) {
  removePlace(input: $input) { removedId errors { code field message } }
}"""

CASTLE = {"latitude": 37.4876, "longitude": 139.9298}  # 鶴ヶ城, inside 会津若松市


async def count(session: AsyncSession, model: Any) -> int:
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_first_sign_in_creates_the_resident_once(gql, token, session) -> None:  # type: ignore[no-untyped-def]
    # given a new subject
    bearer = token("first-timer", name="初めて 太郎")
    # when me is asked twice
    first = await gql(ME, token=bearer)
    second = await gql(ME, token=bearer)
    # then one record exists, named from the token, with no places yet
    assert first["data"]["me"]["id"] == second["data"]["me"]["id"]
    assert first["data"]["me"]["displayName"] == "初めて 太郎"
    assert first["data"]["me"]["places"] == []
    assert (
        await session.scalar(
            select(func.count()).select_from(Resident).where(Resident.subject == "first-timer")
        )
        == 1
    )


async def test_system_client_is_not_a_resident(gql, token) -> None:  # type: ignore[no-untyped-def]
    body = await gql(ME, token=token("svc", client_id="care-app"), expect_errors=True)
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert "resident sign-in" in body["errors"][0]["message"]


async def test_update_profile_sets_every_field(gql, token) -> None:  # type: ignore[no-untyped-def]
    bearer = token("profile-user")
    body = await gql(
        UPDATE_PROFILE,
        {
            "input": {
                "displayName": " 花子 ",
                "familyName": "会津",
                "givenName": "花子",
                "familyNameKana": "アイヅ",
                "givenNameKana": "はなこ",
                "birthDate": "1985-04-01",
                "gender": "FEMALE",
                "phone": "0242-39-1111",
                "address": "福島県会津若松市東栄町3-46",
                "preferredLanguage": "EN",
                "municipalityCode": "072028",
            }
        },
        token=bearer,
    )
    payload = body["data"]["updateProfile"]
    assert payload["errors"] == []
    assert payload["me"] == {
        "displayName": "花子",
        "familyName": "会津",
        "givenName": "花子",
        "familyNameKana": "アイヅ",
        "givenNameKana": "ハナコ",  # フリガナ are kept in katakana
        "birthDate": "1985-04-01",
        "gender": "FEMALE",
        "phone": "0242-39-1111",
        "address": "福島県会津若松市東栄町3-46",
        "preferredLanguage": "EN",
        "municipalityChosen": True,
        "homeMunicipality": {"code": "07202", "nameJa": "会津若松市"},
    }
    # omitted fields stay, null clears
    body = await gql(UPDATE_PROFILE, {"input": {"phone": None}}, token=bearer)
    me = body["data"]["updateProfile"]["me"]
    assert me["phone"] is None and me["familyName"] == "会津"


@pytest.mark.parametrize(
    ("profile", "field"),
    [
        ({"displayName": ""}, "displayName"),  # the name family members see cannot vanish
        ({"displayName": "   "}, "displayName"),
        ({"displayName": None}, "displayName"),
        ({"displayName": "花子\u0000"}, "displayName"),  # NUL
        ({"displayName": "花子\u202e子花"}, "displayName"),  # bidi override (spoofing)
        ({"displayName": "花\u200b子"}, "displayName"),  # zero-width space
        ({"familyName": "\ufeff会津"}, "familyName"),  # byte-order mark
        ({"familyNameKana": "Aizu"}, "familyNameKana"),
        ({"givenNameKana": "花子"}, "givenNameKana"),
    ],
)
async def test_profile_text_is_refused_when_blank_or_hiding_characters(
    gql, token, profile, field
) -> None:  # type: ignore[no-untyped-def]
    bearer = token("tricky-profile", name="元の名前")
    body = await gql(
        "mutation($input: UpdateProfileInput!) { updateProfile(input: $input) {"
        " me { displayName } errors { code field messageJa } } }",
        {"input": profile},
        token=bearer,
    )
    payload = body["data"]["updateProfile"]
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("VALIDATION", field)]
    me = await gql("{ me { displayName familyName givenName } }", token=bearer)
    assert me["data"]["me"] == {"displayName": "元の名前", "familyName": None, "givenName": None}


async def test_emoji_names_and_half_width_kana_are_welcome(gql, token) -> None:  # type: ignore[no-untyped-def]
    bearer = token("emoji-profile")
    body = await gql(
        UPDATE_PROFILE,
        {"input": {"displayName": "はなこ👩‍👧", "familyNameKana": "ｱｲﾂﾞ"}},
        token=bearer,
    )
    me = body["data"]["updateProfile"]["me"]
    assert me["displayName"] == "はなこ👩‍👧"  # the zero-width joiner of emoji sequences stays
    assert me["familyNameKana"] == "アイヅ"


@pytest.mark.parametrize(
    ("field_input", "field"),
    [
        ({"familyNameKana": "Aizu"}, "familyNameKana"),
        ({"birthDate": "2999-01-01"}, "birthDate"),
        ({"birthDate": "1850-01-01"}, "birthDate"),
        ({"phone": "12345"}, "phone"),
        ({"phone": "090-abcd-1234"}, "phone"),
        ({"displayName": "x" * 101}, "displayName"),
        ({"address": "住" * 256}, "address"),
        ({"givenName": "a\u0000b"}, "givenName"),
    ],
    ids=[
        "kana-latin",
        "born-future",
        "born-1850",
        "phone-short",
        "phone-letters",
        "name-long",
        "address-long",
        "control-char",
    ],
)
async def test_invalid_profile_values_are_typed_errors_and_change_nothing(  # type: ignore[no-untyped-def]
    gql, token, field_input, field
) -> None:
    bearer = token("validator")
    await gql(UPDATE_PROFILE, {"input": {"familyName": "元のまま"}}, token=bearer)
    # when an invalid value is sent together with a valid one
    body = await gql(UPDATE_PROFILE, {"input": {"givenName": "変更", **field_input}}, token=bearer)
    payload = body["data"]["updateProfile"]
    # then the payload names the field, in ja and en, and nothing was written
    assert payload["me"] is None
    assert [e["field"] for e in payload["errors"]] == [field]
    assert payload["errors"][0]["code"] == "VALIDATION"
    assert payload["errors"][0]["messageJa"]
    me = await gql(UPDATE_PROFILE, {"input": {}}, token=bearer)
    assert me["data"]["updateProfile"]["me"]["givenName"] is None
    assert me["data"]["updateProfile"]["me"]["familyName"] == "元のまま"


async def test_all_problems_are_reported_at_once(gql, token) -> None:  # type: ignore[no-untyped-def]
    body = await gql(
        UPDATE_PROFILE,
        {"input": {"familyNameKana": "abc", "phone": "1", "displayName": "y" * 500}},
        token=token("many-mistakes"),
    )
    fields = sorted(e["field"] for e in body["data"]["updateProfile"]["errors"])
    assert fields == ["displayName", "familyNameKana", "phone"]


async def test_unknown_municipality_is_not_found(gql, token) -> None:  # type: ignore[no-untyped-def]
    for code in ("99999", "072029", "abc"):  # unknown, bad check digit, not a code
        body = await gql(UPDATE_PROFILE, {"input": {"municipalityCode": code}}, token=token("m"))
        errors = body["data"]["updateProfile"]["errors"]
        assert errors[0]["code"] == "NOT_FOUND" and errors[0]["field"] == "municipalityCode"


async def test_places_can_be_added_changed_and_removed(gql, token, session) -> None:  # type: ignore[no-untyped-def]
    bearer = token("place-owner")
    # when a home is added
    body = await gql(
        ADD_PLACE,
        {"input": {"kind": "HOME", "label": "自宅", "address": "追手町1-1", **CASTLE}},
        token=bearer,
    )
    place = body["data"]["addPlace"]["place"]
    assert place["kind"] == "HOME"
    assert place["location"] == {"type": "Point", "coordinates": [139.9298, 37.4876]}
    # then its H3 cells at resolutions 7, 9 and 11 are stored for area look-ups
    stored = await session.scalar(select(Place).where(Place.label == "自宅"))
    assert stored is not None
    assert h3.int_to_str(stored.h3_res9) == h3.latlng_to_cell(37.4876, 139.9298, 9)
    assert h3.get_resolution(h3.int_to_str(stored.h3_res7)) == 7
    assert h3.get_resolution(h3.int_to_str(stored.h3_res11)) == 11
    # when it moves, the cells follow
    body = await gql(
        UPDATE_PLACE,
        {"input": {"id": place["id"], "latitude": 37.5078, "longitude": 139.9335, "label": "駅前"}},
        token=bearer,
    )
    moved = body["data"]["updatePlace"]["place"]
    assert (moved["latitude"], moved["longitude"], moved["label"]) == (37.5078, 139.9335, "駅前")
    await session.refresh(stored)
    assert h3.int_to_str(stored.h3_res9) == h3.latlng_to_cell(37.5078, 139.9335, 9)
    # and it can be removed
    body = await gql(REMOVE_PLACE, {"input": {"id": place["id"]}}, token=bearer)
    assert body["data"]["removePlace"] == {"removedId": place["id"], "errors": []}
    assert (await gql(ME, token=bearer))["data"]["me"]["places"] == []


@pytest.mark.parametrize(
    ("coordinates", "fields"),
    [
        ({"latitude": 91.0, "longitude": 139.9}, ["latitude"]),
        ({"latitude": -90.5, "longitude": 139.9}, ["latitude"]),
        ({"latitude": 37.5, "longitude": 180.01}, ["longitude"]),
        ({"latitude": 100.0, "longitude": -200.0}, ["latitude", "longitude"]),
    ],
)
async def test_out_of_range_coordinates_are_refused(
    gql, token, session, coordinates, fields
) -> None:  # type: ignore[no-untyped-def]
    before = await count(session, Place)
    body = await gql(
        ADD_PLACE,
        {"input": {"kind": "WORKPLACE", "label": "職場", **coordinates}},
        token=token("geo"),
    )
    payload = body["data"]["addPlace"]
    assert payload["place"] is None
    assert sorted(e["field"] for e in payload["errors"]) == fields
    assert await count(session, Place) == before


async def test_non_finite_coordinates_are_refused(client, token) -> None:  # type: ignore[no-untyped-def]
    # JSON has no NaN, but Python's encoder writes one: the server must not store it
    raw = (
        '{"query": "mutation($i: AddPlaceInput!) { addPlace(input: $i) { place { id } '
        'errors { field } } }", "variables": {"i": {"kind": "HOME", "label": "x", '
        '"latitude": NaN, "longitude": Infinity}}}'
    )
    response = await client.post(
        "/graphql",
        content=raw,
        headers={"content-type": "application/json", "Authorization": f"Bearer {token('nan')}"},
    )
    assert response.status_code < 500
    body = response.json()
    assert "errors" in body or body["data"]["addPlace"]["place"] is None


async def test_unknown_place_kind_is_a_validation_error(gql, token, session) -> None:  # type: ignore[no-untyped-def]
    before = await count(session, Place)
    body = await gql(
        ADD_PLACE,
        {"input": {"kind": "CASTLE", "label": "城", **CASTLE}},
        token=token("kinds"),
        expect_errors=True,
    )
    assert body["data"] is None
    assert "PlaceKind" in body["errors"][0]["message"]
    assert await count(session, Place) == before


@pytest.mark.parametrize(
    ("label", "field"), [("", "label"), ("   ", "label"), ("L" * 101, "label")]
)
async def test_place_label_is_required_and_bounded(gql, token, label, field) -> None:  # type: ignore[no-untyped-def]
    body = await gql(
        ADD_PLACE, {"input": {"kind": "SCHOOL", "label": label, **CASTLE}}, token=token("labels")
    )
    assert [e["field"] for e in body["data"]["addPlace"]["errors"]] == [field]


async def test_only_one_home(gql, token) -> None:  # type: ignore[no-untyped-def]
    bearer = token("two-homes")
    await gql(ADD_PLACE, {"input": {"kind": "HOME", "label": "自宅", **CASTLE}}, token=bearer)
    body = await gql(
        ADD_PLACE, {"input": {"kind": "HOME", "label": "別宅", **CASTLE}}, token=bearer
    )
    assert body["data"]["addPlace"]["errors"][0]["code"] == "CONFLICT"


async def test_place_limit(gql, token, settings) -> None:  # type: ignore[no-untyped-def]
    bearer = token("collector")
    for i in range(settings.max_places_per_resident):
        body = await gql(
            ADD_PLACE, {"input": {"kind": "WORKPLACE", "label": f"p{i}", **CASTLE}}, token=bearer
        )
        assert body["data"]["addPlace"]["errors"] == []
    body = await gql(
        ADD_PLACE, {"input": {"kind": "SCHOOL", "label": "one more", **CASTLE}}, token=bearer
    )
    assert body["data"]["addPlace"]["errors"][0]["code"] == "LIMIT_EXCEEDED"


async def test_someone_elses_place_is_not_found(gql, token) -> None:  # type: ignore[no-untyped-def]
    owner, intruder = token("owner"), token("intruder")
    body = await gql(ADD_PLACE, {"input": {"kind": "HOME", "label": "自宅", **CASTLE}}, token=owner)
    place_id = body["data"]["addPlace"]["place"]["id"]
    for mutation, variables in (
        (UPDATE_PLACE, {"input": {"id": place_id, "label": "盗った"}}),
        (REMOVE_PLACE, {"input": {"id": place_id}}),
    ):
        body = await gql(mutation, variables, token=intruder)
        payload = next(iter(body["data"].values()))
        assert payload["errors"][0]["code"] == "NOT_FOUND"
    # malformed ids and ids of another type look the same
    group = await gql(
        'mutation { createFamilyGroup(input: {name: "x"}) { group { id } } }', token=intruder
    )
    for bad_id in ("nonsense", "", group["data"]["createFamilyGroup"]["group"]["id"]):
        body = await gql(REMOVE_PLACE, {"input": {"id": bad_id}}, token=intruder)
        assert body["data"]["removePlace"]["errors"][0]["code"] == "NOT_FOUND"
    # and the owner still has the place, unchanged
    me = await gql("{ me { places { id label } } }", token=owner)
    assert me["data"]["me"]["places"] == [{"id": place_id, "label": "自宅"}]


async def test_home_municipality_is_derived_from_the_home_place(gql, token, session) -> None:  # type: ignore[no-untyped-def]
    # given the real boundary of 会津若松市 (国土数値情報 N03, via geolonia/japanese-admins)
    boundary = require_shared("boundaries", "07202.json")
    await municipality_service.import_boundary(session, Path(boundary))
    await session.commit()
    bearer = token("aizu-resident")
    # when a home inside the city is saved
    body = await gql(
        ADD_PLACE, {"input": {"kind": "HOME", "label": "自宅", **CASTLE}}, token=bearer
    )
    assert body["data"]["addPlace"]["place"]["municipalityCode"] == "07202"
    me = (await gql(ME, token=bearer))["data"]["me"]
    assert me["homeMunicipality"] == {"code": "07202"} and me["municipalityChosen"] is False
    # when the home moves to Tokyo (outside every imported boundary), nothing is derived
    place_id = body["data"]["addPlace"]["place"]["id"]
    body = await gql(
        UPDATE_PLACE,
        {"input": {"id": place_id, "latitude": 35.6812, "longitude": 139.7671}},
        token=bearer,
    )
    assert body["data"]["updatePlace"]["place"]["municipalityCode"] is None
    assert (await gql(ME, token=bearer))["data"]["me"]["homeMunicipality"] is None
    # when the resident chooses a municipality explicitly, it wins over the home place
    await gql(UPDATE_PROFILE, {"input": {"municipalityCode": "07208"}}, token=bearer)
    await gql(UPDATE_PLACE, {"input": {"id": place_id, **CASTLE}}, token=bearer)
    me = (await gql(ME, token=bearer))["data"]["me"]
    assert me["homeMunicipality"] == {"code": "07208"} and me["municipalityChosen"] is True
    # and null goes back to the derived one
    await gql(UPDATE_PROFILE, {"input": {"municipalityCode": None}}, token=bearer)
    me = (await gql(ME, token=bearer))["data"]["me"]
    assert me["homeMunicipality"] == {"code": "07202"} and me["municipalityChosen"] is False


async def test_a_place_just_outside_the_city_is_not_located_in_it(session) -> None:  # type: ignore[no-untyped-def]
    boundary = require_shared("boundaries", "07202.json")
    await municipality_service.import_boundary(session, Path(boundary))
    # 猪苗代湖 north shore, east of the boundary's max longitude 140.113
    assert await municipality_service.locate(session, lat=37.55, lon=140.15) is None
    # every address point of the city lies inside it (README: all 705 do)

    points = json.loads(require_shared("addresses", "aizuwakamatsu.json").read_text())
    located = [
        await municipality_service.locate(session, lat=p["lat"], lon=p["lng"]) for p in points[:50]
    ]
    assert located == ["07202"] * 50
