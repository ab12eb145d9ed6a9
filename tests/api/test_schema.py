"""The committed SDL and the app's operation documents stay in sync with the code."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import graphql
import pytest
from graphql import parse, validate

from backend.api.schema import build_schema, print_sdl
from backend.config import Settings

GRAPHQL_DIR = Path(__file__).resolve().parents[2] / "graphql"
OPERATIONS = sorted((GRAPHQL_DIR / "operations").glob("*.graphql"))


def test_committed_sdl_matches_the_code() -> None:
    # given the committed snapshot
    committed = (GRAPHQL_DIR / "schema.graphql").read_text(encoding="utf-8")
    # when the schema is printed from the code
    current = print_sdl()
    # then they are equal (regenerate with `kizuna export-schema`)
    assert committed == current, "graphql/schema.graphql is stale: run `kizuna export-schema`"


def test_there_are_operation_documents() -> None:
    assert len(OPERATIONS) >= 5


@pytest.mark.parametrize("path", OPERATIONS, ids=lambda p: p.name)
def test_operation_document_is_valid(path: Path) -> None:
    schema = build_schema(Settings())._schema
    document = parse(path.read_text(encoding="utf-8"))
    errors = validate(schema, document)
    assert not errors, [e.message for e in errors]


def test_graphql_folder_is_not_a_python_package() -> None:
    # A package named graphql would shadow graphql-core for every import.
    assert not (GRAPHQL_DIR / "__init__.py").exists()
    spec = importlib.util.find_spec("graphql")
    assert spec is not None and spec.origin is not None
    assert "site-packages" in spec.origin or "dist-packages" in spec.origin
    assert hasattr(graphql, "graphql_sync")
