"""Application forms as data: a restricted JSON Schema per form, approval steps, bundles.

A municipality imports its forms and bundles from a YAML (or JSON) document. Each form's
``schema`` is JSON Schema limited to what a paper form has: a flat object of typed fields
(text, whole numbers, numbers, yes/no) with required, enum, string formats (date, email),
patterns, lengths and number ranges, labelled in Japanese (``title``) and English
(``x-label-en``). A field may name where it is filled from (``x-prefill``). Size and depth
are capped before anything is validated; the whole document is refused with every problem
and its line when anything is wrong.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

import jsonschema
from yaml.nodes import MappingNode, Node, ScalarNode

from ..errors import Checker
from ..ingest.problems import FileRefused, Problems
from ..ingest.yaml_doc import YamlReader, compose_document
from ..principal import Role

MAX_DOCUMENT_BYTES = 512 * 1024
MAX_FORMS = 50
MAX_BUNDLES = 20
MAX_FIELDS = 80
MAX_STEPS = 5
MAX_SCHEMA_BYTES = 64 * 1024
MAX_PATTERN = 200
MAX_TEXT = 2000
# What one submitted form may weigh (JSON): checked before validation.
MAX_DATA_BYTES = 32 * 1024
MAX_FORMS_PER_SUBMISSION = 10

FIELD_TYPES = ("string", "integer", "number", "boolean")
FORMATS = ("date", "email")
STEP_ROLES = (Role.CITY_STAFF.value, Role.CITY_ADMIN.value)
ROOT_KEYS = {
    "type",
    "title",
    "x-label-en",
    "description",
    "properties",
    "required",
    "additionalProperties",
}
FIELD_KEYS = {
    "type",
    "title",
    "x-label-en",
    "description",
    "enum",
    "format",
    "pattern",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "x-prefill",
}
FIELD_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")

# Where a field may be filled from: the resident's own profile items, and the household's
# members (the youngest member: the child of a child-allowance or school-transfer form).
PROFILE_SOURCES = ("name", "kana", "birth_date", "address", "phone", "household")
FAMILY_SOURCES = ("name", "kana", "birth_date")
PREFILL_SOURCES = tuple(f"profile.{i}" for i in PROFILE_SOURCES) + tuple(
    f"family.youngest.{i}" for i in FAMILY_SOURCES
)


@dataclass(frozen=True, slots=True)
class Step:
    step: str
    role: str

    def as_json(self) -> dict[str, str]:
        return {"step": self.step, "role": self.role}


@dataclass(frozen=True, slots=True)
class FormDef:
    code: str
    title_ja: str
    title_en: str
    schema: dict[str, Any]
    steps: tuple[Step, ...]


@dataclass(frozen=True, slots=True)
class BundleDef:
    code: str
    title_ja: str
    title_en: str
    forms: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class FormsDocument:
    forms: tuple[FormDef, ...]
    bundles: tuple[BundleDef, ...]
    digest: str


class FormsRefused(FileRefused):
    """An application-forms document refused whole; nothing was imported."""

    what = "application forms"
    what_ja = "申請書の定義"


# --- the schema subset -----------------------------------------------------------------------


def check_schema(schema: Any) -> list[tuple[str, str, str]]:
    """Problems (path, message, message_ja) of a form schema outside the accepted subset."""
    found: list[tuple[str, str, str]] = []

    def bad(path: str, message: str, message_ja: str) -> None:
        found.append((path, message, message_ja))

    if not isinstance(schema, dict):
        return [("schema", "an object schema is required", "オブジェクトのスキーマが必要です")]
    if len(json.dumps(schema, ensure_ascii=False, default=str).encode()) > MAX_SCHEMA_BYTES:
        return [
            ("schema", f"at most {MAX_SCHEMA_BYTES} bytes", f"{MAX_SCHEMA_BYTES}バイトまでです")
        ]
    for key in set(schema) - ROOT_KEYS:
        bad(f"schema.{key}", "not allowed here", "このキーは使えません")
    if schema.get("type") != "object":
        bad("schema.type", "must be object", "object を指定してください")
    if schema.get("additionalProperties", False) is not False:
        bad("schema.additionalProperties", "must be false", "false のみ指定できます")
    properties = schema.get("properties")
    if not isinstance(properties, dict) or not 1 <= len(properties) <= MAX_FIELDS:
        bad("schema.properties", f"1-{MAX_FIELDS} fields required", f"項目は1〜{MAX_FIELDS}個です")
        properties = {}
    for name, field in properties.items():
        _check_field(str(name), field, bad)
    required = schema.get("required", [])
    if not isinstance(required, list) or any(r not in properties for r in required):
        bad(
            "schema.required",
            "must list fields of properties",
            "properties の項目名を並べてください",
        )
    return found


def _check_field(name: str, field: Any, bad: Any) -> None:
    path = f"schema.properties.{name}"
    if not FIELD_NAME.match(name):
        bad(path, "field names are letters, digits and _", "項目名は英数字と _ です")
    if not isinstance(field, dict):
        bad(path, "a field schema (mapping) is required", "項目の定義が必要です")
        return
    for key in set(field) - FIELD_KEYS:
        bad(
            f"{path}.{key}", "not allowed (nested objects, $ref... are not)", "このキーは使えません"
        )
    kind = field.get("type")
    if kind not in FIELD_TYPES:
        bad(f"{path}.type", f"one of {', '.join(FIELD_TYPES)}", "型が不正です")
    for label in ("title", "x-label-en"):
        if not isinstance(field.get(label), str) or not 1 <= len(field[label]) <= 100:
            bad(f"{path}.{label}", "a label of 1-100 characters", "1〜100文字のラベルが必要です")
    enum = field.get("enum")
    if enum is not None and (
        not isinstance(enum, list)
        or not 1 <= len(enum) <= 100
        or len(set(map(str, enum))) < len(enum)
    ):
        bad(f"{path}.enum", "1-100 distinct values", "重複のない1〜100個の値が必要です")
    if "format" in field and field["format"] not in FORMATS:
        bad(f"{path}.format", f"one of {', '.join(FORMATS)}", "形式が不正です")
    pattern = field.get("pattern")
    if pattern is not None:
        try:
            if not isinstance(pattern, str) or len(pattern) > MAX_PATTERN:
                raise re.error("too long")
            re.compile(pattern)
        except re.error:
            bad(
                f"{path}.pattern",
                f"a regular expression of at most {MAX_PATTERN} characters",
                "正規表現が不正です",
            )
    for key in ("minLength", "maxLength"):
        value = field.get(key)
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_TEXT
        ):
            bad(f"{path}.{key}", f"a whole number 0-{MAX_TEXT}", f"0〜{MAX_TEXT}の整数です")
    for key in ("minimum", "maximum"):
        value = field.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            bad(f"{path}.{key}", "a number", "数値が必要です")
    if "x-prefill" in field and field["x-prefill"] not in PREFILL_SOURCES:
        bad(f"{path}.x-prefill", f"one of {', '.join(PREFILL_SOURCES)}", "自動入力元が不正です")


def _closed(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema as validated: no unknown fields, and every text capped in length."""
    properties = {
        name: {**field, "maxLength": min(field.get("maxLength", MAX_TEXT), MAX_TEXT)}
        if field.get("type") == "string"
        else field
        for name, field in schema["properties"].items()
    }
    return {**schema, "properties": properties, "additionalProperties": False}


_MESSAGES: dict[str, tuple[str, str]] = {
    "required": ("required", "入力してください"),
    "type": ("wrong type of value", "値の種類が正しくありません"),
    "enum": ("not one of the choices", "選択肢から選んでください"),
    "format": (
        "not in the required format (dates: YYYY-MM-DD)",
        "形式が正しくありません（日付は 2026-04-01 の形）",
    ),
    "pattern": ("not in the required format", "形式が正しくありません"),
    "maxLength": ("too long", "長すぎます"),
    "minLength": ("too short", "短すぎます"),
    "minimum": ("too small", "小さすぎます"),
    "maximum": ("too large", "大きすぎます"),
    "additionalProperties": ("not a field of this form", "この申請書にない項目です"),
}


def validate_data(checker: Checker, prefix: str, schema: dict[str, Any], data: Any) -> None:
    """Add a field error (``prefix.field``) for each way ``data`` breaks the form's schema.

    Capped in size before the work; linear in the data. CPU work: callers on the event loop
    run it in a worker thread.
    """
    if not isinstance(data, dict):
        checker.add(
            prefix, "an object of the form's fields is required", "項目の値をまとめて送ってください"
        )
        return
    if len(json.dumps(data, ensure_ascii=False).encode()) > MAX_DATA_BYTES:
        checker.add(prefix, f"at most {MAX_DATA_BYTES} bytes", f"{MAX_DATA_BYTES}バイトまでです")
        return
    validator = jsonschema.Draft202012Validator(
        _closed(schema), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    seen: set[str] = set()
    for error in validator.iter_errors(data):
        path = [str(p) for p in error.absolute_path]
        if error.validator == "required" and isinstance(error.instance, dict):
            names = [str(n) for n in error.validator_value if n not in error.instance]
        elif error.validator == "additionalProperties" and isinstance(error.instance, dict):
            names = [str(n) for n in error.instance if n not in schema["properties"]]
        else:
            names = [path[0]] if path else []
        english, japanese = _MESSAGES.get(str(error.validator), ("invalid", "値が正しくありません"))
        for name in names:
            field = f"{prefix}.{name}"
            if field not in seen:
                seen.add(field)
                label = schema["properties"].get(name, {}).get("title")
                checker.add(
                    field, f"{name}: {english}", f"{label}：{japanese}" if label else japanese
                )


def fields_of(schema: dict[str, Any]) -> list[str]:
    """The form's field names, in order."""
    return list(schema.get("properties", {}))


# --- the YAML document -----------------------------------------------------------------------

FORM_KEYS = {
    "code": True,
    "title_ja": True,
    "title_en": True,
    "approval_steps": True,
    "schema": True,
}
STEP_KEYS = {"step": True, "role": True}
BUNDLE_KEYS = {"code": True, "title_ja": True, "title_en": True, "forms": True}


def _steps(reader: YamlReader, node: Node, path: str) -> tuple[Step, ...]:
    nodes = reader.sequence(node, path, MAX_STEPS)
    if not nodes:
        reader.problem(node, path, "at least one approval step", "承認の段階が1つ以上必要です")
    steps: list[Step] = []
    names: set[str] = set()
    for i, step_node in enumerate(nodes):
        entries = reader.mapping(step_node, f"{path}[{i}]", STEP_KEYS)
        if entries is None or set(entries) != set(STEP_KEYS):
            continue
        name = reader.code(entries["step"], f"{path}[{i}].step", names)
        role = reader.choice(entries["role"], f"{path}[{i}].role", STEP_ROLES)
        steps.append(Step(name, role))
    return tuple(steps)


def _node_at(schema_node: Node, where: str) -> Node:
    """The deepest YAML node along a problem's path (``schema.properties.name.type``): the
    line a problem is reported at."""
    node = schema_node
    for key in where.split(".")[1:]:
        if not isinstance(node, MappingNode):
            break
        found = [v for k, v in node.value if isinstance(k, ScalarNode) and k.value == key]
        if not found:
            break
        node = found[0]
    return node


def _form(reader: YamlReader, node: Node, path: str, codes: set[str]) -> FormDef | None:
    entries = reader.mapping(node, path, FORM_KEYS)
    if entries is None or set(entries) != set(FORM_KEYS):
        return None
    code = reader.code(entries["code"], f"{path}.code", codes)
    title_ja = reader.text(entries["title_ja"], f"{path}.title_ja", 100)
    title_en = reader.text(entries["title_en"], f"{path}.title_en", 100)
    steps = _steps(reader, entries["approval_steps"], f"{path}.approval_steps")
    schema_node = entries["schema"]
    schema = reader.constructor.construct_object(schema_node, deep=True)
    for where, message, message_ja in check_schema(schema):
        reader.problem(_node_at(schema_node, where), f"{path}.{where}", message, message_ja)
    return FormDef(code, title_ja, title_en, schema, steps)


def _bundle(
    reader: YamlReader, node: Node, path: str, codes: set[str], forms: set[str]
) -> BundleDef | None:
    entries = reader.mapping(node, path, BUNDLE_KEYS)
    if entries is None or set(entries) != set(BUNDLE_KEYS):
        return None
    code = reader.code(entries["code"], f"{path}.code", codes)
    members: list[str] = []
    for i, form_node in enumerate(reader.sequence(entries["forms"], f"{path}.forms", MAX_FORMS)):
        form = reader.text(form_node, f"{path}.forms[{i}]", 64)
        if form not in forms:
            reader.problem(
                form_node,
                f"{path}.forms[{i}]",
                f"no form {form!r} in this document",
                f"この文書に申請書 {form!r} がありません",
            )
        members.append(form)
    if not members:
        reader.problem(
            entries["forms"], f"{path}.forms", "at least one form", "申請書が1つ以上必要です"
        )
    return BundleDef(
        code,
        reader.text(entries["title_ja"], f"{path}.title_ja", 100),
        reader.text(entries["title_en"], f"{path}.title_en", 100),
        tuple(members),
    )


def parse_forms(data: bytes, name: str) -> FormsDocument:
    """A forms document checked whole; FormsRefused lists every problem with its line.

    CPU-bound (YAML, schema checks): callers on the event loop run it in a worker thread.
    """
    problems = Problems(name, FormsRefused)
    root = compose_document(data, problems, MAX_DOCUMENT_BYTES)
    reader = YamlReader(problems)
    entries = reader.mapping(root, "$", {"forms": True, "bundles": False})
    problems.raise_if_any()
    assert entries is not None
    codes: set[str] = set()
    form_nodes = reader.sequence(entries["forms"], "forms", MAX_FORMS)
    forms = [_form(reader, n, f"forms[{i}]", codes) for i, n in enumerate(form_nodes)]
    if not form_nodes:
        reader.problem(entries["forms"], "forms", "at least one form", "申請書が1つ以上必要です")
    bundles: list[BundleDef | None] = []
    if "bundles" in entries:
        bundle_codes: set[str] = set()
        bundle_nodes = reader.sequence(entries["bundles"], "bundles", MAX_BUNDLES)
        bundles = [
            _bundle(reader, n, f"bundles[{i}]", bundle_codes, codes)
            for i, n in enumerate(bundle_nodes)
        ]
    problems.raise_if_any()
    return FormsDocument(
        forms=tuple(f for f in forms if f is not None),
        bundles=tuple(b for b in bundles if b is not None),
        digest=hashlib.sha256(data).hexdigest(),
    )
