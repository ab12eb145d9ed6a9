"""Expected errors are routine log lines; only unexpected ones are logged with a traceback."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from tests.conftest import GraphQLClient
from tests.hostile import doubling_fragments

HISTORY = "query($after: String) { myConsentHistory(first: 5, after: $after) { edges { cursor } } }"


async def test_expected_errors_are_logged_without_a_traceback(
    gql: GraphQLClient, token: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    # given requests that fail as designed: bad document, no sign-in, forged cursor, typed error
    await gql("{ nope }", expect_errors=True)
    await gql("{ me { id } }", expect_errors=True)
    await gql(HISTORY, {"after": "bad"}, token=token("log-user"), expect_errors=True)
    await gql(doubling_fragments(20), expect_errors=True)
    # then they are logged as routine request errors, none with a traceback or at ERROR
    records = [r for r in caplog.records if r.name.startswith(("strawberry", "kizuna.graphql"))]
    assert len(records) == 4
    for record in records:
        assert record.levelno <= logging.WARNING, record.getMessage()
        assert record.exc_info is None
    assert {getattr(r, "code", None) for r in records} >= {
        "UNAUTHENTICATED",
        "VALIDATION",
        "LIMIT_EXCEEDED",
    }


async def test_unexpected_errors_are_logged_with_a_traceback(
    gql: GraphQLClient, token: Any, caplog: pytest.LogCaptureFixture, monkeypatch: Any
) -> None:
    from backend.residents import service

    async def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(service, "list_places", broken)
    caplog.set_level(logging.INFO)
    await gql("{ me { places { id } } }", token=token("log-bug"), expect_errors=True)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1
    assert errors[0].exc_info is not None and isinstance(errors[0].exc_info[1], RuntimeError)
