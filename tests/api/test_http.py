"""HTTP-level qualities: health, readiness, request ids, limits, malformed requests."""

from __future__ import annotations

import json

import httpx
import pytest

from backend.app import create_app
from backend.config import Settings
from backend.db.session import Database


async def test_healthz_and_readyz(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    assert (await client.get("/readyz")).json() == {"status": "ready"}


async def test_readyz_reports_an_unreachable_database(settings: Settings, verifier) -> None:  # type: ignore[no-untyped-def]
    database = Database.from_url("postgresql+asyncpg://nobody@127.0.0.1:9/none")
    app = create_app(settings, database=database, verifier=verifier)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        response = await c.get("/readyz")
    assert response.status_code == 503 and response.json() == {"status": "unavailable"}
    await database.dispose()


async def test_request_id_is_returned_and_propagated(client: httpx.AsyncClient) -> None:
    generated = await client.get("/healthz")
    assert len(generated.headers["x-request-id"]) == 32
    given = await client.get("/healthz", headers={"x-request-id": "app-1234"})
    assert given.headers["x-request-id"] == "app-1234"
    # a hostile id (log injection) is replaced, not echoed
    hostile = await client.get("/healthz", headers={"x-request-id": "a\tb" + "c" * 100})
    assert hostile.headers["x-request-id"] != "a\tb" + "c" * 100


async def test_oversized_request_is_refused(client: httpx.AsyncClient, settings: Settings) -> None:
    query = "{ viewer { kind } }" + " " * settings.max_request_bytes
    response = await client.post("/graphql", json={"query": query})
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "REQUEST_TOO_LARGE"


async def test_oversized_chunked_request_is_cut_off(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    # no Content-Length: the limit applies while the body streams in
    async def chunks():  # type: ignore[no-untyped-def]
        body = json.dumps({"query": "{ viewer { kind } }" + " " * settings.max_request_bytes})
        for start in range(0, len(body), 4096):
            yield body[start : start + 4096].encode()

    response = await client.post(
        "/graphql", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert response.headers["x-request-id"]

    async def small():  # type: ignore[no-untyped-def]
        yield b'{"query": "{ viewer { kind } }"}'

    response = await client.post(
        "/graphql", content=small(), headers={"content-type": "application/json"}
    )
    assert response.json() == {"data": {"viewer": {"kind": "ANONYMOUS"}}}


@pytest.mark.parametrize(
    "content",
    [b"{not json", b"[]", b'{"query": 42}', b'{"variables": {}}', b'{"query": "{ me "}'],
    ids=["bad-json", "array", "query-not-string", "no-query", "syntax-error"],
)
async def test_malformed_requests_are_client_errors(
    client: httpx.AsyncClient, content: bytes
) -> None:
    response = await client.post(
        "/graphql", content=content, headers={"content-type": "application/json"}
    )
    assert 200 <= response.status_code < 500
    if response.status_code == 200:
        assert response.json()["errors"]


async def test_depth_limit(settings: Settings, db, verifier, token) -> None:  # type: ignore[no-untyped-def]
    # the schema has no cycles yet, so the limit is shown with a low setting
    shallow = settings.model_copy(update={"graphql_max_depth": 2})
    app = create_app(shallow, database=db, verifier=verifier)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        response = await c.post(
            "/graphql",
            json={"query": "{ me { familyGroups { members { displayName } } } }"},
            headers={"Authorization": f"Bearer {token('deep')}"},
        )
    assert "exceeds maximum operation depth of 2" in response.json()["errors"][0]["message"]


async def test_alias_and_token_limits(gql) -> None:  # type: ignore[no-untyped-def]
    aliases = "{ " + " ".join(f"a{i}: viewer {{ kind }}" for i in range(40)) + " }"
    body = await gql(aliases, expect_errors=True)
    assert "aliases" in body["errors"][0]["message"].lower()


async def test_graphiql_is_served_in_development(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", headers={"accept": "text/html"})
    assert response.status_code == 200 and "graphiql" in response.text.lower()


async def test_unexpected_errors_are_masked(gql, token, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from backend.residents import service

    async def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("secret connection string postgres://u:p@db")

    monkeypatch.setattr(service, "list_places", broken)
    body = await gql("{ me { places { id } } }", token=token("masked"), expect_errors=True)
    assert body["errors"][0]["message"] == "internal server error"
    assert body["errors"][0]["extensions"] == {"code": "INTERNAL"}
    assert "secret" not in json.dumps(body)
