"""Checks every GraphQL answer of the test suite against the error vocabulary's contract.

* ``field`` names an input as the client sent it: the path must exist in the arguments or
  the ``input`` type of the field that answered (payload errors, union error members and
  top-level errors alike);
* ``messageJa`` is wholly Japanese: no English words (a few units and format names aside).
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from graphql import (
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLSchema,
    OperationDefinitionNode,
    get_named_type,
    parse,
)

# Names Japanese text uses as they are (units, formats, 'ID').
ALLOWED_LATIN = {"ID", "GeoJSON", "JSON", "CSV", "UTF", "QR", "km", "m", "s", "OK"}
_LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z_]*")
_INDEX = re.compile(r"\[\d+\]")


@cache
def _schema() -> GraphQLSchema:
    from backend.api.schema import build_schema
    from backend.config import Settings

    return build_schema(Settings())._schema


def _resolves(path: str, field: GraphQLField) -> bool:
    segments = [_INDEX.sub("", s) for s in path.split(".")]
    first, rest = segments[0], segments[1:]
    if first in field.args:
        current: Any = get_named_type(field.args[first].type)
    elif "input" in field.args:
        current = get_named_type(field.args["input"].type)
        rest = segments
    else:
        return False
    for segment in rest:
        # Inside a JSON input (an application form's data) the path goes on in the client's
        # own keys: `forms[1].data.childName`.
        if getattr(current, "name", None) == "JSON":
            return True
        if not isinstance(current, GraphQLInputObjectType) or segment not in current.fields:
            return False
        current = get_named_type(current.fields[segment].type)
    return True


def _root_fields(query: str, operation_name: str | None) -> dict[str, GraphQLField]:
    """Response key -> schema field, for the root fields of the operation that ran."""
    schema = _schema()
    document = parse(query)
    fields: dict[str, GraphQLField] = {}
    for definition in document.definitions:
        if not isinstance(definition, OperationDefinitionNode):
            continue
        if operation_name and (definition.name is None or definition.name.value != operation_name):
            continue
        root = schema.get_root_type(definition.operation)
        if root is None:
            continue
        for selection in definition.selection_set.selections:
            name = getattr(selection, "name", None)
            if name is None or name.value not in root.fields:
                continue
            alias = getattr(selection, "alias", None)
            fields[(alias or name).value] = root.fields[name.value]
    return fields


def _english_words(text: str) -> list[str]:
    return [w for w in _LATIN_WORD.findall(text) if w not in ALLOWED_LATIN]


def _error_objects(value: Any) -> list[dict[str, Any]]:
    """Every object in an answer that looks like an Error (has messageJa)."""
    found: list[dict[str, Any]] = []
    if isinstance(value, dict):
        if "messageJa" in value:
            found.append(value)
        for item in value.values():
            found.extend(_error_objects(item))
    elif isinstance(value, list):
        for item in value:
            found.extend(_error_objects(item))
    return found


def check_answer(query: str, operation_name: str | None, body: dict[str, Any]) -> None:
    """Assert the contract on one GraphQL answer (see the module docstring)."""
    try:
        roots = _root_fields(query, operation_name)
    except Exception:  # a document that does not parse: the server says so itself
        return
    for key, value in (body.get("data") or {}).items():
        root = roots.get(key)
        for error in _error_objects(value):
            words = _english_words(error["messageJa"])
            assert not words, f"messageJa has English {words}: {error['messageJa']!r}"
            if root is not None and error.get("field"):
                assert _resolves(error["field"], root), (
                    f"field {error['field']!r} is not an input of {key}: {error}"
                )
    for error in body.get("errors") or []:
        extensions = error.get("extensions") or {}
        if "messageJa" in extensions:
            words = _english_words(extensions["messageJa"])
            assert not words, f"messageJa has English {words}: {extensions['messageJa']!r}"
        path = error.get("path") or []
        root = roots.get(path[0]) if path and len(path) == 1 else None
        for field in [extensions.get("field"), *(extensions.get("fields") or [])]:
            if root is not None and field:
                assert _resolves(field, root), f"field {field!r} is not an argument of {path}"
