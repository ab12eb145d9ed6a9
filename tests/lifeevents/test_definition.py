"""Life-event files: the demo file is valid; a bad one is refused whole, with its lines."""

from __future__ import annotations

import pytest

from backend.lifeevents.definition import LifeEventsRefused, QuestionType, parse_life_events
from backend.lifeevents.demo import DEMO_FILE

BAD = """\
events:
  - code: moving_in
    name_ja: 転入
    name_en: Moving in
    description_ja: 転入の手続き
    description_en: Moving in
    questions:
      - code: has_children
        type: boolean
        label_ja: 子どもがいますか
        label_en: Children?
        ask_if: {question: has_dog, equals: true}
      - code: has_dog
        type: yes_no
        label_ja: 犬
        label_en: Dog
      - code: age
        type: number
        label_ja: 年齢
        label_en: Age
        min: 10
      - code: stage
        type: single_choice
        label_ja: 年代
        label_en: Stage
        options:
          - {code: a, label_ja: A, label_en: A}
      - code: age
        type: boolean
        label_ja: 重複
        label_en: Twice
        ask_if: {question: has_children, min: 3}
    procedures:
      - code: notice
        name_ja: 転入届
        name_en: Notice
        how: [window, fax]
        applies_if: {any: [{question: stage, equals: z}, {question: later, equals: 1}]}
      - code: online
        name_ja: オンライン
        name_en: Online
        how: [window, online]
        online_url: http://example.jp/
        documents: [{ja: 書類}]
"""


def test_the_demo_file_has_the_four_events() -> None:
    events = parse_life_events(DEMO_FILE.read_bytes(), DEMO_FILE.name).events
    assert [e.code for e in events] == ["moving_in", "moving_out", "birth", "school_entry"]
    moving_in = events[0]
    assert {q.type for q in moving_in.questions} == set(QuestionType)
    assert len(moving_in.procedures) >= 10


def test_a_bad_file_is_refused_with_every_problem_and_its_line() -> None:
    with pytest.raises(LifeEventsRefused) as refused:
        parse_life_events(BAD.encode(), "city.yaml")
    found = {(p.line, p.message.split(":")[0]) for p in refused.value.problems}
    assert {
        (12, "events[0].questions[0].ask_if.question"),  # a later question: no cycles
        (14, "events[0].questions[1].type"),
        (17, "events[0].questions[2]"),  # number without max
        (27, "events[0].questions[3].options"),  # one option only
        (28, "events[0].questions[4].code"),  # age twice
        (32, "events[0].questions[4].ask_if"),  # min on a boolean question
        (37, "events[0].procedures[0].how[1]"),  # fax
        (39, "events[0].procedures[1]"),  # a window needs where_ja
        (38, "events[0].procedures[0].applies_if.any[0].equals"),  # not an option
        (38, "events[0].procedures[0].applies_if.any[1].question"),  # no such question
        (43, "events[0].procedures[1].online_url"),  # not https
        (44, "events[0].procedures[1].documents[0]"),  # en missing
    } <= found, sorted(found)
    assert "city.yaml:12: events[0].questions[0].ask_if.question" in refused.value.message
    assert "city.yaml（12行目）" in refused.value.message_ja


def test_conditions_may_name_only_earlier_questions() -> None:
    text = """\
events:
  - code: e
    name_ja: e
    name_en: e
    description_ja: e
    description_en: e
    questions:
      - {code: a, type: boolean, label_ja: a, label_en: a, ask_if: {question: a, equals: true}}
    procedures:
      - {code: p, name_ja: p, name_en: p, how: [mail]}
"""
    with pytest.raises(LifeEventsRefused, match="not a question asked before"):
        parse_life_events(text.encode(), "self.yaml")


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("events:\n  - &a {code: x}\n  - *a\n", "aliases are not allowed"),
        ("events: [", "not valid YAML"),
        ("", "empty"),
        ("events: []", "at least one event"),
        ("colour: blue\nevents: []", "unknown key 'colour'"),
    ],
)
def test_unreadable_documents_are_refused(text: str, match: str) -> None:
    with pytest.raises(LifeEventsRefused, match=match):
        parse_life_events(text.encode(), "x.yaml")


def test_oversized_files_are_refused_before_parsing() -> None:
    with pytest.raises(LifeEventsRefused, match="larger than"):
        parse_life_events(b"#" * (300 * 1024), "huge.yaml")


def test_deeply_nested_conditions_are_refused() -> None:
    condition = "{question: a, equals: true}"
    for _ in range(6):
        condition = f"{{not: {condition}}}"
    text = f"""\
events:
  - code: e
    name_ja: e
    name_en: e
    description_ja: e
    description_en: e
    questions:
      - {{code: a, type: boolean, label_ja: a, label_en: a}}
    procedures:
      - {{code: p, name_ja: p, name_en: p, how: [mail], applies_if: {condition}}}
"""
    with pytest.raises(LifeEventsRefused, match="nest at most 5"):
        parse_life_events(text.encode(), "deep.yaml")
