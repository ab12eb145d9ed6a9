"""The guide as a pure function on the demo 転入 event: who gets which procedures, and why."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from backend.errors import ValidationErrors
from backend.lifeevents.definition import LifeEvent, parse_life_events
from backend.lifeevents.demo import DEMO_FILE
from backend.lifeevents.guide import Answer, Guide, life_event_guide

ALWAYS = ["moving_in_notice", "water_service_start"]


@pytest.fixture(scope="module")
def moving_in() -> LifeEvent:
    events = parse_life_events(DEMO_FILE.read_bytes(), DEMO_FILE.name).events
    return next(e for e in events if e.code == "moving_in")


def guide(event: LifeEvent, **answers: Any) -> Guide:
    return life_event_guide(event, [Answer(q, v) for q, v in answers.items()])


def codes(found: Guide) -> list[str]:
    return [p.procedure.code for p in found.procedures]


def asked(found: Guide) -> list[str]:
    return [q.code for q in found.next_questions]


SINGLE_ADULT = {
    "moved_on": "2026-11-20", "age": 30, "pension_type": "type1",
    "employer_insurance": False, "has_my_number_card": False, "has_children": False,
    "has_dog": False, "needs_seal": False,
}  # fmt: skip
FAMILY = {
    "moved_on": "2026-11-20", "age": 38, "pension_type": "type2", "employer_insurance": True,
    "has_my_number_card": True, "has_children": True,
    "child_stages": ["elementary", "preschool"],  # a 7-year-old and a 3-year-old
    "has_dog": True, "needs_seal": True,
}  # fmt: skip
SIXTY_SIX = {
    "moved_on": "2026-11-20", "age": 66, "employer_insurance": False, "care_certified": False,
    "has_my_number_card": True, "has_children": False, "has_dog": False, "needs_seal": False,
}  # fmt: skip


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        (
            SINGLE_ADULT,
            ["moving_in_notice", "national_health_insurance", "national_pension",
             "water_service_start"],
        ),
        (
            FAMILY,
            ["moving_in_notice", "my_number_card_address", "child_allowance",
             "child_medical_subsidy", "nursery_school", "school_transfer", "seal_registration",
             "dog_registration", "water_service_start"],
        ),
        (
            SIXTY_SIX,
            ["moving_in_notice", "my_number_card_address", "national_health_insurance",
             "long_term_care_insurance", "water_service_start"],
        ),
    ],
    ids=["single-adult", "family-3-and-7-with-dog", "66-year-old"],
)  # fmt: skip
def test_moving_in_returns_the_expected_procedures(
    moving_in: LifeEvent, answers: dict[str, Any], expected: list[str]
) -> None:
    found = guide(moving_in, **answers)
    assert found.complete and not found.next_questions and found.undecided == 0
    assert codes(found) == expected
    assert not found.ignored


def test_each_procedure_says_why(moving_in: LifeEvent) -> None:
    found = {p.procedure.code: p for p in guide(moving_in, **FAMILY).procedures}
    notice = found["moving_in_notice"]
    assert notice.based_on == () and "すべての方" in notice.reason_ja
    assert notice.procedure.deadline_ja == "転入した日から14日以内"
    school = found["school_transfer"]
    assert [q.code for q in school.based_on] == ["child_stages"]
    assert "お子さんの年代" in school.reason_ja and "children's stages" in school.reason_en
    pension = guide(moving_in, **SINGLE_ADULT).procedures[2]
    assert [q.code for q in pension.based_on] == ["age", "pension_type"]


def test_questions_appear_only_when_they_apply(moving_in: LifeEvent) -> None:
    # at first: the questions without a condition; age-dependent ones wait for the age
    start = guide(moving_in)
    assert asked(start) == ["moved_on", "age", "has_my_number_card", "has_children", "has_dog"]
    assert codes(start) == ALWAYS and start.undecided == len(moving_in.procedures) - 2
    # a 30-year-old is asked about the pension, health insurance and the seal, not care
    thirty = guide(moving_in, age=30)
    assert {"pension_type", "employer_insurance", "needs_seal"} <= set(asked(thirty))
    assert "care_certified" not in asked(thirty)
    # a 66-year-old about care, not the pension; an 80-year-old not about employer insurance
    assert "care_certified" in asked(guide(moving_in, age=66))
    assert "pension_type" not in asked(guide(moving_in, age=66))
    assert "employer_insurance" not in asked(guide(moving_in, age=80))
    # children's stages only once there are children
    assert "child_stages" not in asked(guide(moving_in, has_children=False))
    assert "child_stages" in asked(guide(moving_in, has_children=True))
    # a 10-year-old registering alone is asked nothing about seals
    assert "needs_seal" not in asked(guide(moving_in, age=10))


def test_procedures_appear_as_soon_as_they_are_decided(moving_in: LifeEvent) -> None:
    found = guide(moving_in, age=70)
    assert "long_term_care_insurance" in codes(found)  # age alone decides it
    assert "national_pension" not in codes(found)  # 70 is outside 20-59: decided, no
    assert not found.complete


def test_the_same_answers_in_any_order_give_the_same_guide(moving_in: LifeEvent) -> None:
    items = list(FAMILY.items())
    first = life_event_guide(moving_in, [Answer(q, v) for q, v in items])
    for order in itertools.islice(itertools.permutations(items), 0, 720, 97):
        again = life_event_guide(moving_in, [Answer(q, v) for q, v in order])
        assert again == first
    # multiple choices are used in the options' order, whatever order they came in
    assert dict((a.question, a.value) for a in first.answers)["child_stages"] == [
        "preschool",
        "elementary",
    ]


def test_answers_to_questions_that_no_longer_apply_are_ignored(moving_in: LifeEvent) -> None:
    # the resident said there are children, chose stages, then changed to no children
    found = guide(moving_in, **{**SINGLE_ADULT, "child_stages": ["elementary"]})
    assert found.ignored == ("child_stages",)
    assert "school_transfer" not in codes(found)
    assert found.complete


@pytest.mark.parametrize(
    ("answers", "fields"),
    [
        ([Answer("age", "thirty")], ["answers[0].value"]),
        ([Answer("age", 121)], ["answers[0].value"]),
        ([Answer("age", 30.5)], ["answers[0].value"]),
        ([Answer("age", True)], ["answers[0].value"]),
        ([Answer("has_dog", "yes")], ["answers[0].value"]),
        ([Answer("pension_type", "type9")], ["answers[0].value"]),
        ([Answer("child_stages", ["elementary", "elementary"])], ["answers[0].value"]),
        ([Answer("child_stages", "elementary")], ["answers[0].value"]),
        ([Answer("moved_on", "2026-02-30")], ["answers[0].value"]),
        ([Answer("favourite_colour", "blue")], ["answers[0].question"]),
        ([Answer("has_dog", True), Answer("has_dog", False)], ["answers[1].question"]),
        # every problem at once
        ([Answer("age", -1), Answer("nope", 1), Answer("has_dog", 1)],
         ["answers[0].value", "answers[1].question", "answers[2].value"]),
    ],
)  # fmt: skip
def test_bad_answers_are_refused_with_their_fields(
    moving_in: LifeEvent, answers: list[Answer], fields: list[str]
) -> None:
    with pytest.raises(ValidationErrors) as refused:
        life_event_guide(moving_in, answers)
    assert [e.field for e in refused.value.errors] == fields
    assert all(e.message_ja for e in refused.value.errors)


def test_too_many_answers_are_refused(moving_in: LifeEvent) -> None:
    with pytest.raises(ValidationErrors, match="at most 30"):
        life_event_guide(moving_in, [Answer(f"q{i}", 1) for i in range(31)])
