"""The portal through GraphQL: sections and reasons, consent, acr, usage, admin permissions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from graphql import FragmentDefinitionNode, OperationDefinitionNode, parse, print_ast

from backend.config import Settings
from backend.ingest.problems import ImportRefused
from backend.portal import service as portal_service
from backend.portal.demo import seed_demo_portal
from backend.principal import RequestMeta

OPERATIONS = Path(__file__).resolve().parents[2] / "graphql" / "operations" / "Portal.graphql"
META = RequestMeta(via_client="test")


def operation(name: str) -> str:
    """One operation of the app's Portal document, with its fragments."""
    document = parse(OPERATIONS.read_text(encoding="utf-8"))
    fragments = [
        print_ast(d) for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    ]
    [found] = [
        print_ast(d)
        for d in document.definitions
        if isinstance(d, OperationDefinitionNode) and d.name and d.name.value == name
    ]
    return "\n".join([found, *[f for f in fragments if f.split()[1] in found]])


MY_PORTAL, OPEN, USAGE, COUNTS, SAVE = (
    operation(n)
    for n in (
        "MyPortal",
        "OpenService",
        "MyServiceUsage",
        "ServiceUsageCounts",
        "SavePortalService",
    )
)


@pytest.fixture
async def demo(session, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    await seed_demo_portal(session, settings, META)
    await session.flush()


def sections(body: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Section kind -> {service code: reason (ja)}."""
    portal = body["data"]["myPortal"]
    return {
        s["kind"]: {i["service"]["code"]: i["reasonJa"] for i in s["items"]}
        for s in portal["sections"]
    }


async def portal_of(gql, bearer: str | None, code: str | None = None) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    body = await gql(MY_PORTAL, {"municipalityCode": code}, token=bearer)
    assert "errors" not in body, body
    return body


async def test_the_three_demo_residents_see_their_sections_and_reasons(gql, token, demo) -> None:  # type: ignore[no-untyped-def]
    # given the demo catalog and residents
    # when each asks for their portal
    aizu = sections(await portal_of(gql, token("demo-portal-aizu")))
    commuter = sections(await portal_of(gql, token("demo-portal-commuter")))
    koriyama_body = await portal_of(gql, token("demo-portal-koriyama"))
    koriyama = sections(koriyama_body)
    # then a resident of 07202 sees the prefecture's and 会津若松市's services
    assert aizu["PREFECTURE"]["pref_disaster_portal"] == "福島県全域のサービス"
    assert aizu["RESIDENCE"]["aizu_garbage_calendar"] == "お住まいの会津若松市のサービス"
    assert aizu["COMMUTE"] == {} and aizu["FOR_ME"] == {}
    # prefecture-wide "for me" services are not shown to everyone
    assert "pref_child_allowance_online" not in aizu["PREFECTURE"]
    # the commuter also sees 郡山市's services open to commuters, not its residents-only ones
    assert commuter["COMMUTE"]["koriyama_commuter_parking"] == "通勤先の郡山市のサービス"
    assert commuter["COMMUTE"]["koriyama_hazard_map"] == "通勤先の郡山市のサービス"
    assert "koriyama_garbage_calendar" not in commuter["COMMUTE"]
    # the consenting parent in 郡山市 gets the services for households with a small child
    assert koriyama_body["data"]["myPortal"]["personalized"] is True
    assert koriyama["RESIDENCE"]["koriyama_garbage_calendar"] == "お住まいの郡山市のサービス"
    assert koriyama["FOR_ME"] == {
        "koriyama_nursery_application": "6歳未満のお子さんがいる世帯向け",
        "pref_child_allowance_online": "6歳未満のお子さんがいる世帯向け",
    }
    # ranked by priority within a section
    items = [
        i["service"]["code"] for i in koriyama_body["data"]["myPortal"]["sections"][0]["items"]
    ]
    assert items[0] == "pref_disaster_portal"


async def test_without_the_consent_for_me_is_empty_and_reasons_tell_nothing(  # type: ignore[no-untyped-def]
    gql, token, demo
) -> None:
    # given the parent revokes her portal consent
    bearer = token("demo-portal-koriyama")
    consents = await gql("{ myConsents { id purposeCode } }", token=bearer)
    [portal_consent] = [
        c for c in consents["data"]["myConsents"] if c["purposeCode"] == "portal_personalization"
    ]
    revoked = await gql(
        "mutation($id: ID!) { revokeConsent(input: {consentId: $id}) { errors { code } } }",
        {"id": portal_consent["id"]},
        token=bearer,
    )
    assert revoked["data"]["revokeConsent"]["errors"] == []
    # when she opens her portal
    body = await portal_of(gql, bearer)
    # then nothing is "for me" and no reason mentions her household or age
    found = sections(body)
    assert found["FOR_ME"] == {}
    assert body["data"]["myPortal"]["personalized"] is False
    reasons = " ".join(r for s in found.values() for r in s.values())
    assert "お子さん" not in reasons and "歳" not in reasons


async def test_a_household_fact_needs_the_household_item(gql, token, session, demo) -> None:  # type: ignore[no-untyped-def]
    # given a resident who consents to age only (not household), with the same family
    bearer = token("demo-portal-koriyama")
    consents = await gql("{ myConsents { id purposeCode } }", token=bearer)
    [grant] = [
        c for c in consents["data"]["myConsents"] if c["purposeCode"] == "portal_personalization"
    ]
    await gql(
        "mutation($id: ID!) { revokeConsent(input: {consentId: $id}) { errors { code } } }",
        {"id": grant["id"]},
        token=bearer,
    )
    granted = await gql(
        'mutation { grantConsent(input: {purpose: "portal_personalization", '
        'recipient: {kind: SYSTEM_CLIENT, clientId: "kizuna-portal"}, items: ["age"], '
        'textVersion: "2026-11-ja-1"}) { errors { code field message } } }',
        token=bearer,
    )
    assert granted["data"]["grantConsent"]["errors"] == [], granted
    # then no household-based service is "for me"
    assert sections(await portal_of(gql, bearer))["FOR_ME"] == {}


async def test_anonymous_visitors_get_the_prefecture_and_a_chosen_municipality(gql, demo) -> None:  # type: ignore[no-untyped-def]
    found = sections(await portal_of(gql, None, "07208"))
    assert "pref_disaster_portal" in found["PREFECTURE"]
    assert found["SELECTED"]["kitakata_ramen_map"] == "選択した喜多方市のサービス"
    assert found["RESIDENCE"] == {} and found["FOR_ME"] == {}
    # an unknown municipality is a typed error, not a 500
    body = await gql(MY_PORTAL, {"municipalityCode": "99999"}, expect_errors=True)
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_a_service_above_my_assurance_is_locked_and_does_not_open(gql, token, demo) -> None:  # type: ignore[no-untyped-def]
    # given a sign-in with an e-mail only, and one with the My Number card
    low, high = token("demo-portal-aizu", acr="email"), token("demo-portal-aizu", acr="mynumber")

    # then the certificate service is shown locked with the reason, then unlocked
    def item(body: dict[str, Any]) -> dict[str, Any]:
        [found] = [
            i for s in body["data"]["myPortal"]["sections"] for i in s["items"]
            if i["service"]["code"] == "pref_mynumber_certificates"
        ]  # fmt: skip
        return found

    locked = item(await portal_of(gql, low))
    assert locked["locked"] is True
    assert locked["lockReasonJa"] == "マイナンバーカードでの本人確認が必要です"
    assert item(await portal_of(gql, high))["locked"] is False
    # and opening it with the low sign-in is refused, with the high one recorded
    refused = await gql(OPEN, {"input": {"serviceCode": "pref_mynumber_certificates"}}, token=low)
    assert refused["data"]["openService"]["errors"][0]["code"] == "NOT_PERMITTED"
    opened = await gql(OPEN, {"input": {"serviceCode": "pref_mynumber_certificates"}}, token=high)
    assert opened["data"]["openService"]["usage"] is not None


async def test_services_outside_their_window_are_not_shown(gql, token, demo) -> None:  # type: ignore[no-untyped-def]
    admin = token("admin-07202", roles=[("city_admin", "07202")])
    now = datetime.now(UTC)
    for code, start, end in (
        ("aizu_past", now - timedelta(days=10), now - timedelta(days=1)),
        ("aizu_future", now + timedelta(days=1), None),
        ("aizu_now", now - timedelta(days=1), now + timedelta(days=1)),
    ):
        body = await gql(SAVE, {"input": {
            "code": code, "owner": "07202", "nameJa": code, "nameEn": code,
            "category": "other", "url": "https://example.jp/" + code,
            "availableFrom": start.isoformat(), "availableUntil": end.isoformat() if end else None,
        }}, token=admin)  # fmt: skip
        assert body["data"]["savePortalService"]["errors"] == [], body
    found = sections(await portal_of(gql, token("demo-portal-aizu")))["RESIDENCE"]
    assert "aizu_now" in found and "aizu_past" not in found and "aizu_future" not in found


async def test_admins_manage_only_their_own_services(gql, token, demo) -> None:  # type: ignore[no-untyped-def]
    service = {"code": "aizu_new", "owner": "07202", "nameJa": "新", "nameEn": "New",
               "category": "other", "url": "https://example.jp/new"}  # fmt: skip
    other = token("admin-07203", roles=[("city_admin", "07203")])
    # another municipality's admin is refused, also for an existing service of 07202
    for input_ in (service, {**service, "code": "aizu_garbage_calendar"}):
        body = await gql(SAVE, {"input": input_}, token=other)
        assert body["data"]["savePortalService"]["errors"][0]["code"] == "NOT_PERMITTED"
    # a prefecture-wide service needs the prefecture admin
    pref = {**service, "code": "pref_new", "owner": "07"}
    own = token("admin-07202", roles=[("city_admin", "07202")])
    body = await gql(SAVE, {"input": pref}, token=own)
    assert body["data"]["savePortalService"]["errors"][0]["code"] == "NOT_PERMITTED"
    prefecture = token("pref-admin", roles=[("prefecture_admin", "07201")])
    body = await gql(SAVE, {"input": pref}, token=prefecture)
    assert body["data"]["savePortalService"]["errors"] == []
    # bad fields are all reported, with the input's names
    bad = {**service, "category": "nope", "url": "ftp:/x", "audience": {"minAge": 200}}
    body = await gql(SAVE, {"input": bad}, token=own)
    fields = {e["field"] for e in body["data"]["savePortalService"]["errors"]}
    assert {"category", "url", "audience.minAge"} <= fields
    # the owner's admin may save it
    body = await gql(SAVE, {"input": service}, token=own)
    assert body["data"]["savePortalService"]["service"]["code"] == "aizu_new"


async def test_opening_records_usage_and_staff_see_only_their_counts(gql, token, demo) -> None:  # type: ignore[no-untyped-def]
    bearer = token("demo-portal-aizu")
    for code in ("aizu_bus_navi", "aizu_bus_navi", "pref_disaster_portal"):
        body = await gql(OPEN, {"input": {"serviceCode": code}}, token=bearer)
        assert body["data"]["openService"]["errors"] == [], body
    # my usage, newest first
    usage = await gql(USAGE, {"first": 2}, token=bearer)
    edges = usage["data"]["myServiceUsage"]["edges"]
    assert [e["node"]["service"]["code"] for e in edges] == [
        "pref_disaster_portal",
        "aizu_bus_navi",
    ]
    assert usage["data"]["myServiceUsage"]["pageInfo"]["hasNextPage"] is True
    # recent use lifts the service in its section
    residence = [
        i["service"]["code"]
        for s in (await portal_of(gql, bearer))["data"]["myPortal"]["sections"]
        if s["kind"] == "RESIDENCE" for i in s["items"]
    ]  # fmt: skip
    assert residence.index("aizu_bus_navi") < residence.index("aizu_garbage_calendar")
    since = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    staff = token("staff-07202", roles=[("city_staff", "07202")])
    counts = await gql(COUNTS, {"municipalityCode": "07202", "since": since}, token=staff)
    assert counts["data"]["serviceUsageCounts"] == [
        {
            "opens": 2,
            "residents": 1,
            "service": {"code": "aizu_bus_navi", "nameJa": "会津バス乗換案内"},
        }
    ]
    # must not see: another municipality's staff, a resident, nobody
    for caller in (token("staff-07203", roles=[("city_staff", "07203")]), bearer, None):
        body = await gql(
            COUNTS, {"municipalityCode": "07202", "since": since}, token=caller, expect_errors=True
        )
        assert body["data"] is None and body["errors"]


async def test_a_service_behind_a_consent_names_the_consent_first(gql, token, demo) -> None:  # type: ignore[no-untyped-def]
    bearer = token("demo-portal-aizu")
    body = await gql(OPEN, {"input": {"serviceCode": "aizu_care_app"}}, token=bearer)
    payload = body["data"]["openService"]
    assert payload["usage"] is None and payload["errors"] == []
    assert payload["consentNeeded"]["purpose"] == "care_linkage"
    assert payload["consentNeeded"]["textVersion"]
    assert (await gql(USAGE, token=bearer))["data"]["myServiceUsage"]["edges"] == []
    # an unknown code or a foreign id is NOT_FOUND
    body = await gql(OPEN, {"input": {"serviceCode": "nope"}}, token=bearer)
    assert body["data"]["openService"]["errors"][0]["code"] == "NOT_FOUND"


BAD_CATALOG = b"""services:
  - code: ok_service
    owner: "07202"
    name_ja: OK
    name_en: OK
    category: other
    url: https://example.jp/ok
  - code: Bad Code
    owner: "07202"
    name_ja: X
    name_en: X
    category: nonsense
    url: https://example.jp/x
    audience: {min_age: 70, max_age: 20}
"""


async def test_a_bad_catalog_file_is_refused_whole_with_line_numbers(gql, session) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ImportRefused) as refused:
        await portal_service.import_services(session, data=BAD_CATALOG, source_name="bad.yaml")
    text = str(refused.value.message)
    assert "bad.yaml:8: services[1].code" in text
    assert "bad.yaml:12: services[1].category" in text
    assert "bad.yaml:14: services[1].audience.max_age" in text
    # nothing was imported, not even the good entry
    found = sections(await portal_of(gql, None, "07202"))
    assert "ok_service" not in found["SELECTED"]


async def test_people_who_need_support_see_their_services_only_with_that_item(  # type: ignore[no-untyped-def]
    gql, token, session, demo
) -> None:
    # given a resident of 07202 with an individual evacuation plan (so: needs support)
    from tests.plans.world import op, plan_input
    from tests.shelters.checkin_world import load_shelters, shelter_ids

    await load_shelters(session)
    await session.commit()
    bearer = token("portal-support-needed")
    await gql(
        'mutation { updateProfile(input: {familyName: "支援", givenName: "要", '
        'municipalityCode: "07202"}) { errors { field } } }',
        token=bearer,
    )
    await gql(
        'mutation { addPlace(input: {kind: HOME, label: "自宅", latitude: 37.49,'
        " longitude: 139.935}) { errors { field } } }",
        token=bearer,
    )
    plan = plan_input(
        await shelter_ids(gql),
        supporters=[{"name": "a", "phone": "0242-11-1111"}, {"name": "b", "phone": "0242-22-2222"}],
    )
    saved = await op(gql, "SaveEvacuationPlan", {"input": {"plan": plan}}, who=bearer)
    assert saved["saveEvacuationPlan"]["errors"] == []

    async def for_me(items: list[str]) -> dict[str, str]:
        consents = await gql("{ myConsents { id purposeCode active } }", token=bearer)
        for c in consents["data"]["myConsents"]:
            if c["purposeCode"] == "portal_personalization" and c["active"]:
                await gql(
                    "mutation($id: ID!) { revokeConsent(input: {consentId: $id})"
                    " { errors { code } } }",
                    {"id": c["id"]},
                    token=bearer,
                )
        granted = await gql(
            "mutation($items: [String!]!) { grantConsent(input: {purpose: "
            '"portal_personalization", recipient: {kind: SYSTEM_CLIENT, clientId: '
            '"kizuna-portal"}, items: $items, textVersion: "2026-11-ja-1"})'
            " { errors { code field message } } }",
            {"items": items},
            token=bearer,
        )
        assert granted["data"]["grantConsent"]["errors"] == [], granted
        return sections(await portal_of(gql, bearer))["FOR_ME"]

    # then the plan-help service is "for me" only when she lets the portal use that fact
    assert await for_me(["age", "support_needed"]) == {
        "aizu_evacuation_plan_help": "避難の支援が必要な方向け"
    }
    assert await for_me(["age", "household"]) == {}
    # and a resident without a plan or register entry never gets it
    other = token("portal-no-support")
    await gql(
        'mutation { updateProfile(input: {municipalityCode: "07202"}) { errors { field } } }',
        token=other,
    )
    assert "aizu_evacuation_plan_help" not in sections(await portal_of(gql, other))["FOR_ME"]
