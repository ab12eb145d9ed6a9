"""Request bodies no GraphQL client sends are clear 400s in GraphQL's error shape, not 500s.

Found by probing the server (issue 8, section 7): bodies that were a JSON string or number,
invalid UTF-8, a 5,000-digit integer or deeply nested arrays ended in a 500.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.conftest import GraphQLClient


async def post_raw(client: httpx.AsyncClient, content: bytes) -> httpx.Response:
    return await client.post(
        "/graphql", content=content, headers={"content-type": "application/json"}
    )


def assert_bad_request(response: httpx.Response, *words: str) -> None:
    assert response.status_code == 400, response.text
    body = response.json()
    assert list(body) == ["errors"]
    (error,) = body["errors"]
    assert error["extensions"] == {"code": "BAD_REQUEST"}
    for word in words:
        assert word in error["message"], error["message"]


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b'"{ viewer { kind } }"', ["JSON object"]),
        (b"42", ["JSON object"]),
        (b"null", ["JSON object"]),
        (b"true", ["JSON object"]),
        (b'{"query": "{ viewer { kind } }", "x": "\xff\xfe"}', ["UTF-8"]),
        (b'{"query": "{ viewer { kind } }", "variables": {"n": ' + b"9" * 5000 + b"}}", ["digits"]),
        (b'{"query": "{ viewer { kind } }", "variables": {"n": 1e400}}', ["out of range"]),
        (b'{"query": "{ viewer { kind } }", "variables": {"n": NaN}}', ["NaN"]),
        (b'{"query": "{ viewer { kind } }", "variables": {"n": -Infinity}}', ["Infinity"]),
        (b"[" * 100_000 + b"]" * 100_000, ["nested"]),
        (
            b'{"query": "{ viewer { kind } }", "variables": {"a": '
            + b"[" * 100
            + b"]" * 100
            + b"}}",
            ["nested"],
        ),
        (b'{"query": "{ viewer { kind } }", "variables": []}', ["variables"]),
        (b'{"query": "{ viewer { kind } }", "variables": "x"}', ["variables"]),
        (b'{"query": "{ viewer { kind } }", "operationName": 5}', ["operationName"]),
        (b'{"query": "{ viewer { kind } }", "operationName": ["a"]}', ["operationName"]),
        (b'{"query": "{ viewer { kind } }", "variables": {"s": "\\ud800"}}', ["surrogate"]),
        (b'{"query": "{ viewer { kind } }", "variables": {"\\udfff": 1}}', ["surrogate"]),
        (b'{"query": "{ viewer { kind } } # \\udc00"}', ["surrogate"]),
        (b"{not json", ["not valid JSON"]),
        (b'{"variables": {}}', ["query"]),
    ],
    ids=[
        "json-string",
        "json-number",
        "json-null",
        "json-true",
        "invalid-utf8",
        "5000-digit-integer",
        "float-overflow",
        "nan",
        "infinity",
        "deeply-nested-arrays",
        "nested-variables",
        "variables-array",
        "variables-string",
        "operation-name-number",
        "operation-name-list",
        "lone-surrogate-value",
        "lone-surrogate-key",
        "lone-surrogate-query",
        "invalid-json",
        "no-query",
    ],
)
async def test_malformed_bodies_are_clear_bad_requests(
    client: httpx.AsyncClient, content: bytes, words: list[str]
) -> None:
    # given a body no GraphQL client would send
    # when it is posted
    response = await post_raw(client, content)
    # then the answer is a 400 saying what is wrong, in GraphQL's error shape
    assert_bad_request(response, *words)


async def test_valid_unicode_survives_strict_decoding(
    client: httpx.AsyncClient, gql: GraphQLClient, token: Any
) -> None:
    # given a name with kanji and an emoji, all sent as \\u escapes (a surrogate pair for 🌸)
    resident = token("unicode-resident")
    payload = json.dumps(
        {
            "query": "mutation($n: String!) { updateProfile(input: {displayName: $n}) "
            "{ errors { code } } }",
            "variables": {"n": "会津 🌸 花子"},
        }
    )
    assert "\\ud83c\\udf38" in payload
    # when it is saved
    response = await client.post(
        "/graphql",
        content=payload.encode("ascii"),
        headers={"content-type": "application/json", "authorization": f"Bearer {resident}"},
    )
    # then it is accepted and reads back unchanged
    assert response.json()["data"]["updateProfile"]["errors"] == []
    me = await gql("{ me { displayName } }", token=resident)
    assert me["data"]["me"]["displayName"] == "会津 🌸 花子"


async def test_unknown_operation_name_is_a_bad_request(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql", json={"query": "query A { viewer { kind } }", "operationName": "B"}
    )
    assert_bad_request(response)
