"""Persisted queries (Apollo APQ): the app sends a document's SHA-256 instead of its text."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from backend.app import create_app
from backend.auth.tokens import TokenVerifier
from backend.config import Environment, Settings
from tests.conftest import RollbackDatabase

OPERATIONS = Path(__file__).resolve().parents[2] / "graphql" / "operations"
PICKER = (OPERATIONS / "Municipalities.graphql").read_text()
ADHOC = '{ municipality(code: "07202") { nameJa } }'


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def persisted(digest: str, **body: Any) -> dict[str, Any]:
    return {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": digest}}, **body}


async def post(client: httpx.AsyncClient, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post("/graphql", json=body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def code_of(body: dict[str, Any]) -> str:
    assert body.get("data") is None, body
    code: str = body["errors"][0]["extensions"]["code"]
    return code


@pytest.fixture
async def not_learning(
    settings: Settings, db: RollbackDatabase, verifier: TokenVerifier
) -> AsyncIterator[httpx.AsyncClient]:
    """A server that knows only the app's own documents (production's default)."""
    closed = settings.model_copy(update={"graphql_learn_persisted_queries": False})
    app = create_app(closed, database=db, verifier=verifier)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        yield c


async def test_the_apps_documents_are_known_by_their_hash(client: httpx.AsyncClient) -> None:
    # when the app sends only the hash of its municipality picker document
    body = await post(client, persisted(sha256(PICKER), variables={"prefectureCode": "07"}))
    # then it is answered as if the text had been sent
    assert "errors" not in body, body
    assert {m["code"] for m in body["data"]["municipalities"]} >= {"07202", "07201"}


async def test_an_unknown_document_is_learned_from_its_text(client: httpx.AsyncClient) -> None:
    # given a document the server has never seen
    digest = sha256(ADHOC)
    # when its hash alone is sent, the client is asked for the text
    assert code_of(await post(client, persisted(digest))) == "PERSISTED_QUERY_NOT_FOUND"
    # when the text follows with the hash, it is answered and remembered
    answered = await post(client, persisted(digest, query=ADHOC))
    assert answered["data"]["municipality"]["nameJa"] == "会津若松市"
    # then the hash alone is enough
    again = await post(client, persisted(digest))
    assert again == answered


async def test_a_hash_that_does_not_match_its_text_is_refused(client: httpx.AsyncClient) -> None:
    # when a client sends a text under another document's hash
    body = await post(client, persisted(sha256(PICKER), query=ADHOC))
    # then nothing runs, and the hash still names the registered document
    assert code_of(body) == "VALIDATION"
    assert "sha256Hash" in body["errors"][0]["message"]
    assert "municipalities" in (await post(client, persisted(sha256(PICKER))))["data"]


@pytest.mark.parametrize(
    "extension",
    [
        {"version": 2, "sha256Hash": "0" * 64},
        {"version": 1, "sha256Hash": "not a hash"},
        {"version": 1},
        "persisted",
    ],
)
async def test_a_malformed_persisted_query_is_a_validation_error(
    client: httpx.AsyncClient, extension: Any
) -> None:
    body = await post(client, {"query": ADHOC, "extensions": {"persistedQuery": extension}})
    assert code_of(body) == "VALIDATION"
    assert body["errors"][0]["extensions"]["messageJa"]


async def test_without_learning_only_the_apps_documents_run_by_hash(
    not_learning: httpx.AsyncClient,
) -> None:
    digest = sha256(ADHOC)
    # a text with its hash is answered (as any query text is), but not remembered
    answered = await post(not_learning, persisted(digest, query=ADHOC))
    assert answered["data"]["municipality"]["nameJa"] == "会津若松市"
    assert code_of(await post(not_learning, persisted(digest))) == "PERSISTED_QUERY_NOT_FOUND"
    # the app's own documents still run by hash
    known = await post(not_learning, persisted(sha256(PICKER), variables={"prefectureCode": "07"}))
    assert "errors" not in known


def test_production_learns_no_documents_unless_told_to() -> None:
    assert Settings(environment=Environment.DEVELOPMENT).learns_persisted_queries
    assert not Settings(environment=Environment.PRODUCTION).learns_persisted_queries
    assert Settings(
        environment=Environment.PRODUCTION, graphql_learn_persisted_queries=True
    ).learns_persisted_queries
