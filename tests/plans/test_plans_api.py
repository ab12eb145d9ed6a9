"""Individual evacuation plans through GraphQL: a care manager drafts under proxy consent, the
city returns and approves, the person signs, supporters read what was consented, and nobody
else sees anything; the disaster-time exception holds only while an event is open."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import GraphQLClient
from tests.consent.world import grant
from tests.plans.world import (
    PLAN_TEXT,
    PLANS_DOC,
    SUPPORTER_ITEMS,
    PlanWorld,
    build_plan_world,
    op,
    plan_input,
)

OPEN_EVENT = """
mutation($codes: [String!]!) {
  openDisasterEvent(input: {name: "会津豪雨（テスト）", municipalityCodes: $codes,
                            hazardType: FLOOD}) {
    event { id } errors { code field }
  }
}"""
CLOSE_EVENT = """
mutation($id: ID!) { closeDisasterEvent(input: {eventId: $id}) { errors { code } } }"""
ACCESS_LOG = """
{ myDataAccessLog(first: 100) { edges { node {
    viewerSubject relationship purposeCode itemCodes legalBasis } } } }"""


@pytest.fixture
async def world(gql: GraphQLClient, token: Any, session: Any) -> PlanWorld:
    return await build_plan_world(gql, token, session)


async def save(
    gql: GraphQLClient, who: str, world: PlanWorld, person: str | None, **extra: Any
) -> dict[str, Any]:
    plan = extra.pop("plan", None) or plan_input(world.shelters)
    variables: dict[str, Any] = {"input": {"plan": plan, **extra}}
    if person is not None:
        variables["input"]["personId"] = world.ids[person]
    data = await op(gql, "SaveEvacuationPlan", variables, who=world.tokens[who])
    payload: dict[str, Any] = data["saveEvacuationPlan"]
    return payload


async def read(gql: GraphQLClient, world: PlanWorld, who: str, person: str) -> Any:
    data = await op(gql, "EvacuationPlan", {"personId": world.ids[person]}, who=world.tokens[who])
    return data["evacuationPlan"]


async def step(gql: GraphQLClient, world: PlanWorld, name: str, who: str, **variables: Any) -> Any:
    data = await op(gql, name, variables, who=world.tokens[who])
    return next(iter(data.values()))


def other_persons_plan(world: PlanWorld) -> dict[str, Any]:
    """The other person's plan: their own supporter (sup-other) and a neighbour by phone."""
    return plan_input(
        world.shelters,
        supporters=[
            {"name": "他人 支援", "subject": "sup-other"},
            {"name": "誰か", "phone": "0242-33-3333"},
        ],
    )


async def approved_plan_for_ume(gql: GraphQLClient, world: PlanWorld) -> str:
    saved = await save(gql, "care_manager", world, "ume")
    assert saved["errors"] == [], saved
    plan_id = saved["plan"]["id"]
    assert (await step(gql, world, "SubmitEvacuationPlan", "care_manager", planId=plan_id))[
        "errors"
    ] == []
    approved = await step(gql, world, "ApproveEvacuationPlan", "staff", planId=plan_id)
    assert approved["errors"] == [] and approved["plan"]["status"] == "APPROVED"
    return str(plan_id)


async def test_a_care_manager_drafts_the_city_returns_and_approves_and_ume_signs(
    gql: GraphQLClient, world: PlanWorld
) -> None:
    # given Ume named her care manager as her proxy: she is on the care manager's caseload
    caseload = await op(gql, "MyProxyPeople", who=world.tokens["care_manager"])
    assert caseload["myProxyPeople"] == [
        {
            "personId": world.ids["ume"],
            "name": "会津 うめ",
            "address": "会津若松市城東町（架空）",
            "phone": "0242-11-1111",
            "planId": None,
            "planStatus": None,
            "planVersion": None,
        }
    ]
    for who in ("care_manager_other", "supporter", "staff"):
        assert (await op(gql, "MyProxyPeople", who=world.tokens[who]))["myProxyPeople"] == []
    # when her care manager drafts Ume's plan under her proxy consent
    saved = await save(gql, "care_manager", world, "ume")
    assert saved["errors"] == []
    plan = saved["plan"]
    assert (plan["status"], plan["version"], plan["manages"]) == ("DRAFT", 1, True)
    assert plan["personName"] == "会津 うめ" and plan["readAs"] == ["person"]
    content = plan["content"]
    assert content["medicalNotes"] == "インスリン注射（1日2回）。"
    assert [s["residentId"] for s in content["supporters"]] == [world.ids["supporter"], None]
    assert content["shelters"][0]["shelterName"] == "デモ市民体育館（架空）"
    assert content["shelters"][0]["designated"] is True
    # then the route from her home to the flood shelter is computed, with its hazard check
    route = content["route"]
    assert route["problem"] is None and route["distanceMeters"] > 100
    assert route["safe"] is True and route["geometry"]["type"] == "LineString"
    # A plan is for someone who needs support: its walk is planned step-free.
    assert route["profile"] == "STEP_FREE" and route["stepsUsed"] == 0
    assert route["shelterId"] == world.shelters["DEMO-07202-003"]
    # and supporters see nothing of a draft
    assert await read(gql, world, "supporter", "ume") is None
    plan_id = plan["id"]

    # when she submits it and the city returns it with a comment (差戻し)
    submitted = await step(gql, world, "SubmitEvacuationPlan", "care_manager", planId=plan_id)
    assert submitted["plan"]["status"] == "SUBMITTED"
    no_comment = await step(gql, world, "ReturnEvacuationPlan", "staff", planId=plan_id, comment="")
    assert [(e["code"], e["field"]) for e in no_comment["errors"]] == [("VALIDATION", "comment")]
    comment = "地震時の避難先は福祉避難所を検討してください"
    returned = await step(
        gql, world, "ReturnEvacuationPlan", "staff", planId=plan_id, comment=comment
    )
    assert returned["plan"]["status"] == "RETURNED"
    # and she corrects it (a new version) and resubmits, and the city approves
    corrected = plan_input(
        world.shelters, triggerLevel=3, leaveNote="レベル3で一郎さんが車いすで迎えに行く"
    )
    saved = await save(gql, "care_manager", world, "ume", plan=corrected)
    assert (saved["plan"]["status"], saved["plan"]["version"]) == ("RETURNED", 2)
    await step(gql, world, "SubmitEvacuationPlan", "care_manager", planId=plan_id)
    approved = await step(gql, world, "ApproveEvacuationPlan", "staff", planId=plan_id)
    assert approved["plan"]["status"] == "APPROVED"

    # when Ume signs after reading the consent text (an outdated version is refused)
    stale = await step(
        gql, world, "AcknowledgeEvacuationPlan", "ume", planId=plan_id, textVersion="2020-01-ja-1"
    )
    assert [(e["code"], e["field"]) for e in stale["errors"]] == [("VALIDATION", "textVersion")]
    signed = await step(
        gql, world, "AcknowledgeEvacuationPlan", "ume", planId=plan_id, textVersion=PLAN_TEXT
    )
    assert signed["errors"] == []
    assert signed["plan"]["status"] == "ACKNOWLEDGED"
    assert signed["plan"]["acknowledgedHow"] == "app" and signed["plan"]["acknowledgedAt"]

    # then every step is kept with who and when, and the versions can be compared
    data = await op(
        gql,
        "EvacuationPlanHistory",
        {"id": plan_id, "fromVersion": 1, "toVersion": 2},
        who=world.tokens["ume"],
    )
    history = data["evacuationPlan"]
    steps = [(t["fromStatus"], t["toStatus"], t["version"]) for t in history["transitions"]]
    assert steps == [
        (None, "DRAFT", 1),
        ("DRAFT", "SUBMITTED", 1),
        ("SUBMITTED", "RETURNED", 1),
        ("RETURNED", "RETURNED", 2),
        ("RETURNED", "SUBMITTED", 2),
        ("SUBMITTED", "APPROVED", 2),
        ("APPROVED", "ACKNOWLEDGED", 2),
    ]
    assert history["transitions"][2]["comment"] == comment
    assert history["transitions"][2]["actor"] == "staff-aizu"
    assert [(v["version"], v["capacity"]) for v in history["versions"]] == [
        (1, "proxy:care_manager"),
        (2, "proxy:care_manager"),
    ]
    changes = {c["path"]: (c["before"], c["after"]) for c in history["changes"]}
    assert changes["leaveNote"] == (
        "高齢者等避難（レベル3）で一郎さんが迎えに行く",
        "レベル3で一郎さんが車いすで迎えに行く",
    )
    assert "medicalNotes" not in changes

    # and the named supporter reads only what Ume consented to (no health notes)
    seen = await read(gql, world, "supporter", "ume")
    assert seen["readAs"] == ["supporter"] and seen["manages"] is False
    assert seen["content"]["medicalNotes"] is None and seen["content"]["supporters"] is None
    assert set(seen["refusedItems"]) == {"health_notes", "supporters"}
    assert seen["content"]["supportNeeds"] == "車いす。段差のある道は介助が必要。"
    assert seen["content"]["route"]["distanceMeters"] > 100
    assert seen["acknowledgedAt"] is None  # the workflow is for those who manage the plan
    people = (await op(gql, "MySupportedPeople", who=world.tokens["supporter"]))[
        "mySupportedPeople"
    ]
    assert [(p["personId"], p["name"], p["phone"]) for p in people] == [
        (world.ids["ume"], "会津 うめ", "0242-11-1111")
    ]
    # and every read by someone else is in Ume's access log
    log = (await gql(ACCESS_LOG, token=world.tokens["ume"]))["data"]["myDataAccessLog"]
    readers = {(e["node"]["viewerSubject"], e["node"]["relationship"]) for e in log["edges"]}
    assert ("sup-ichiro", "supporter") in readers
    assert ("cm-yamada", "person") in readers


async def test_nobody_else_sees_or_writes_the_plan(gql: GraphQLClient, world: PlanWorld) -> None:
    # given Ume's approved plan, and another person's plan naming another supporter
    await approved_plan_for_ume(gql, world)
    saved = await save(gql, "other_person", world, None, plan=other_persons_plan(world))
    assert saved["errors"] == []
    await grant(
        gql,
        world.tokens["other_person"],
        "plan_support",
        {"kind": "ROLE", "role": "supporter"},
        SUPPORTER_ITEMS,
    )
    await step(gql, world, "SubmitEvacuationPlan", "other_person", planId=saved["plan"]["id"])
    await step(gql, world, "ApproveEvacuationPlan", "staff", planId=saved["plan"]["id"])
    # then a stranger, a supporter of someone else, a care manager and staff of another
    # municipality, and a town-association leader without consent, see nothing
    for who in ("stranger", "supporter_other", "care_manager_other", "staff_other", "leader"):
        assert await read(gql, world, who, "ume") is None, who
        people = (await op(gql, "MySupportedPeople", who=world.tokens[who]))["mySupportedPeople"]
        assert world.ids["ume"] not in [p["personId"] for p in people], who
    # and none of them can write her plan: it looks like nobody is there
    for who in ("stranger", "supporter", "supporter_other", "care_manager_other", "staff_other"):
        saved = await save(gql, who, world, "ume")
        assert [(e["code"], e["field"]) for e in saved["errors"]] == [("NOT_FOUND", "personId")]
    # nor review it, nor see the city's queue of another municipality
    plan_id = (await read(gql, world, "ume", "ume"))["id"]
    for who in ("staff_other", "care_manager", "supporter"):
        returned = await step(gql, world, "ReturnEvacuationPlan", who, planId=plan_id, comment="x")
        assert [e["code"] for e in returned["errors"]] in (["NOT_FOUND"], ["CONFLICT"]), who
    body = await gql(
        'query { evacuationPlans(municipalityCode: "07202") { edges { node { id } } } }',
        token=world.tokens["staff_other"],
        expect_errors=True,
    )
    assert body["data"] is None and body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    # while the other supporter sees the person who named them
    people = (await op(gql, "MySupportedPeople", who=world.tokens["supporter_other"]))[
        "mySupportedPeople"
    ]
    assert [p["personId"] for p in people] == [world.ids["other_person"]]


async def test_staff_write_a_plan_only_stating_a_legal_basis_and_cannot_approve_their_own(
    gql: GraphQLClient, world: PlanWorld
) -> None:
    # when city staff write a plan for someone who gave no proxy consent, without a basis
    refused = await save(gql, "staff", world, "other_person")
    assert [(e["code"], e["field"]) for e in refused["errors"]] == [("VALIDATION", "legalBasis")]
    # then with the basis it is stored with the version
    basis = "災害対策基本法第49条の14第1項（本人の同意取得前の作成）"
    saved = await save(gql, "staff", world, "other_person", legalBasis=basis)
    assert saved["errors"] == [] and saved["plan"]["readAs"] == ["law:municipal_plan_record"]
    plan_id = saved["plan"]["id"]
    await step(gql, world, "SubmitEvacuationPlan", "staff", planId=plan_id)
    # and its author cannot approve it; a colleague can
    own = await step(gql, world, "ApproveEvacuationPlan", "staff", planId=plan_id)
    assert [(e["code"], e["field"]) for e in own["errors"]] == [("CONFLICT", "planId")]
    colleague = await step(gql, world, "ApproveEvacuationPlan", "staff_second", planId=plan_id)
    assert colleague["plan"]["status"] == "APPROVED"
    history = await op(
        gql,
        "EvacuationPlanHistory",
        {"id": plan_id, "fromVersion": 1, "toVersion": 1},
        who=world.tokens["other_person"],
    )
    version = history["evacuationPlan"]["versions"][0]
    assert (version["capacity"], version["legalBasis"]) == ("staff", basis)
    # and staff record the person's signature given on paper
    paper = await op(
        gql,
        "RecordPaperPlanSignature",
        {"input": {"planId": plan_id, "textVersion": PLAN_TEXT, "signedOn": "2026-11-30",
                   "signedBy": "本人"}},
        who=world.tokens["staff_second"],
    )  # fmt: skip
    assert paper["recordPaperPlanSignature"]["plan"]["acknowledgedHow"] == "paper"


async def test_the_disaster_time_exception_holds_only_while_an_event_is_open(
    gql: GraphQLClient, world: PlanWorld
) -> None:
    # given the other person's approved plan names a supporter, without any consent to them
    saved = await save(gql, "other_person", world, None, plan=other_persons_plan(world))
    plan_id = saved["plan"]["id"]
    await step(gql, world, "SubmitEvacuationPlan", "other_person", planId=plan_id)
    await step(gql, world, "ApproveEvacuationPlan", "staff", planId=plan_id)
    assert await read(gql, world, "supporter_other", "other_person") is None
    # and Ume's plan, which her town-association leader may not read
    await approved_plan_for_ume(gql, world)
    assert await read(gql, world, "leader", "ume") is None

    # when the city opens a disaster event for 会津若松市
    opened = await gql(OPEN_EVENT, {"codes": ["07202"]}, token=world.tokens["staff"])
    event_id = opened["data"]["openDisasterEvent"]["event"]["id"]
    # then the supporter reads the plan under the disaster-time exception (no health notes)
    seen = await read(gql, world, "supporter_other", "other_person")
    assert seen["readAs"] == ["law:disaster_register"]
    assert seen["personName"] == "別人 さん"
    assert seen["content"]["medicalNotes"] is None and "health_notes" in seen["refusedItems"]
    assert seen["content"]["shelters"][0]["shelterName"] == "デモ市民体育館（架空）"
    # and so does Ume's leader; a stranger still does not
    assert (await read(gql, world, "leader", "ume"))["readAs"] == ["law:disaster_register"]
    assert await read(gql, world, "stranger", "ume") is None
    # and the person sees the read, with its legal basis, in their access log
    log = (await gql(ACCESS_LOG, token=world.tokens["other_person"]))["data"]["myDataAccessLog"]
    lawful = [e["node"] for e in log["edges"] if e["node"]["viewerSubject"] == "sup-other"]
    assert lawful and all(n["legalBasis"] == "disaster_register" for n in lawful)
    assert "health_notes" not in lawful[0]["itemCodes"]

    # when the event is closed, the exception ends with it
    await gql(CLOSE_EVENT, {"id": event_id}, token=world.tokens["staff"])
    assert await read(gql, world, "supporter_other", "other_person") is None
    assert await read(gql, world, "leader", "ume") is None


async def test_changing_an_approved_plan_needs_the_citys_review_again(
    gql: GraphQLClient, world: PlanWorld
) -> None:
    plan_id = await approved_plan_for_ume(gql, world)
    assert await read(gql, world, "supporter", "ume") is not None
    # when Ume changes her approved plan herself
    saved = await save(gql, "ume", world, None, plan=plan_input(world.shelters, triggerLevel=4))
    # then it is a draft again, and supporters wait for the new approval
    assert (saved["plan"]["status"], saved["plan"]["version"]) == ("DRAFT", 2)
    assert saved["plan"]["readAs"] == ["self"]
    assert await read(gql, world, "supporter", "ume") is None
    # and a submitted plan cannot be changed while the city reviews it
    await step(gql, world, "SubmitEvacuationPlan", "ume", planId=plan_id)
    locked = await save(gql, "care_manager", world, "ume")
    assert [(e["code"], e["field"]) for e in locked["errors"]] == [("CONFLICT", "personId")]


async def test_revoking_the_proxy_consent_ends_the_care_managers_access(
    gql: GraphQLClient, world: PlanWorld
) -> None:
    assert (await save(gql, "care_manager", world, "ume"))["errors"] == []
    consents = await gql("{ myConsents { id purposeCode proxyRole } }", token=world.tokens["ume"])
    proxy = next(c for c in consents["data"]["myConsents"] if c["proxyRole"] == "care_manager")
    await gql(
        "mutation($id: ID!) { revokeConsent(input: {consentId: $id}) { errors { code } } }",
        {"id": proxy["id"]},
        token=world.tokens["ume"],
    )
    assert await read(gql, world, "care_manager", "ume") is None
    assert (await op(gql, "MyProxyPeople", who=world.tokens["care_manager"]))["myProxyPeople"] == []
    saved = await save(gql, "care_manager", world, "ume")
    assert [(e["code"], e["field"]) for e in saved["errors"]] == [("NOT_FOUND", "personId")]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"supporters": [{"name": "一人だけ", "phone": "0242-22-2222"}]}, "plan.supporters"),
        (
            {"supporters": [{"name": "番号なし"}, {"name": "誰か", "phone": "0242-33-3333"}]},
            "plan.supporters[0].phone",
        ),
        (
            {"supporters": [{"name": "a", "subject": "nobody"}, {"name": "b", "phone": "0242-1"}]},
            "plan.supporters[1].phone",
        ),
        ({"triggerLevel": 2}, "plan.triggerLevel"),
        ({"informedBy": []}, "plan.informedBy"),
        ({"supportNeeds": "   "}, "plan.supportNeeds"),
        ({"supportNeeds": "a\u202eb"}, "plan.supportNeeds"),
        ({"shelters": []}, "plan.shelters"),
        (
            {"shelters": [{"hazardType": "FLOOD", "shelterId": "U2hlbHRlcjpub3BlIQ=="}]},
            "plan.shelters[0].shelterId",
        ),
    ],
)
async def test_bad_plans_are_refused_whole(
    gql: GraphQLClient, world: PlanWorld, change: dict[str, Any], field: str
) -> None:
    saved = await save(gql, "ume", world, None, plan=plan_input(world.shelters, **change))
    assert field in [e["field"] for e in saved["errors"]], saved["errors"]
    assert all(e["messageJa"] for e in saved["errors"])
    assert saved["plan"] is None
    assert (await op(gql, "MyEvacuationPlan", who=world.tokens["ume"]))["myEvacuationPlan"] is None


async def test_unknown_supporter_ids_and_persons_are_typed_errors(
    gql: GraphQLClient, world: PlanWorld
) -> None:
    plan = plan_input(
        world.shelters,
        supporters=[
            {"name": "a", "subject": "nobody-here"},
            {"name": "b", "phone": "0242-33-3333"},
        ],
    )
    saved = await save(gql, "ume", world, None, plan=plan)
    assert [(e["code"], e["field"]) for e in saved["errors"]] == [
        ("VALIDATION", "plan.supporters[0].subject")
    ]
    garbage = await op(
        gql,
        "SaveEvacuationPlan",
        {"input": {"personId": "not-an-id", "plan": plan_input(world.shelters)}},
        who=world.tokens["care_manager"],
    )
    assert [(e["code"], e["field"]) for e in garbage["saveEvacuationPlan"]["errors"]] == [
        ("NOT_FOUND", "personId")
    ]
    anonymous = await gql("{ myEvacuationPlan { id } }", expect_errors=True)
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


ISSUE_ALERT = """
mutation($input: StaffAlertInput!) {
  issueAlert(input: $input) { alert { id } errors { code field message messageJa } }
}"""
INBOX = """
query { me { notifications(first: 10) { edges { node { category titleJa data } } } } }"""
REPORT = """
mutation($input: ReportSafetyInput!) {
  reportSafety(input: $input) { answer { status answeredBy } errors { code field } }
}"""
# A square around Ume's home (37.4900, 139.9350), not reaching the other person's.
AROUND_UME = {
    "type": "Polygon",
    "coordinates": [
        [[139.933, 37.488], [139.937, 37.488], [139.937, 37.492], [139.933, 37.492],
         [139.933, 37.488]]
    ],
}  # fmt: skip


async def _inbox(gql: GraphQLClient, bearer: str) -> list[dict[str, Any]]:
    body = await gql(INBOX, token=bearer)
    return [e["node"] for e in body["data"]["me"]["notifications"]["edges"]]


@pytest.mark.parametrize(("level", "activates"), [(3, True), (4, True)])
async def test_an_alert_at_the_trigger_level_activates_the_plan(
    gql: GraphQLClient, world: PlanWorld, level: int, activates: bool
) -> None:
    # given Ume's approved plan (leave at level 3) naming Ichiro
    plan_id = await approved_plan_for_ume(gql, world)
    # when city staff issue 高齢者等避難 / 避難指示 for the area of her home
    issued = await gql(
        ISSUE_ALERT,
        {
            "input": {
                "municipalityCode": "07202",
                "kind": "EVACUATION",
                "level": level,
                "areas": [AROUND_UME],
                "headlineJa": "城東町の一部に避難情報を発令しました。",
            }
        },
        token=world.tokens["staff"],
    )
    assert issued["data"]["issueAlert"]["errors"] == []
    # then the plan is active, and Ume and her supporter are told (the notice names nobody)
    plan = await read(gql, world, "ume", "ume")
    assert (plan["activatedAt"] is not None) is activates
    mine = [n for n in await _inbox(gql, world.tokens["ume"]) if "planId" in n["data"]]
    theirs = [n for n in await _inbox(gql, world.tokens["supporter"]) if "planId" in n["data"]]
    assert [n["data"]["planId"] for n in mine] == [plan_id]
    assert [n["titleJa"] for n in theirs] == ["支援している方の個別避難計画が発動しました"]
    assert "うめ" not in str(theirs)
    assert theirs[0]["category"] == ("EMERGENCY" if level >= 4 else "WARNING")
    # and nobody else is
    for who in ("supporter_other", "stranger"):
        assert not [n for n in await _inbox(gql, world.tokens[who]) if "planId" in n["data"]]
    # and the supporter follows the route as it would be walked now
    data = await op(
        gql, "EvacuationPlan", {"personId": world.ids["ume"]}, who=world.tokens["supporter"]
    )
    current = data["evacuationPlan"]["currentRoute"]
    assert current["problem"] is None and current["distanceMeters"] > 100


async def test_a_plan_with_a_higher_trigger_level_waits(
    gql: GraphQLClient, world: PlanWorld
) -> None:
    saved = await save(
        gql, "care_manager", world, "ume", plan=plan_input(world.shelters, triggerLevel=4)
    )
    plan_id = saved["plan"]["id"]
    await step(gql, world, "SubmitEvacuationPlan", "care_manager", planId=plan_id)
    await step(gql, world, "ApproveEvacuationPlan", "staff", planId=plan_id)
    issued = await gql(
        ISSUE_ALERT,
        {
            "input": {
                "municipalityCode": "07202",
                "kind": "EVACUATION",
                "level": 3,
                "areas": [AROUND_UME],
                "headlineJa": "高齢者等避難",
            }
        },
        token=world.tokens["staff"],
    )
    assert issued["data"]["issueAlert"]["errors"] == []
    assert (await read(gql, world, "ume", "ume"))["activatedAt"] is None
    assert not [n for n in await _inbox(gql, world.tokens["supporter"]) if "planId" in n["data"]]


async def test_supporters_answer_for_the_person_and_staff_count_the_people_who_need_support(
    gql: GraphQLClient, world: PlanWorld
) -> None:
    await approved_plan_for_ume(gql, world)
    opened = await gql(OPEN_EVENT, {"codes": ["07202"]}, token=world.tokens["staff"])
    event_id = opened["data"]["openDisasterEvent"]["event"]["id"]
    before = await op(gql, "SupportNeededTally", {"eventId": event_id}, who=world.tokens["staff"])
    assert before["supportNeededTally"]["people"] == 1
    assert before["supportNeededTally"]["tally"]["unanswered"] == 1
    # when her named supporter answers for Ume
    body = await gql(
        REPORT,
        {"input": {"eventId": event_id, "status": "SAFE", "personId": world.ids["ume"]}},
        token=world.tokens["supporter"],
    )
    assert body["data"]["reportSafety"]["answer"] == {"status": "SAFE", "answeredBy": "SUPPORTER"}
    # then staff see her counted, without her name
    after = await op(gql, "SupportNeededTally", {"eventId": event_id}, who=world.tokens["staff"])
    assert after["supportNeededTally"]["tally"]["safe"] == 1
    assert after["supportNeededTally"]["tally"]["unanswered"] == 0
    # and someone who is not her supporter cannot answer for her; other staff see no tally
    body = await gql(
        REPORT,
        {"input": {"eventId": event_id, "status": "SAFE", "personId": world.ids["ume"]}},
        token=world.tokens["supporter_other"],
    )
    assert [e["code"] for e in body["data"]["reportSafety"]["errors"]] == ["NOT_FOUND"]
    other = await gql(
        "query($e: ID!) { supportNeededTally(eventId: $e) { people } }",
        {"e": event_id},
        token=world.tokens["staff_other"],
        expect_errors=True,
    )
    assert other["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_a_registered_care_plan_service_drafts_under_proxy_consent(
    gql: GraphQLClient, world: PlanWorld, token: Any, session: Any
) -> None:
    # given a care-plan service registered for plan support, and one that is not
    from backend.consent import service as consent_service

    for client_id, purposes in (
        ("careplan-svc", ["plan_support"]),
        ("other-svc", ["care_linkage"]),
    ):
        await consent_service.register_system_client(
            session, None, client_id=client_id, name_ja=client_id, name_en=client_id,
            municipality_code="07202", purposes=purposes,
        )  # fmt: skip
    await session.commit()
    service_token = token("svc-careplan", client_id="careplan-svc")
    # when Ume names the service as her proxy for plan support
    await grant(
        gql,
        world.tokens["other_person"],
        "plan_support",
        {"kind": "SYSTEM_CLIENT", "clientId": "careplan-svc"},
        ["name", "address", "support_needed", "health_notes", "supporters", "evacuation_plan"],
        proxyRole="care_plan_service",
    )
    # then the service lists her, writes her plan (as a client, no person behind it) and
    # submits it
    caseload = (await gql("{ myProxyPeople { personId name } }", token=service_token))["data"]
    assert caseload["myProxyPeople"] == [
        {"personId": world.ids["other_person"], "name": "別人 さん"}
    ]
    body = await gql(
        PLANS_DOC,
        {"input": {"personId": world.ids["other_person"], "plan": plan_input(world.shelters)}},
        token=service_token,
        operation_name="SaveEvacuationPlan",
    )
    saved = body["data"]["saveEvacuationPlan"]
    assert saved["errors"] == [] and saved["plan"]["readAs"] == ["system_client"]
    history = await op(
        gql,
        "EvacuationPlanHistory",
        {"id": saved["plan"]["id"], "fromVersion": 1, "toVersion": 1},
        who=world.tokens["other_person"],
    )
    version = history["evacuationPlan"]["versions"][0]
    assert (version["author"], version["capacity"]) == (
        "client:careplan-svc",
        "proxy:care_plan_service",
    )
    # and a service she did not name cannot
    other = await gql(
        PLANS_DOC,
        {"input": {"personId": world.ids["other_person"], "plan": plan_input(world.shelters)}},
        token=token("svc-other", client_id="other-svc"),
        operation_name="SaveEvacuationPlan",
    )
    errors = other["data"]["saveEvacuationPlan"]["errors"]
    assert [(e["code"], e["field"]) for e in errors] == [("NOT_FOUND", "personId")]


async def test_version_changes_show_ids_and_values_as_the_api_does(
    gql: GraphQLClient, world: PlanWorld
) -> None:
    first = await save(gql, "ume", world, None)
    plan_id = first["plan"]["id"]
    moved = plan_input(
        world.shelters,
        shelters=[{"hazardType": "LANDSLIDE", "shelterId": world.shelters["DEMO-07202-005"]}],
        transport="CAR",
    )
    await save(gql, "ume", world, None, plan=moved)
    data = await op(
        gql,
        "EvacuationPlanHistory",
        {"id": plan_id, "fromVersion": 1, "toVersion": 2},
        who=world.tokens["ume"],
    )
    changes = {c["path"]: (c["before"], c["after"]) for c in data["evacuationPlan"]["changes"]}
    assert changes["shelters[0].shelterId"] == (
        world.shelters["DEMO-07202-003"],
        world.shelters["DEMO-07202-005"],
    )
    assert changes["shelters[0].hazardType"] == ("FLOOD", "LANDSLIDE")
    assert changes["transport"] == ("WHEELCHAIR", "CAR")
    assert changes["shelters[1].shelterName"] == ("デモ第一小学校（架空）", None)
    # a version that does not exist is a typed error
    body = await gql(
        PLANS_DOC,
        {"id": plan_id, "fromVersion": 1, "toVersion": 9},
        token=world.tokens["ume"],
        operation_name="EvacuationPlanHistory",
        expect_errors=True,
    )
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert body["errors"][0]["extensions"]["field"] == "toVersion"
