"""Prefill through GraphQL: only consented items, own and household, each with its source."""

from __future__ import annotations

from typing import Any

import pytest

from tests.applications.world import move_in_set, resident, seed_forms
from tests.supplies.world import family

PREFILL = """
query($bundle: ID!) { prefillApplication(bundle: $bundle) {
  form { code } fields { field value source reason member } } }
"""
GRANT_BUNDLE = """
mutation($bundle: String!) {
  grantBundledConsent(input: {bundle: $bundle}) { consents { id } errors { code } } }
"""
GRANT = """
mutation($input: GrantConsentInput!) { grantConsent(input: $input) { errors { code field } } }
"""
PURPOSE = "query { consentCatalog { purposes { code textVersion } } }"
MEMBERS = "query { me { familyGroups { members { id isMe } } } }"
ACCESS_LOG = """
query { myDataAccessLog { edges { node { viewerSubject purposeCode itemCodes relationship } } } }
"""
HANAKO = {
    "familyName": "会津",
    "givenName": "花子",
    "familyNameKana": "アイヅ",
    "givenNameKana": "ハナコ",
    "birthDate": "1990-04-01",
    "phone": "0242-39-1111",
    "address": "福島県会津若松市東栄町3-46",
}
YUKI = {"familyName": "会津", "givenName": "ゆき", "birthDate": "2020-05-05"}
TARO = {"familyName": "会津", "givenName": "太郎", "birthDate": "1988-01-01"}


@pytest.fixture(autouse=True)
async def forms(db: Any) -> None:  # noqa: ANN401
    await seed_forms(db)


async def _prefill(gql: Any, bearer: str) -> dict[str, dict[str, dict[str, Any]]]:  # noqa: ANN401
    bundle = await move_in_set(gql, bearer)
    body = await gql(PREFILL, {"bundle": bundle["id"]}, token=bearer)
    return {
        f["form"]["code"]: {x["field"]: x for x in f["fields"]}
        for f in body["data"]["prefillApplication"]
    }


async def _grant_bundle(gql: Any, bearer: str) -> None:  # noqa: ANN401
    body = await gql(GRANT_BUNDLE, {"bundle": "application_prefill_basic"}, token=bearer)
    assert body["data"]["grantBundledConsent"]["errors"] == []


async def _grant_to_family(gql: Any, bearer: str, items: list[str]) -> None:  # noqa: ANN401
    purposes = (await gql(PURPOSE, token=bearer))["data"]["consentCatalog"]["purposes"]
    [version] = [p["textVersion"] for p in purposes if p["code"] == "application_prefill"]
    body = await gql(
        GRANT,
        {
            "input": {
                "purpose": "application_prefill",
                "recipient": {"kind": "ROLE", "role": "family"},
                "items": items,
                "textVersion": version,
            }
        },
        token=bearer,
    )
    assert body["data"]["grantConsent"]["errors"] == [], body


async def _log(gql: Any, bearer: str) -> list[dict[str, Any]]:  # noqa: ANN401
    edges = (await gql(ACCESS_LOG, token=bearer))["data"]["myDataAccessLog"]["edges"]
    return [e["node"] for e in edges if e["node"]["purposeCode"] == "application_prefill"]


async def test_without_consent_every_field_stays_empty(gql, token) -> None:  # type: ignore[no-untyped-def]
    hanako = await resident(gql, token, "pf-hanako1", **HANAKO)
    filled = await _prefill(gql, hanako)
    move_in = filled["resident_move_in"]
    assert {f: (v["value"], v["reason"]) for f, v in move_in.items()} == {
        f: (None, "NOT_CONSENTED")
        for f in ("name", "kana", "birthDate", "newAddress", "phone", "householdSize")
    }
    assert filled["child_allowance"]["childName"]["reason"] == "NO_MEMBER"
    assert filled["child_allowance"]["claimantName"]["reason"] == "NOT_CONSENTED"


async def test_consented_items_fill_own_and_the_childs_fields_with_sources(gql, token) -> None:  # type: ignore[no-untyped-def]
    # given Hanako and her child Yuki in one family, both consenting to application prefill
    hanako = await resident(gql, token, "pf-hanako2", **HANAKO)
    yuki = await resident(gql, token, "pf-yuki2", **YUKI)
    await family(gql, hanako, yuki)
    await _grant_bundle(gql, hanako)
    await _grant_bundle(gql, yuki)
    # when Hanako asks for the 転入セット's prefill
    filled = await _prefill(gql, hanako)
    # then her own fields come from her profile
    move_in = filled["resident_move_in"]
    assert {f: (v["value"], v["source"]) for f, v in move_in.items()} == {
        "name": ("会津 花子", "profile.name"),
        "kana": ("アイヅ ハナコ", "profile.kana"),
        "birthDate": ("1990-04-01", "profile.birthDate"),
        "newAddress": ("福島県会津若松市東栄町3-46", "profile.address"),
        "phone": ("0242-39-1111", "profile.phone"),
        "householdSize": (2, "profile.household"),
    }
    # and the child's from Yuki, named as the family member they came from
    [yuki_member] = [
        m["id"]
        for m in (await gql(MEMBERS, token=hanako))["data"]["me"]["familyGroups"][0]["members"]
        if not m["isMe"]
    ]
    allowance = filled["child_allowance"]
    assert {f: (v["value"], v["source"], v["member"]) for f, v in allowance.items()} == {
        "claimantName": ("会津 花子", "profile.name", None),
        "childName": ("会津 ゆき", "family.youngest.name", yuki_member),
        "childBirthDate": ("2020-05-05", "family.youngest.birthDate", yuki_member),
    }
    # and Yuki's access log shows the read, Hanako's own read is not logged
    assert await _log(gql, yuki) == [
        {
            "viewerSubject": "pf-hanako2",
            "purposeCode": "application_prefill",
            "itemCodes": ["name", "kana", "birth_date"],
            "relationship": "family",
        }
    ]
    assert await _log(gql, hanako) == []


async def test_a_member_who_has_not_granted_gives_nothing(gql, token) -> None:  # type: ignore[no-untyped-def]
    # given Hanako (consenting) with Yuki, who has not granted anything
    hanako = await resident(gql, token, "pf-hanako3", **HANAKO)
    yuki = await resident(gql, token, "pf-yuki3", **YUKI)
    await family(gql, hanako, yuki)
    await _grant_bundle(gql, hanako)
    filled = await _prefill(gql, hanako)
    # then the child's fields are empty and nothing of Yuki's was read
    allowance = filled["child_allowance"]
    assert [(allowance[f]["value"], allowance[f]["reason"]) for f in ("childName",)] == [
        (None, "NO_MEMBER")
    ]
    assert allowance["childBirthDate"]["reason"] == "NO_MEMBER"
    assert "ゆき" not in str(filled)
    assert await _log(gql, yuki) == []
    # when Yuki shares only her birth date with family
    await _grant_to_family(gql, yuki, ["birth_date"])
    allowance = (await _prefill(gql, hanako))["child_allowance"]
    # then the birth date fills in, the name is not consented
    assert allowance["childBirthDate"]["value"] == "2020-05-05"
    assert (allowance["childName"]["value"], allowance["childName"]["reason"]) == (
        None,
        "NOT_CONSENTED",
    )
    assert "ゆき" not in str(allowance)
    [read] = await _log(gql, yuki)
    assert read["itemCodes"] == ["birth_date"]


async def test_the_youngest_consenting_member_is_the_child(gql, token) -> None:  # type: ignore[no-untyped-def]
    # given a household of Hanako, Taro and Yuki, all consenting
    hanako = await resident(gql, token, "pf-hanako4", **HANAKO)
    taro = await resident(gql, token, "pf-taro4", **TARO)
    yuki = await resident(gql, token, "pf-yuki4", **YUKI)
    await family(gql, hanako, taro, yuki)
    for bearer in (hanako, taro, yuki):
        await _grant_bundle(gql, bearer)
    # then the child's fields are Yuki's, not Taro's
    allowance = (await _prefill(gql, hanako))["child_allowance"]
    assert allowance["childName"]["value"] == "会津 ゆき"
