"""GraphQL documents are bounded in one linear pass before the specification's rules run.

strawberry's depth and alias rules walked a fragment again at every spread (2^n for a
document whose fragments each spread the next one twice) and graphql-core compares fields
of one response name pairwise; both are bounded here, and a document with several
operations needs an operationName.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from graphql import parse

from backend.api.limits import DocumentLimits, check_document
from backend.config import Settings
from tests.conftest import GraphQLClient
from tests.hostile import doubling_fragments

OPERATIONS = sorted(
    (Path(__file__).resolve().parents[2] / "graphql" / "operations").glob("*.graphql")
)


def nested_doubling(count: int) -> str:
    fragments = " ".join(
        f"fragment F{i} on Query {{ viewer {{ ...G{i} }} }} fragment G{i} on Viewer {{ kind }}"
        for i in range(count)
    )
    spreads = " ".join(f"...F{i}" for i in range(count))
    return f"query {{ {spreads} }} {fragments}"


HOSTILE_DOCUMENTS = {
    "doubling-20": (doubling_fragments(20), "'__typename' is selected"),
    "doubling-30": (doubling_fragments(30), "'__typename' is selected"),
    "doubling-aliases": (
        doubling_fragments(25).replace("__typename ...", "a: __typename ..."),
        "'a' is selected",
    ),
    "one-field-900-times": ("{" + " viewer { kind }" * 900 + "}", "'viewer' is selected"),
    "nested-repeats": (
        "{" + (" me {" + " places { id }" * 15 + " }") * 15 + "}",
        "'me.places' is selected",
    ),
    "same-field-through-fragments": (nested_doubling(25), "'viewer' is selected"),
    "aliases-through-fragments": (
        "query { ...A ...B } fragment A on Query { "
        + " ".join(f"a{i}: __typename" for i in range(20))
        + " } fragment B on Query { ...A }",
        "has 40 aliases",
    ),
    "many-fragments": (
        "query { ...F0 } "
        + " ".join(f"fragment F{i} on Query {{ ...F{i + 1} }}" for i in range(60))
        + " fragment F60 on Query { __typename }",
        "61 fragments",
    ),
    "deep-nesting": ("{" + " me {" * 14 + " id" + " }" * 14 + " }", "maximum operation depth"),
    "expanded-fields": (
        "query {"
        + " ".join(f"v{i}: viewer {{ ...F }}" for i in range(20))
        + "} fragment F on Viewer { "
        + " ".join(f"f{i}: kind" for i in range(150))
        + " }",
        "more than 2000 fields",
    ),
}


@pytest.mark.parametrize(
    ("document", "message"), HOSTILE_DOCUMENTS.values(), ids=HOSTILE_DOCUMENTS.keys()
)
async def test_hostile_documents_are_refused_before_validation(
    gql: GraphQLClient, document: str, message: str
) -> None:
    # given a document over one of the bounds (measured as if its fragments were inlined)
    # when it is sent
    body = await gql(document, expect_errors=True)
    # then nothing runs and the error says which bound
    assert body["data"] is None
    (error,) = body["errors"]
    assert message in error["message"], error["message"]
    assert error["extensions"]["code"] == "LIMIT_EXCEEDED"


async def test_fragment_cycles_are_reported_not_followed(gql: GraphQLClient) -> None:
    body = await gql(
        "query { ...A } fragment A on Query { __typename ...B } "
        "fragment B on Query { __typename ...A ...A }",
        expect_errors=True,
    )
    assert body["data"] is None
    assert any("within itself" in e["message"] for e in body["errors"])


@pytest.mark.parametrize("path", OPERATIONS, ids=lambda p: p.name)
def test_the_apps_documents_are_within_every_bound(path: Path, settings: Settings) -> None:
    limits = DocumentLimits(
        max_depth=settings.graphql_max_depth, max_aliases=settings.graphql_max_aliases
    )
    assert check_document(parse(path.read_text(encoding="utf-8")), limits) == []


async def test_several_operations_need_an_operation_name(gql: GraphQLClient, token: Any) -> None:
    # given a document with a query and a mutation
    document = """
    query Read { me { displayName } }
    mutation Write { updateProfile(input: {displayName: "書き換え"}) { errors { code } } }
    """
    resident = token("two-operations")
    # when it is sent without operationName
    body = await gql(document, token=resident, expect_errors=True)
    # then it is refused and the mutation did not run
    assert body["data"] is None
    assert "operationName" in body["errors"][0]["message"]
    read = await gql("{ me { displayName } }", token=resident)
    assert read["data"]["me"]["displayName"] != "書き換え"
    # and with operationName the named one runs
    named = await gql.client.post(
        "/graphql",
        json={"query": document, "operationName": "Write"},
        headers={"Authorization": f"Bearer {resident}"},
    )
    assert named.json()["data"]["updateProfile"]["errors"] == []
