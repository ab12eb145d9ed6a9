"""Life events through the public API: anonymous, typed errors, step-by-step guide."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from backend.lifeevents.demo import seed_demo_life_events
from tests.api.test_statement_counts import count_statements, operation
from tests.conftest import GraphQLClient

EVENTS = operation("LifeEvents.graphql", "LifeEvents")
EVENT = operation("LifeEvents.graphql", "LifeEvent")
GUIDE = operation("LifeEvents.graphql", "LifeEventGuide")


@pytest.fixture
async def demo(session: AsyncSession) -> None:
    await seed_demo_life_events(session)
    await session.commit()


async def guide(gql: GraphQLClient, event: str, answers: dict[str, Any], **extra: Any) -> Any:
    variables = {
        "municipalityCode": extra.get("municipality", "07202"),
        "event": event,
        "answers": [{"question": q, "value": v} for q, v in answers.items()],
    }
    body = await gql(GUIDE, variables)  # no token: public municipal information
    return body["data"]["lifeEventGuide"]


def codes(found: dict[str, Any]) -> list[str]:
    return [p["procedure"]["code"] for p in found["procedures"]]


async def test_anyone_lists_the_events_of_a_municipality(gql: GraphQLClient, demo: None) -> None:
    body = await gql(EVENTS, {"municipalityCode": "07202"})
    events = body["data"]["lifeEvents"]
    assert [e["code"] for e in events] == ["moving_in", "moving_out", "birth", "school_entry"]
    assert events[0]["nameJa"] == "転入（引っ越してきた）"
    # another municipality has none (not an error); nor has a nonsense code
    for code in ("07201", "x" * 300):
        assert (await gql(EVENTS, {"municipalityCode": code}))["data"]["lifeEvents"] == []


async def test_one_event_has_its_questionnaire_and_procedures(
    gql: GraphQLClient, demo: None
) -> None:
    body = await gql(EVENT, {"municipalityCode": "07202", "code": "moving_in"})
    event = body["data"]["lifeEvent"]
    questions = {q["code"]: q for q in event["questions"]}
    assert questions["age"]["type"] == "NUMBER"
    assert (questions["age"]["min"], questions["age"]["max"]) == (0, 120)
    assert questions["child_stages"]["askedWhen"] == {"question": "has_children", "equals": True}
    assert [o["code"] for o in questions["pension_type"]["options"]] == ["type1", "type2", "type3"]
    notice = next(p for p in event["procedures"] if p["code"] == "moving_in_notice")
    assert notice["how"] == ["WINDOW"] and notice["deadlineJa"] == "転入した日から14日以内"
    assert notice["documents"][0]["ja"].startswith("転出証明書")
    assert notice["portalServiceCode"] == "resident_registration"
    missing = await gql(EVENT, {"municipalityCode": "07202", "code": "nope"})
    assert missing["data"]["lifeEvent"] is None


async def test_the_guide_goes_step_by_step(gql: GraphQLClient, demo: None) -> None:
    # at first: the unconditional questions and the procedures everyone has
    start = await guide(gql, "moving_in", {})
    assert start["__typename"] == "LifeEventGuide" and not start["complete"]
    assert [q["code"] for q in start["nextQuestions"]] == [
        "moved_on", "age", "has_my_number_card", "has_children", "has_dog",
    ]  # fmt: skip
    assert codes(start) == ["moving_in_notice", "water_service_start"]
    # children: their stages are asked next; a dog adds its registration at once
    step = await guide(gql, "moving_in", {"has_children": True, "has_dog": True})
    assert "child_stages" in [q["code"] for q in step["nextQuestions"]]
    assert {"child_allowance", "dog_registration"} <= set(codes(step))
    dog = next(p for p in step["procedures"] if p["procedure"]["code"] == "dog_registration")
    assert dog["basedOn"] == [{"question": "has_dog", "value": True}]
    assert dog["reasonJa"] == "回答により対象です：「犬を飼っていますか」"


async def test_the_family_with_a_3_and_a_7_year_old_and_a_dog(
    gql: GraphQLClient, demo: None
) -> None:
    answers = {
        "moved_on": "2026-11-20", "age": 38, "pension_type": "type2",
        "employer_insurance": True, "has_my_number_card": True, "has_children": True,
        "child_stages": ["elementary", "preschool"], "has_dog": True, "needs_seal": False,
    }  # fmt: skip
    found = await guide(gql, "moving_in", answers)
    assert found["complete"] and found["undecidedProcedures"] == 0
    assert codes(found) == [
        "moving_in_notice", "my_number_card_address", "child_allowance",
        "child_medical_subsidy", "nursery_school", "school_transfer", "dog_registration",
        "water_service_start",
    ]  # fmt: skip
    # determinism: the same answers in another order give the very same answer
    again = await guide(gql, "moving_in", dict(reversed(list(answers.items()))))
    assert again == found


async def test_a_66_year_old_gets_care_insurance_and_no_pension(
    gql: GraphQLClient, demo: None
) -> None:
    found = await guide(
        gql,
        "moving_in",
        {"age": 66, "employer_insurance": False, "care_certified": True, "has_dog": False,
         "has_my_number_card": False, "has_children": False, "needs_seal": False,
         "moved_on": "2026-12-01"},
    )  # fmt: skip
    assert codes(found) == [
        "moving_in_notice", "national_health_insurance", "long_term_care_insurance",
        "care_certificate_transfer", "water_service_start",
    ]  # fmt: skip
    care = found["procedures"][2]
    assert care["reasonJa"] == "65歳以上の方は介護保険の第1号被保険者です"
    assert care["basedOn"] == [{"question": "age", "value": 66}]


@pytest.mark.parametrize(
    ("event", "answers", "code", "fields"),
    [
        ("nope", [], "NOT_FOUND", ["event"]),
        ("moving_in", [{"question": "colour", "value": "blue"}], "VALIDATION",
         ["answers[0].question"]),
        ("moving_in", [{"question": "age", "value": "66"}], "VALIDATION", ["answers[0].value"]),
        ("moving_in", [{"question": "age", "value": 500}], "VALIDATION", ["answers[0].value"]),
        ("moving_in", [{"question": "has_dog", "value": True},
                       {"question": "child_stages", "value": ["twins"]}], "VALIDATION",
         ["answers[1].value"]),
    ],
)  # fmt: skip
async def test_bad_requests_get_typed_errors(
    gql: GraphQLClient, demo: None, event: str, answers: list[Any], code: str, fields: list[str]
) -> None:
    body = await gql(GUIDE, {"municipalityCode": "07202", "event": event, "answers": answers})
    error = body["data"]["lifeEventGuide"]
    assert error["__typename"] == "LifeEventGuideError"
    assert (error["code"], error["fields"]) == (code, fields)
    assert error["messageJa"]


async def test_another_municipality_has_no_such_event(gql: GraphQLClient, demo: None) -> None:
    found = await guide(gql, "moving_in", {}, municipality="07201")
    assert (found["code"], found["field"]) == ("NOT_FOUND", "event")


async def test_answers_that_no_longer_apply_are_ignored_and_named(
    gql: GraphQLClient, demo: None
) -> None:
    found = await guide(gql, "moving_in", {"has_children": False, "child_stages": ["infant"]})
    assert found["ignoredQuestions"] == ["child_stages"]
    assert "nursery_school" not in codes(found)


async def test_the_guide_reads_the_database_once(gql: GraphQLClient, demo: None, engine) -> None:  # type: ignore[no-untyped-def]
    await guide(gql, "moving_in", {})  # warm-up
    with count_statements(engine) as statements:
        await guide(gql, "moving_in", {"age": 40, "has_children": True})
    assert len(statements) <= 1, statements
