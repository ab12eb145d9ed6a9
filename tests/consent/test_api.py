"""Granting, bundling, declining and revoking consents; requests from system clients."""

from __future__ import annotations

import pytest

from backend.consent import catalog_store
from backend.consent import service as consent_service
from backend.plans.sharing import PLAN_ITEMS
from tests.consent.world import (
    BUNDLE,
    GRANT,
    PERSONAL_DATA,
    REVOKE,
    TEXT_VERSION,
    grant,
    make_family,
    read,
)

HISTORY = """
{ myConsentHistory(first: 50) { edges { node {
    kind purposeCode consentId requestId actor viaClient ipAddress userAgent } } } }"""
MY_CONSENTS = """
query($all: Boolean) { myConsents(includeInactive: $all) {
  id purposeCode itemCodes bundleCode active revoked legalBasis proxyRole validUntil
  recipient { kind role clientId personId } } }"""


@pytest.fixture
async def care_app(session) -> str:  # type: ignore[no-untyped-def]
    await consent_service.register_system_client(
        session,
        None,
        client_id="care-app",
        name_ja="あいづケア",
        name_en="Aizu Care",
        municipality_code="07202",
        purposes=["care_linkage"],
    )
    await session.commit()
    return "care-app"


async def test_catalog_lists_items_purposes_and_bundles(gql) -> None:  # type: ignore[no-untyped-def]
    body = await gql(
        "{ consentCatalog { items { code labelJa sensitive } purposes { code labelJa itemCodes"
        " recipients textVersion } bundles { code purposeCode flows { recipientRole itemCodes } }"
        " } }"
    )
    catalog = body["data"]["consentCatalog"]
    purposes = {p["code"]: p for p in catalog["purposes"]}
    assert set(purposes) == {
        "family_safety",
        "family_location",
        "community_safety",
        "plan_support",
        "care_linkage",
        "shelter_registration",
        "portal_personalization",
        "household_supplies",
        "application_prefill",
    }
    health = next(i for i in catalog["items"] if i["code"] == "health_notes")
    assert health == {"code": "health_notes", "labelJa": "健康・服薬情報", "sensitive": True}
    # every bundle stays within one purpose and shows each of its flows
    for bundle in catalog["bundles"]:
        purpose = purposes[bundle["purposeCode"]]
        for flow in bundle["flows"]:
            assert flow["recipientRole"] in purpose["recipients"]
            assert set(flow["itemCodes"]) <= set(purpose["itemCodes"])
    # the app shows the current consent text version of each purpose
    assert purposes["family_safety"]["textVersion"] == TEXT_VERSION["family_safety"]


async def test_every_item_of_the_catalog_can_be_consented_to_now(gql) -> None:  # type: ignore[no-untyped-def]
    # given every capability of this server (plans provide support, health notes, supporters)
    body = await gql(
        "{ consentCatalog { items { code available } bundles { code available }"
        " relationships { code labelJa } } }"
    )
    catalog = body["data"]["consentCatalog"]
    # then every item and bundle is available, and the plan relationships are offered
    assert [i["code"] for i in catalog["items"] if not i["available"]] == []
    assert all(b["available"] for b in catalog["bundles"])
    assert {r["code"] for r in catalog["relationships"]} == {
        "family",
        "community",
        "city_staff",
        "shelter_manager",
        "supporter",
        "care_manager",
    }


async def test_catalog_says_what_cannot_be_consented_to_yet(  # type: ignore[no-untyped-def]
    gql, token, monkeypatch
) -> None:
    # given a server without the plans capability (its providers not registered)
    from backend.consent.providers import providers

    values = {k: v for k, v in providers._values.items() if k not in PLAN_ITEMS}
    relationships = {
        k: v for k, v in providers._relationships.items() if k not in ("supporter", "care_manager")
    }
    monkeypatch.setattr(providers, "_values", values)
    monkeypatch.setattr(providers, "_relationships", relationships)
    body = await gql(
        "{ consentCatalog { items { code available } bundles { code available }"
        " relationships { code labelJa } } }"
    )
    catalog = body["data"]["consentCatalog"]
    # then items without a value provider, and bundles naming them, are unavailable
    unavailable = {i["code"] for i in catalog["items"] if not i["available"]}
    assert unavailable == set(PLAN_ITEMS)
    assert {b["code"]: b["available"] for b in catalog["bundles"]} == {
        "family_safety_basic": True,
        "plan_support_basic": False,
        "shelter_registration_basic": True,
        "household_supplies_basic": True,
        "application_prefill_basic": True,
    }
    # and only relationships someone can confirm are offered (no supporters without plans)
    assert {r["code"] for r in catalog["relationships"]} == {
        "family",
        "community",
        "city_staff",
        "shelter_manager",
    }
    # when a resident tries anyway, nothing is stored and the answer says why
    bearer = token("too-early")
    body = await gql(BUNDLE, {"bundle": "plan_support_basic"}, token=bearer)
    payload = body["data"]["grantBundledConsent"]
    assert payload["consents"] == []
    assert ("VALIDATION", "items") in [(e["code"], e["field"]) for e in payload["errors"]]
    assert (await gql(MY_CONSENTS, token=bearer))["data"]["myConsents"] == []


WATCH_CATALOG = {
    "purposes": [
        {
            "code": "neighbourhood_watch",
            "label_ja": "見守り",
            "label_en": "Neighbourhood watch",
            "description_ja": "家族と町内会が連絡に使います。",
            "description_en": "Your family and town association use this to reach you.",
            "items": ["name", "phone", "address"],
            "recipients": ["family", "community"],
            "text_version": "2026-12-ja-1",
        }
    ],
    "bundles": [
        {
            "code": "watch_basic",
            "purpose": "neighbourhood_watch",
            "label_ja": "見守り（家族と町内会）",
            "label_en": "Watch (family and town association)",
            "description_ja": "家族には氏名と電話番号、町内会には氏名と住所を知らせます。",
            "description_en": "Family: name and phone; town association: name and address.",
            "flows": [
                {"recipient_role": "family", "items": ["name", "phone"]},
                {"recipient_role": "community", "items": ["name", "address"]},
            ],
            "text_version": "2026-12-ja-1",
        }
    ],
}


@pytest.fixture
async def watch_bundle(session) -> str:  # type: ignore[no-untyped-def]
    """An admin-added bundle of two flows whose items and relationships are all provided."""
    await catalog_store.import_catalog(session, WATCH_CATALOG)
    await session.commit()
    return "watch_basic"


async def test_bundle_is_stored_as_individual_flows(gql, token, watch_bundle) -> None:  # type: ignore[no-untyped-def]
    bearer = token("bundler")
    body = await gql(BUNDLE, {"bundle": watch_bundle}, token=bearer)
    consents = body["data"]["grantBundledConsent"]["consents"]
    # two flows (family, community), one acceptance
    assert [c["recipient"]["role"] for c in consents] == ["family", "community"]
    assert len({c["acceptanceId"] for c in consents}) == 1
    assert {c["bundleCode"] for c in consents} == {watch_bundle}
    mine = (await gql(MY_CONSENTS, token=bearer))["data"]["myConsents"]
    assert {c["id"] for c in mine} == {c["id"] for c in consents}
    # revoking one flow revokes the whole acceptance by default
    body = await gql(REVOKE, {"id": consents[0]["id"]}, token=bearer)
    assert {c["revoked"] for c in body["data"]["revokeConsent"]["consents"]} == {True}
    assert (await gql(MY_CONSENTS, token=bearer))["data"]["myConsents"] == []
    everything = (await gql(MY_CONSENTS, {"all": True}, token=bearer))["data"]["myConsents"]
    assert [(c["active"], c["revoked"]) for c in everything] == [(False, True), (False, True)]
    # revoking again is a conflict, and an unknown bundle is not found
    body = await gql(REVOKE, {"id": consents[1]["id"]}, token=bearer)
    assert body["data"]["revokeConsent"]["errors"][0]["code"] == "CONFLICT"
    body = await gql(BUNDLE, {"bundle": "everything_forever"}, token=bearer)
    assert body["data"]["grantBundledConsent"]["errors"][0]["code"] == "NOT_FOUND"


async def test_revoking_one_flow_only(gql, token, watch_bundle) -> None:  # type: ignore[no-untyped-def]
    bearer = token("partial")
    consents = (await gql(BUNDLE, {"bundle": watch_bundle}, token=bearer))["data"][
        "grantBundledConsent"
    ]["consents"]
    await gql(REVOKE, {"id": consents[0]["id"], "whole": False}, token=bearer)
    mine = (await gql(MY_CONSENTS, token=bearer))["data"]["myConsents"]
    assert [c["recipient"]["role"] for c in mine] == ["community"]


@pytest.mark.parametrize(
    ("input_overrides", "field"),
    [
        ({"purpose": "world_domination"}, "purpose"),
        ({"items": ["health_notes"]}, "items"),  # not part of family_safety
        ({"items": []}, "items"),
        ({"recipient": {"kind": "ROLE", "role": "city_staff"}}, "recipient.role"),
        ({"recipient": {"kind": "ROLE", "role": "neighbours"}}, "recipient.role"),
        ({"recipient": {"kind": "SYSTEM_CLIENT", "clientId": "care-app"}}, "recipient.kind"),
        ({"recipient": {"kind": "ROLE"}}, "recipient.role"),
        ({"validUntil": "2001-01-01T00:00:00+09:00"}, "validUntil"),
        ({"validUntil": "2199-01-01T00:00:00+09:00"}, "validUntil"),
        ({"textVersion": ""}, "textVersion"),
        ({"textVersion": "bogus"}, "textVersion"),  # not the text the app must show
        ({"textVersion": "2026-11-ja-1\u0000"}, "textVersion"),
        ({"proxyRole": "ケア\u202eマネ"}, "proxyRole"),  # a bidi override spoofs the text
    ],
)
async def test_invalid_grants_are_typed_errors(gql, token, input_overrides, field) -> None:  # type: ignore[no-untyped-def]
    bearer = token("careless")
    grant_input = {
        "purpose": "family_safety",
        "recipient": {"kind": "ROLE", "role": "family"},
        "items": ["name"],
        "textVersion": TEXT_VERSION["family_safety"],
        **input_overrides,
    }
    body = await gql(GRANT, {"input": grant_input}, token=bearer)
    payload = body["data"]["grantConsent"]
    assert payload["consents"] == []
    assert field in [e["field"] for e in payload["errors"]]
    assert (await gql(MY_CONSENTS, token=bearer))["data"]["myConsents"] == []


async def test_client_must_be_registered_for_the_purpose(gql, token, care_app) -> None:  # type: ignore[no-untyped-def]
    body = await gql(
        GRANT,
        {
            "input": {
                "purpose": "plan_support",  # care-app is registered for care_linkage only
                "recipient": {"kind": "SYSTEM_CLIENT", "clientId": care_app},
                "items": ["name"],
                "textVersion": TEXT_VERSION["plan_support"],
            }
        },
        token=token("picky"),
    )
    assert body["data"]["grantConsent"]["errors"][0]["field"] == "recipient.clientId"


async def test_proxy_consent_records_role_and_legal_basis(gql, token, care_app) -> None:  # type: ignore[no-untyped-def]
    bearer = token("proxied")
    consents = await grant(
        gql,
        bearer,
        "care_linkage",
        {"kind": "SYSTEM_CLIENT", "clientId": care_app},
        ["name", "kana"],
        proxyRole="ケアマネジャー（代理人）",
        legalBasis="TERMS_OF_SERVICE",
        validUntil="2030-01-01T00:00:00+09:00",
    )
    mine = (await gql(MY_CONSENTS, token=bearer))["data"]["myConsents"]
    assert mine[0]["id"] == consents[0]["id"]
    assert mine[0]["proxyRole"] == "ケアマネジャー（代理人）"
    assert mine[0]["legalBasis"] == "TERMS_OF_SERVICE"
    assert mine[0]["validUntil"].startswith("2029-12-31T15:00:00")


async def test_revocation_takes_effect_for_the_very_next_read(gql, token) -> None:  # type: ignore[no-untyped-def]
    # given Hanako shares her name with her family and Taro can read it
    hanako, taro = token("rv-hanako", name="花子"), token("rv-taro")
    group = await gql(
        'mutation { createFamilyGroup(input: {name: "家"}) { group { id } } }', token=hanako
    )
    group_id = group["data"]["createFamilyGroup"]["group"]["id"]
    code = (
        await gql(
            "mutation($g: ID!) { createFamilyInvitation(input: {groupId: $g})"
            " { invitation { code } } }",
            {"g": group_id},
            token=hanako,
        )
    )["data"]["createFamilyInvitation"]["invitation"]["code"]
    await gql(
        "mutation($c: String!) { acceptFamilyInvitation(input: {code: $c}) { errors { code } } }",
        {"c": code},
        token=taro,
    )
    consents = await grant(
        gql, hanako, "family_safety", {"kind": "ROLE", "role": "family"}, ["name"]
    )
    hanako_id = (await gql("{ me { id } }", token=hanako))["data"]["me"]["id"]
    assert (await read(gql, taro, hanako_id, "family_safety"))["__typename"] == "PersonalData"
    # the family list shows what she shares, for the purpose asked
    members = await gql(
        "query($g: ID!) { familyGroup(id: $g) { members { isMe sharedData(purpose: "
        '"family_safety") { items { item value } } } } }',
        {"g": group_id},
        token=taro,
    )
    shared = [m["sharedData"] for m in members["data"]["familyGroup"]["members"] if not m["isMe"]]
    assert shared == [{"items": [{"item": "name", "value": "花子"}]}]
    # when she revokes
    await gql(REVOKE, {"id": consents[0]["id"]}, token=hanako)
    # then the next read is refused and the family list shows nothing
    assert (await read(gql, taro, hanako_id, "family_safety"))["__typename"] == "AccessDenied"
    members = await gql(
        "query($g: ID!) { familyGroup(id: $g) { members { isMe sharedData(purpose: "
        '"family_safety") { items { item } } } } }',
        {"g": group_id},
        token=taro,
    )
    shared = [m["sharedData"] for m in members["data"]["familyGroup"]["members"] if not m["isMe"]]
    assert shared == [None]
    # and location never flowed: it was not consented at all
    assert (await read(gql, taro, hanako_id, "family_location"))["__typename"] == "AccessDenied"


async def test_named_person_recipient_must_be_a_family_member(gql, token) -> None:  # type: ignore[no-untyped-def]
    bearer = token("person-granter")
    body = await gql(
        GRANT,
        {
            "input": {
                "purpose": "family_location",
                "recipient": {"kind": "PERSON", "familyMemberId": "bm90LWEtbWVtYmVy"},
                "items": ["home_place"],
                "textVersion": TEXT_VERSION["family_location"],
            }
        },
        token=bearer,
    )
    assert body["data"]["grantConsent"]["errors"][0]["code"] == "NOT_FOUND"


async def test_consent_request_accept_and_decline(gql, token, care_app, client) -> None:  # type: ignore[no-untyped-def]
    resident = token("requested", name="依頼 太郎")
    await gql("{ me { id } }", token=resident)
    care = token("svc-care", client_id=care_app)
    request_mutation = """
    mutation($input: RequestConsentInput!) {
      requestConsent(input: $input) { request { id status itemCodes } errors { code field } }
    }"""
    # when the care service asks for name and phone
    body = await gql(
        request_mutation,
        {
            "input": {
                "subject": "requested",
                "purpose": "care_linkage",
                "items": ["name", "phone"],
                "message": "ケアプラン作成のため",
            }
        },
        token=care,
    )
    request = body["data"]["requestConsent"]["request"]
    assert request["status"] == "pending"
    # then the resident sees exactly what goes to whom and why
    pending = await gql(
        "{ myConsentRequests { id requesterClientId purposeCode itemCodes message } }",
        token=resident,
    )
    assert pending["data"]["myConsentRequests"] == [
        {
            "id": request["id"],
            "requesterClientId": "care-app",
            "purposeCode": "care_linkage",
            "itemCodes": ["name", "phone"],
            "message": "ケアプラン作成のため",
        }
    ]
    # before the answer the client reads nothing
    denied = await gql(
        PERSONAL_DATA, {"input": {"subject": "requested", "purpose": "care_linkage"}}, token=care
    )
    assert denied["data"]["personalData"]["__typename"] == "AccessDenied"
    # when she accepts, the client reads exactly those items
    answer = """
    mutation($id: ID!, $accept: Boolean!) {
      answerConsentRequest(input: {requestId: $id, accept: $accept}) {
        request { status } consent { itemCodes recipient { clientId } } errors { code }
      }
    }"""
    body = await gql(answer, {"id": request["id"], "accept": True}, token=resident)
    assert body["data"]["answerConsentRequest"]["consent"] == {
        "itemCodes": ["name", "phone"],
        "recipient": {"clientId": "care-app"},
    }
    data = await gql(
        PERSONAL_DATA, {"input": {"subject": "requested", "purpose": "care_linkage"}}, token=care
    )
    result = data["data"]["personalData"]
    assert {i["item"] for i in result["items"]} == {"name", "phone"}
    assert "birth_date" in result["refusedItems"]
    # answering twice is a conflict
    body = await gql(answer, {"id": request["id"], "accept": False}, token=resident)
    assert body["data"]["answerConsentRequest"]["errors"][0]["code"] == "CONFLICT"
    # a second request, declined, is in the history with the client's user agent and IP
    body = await gql(
        request_mutation,
        {"input": {"subject": "requested", "purpose": "care_linkage", "items": ["address"]}},
        token=care,
    )
    second = body["data"]["requestConsent"]["request"]["id"]
    response = await client.post(
        "/graphql",
        json={"query": answer, "variables": {"id": second, "accept": False}},
        headers={"Authorization": f"Bearer {resident}", "User-Agent": "KizunaApp/1.0 (iOS)"},
    )
    assert response.json()["data"]["answerConsentRequest"]["request"] == {"status": "declined"}
    history = (await gql(HISTORY, token=resident))["data"]["myConsentHistory"]["edges"]
    kinds = [e["node"]["kind"] for e in history]
    assert kinds == ["declined", "granted"]
    assert history[0]["node"]["userAgent"] == "KizunaApp/1.0 (iOS)"
    assert history[0]["node"]["ipAddress"]


async def test_consent_requests_need_a_registered_client(gql, token, care_app) -> None:  # type: ignore[no-untyped-def]
    await gql("{ me { id } }", token=token("target"))
    request_mutation = """
    mutation($input: RequestConsentInput!) {
      requestConsent(input: $input) { request { id } errors { code field } }
    }"""
    cases = [
        (token("svc-ghost", client_id="ghost-app"), "care_linkage", "target", "NOT_PERMITTED"),
        (token("a-resident"), "care_linkage", "target", "NOT_PERMITTED"),
        (token("svc-care", client_id=care_app), "plan_support", "target", "NOT_PERMITTED"),
    ]
    for bearer, purpose, subject, code in cases:
        body = await gql(
            request_mutation,
            {"input": {"subject": subject, "purpose": purpose, "items": ["name"]}},
            token=bearer,
        )
        assert body["data"]["requestConsent"]["errors"][0]["code"] == code


async def test_city_admin_registers_clients_for_own_municipality(gql, token, session) -> None:  # type: ignore[no-untyped-def]
    from backend.auth import service as auth_service

    await auth_service.grant_role(
        session, None, subject="admin-c", role="city_admin", municipality_code="07202"
    )
    await session.commit()
    mutation = """
    mutation($input: RegisterSystemClientInput!) {
      registerSystemClient(input: $input) {
        client { clientId purposes active } errors { code field }
      }
    }"""
    base = {
        "clientId": "welfare-app",
        "nameJa": "福祉",
        "nameEn": "Welfare",
        "purposes": ["care_linkage"],
    }
    body = await gql(
        mutation, {"input": {**base, "municipalityCode": "07202"}}, token=token("admin-c")
    )
    assert body["data"]["registerSystemClient"]["client"] == {
        "clientId": "welfare-app",
        "purposes": ["care_linkage"],
        "active": True,
    }
    body = await gql(
        mutation, {"input": {**base, "municipalityCode": "07201"}}, token=token("admin-c")
    )
    assert body["data"]["registerSystemClient"]["errors"][0]["code"] == "NOT_PERMITTED"
    body = await gql(
        mutation,
        {"input": {**base, "municipalityCode": "07202", "purposes": ["nope"]}},
        token=token("admin-c"),
    )
    assert body["data"]["registerSystemClient"]["errors"][0]["field"] == "purposes"


async def test_community_roster_shows_only_consented_members(gql, token, session) -> None:  # type: ignore[no-untyped-def]
    from tests.consent.world import build_world

    world = await build_world(gql, token, session)
    # a second member who consented to nothing
    communities = await gql('{ communities(municipalityCode: "07202") { id name } }')
    community_id = next(
        c["id"] for c in communities["data"]["communities"] if c["name"] == "東栄町町内会"
    )
    await gql(
        "mutation($c: ID!) { joinCommunity(input: {communityId: $c}) { errors { code } } }",
        {"c": community_id},
        token=token("quiet-neighbour"),
    )
    roster_query = """
    query($c: ID!) { communityRoster(communityId: $c) {
      memberCount consentedMembers { subjectId items { item value } } } }"""
    body = await gql(roster_query, {"c": community_id}, token=world.tokens["leader"])
    roster = body["data"]["communityRoster"]
    assert roster["memberCount"] == 3  # Hanako, the leader, the quiet neighbour
    assert [m["subjectId"] for m in roster["consentedMembers"]] == [world.hanako_id]
    assert {i["item"] for i in roster["consentedMembers"][0]["items"]} == {
        "name",
        "age",
        "address",
        "phone",
        "safety_status",
    }
    # a plain member (not leader) gets nothing, not even the community's existence
    body = await gql(roster_query, {"c": community_id}, token=world.tokens["self"])
    assert body["data"]["communityRoster"] is None


REQUEST = """
mutation($input: RequestConsentInput!) {
  requestConsent(input: $input) {
    request { status itemCodes purposeCode } errors { code field }
  }
}"""


async def test_a_client_cannot_tell_who_uses_kizuna(gql, token, care_app) -> None:  # type: ignore[no-untyped-def]
    # given one regional ID that signed in to Kizuna and one that never did
    await gql("{ me { id } }", token=token("known-person"))
    care = token("svc-care", client_id=care_app)
    # when the care service asks both for the same consent
    answers = []
    for subject in ("known-person", "not-yet-signed-in"):
        variables = {"input": {"subject": subject, "purpose": "care_linkage", "items": ["name"]}}
        answers.append((await gql(REQUEST, variables, token=care))["data"]["requestConsent"])
    # then the two answers are the same: a pending request, no error
    assert answers[0] == answers[1]
    assert answers[0]["request"]["status"] == "pending" and answers[0]["errors"] == []


async def test_a_request_waits_for_a_resident_who_signs_in_later(gql, token, care_app) -> None:  # type: ignore[no-untyped-def]
    # given a request to someone who has not signed in to Kizuna yet
    care = token("svc-care", client_id=care_app)
    variables = {
        "input": {"subject": "late-comer", "purpose": "care_linkage", "items": ["name", "phone"]}
    }
    await gql(REQUEST, variables, token=care)
    # when they sign in, the request is waiting, with the service's registered names
    late = token("late-comer")
    pending = await gql(
        "{ myConsentRequests { id itemCodes requester { clientId nameJa nameEn } } }", token=late
    )
    requests = pending["data"]["myConsentRequests"]
    assert [(r["itemCodes"], r["requester"]) for r in requests] == [
        (
            ["name", "phone"],
            {"clientId": "care-app", "nameJa": "あいづケア", "nameEn": "Aizu Care"},
        )
    ]
    # and accepting it lets the service read exactly those items
    answer = await gql(
        "mutation($id: ID!) { answerConsentRequest(input: {requestId: $id, accept: true})"
        " { consent { itemCodes } errors { code } } }",
        {"id": requests[0]["id"]},
        token=late,
    )
    assert answer["data"]["answerConsentRequest"]["consent"] == {"itemCodes": ["name", "phone"]}
    data = await gql(
        PERSONAL_DATA, {"input": {"subject": "late-comer", "purpose": "care_linkage"}}, token=care
    )
    assert data["data"]["personalData"]["__typename"] == "PersonalData"
    # nobody else sees the request
    other = await gql("{ myConsentRequests { id } }", token=token("someone-else"))
    assert other["data"]["myConsentRequests"] == []


async def test_a_request_for_an_item_nobody_provides_is_refused(  # type: ignore[no-untyped-def]
    gql, token, care_app, monkeypatch
) -> None:
    # given a server where nothing provides health notes
    from backend.consent.providers import providers

    values = {k: v for k, v in providers._values.items() if k != "health_notes"}
    monkeypatch.setattr(providers, "_values", values)
    care = token("svc-care", client_id=care_app)
    variables = {
        "input": {"subject": "anyone", "purpose": "care_linkage", "items": ["health_notes"]}
    }
    body = await gql(REQUEST, variables, token=care)
    assert body["data"]["requestConsent"]["errors"] == [{"code": "VALIDATION", "field": "items"}]


FAMILY_MEMBERS = """
query($g: ID!) { familyGroup(id: $g) { members { id isMe } } }"""


async def _member_id(gql, group_id: str, bearer: str, *, me: bool) -> str:  # type: ignore[no-untyped-def]
    body = await gql(FAMILY_MEMBERS, {"g": group_id}, token=bearer)
    return next(m["id"] for m in body["data"]["familyGroup"]["members"] if m["isMe"] is me)


@pytest.mark.parametrize("how", ["removed", "leaves"])
async def test_sharing_with_a_family_member_by_name_ends_with_the_membership(
    gql, token, how: str
) -> None:  # type: ignore[no-untyped-def]
    # given Hanako shares her home with Taro by name, and Taro can read it
    group_id, tokens = await make_family(gql, token, f"nm-hanako-{how}", [f"nm-taro-{how}"])
    hanako, taro = tokens[f"nm-hanako-{how}"], tokens[f"nm-taro-{how}"]
    await gql(
        'mutation { addPlace(input: {kind: HOME, label: "自宅", latitude: 37.49,'
        " longitude: 139.93}) { errors { code } } }",
        token=hanako,
    )
    taro_member = await _member_id(gql, group_id, hanako, me=False)
    consents = await grant(
        gql,
        hanako,
        "family_location",
        {"kind": "PERSON", "familyMemberId": taro_member},
        ["home_place"],
    )
    assert consents[0]["recipient"]["kind"] == "PERSON"
    hanako_id = (await gql("{ me { id } }", token=hanako))["data"]["me"]["id"]
    assert (await read(gql, taro, hanako_id, "family_location"))["__typename"] == "PersonalData"
    # when Taro is no longer in her family
    if how == "removed":
        body = await gql(
            "mutation($g: ID!, $m: ID!) { removeFamilyMember(input: {groupId: $g, memberId: $m})"
            " { errors { code } } }",
            {"g": group_id, "m": taro_member},
            token=hanako,
        )
        assert body["data"]["removeFamilyMember"]["errors"] == []
    else:
        body = await gql(
            "mutation($g: ID!) { leaveFamilyGroup(input: {groupId: $g}) { errors { code } } }",
            {"g": group_id},
            token=taro,
        )
        assert body["data"]["leaveFamilyGroup"]["errors"] == []
    # then he reads nothing, and Hanako sees the consent ended, by the system, in her history
    assert (await read(gql, taro, hanako_id, "family_location"))["__typename"] == "AccessDenied"
    mine = (await gql(MY_CONSENTS, {"all": True}, token=hanako))["data"]["myConsents"]
    assert [(c["active"], c["revoked"]) for c in mine] == [(False, True)]
    history = (await gql(HISTORY, token=hanako))["data"]["myConsentHistory"]["edges"]
    assert [(e["node"]["kind"], e["node"]["actor"]) for e in history][0] == ("revoked", "system")
