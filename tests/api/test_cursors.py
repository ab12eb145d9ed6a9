"""A forged cursor is a VALIDATION error on `after`, never a masked internal error."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import pytest

from tests.conftest import GraphQLClient

HISTORY = "query($after: String) { myConsentHistory(first: 5, after: $after) { edges { cursor } } }"


def cursor_of(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode()


ITEM = uuid.uuid4().hex
FORGED_CURSORS = {
    "naive-timestamp": cursor_of(["2020-01-01", ITEM]),
    "naive-datetime": cursor_of(["2020-01-01T09:00:00", ITEM]),
    "numbers": cursor_of([1, 2]),
    "object": cursor_of({"a": 1, "b": 2}),
    "three-items": cursor_of(["2020-01-01T00:00:00+00:00", ITEM, 3]),
    "bad-uuid": cursor_of(["2020-01-01T00:00:00+00:00", "xyz"]),
    "year-overflow": cursor_of(["9999-12-31T23:59:59-14:00", ITEM]),
    "year-underflow": cursor_of(["0001-01-01T00:00:00+14:00", ITEM]),
    "huge-number": cursor_of([10**300, ITEM]),
    "nested": base64.urlsafe_b64encode(b"[" * 150).decode(),
    "not-base64": "!!!",
    "not-ascii": "カーソル",
    "too-long": "A" * 10_000,
}


@pytest.mark.parametrize("cursor", FORGED_CURSORS.values(), ids=FORGED_CURSORS.keys())
async def test_forged_cursors_are_validation_errors(
    gql: GraphQLClient, token: Any, cursor: str
) -> None:
    body = await gql(HISTORY, {"after": cursor}, token=token("cursor-forger"), expect_errors=True)
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "VALIDATION"
    assert error["extensions"]["field"] == "after"


async def test_a_real_cursor_with_another_offset_pages_the_same(
    gql: GraphQLClient, token: Any
) -> None:
    # a cursor of ours, rewritten with a +09:00 offset for the same instant, is still valid
    body = await gql(
        HISTORY,
        {"after": cursor_of(["2020-01-01T09:00:00+09:00", ITEM])},
        token=token("cursor-user"),
    )
    assert body["data"]["myConsentHistory"]["edges"] == []
