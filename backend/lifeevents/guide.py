"""The life-event guide: given the answers so far, what to ask next and which procedures apply.

Pure and deterministic (no database, no clock): the same event and answers, in any order,
give the same guide. Conditions are evaluated with three values: a condition on a question
that applies but is not answered yet is *unknown* (the procedure may still come, the question
may still be asked); a condition on a question that does not apply is simply not met.

Answers to questions that do not apply (an earlier answer changed, the app kept the later
ones) are checked like any answer and then ignored, and listed in ``ignored``: refusing them
would make the app re-send the whole questionnaire after every change of mind.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from ..errors import Checker
from .definition import LifeEvent, Procedure, Question, QuestionType

MAX_ANSWERS = 30
MAX_TEXT = 64


@dataclass(frozen=True, slots=True)
class Answer:
    question: str
    value: Any


@dataclass(frozen=True, slots=True)
class Applicable:
    """A procedure that applies, and why: its reason and the questions it was decided on."""

    procedure: Procedure
    reason_ja: str
    reason_en: str
    based_on: tuple[Question, ...]


@dataclass(frozen=True, slots=True)
class Guide:
    event: LifeEvent
    next_questions: tuple[Question, ...]
    procedures: tuple[Applicable, ...]
    undecided: int  # procedures that may still apply once the next questions are answered
    answers: tuple[Answer, ...]  # the answers used, canonical, in question order
    ignored: tuple[str, ...]  # answered questions that do not apply, in question order

    @property
    def complete(self) -> bool:
        return not self.next_questions


def _check_value(question: Question, value: Any, field: str, checker: Checker) -> Any:
    """The answer's value in canonical form, or None after noting what is wrong."""
    kind = question.type
    if kind is QuestionType.BOOLEAN:
        if isinstance(value, bool):
            return value
        checker.add(field, "true or false expected", "はい・いいえ（真偽値）で答えてください")
    elif kind is QuestionType.NUMBER:
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            checker.add(field, "a number expected", "数値で答えてください")
        elif question.integer and value != int(value):
            checker.add(field, "a whole number expected", "整数で答えてください")
        elif not (question.min or 0) <= value <= (question.max or 0):
            checker.add(
                field,
                f"must be between {question.min:g} and {question.max:g}",
                f"{question.min:g}〜{question.max:g}の範囲で答えてください",
            )
        else:
            return int(value) if question.integer else float(value)
    elif kind is QuestionType.DATE:
        if isinstance(value, str) and len(value) == 10:
            try:
                return date.fromisoformat(value).isoformat()
            except ValueError:
                pass
        checker.add(field, "a date YYYY-MM-DD expected", "日付（例：2026-04-01）で答えてください")
    else:
        codes = [o.code for o in question.options]
        listed = ", ".join(codes)
        listed_ja = "・".join(o.label_ja for o in question.options)
        if kind is QuestionType.SINGLE_CHOICE:
            if isinstance(value, str) and value in codes:
                return value
            checker.add(
                field, f"one of {listed} expected", f"{listed_ja} のいずれかで答えてください"
            )
        elif (
            isinstance(value, list)
            and all(isinstance(v, str) and v in codes for v in value)
            and len(set(value)) == len(value)
        ):
            chosen = set(value)
            return [c for c in codes if c in chosen]  # the options' order, whatever was sent
        else:
            checker.add(
                field,
                f"a list of distinct options ({listed}) expected",
                f"選択肢（{listed_ja}）を重複なく選んで答えてください",
            )
    return None


def check_answers(event: LifeEvent, answers: Sequence[Answer]) -> dict[str, Any]:
    """Each answer's canonical value by question; every problem at once (ValidationErrors)."""
    checker = Checker()
    if len(answers) > MAX_ANSWERS:
        checker.add("answers", f"at most {MAX_ANSWERS} answers", f"回答は{MAX_ANSWERS}件までです")
        checker.raise_if_any()
    questions = {q.code: q for q in event.questions}
    values: dict[str, Any] = {}
    for i, answer in enumerate(answers):
        question = questions.get(answer.question)
        if question is None:
            shown = answer.question[:MAX_TEXT]
            checker.add(
                f"answers[{i}].question",
                f"{shown!r} is not a question of {event.code!r}",
                f"「{event.name_ja}」にない質問です",
            )
        elif question.code in values:
            checker.add(
                f"answers[{i}].question",
                f"{question.code!r} is answered twice",
                f"「{question.label_ja}」に2回答えています",
            )
        else:
            values[question.code] = _check_value(
                question, answer.value, f"answers[{i}].value", checker
            )
    checker.raise_if_any()
    return values


def _holds(
    condition: dict[str, Any] | None, known: dict[str, Any], applies: dict[str, bool | None]
) -> bool | None:
    """True, False, or None (unknown: it depends on a question not answered yet)."""
    if condition is None:
        return True
    if "all" in condition or "any" in condition:
        decisive = "all" not in condition  # any: one True decides; all: one False does
        terms = condition["any"] if decisive else condition["all"]
        parts = [_holds(c, known, applies) for c in terms]
        if decisive in parts:
            return decisive
        return None if None in parts else not decisive
    if "not" in condition:
        inner = _holds(condition["not"], known, applies)
        return None if inner is None else not inner
    code = condition["question"]
    if applies.get(code) is False:
        return False  # a question that does not apply meets no condition
    if code not in known:
        return None
    value = known[code]
    if "equals" in condition:
        return bool(value == condition["equals"])
    if "in" in condition:
        return value in condition["in"]
    if "includes" in condition:
        return any(option in value for option in condition["includes"])
    low, high = condition.get("min"), condition.get("max")
    return (low is None or value >= low) and (high is None or value <= high)


def _referenced(condition: dict[str, Any] | None) -> set[str]:
    if condition is None:
        return set()
    if "question" in condition:
        return {condition["question"]}
    parts = condition.get("all") or condition.get("any") or [condition.get("not")]
    return set().union(*(_referenced(c) for c in parts))


def life_event_guide(event: LifeEvent, answers: Sequence[Answer]) -> Guide:
    """The next questions that apply and the procedures that apply given ``answers``.

    Raises ValidationErrors for unknown questions, duplicate answers and values of the wrong
    type or out of range (every problem at once, fields as ``answers[i].value``).
    """
    values = check_answers(event, answers)
    # Conditions only name earlier questions, so one pass in order settles each question.
    applies: dict[str, bool | None] = {}
    known: dict[str, Any] = {}
    for question in event.questions:
        applies[question.code] = _holds(question.ask_if, known, applies)
        if applies[question.code] and question.code in values:
            known[question.code] = values[question.code]
    next_questions = tuple(
        q for q in event.questions if applies[q.code] is True and q.code not in known
    )
    found: list[Applicable] = []
    undecided = 0
    for procedure in event.procedures:
        holds = _holds(procedure.applies_if, known, applies)
        if holds is None:
            undecided += 1
        elif holds:
            used = _referenced(procedure.applies_if)
            based_on = tuple(q for q in event.questions if q.code in used and q.code in known)
            found.append(_applicable(procedure, based_on, event))
    return Guide(
        event=event,
        next_questions=next_questions,
        procedures=tuple(found),
        undecided=undecided,
        answers=tuple(Answer(q.code, known[q.code]) for q in event.questions if q.code in known),
        ignored=tuple(q.code for q in event.questions if q.code in values and q.code not in known),
    )


def _applicable(
    procedure: Procedure, based_on: tuple[Question, ...], event: LifeEvent
) -> Applicable:
    if procedure.reason_ja and procedure.reason_en:
        return Applicable(procedure, procedure.reason_ja, procedure.reason_en, based_on)
    if not based_on:
        return Applicable(
            procedure,
            f"「{event.name_ja}」のすべての方が対象です",
            f"Everyone with this life event ({event.name_en})",
            based_on,
        )
    return Applicable(
        procedure,
        "回答により対象です：" + "、".join(f"「{q.label_ja}」" for q in based_on),
        "Applies from your answers to: " + "; ".join(f'"{q.label_en}"' for q in based_on),
        based_on,
    )
