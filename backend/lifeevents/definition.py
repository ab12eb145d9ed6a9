"""Life events as data: each event's questionnaire (typed questions, branching) and procedures.

A municipality's life events are one YAML (or JSON) document, checked whole: every problem is
reported with its line and path and a bad file is refused, nothing imported. Conditions are
data, never code, in a small language:

    {question: has_children, equals: true}          boolean / single choice / number
    {question: employment, in: [self_employed, student]}
    {question: child_stages, includes: [elementary]}  multiple choice: any of these chosen
    {question: age, min: 20, max: 59}                number range (inclusive, one side enough)
    {all: [...]}, {any: [...]}, {not: {...}}

A condition may only name a question that comes earlier than what it guards (a question's
``ask_if``; procedures come after every question), so a questionnaire cannot loop.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from yaml.nodes import MappingNode, Node, SequenceNode

from ..ingest.problems import FileRefused, Problems
from ..ingest.yaml_doc import YamlReader, compose_document

MAX_FILE_BYTES = 256 * 1024
MAX_EVENTS = 50
MAX_QUESTIONS = 30
MAX_PROCEDURES = 60
MAX_OPTIONS = 20
MAX_DOCUMENTS = 20
MAX_CONDITION_DEPTH = 5
MAX_CONDITION_TERMS = 20
MAX_NUMBER = 1_000_000


class QuestionType(StrEnum):
    BOOLEAN = "boolean"
    SINGLE_CHOICE = "single_choice"
    MULTIPLE_CHOICE = "multiple_choice"
    NUMBER = "number"
    DATE = "date"


class Channel(StrEnum):
    """How a procedure is done."""

    ONLINE = "online"
    WINDOW = "window"
    MAIL = "mail"


CHOICE_TYPES = (QuestionType.SINGLE_CHOICE, QuestionType.MULTIPLE_CHOICE)


@dataclass(frozen=True, slots=True)
class Option:
    code: str
    label_ja: str
    label_en: str


@dataclass(frozen=True, slots=True)
class Question:
    code: str
    type: QuestionType
    label_ja: str
    label_en: str
    help_ja: str | None = None
    help_en: str | None = None
    options: tuple[Option, ...] = ()
    min: float | None = None
    max: float | None = None
    integer: bool = True
    ask_if: dict[str, Any] | None = None  # a condition; None: always asked

    def as_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "type": self.type.value,
            "label_ja": self.label_ja,
            "label_en": self.label_en,
            "help_ja": self.help_ja,
            "help_en": self.help_en,
            "options": [[o.code, o.label_ja, o.label_en] for o in self.options],
            "min": self.min,
            "max": self.max,
            "integer": self.integer,
            "ask_if": self.ask_if,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Question:
        return cls(
            code=data["code"],
            type=QuestionType(data["type"]),
            label_ja=data["label_ja"],
            label_en=data["label_en"],
            help_ja=data.get("help_ja"),
            help_en=data.get("help_en"),
            options=tuple(Option(*o) for o in data["options"]),
            min=data.get("min"),
            max=data.get("max"),
            integer=data.get("integer", True),
            ask_if=data.get("ask_if"),
        )


@dataclass(frozen=True, slots=True)
class Document:
    ja: str
    en: str


@dataclass(frozen=True, slots=True)
class Procedure:
    code: str
    name_ja: str
    name_en: str
    how: tuple[Channel, ...]
    where_ja: str | None = None
    where_en: str | None = None
    online_url: str | None = None
    documents: tuple[Document, ...] = ()
    deadline_ja: str | None = None
    deadline_en: str | None = None
    portal_service: str | None = None
    applies_if: dict[str, Any] | None = None  # None: applies to everyone with the event
    reason_ja: str | None = None
    reason_en: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name_ja": self.name_ja,
            "name_en": self.name_en,
            "how": [c.value for c in self.how],
            "where_ja": self.where_ja,
            "where_en": self.where_en,
            "online_url": self.online_url,
            "documents": [[d.ja, d.en] for d in self.documents],
            "deadline_ja": self.deadline_ja,
            "deadline_en": self.deadline_en,
            "portal_service": self.portal_service,
            "applies_if": self.applies_if,
            "reason_ja": self.reason_ja,
            "reason_en": self.reason_en,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Procedure:
        return cls(
            **{
                **data,
                "how": tuple(Channel(c) for c in data["how"]),
                "documents": tuple(Document(*d) for d in data["documents"]),
            }
        )


@dataclass(frozen=True, slots=True)
class LifeEvent:
    code: str
    name_ja: str
    name_en: str
    description_ja: str
    description_en: str
    questions: tuple[Question, ...]
    procedures: tuple[Procedure, ...]

    def definition_json(self) -> dict[str, Any]:
        """The questionnaire and procedures as stored (JSON)."""
        return {
            "questions": [q.as_json() for q in self.questions],
            "procedures": [p.as_json() for p in self.procedures],
        }


@dataclass(frozen=True, slots=True)
class LifeEventFile:
    events: tuple[LifeEvent, ...]
    digest: str


class LifeEventsRefused(FileRefused):
    """A life-events file refused whole; nothing was imported."""

    what = "life events file"
    what_ja = "ライフイベント定義"


# --- parsing --------------------------------------------------------------------------------

EVENT_KEYS = {
    "code": True, "name_ja": True, "name_en": True, "description_ja": True,
    "description_en": True, "questions": False, "procedures": True,
}  # fmt: skip
QUESTION_KEYS = {
    "code": True, "type": True, "label_ja": True, "label_en": True, "help_ja": False,
    "help_en": False, "options": False, "min": False, "max": False, "integer": False,
    "ask_if": False,
}  # fmt: skip
OPTION_KEYS = {"code": True, "label_ja": True, "label_en": True}
PROCEDURE_KEYS = {
    "code": True, "name_ja": True, "name_en": True, "how": True, "where_ja": False,
    "where_en": False, "online_url": False, "documents": False, "deadline_ja": False,
    "deadline_en": False, "portal_service": False, "applies_if": False, "reason_ja": False,
    "reason_en": False,
}  # fmt: skip
DOCUMENT_KEYS = {"ja": True, "en": True}
LEAF_OPERATORS = ("equals", "in", "includes", "min", "max")
# Which operators a condition may use on each type of question.
OPERATORS_FOR = {
    QuestionType.BOOLEAN: {"equals"},
    QuestionType.SINGLE_CHOICE: {"equals", "in"},
    QuestionType.MULTIPLE_CHOICE: {"includes"},
    QuestionType.NUMBER: {"equals", "in", "min", "max"},
    QuestionType.DATE: set(),
}


class _Reader(YamlReader):
    """The shared reader with what life events add: codes, optional texts, numbers."""

    def optional_text(
        self, entries: dict[str, Node], key: str, path: str, limit: int
    ) -> str | None:
        return self.text(entries[key], f"{path}.{key}", limit) if key in entries else None

    def number(self, node: Node, path: str) -> float | None:
        value = self.scalar(node)
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
            or abs(value) > MAX_NUMBER
        ):
            self.problem(
                node,
                path,
                f"a number between -{MAX_NUMBER:,} and {MAX_NUMBER:,} required",
                f"-{MAX_NUMBER:,}〜{MAX_NUMBER:,}の数が必要です",
            )
            return None
        return value

    def pair(self, node: Node, path: str, entries: dict[str, Node], stem: str) -> None:
        """Texts in Japanese and English come together or not at all."""
        if (f"{stem}_ja" in entries) != (f"{stem}_en" in entries):
            self.problem(
                node,
                path,
                f"{stem}_ja and {stem}_en go together",
                f"{stem}_ja と {stem}_en は両方指定してください",
            )


def _option(reader: _Reader, node: Node, path: str, seen: set[str]) -> Option | None:
    entries = reader.mapping(node, path, OPTION_KEYS)
    if entries is None or set(entries) != set(OPTION_KEYS):
        return None
    return Option(
        code=reader.code(entries["code"], f"{path}.code", seen),
        label_ja=reader.text(entries["label_ja"], f"{path}.label_ja", 200),
        label_en=reader.text(entries["label_en"], f"{path}.label_en", 200),
    )


class _Conditions:
    """Reads conditions against the questions defined so far (earlier ones only)."""

    def __init__(self, reader: _Reader) -> None:
        self.reader = reader
        self.questions: dict[str, Question] = {}
        self.terms = 0

    def read(self, node: Node, path: str, depth: int = 1) -> dict[str, Any] | None:
        reader = self.reader
        self.terms += 1
        if depth > MAX_CONDITION_DEPTH or self.terms > MAX_CONDITION_TERMS:
            reader.problem(
                node,
                path,
                f"conditions nest at most {MAX_CONDITION_DEPTH} deep, "
                f"{MAX_CONDITION_TERMS} terms in all",
                f"条件の入れ子は{MAX_CONDITION_DEPTH}段まで、項目は全体で"
                f"{MAX_CONDITION_TERMS}個までです",
            )
            return None
        keys = _keys(node)
        if "all" in keys or "any" in keys:
            which = "all" if "all" in keys else "any"
            entries = reader.mapping(node, path, {which: True})
            if entries is None or which not in entries:
                return None
            parts = reader.sequence(entries[which], f"{path}.{which}", MAX_CONDITION_TERMS)
            if not parts and isinstance(entries[which], SequenceNode):
                reader.problem(
                    node, f"{path}.{which}", "at least one condition", "条件が1つ以上必要です"
                )
            found = [self.read(p, f"{path}.{which}[{i}]", depth + 1) for i, p in enumerate(parts)]
            return {which: found} if all(f is not None for f in found) else None
        if "not" in keys:
            entries = reader.mapping(node, path, {"not": True})
            if entries is None or "not" not in entries:
                return None
            inner = self.read(entries["not"], f"{path}.not", depth + 1)
            return None if inner is None else {"not": inner}
        return self._leaf(node, path)

    def _leaf(self, node: Node, path: str) -> dict[str, Any] | None:
        reader = self.reader
        entries = reader.mapping(
            node, path, {"question": True, **dict.fromkeys(LEAF_OPERATORS, False)}
        )
        if entries is None or "question" not in entries:
            return None
        code = reader.scalar(entries["question"])
        question = self.questions.get(code) if isinstance(code, str) else None
        if question is None:
            reader.problem(
                entries["question"],
                f"{path}.question",
                f"{code!r} is not a question asked before this point",
                f"{code!r} はこれより前にある質問ではありません",
            )
            return None
        operators = [k for k in LEAF_OPERATORS if k in entries]
        allowed = OPERATORS_FOR[question.type]
        is_range = set(operators) <= {"min", "max"} and operators
        if not operators or (len(operators) > 1 and not is_range):
            reader.problem(
                node,
                path,
                "one of equals, in, includes, or min/max required",
                "equals・in・includes・min/max のいずれか1つを指定してください",
            )
            return None
        if not set(operators) <= allowed:
            listed = ", ".join(sorted(allowed)) or "none"
            reader.problem(
                node,
                path,
                f"a {question.type.value} question takes {listed}",
                f"{question.type.value} の質問に使える条件は {listed} です",
            )
            return None
        leaf: dict[str, Any] = {"question": question.code}
        ok = True
        for op in operators:
            value_node, op_path = entries[op], f"{path}.{op}"
            if op in ("in", "includes"):
                items = reader.sequence(value_node, op_path, MAX_OPTIONS)
                if not items:
                    reader.problem(value_node, op_path, "a non-empty list", "1つ以上の値が必要です")
                values = [self._value(question, n, f"{op_path}[{i}]") for i, n in enumerate(items)]
                ok = ok and bool(items) and all(v is not None for v in values)
                leaf[op] = values
            elif op == "equals":
                leaf[op] = self._value(question, value_node, op_path)
                ok = ok and leaf[op] is not None
            else:
                leaf[op] = reader.number(value_node, op_path)
                ok = ok and leaf[op] is not None
        return leaf if ok else None

    def _value(self, question: Question, node: Node, path: str) -> Any:
        reader = self.reader
        if question.type is QuestionType.BOOLEAN:
            return reader.boolean(node, path)
        if question.type is QuestionType.NUMBER:
            return reader.number(node, path)
        codes = tuple(o.code for o in question.options)
        value = reader.scalar(node)
        if value not in codes:
            reader.problem(
                node,
                path,
                f"not an option of {question.code!r} ({', '.join(codes)})",
                f"{question.code!r} の選択肢ではありません（{', '.join(codes)}）",
            )
            return None
        return value


def _keys(node: Node) -> set[str]:
    if not isinstance(node, MappingNode):
        return set()
    return {k.value for k, _ in node.value if isinstance(k.value, str)}


def _question(
    reader: _Reader, conditions: _Conditions, node: Node, path: str, seen: set[str]
) -> Question | None:
    entries = reader.mapping(node, path, QUESTION_KEYS)
    if entries is None:
        return None
    code = reader.code(entries["code"], f"{path}.code", seen) if "code" in entries else ""
    kind = QuestionType(
        reader.choice(entries["type"], f"{path}.type", tuple(QuestionType))
        if "type" in entries
        else QuestionType.BOOLEAN
    )
    labels = {
        key: reader.text(entries[key], f"{path}.{key}", 200)
        for key in ("label_ja", "label_en")
        if key in entries
    }
    reader.pair(node, path, entries, "help")
    options: list[Option | None] = []
    if kind in CHOICE_TYPES:
        if "options" not in entries:
            reader.problem(node, path, "'options' is required", "'options' が必要です")
        else:
            option_nodes = reader.sequence(entries["options"], f"{path}.options", MAX_OPTIONS)
            if isinstance(entries["options"], SequenceNode) and len(option_nodes) < 2:
                reader.problem(
                    entries["options"],
                    f"{path}.options",
                    "at least 2 options",
                    "選択肢が2つ以上必要です",
                )
            option_codes: set[str] = set()
            options = [
                _option(reader, n, f"{path}.options[{i}]", option_codes)
                for i, n in enumerate(option_nodes)
            ]
    elif "options" in entries:
        reader.problem(
            entries["options"], f"{path}.options", "only choice questions have options",
            "選択式の質問にだけ選択肢があります",
        )  # fmt: skip
    low = reader.number(entries["min"], f"{path}.min") if "min" in entries else None
    high = reader.number(entries["max"], f"{path}.max") if "max" in entries else None
    if kind is QuestionType.NUMBER:
        if low is None or high is None:
            reader.problem(
                node,
                path,
                "a number question needs min and max",
                "数値の質問には min と max が必要です",
            )
        elif low > high:
            reader.problem(node, f"{path}.min", "must not exceed max", "max 以下にしてください")
    elif {"min", "max", "integer"} & set(entries):
        reader.problem(
            node, path, "min, max and integer are for number questions",
            "min・max・integer は数値の質問だけに使えます",
        )  # fmt: skip
    integer = True
    if "integer" in entries:
        integer = reader.boolean(entries["integer"], f"{path}.integer") is not False
    # The condition sees only the questions before this one: it is read before adding it.
    ask_if = conditions.read(entries["ask_if"], f"{path}.ask_if") if "ask_if" in entries else None
    if code and "type" in entries and code not in conditions.questions:
        # Later conditions may name it even when something else about it is wrong: they
        # are checked against its type and options, not reported as naming no question.
        conditions.questions[code] = Question(
            code, kind, "", "", options=tuple(o for o in options if o is not None)
        )
    if (
        not code
        or len(labels) < 2
        or "type" not in entries
        or any(o is None for o in options)
        or ("ask_if" in entries and ask_if is None)
    ):
        return None
    question = Question(
        code=code,
        type=kind,
        label_ja=labels["label_ja"],
        label_en=labels["label_en"],
        help_ja=reader.optional_text(entries, "help_ja", path, 500),
        help_en=reader.optional_text(entries, "help_en", path, 500),
        options=tuple(o for o in options if o is not None),
        min=low,
        max=high,
        integer=integer,
        ask_if=ask_if,
    )
    return question


def _documents(reader: _Reader, node: Node, path: str) -> tuple[Document, ...]:
    found = []
    for i, item in enumerate(reader.sequence(node, path, MAX_DOCUMENTS)):
        entries = reader.mapping(item, f"{path}[{i}]", DOCUMENT_KEYS)
        if entries is not None and set(entries) == set(DOCUMENT_KEYS):
            found.append(
                Document(
                    ja=reader.text(entries["ja"], f"{path}[{i}].ja", 200),
                    en=reader.text(entries["en"], f"{path}[{i}].en", 200),
                )
            )
    return tuple(found)


def _procedure(
    reader: _Reader, conditions: _Conditions, node: Node, path: str, seen: set[str]
) -> Procedure | None:
    entries = reader.mapping(node, path, PROCEDURE_KEYS)
    if entries is None:
        return None
    code = reader.code(entries["code"], f"{path}.code", seen) if "code" in entries else ""
    names = {
        key: reader.text(entries[key], f"{path}.{key}", 200)
        for key in ("name_ja", "name_en")
        if key in entries
    }
    how: frozenset[str] = frozenset()
    if "how" in entries:
        before = reader.problems.total
        how = reader.choices(entries["how"], f"{path}.how", tuple(Channel))
        if reader.problems.total > before:
            how = frozenset()  # a bad way is reported once, not as a missing url or window
        if isinstance(entries["how"], SequenceNode) and not entries["how"].value:
            reader.problem(
                entries["how"], f"{path}.how", "at least one way", "手続き方法が1つ以上必要です"
            )
    for stem in ("where", "deadline", "reason"):
        reader.pair(node, path, entries, stem)
    if Channel.WINDOW in how and "where_ja" not in entries:
        reader.problem(
            node,
            path,
            "a window procedure needs where_ja/where_en",
            "窓口の手続きには where_ja/where_en が必要です",
        )
    url = reader.optional_text(entries, "online_url", path, 500)
    if url is not None and not url.startswith("https://"):
        reader.problem(
            entries["online_url"], f"{path}.online_url", "an https:// address required",
            "https:// で始まるアドレスが必要です",
        )  # fmt: skip
    if Channel.ONLINE in how and url is None:
        reader.problem(
            node,
            path,
            "an online procedure needs online_url",
            "オンラインの手続きには online_url が必要です",
        )
    portal = None
    if "portal_service" in entries:
        portal = reader.code(entries["portal_service"], f"{path}.portal_service", set())
    documents = (
        _documents(reader, entries["documents"], f"{path}.documents")
        if "documents" in entries
        else ()
    )
    applies_if = (
        conditions.read(entries["applies_if"], f"{path}.applies_if")
        if "applies_if" in entries
        else None
    )
    if (
        not code
        or len(names) < 2
        or not how
        or reader.problems.total
        or ("applies_if" in entries and applies_if is None)
    ):
        return None
    return Procedure(
        code=code,
        name_ja=names["name_ja"],
        name_en=names["name_en"],
        how=tuple(c for c in Channel if c in how),  # a fixed order: online, window, mail
        where_ja=reader.optional_text(entries, "where_ja", path, 200),
        where_en=reader.optional_text(entries, "where_en", path, 200),
        online_url=url,
        documents=documents,
        deadline_ja=reader.optional_text(entries, "deadline_ja", path, 200),
        deadline_en=reader.optional_text(entries, "deadline_en", path, 200),
        portal_service=portal,
        applies_if=applies_if,
        reason_ja=reader.optional_text(entries, "reason_ja", path, 300),
        reason_en=reader.optional_text(entries, "reason_en", path, 300),
    )


def _event(reader: _Reader, node: Node, path: str, seen: set[str]) -> LifeEvent | None:
    entries = reader.mapping(node, path, EVENT_KEYS)
    if entries is None:
        return None
    code = reader.code(entries["code"], f"{path}.code", seen) if "code" in entries else ""
    texts = {
        key: reader.text(entries[key], f"{path}.{key}", 1000 if "description" in key else 100)
        for key in ("name_ja", "name_en", "description_ja", "description_en")
        if key in entries
    }
    conditions = _Conditions(reader)
    questions: list[Question | None] = []
    question_codes: set[str] = set()
    if "questions" in entries:
        nodes = reader.sequence(entries["questions"], f"{path}.questions", MAX_QUESTIONS)
        for i, question_node in enumerate(nodes):
            conditions.terms = 0
            question = _question(
                reader, conditions, question_node, f"{path}.questions[{i}]", question_codes
            )
            questions.append(question)
            if question is not None:
                conditions.questions[question.code] = question
    procedures: list[Procedure | None] = []
    if "procedures" in entries:
        nodes = reader.sequence(entries["procedures"], f"{path}.procedures", MAX_PROCEDURES)
        if not nodes and isinstance(entries["procedures"], SequenceNode):
            reader.problem(
                entries["procedures"], f"{path}.procedures", "at least one procedure",
                "手続きが1つ以上必要です",
            )  # fmt: skip
        procedure_codes: set[str] = set()
        for i, procedure_node in enumerate(nodes):
            conditions.terms = 0
            procedures.append(
                _procedure(
                    reader, conditions, procedure_node, f"{path}.procedures[{i}]", procedure_codes
                )
            )
    if not code or len(texts) < 4 or None in questions or None in procedures or not procedures:
        return None
    return LifeEvent(
        code=code,
        name_ja=texts["name_ja"],
        name_en=texts["name_en"],
        description_ja=texts["description_ja"],
        description_en=texts["description_en"],
        questions=tuple(q for q in questions if q is not None),
        procedures=tuple(p for p in procedures if p is not None),
    )


def parse_life_events(data: bytes, name: str) -> LifeEventFile:
    """A life-events document checked whole; LifeEventsRefused lists every problem.

    CPU-bound (YAML): callers on the event loop run it in a worker thread.
    """
    problems = Problems(name, LifeEventsRefused)
    root = compose_document(data, problems, MAX_FILE_BYTES)
    reader = _Reader(problems)
    entries = reader.mapping(root, "$", {"events": True})
    problems.raise_if_any()
    assert entries is not None
    nodes = reader.sequence(entries["events"], "events", MAX_EVENTS)
    if not nodes and not problems.total:
        reader.problem(
            entries["events"], "events", "at least one event", "ライフイベントが1件以上必要です"
        )
    seen: set[str] = set()
    events = [_event(reader, n, f"events[{i}]", seen) for i, n in enumerate(nodes)]
    problems.raise_if_any()
    return LifeEventFile(
        events=tuple(e for e in events if e is not None), digest=hashlib.sha256(data).hexdigest()
    )
