"""Production hides the schema: no introspection and no "Did you mean ...?" unless configured."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from backend.app import create_app
from backend.auth.tokens import TokenVerifier
from backend.config import Environment, Settings
from tests.conftest import GraphQLClient, RollbackDatabase


@pytest.fixture
async def production_gql(
    settings: Settings, db: RollbackDatabase, tmp_path: Path
) -> AsyncIterator[GraphQLClient]:
    production = Settings(
        environment=Environment.PRODUCTION,
        data_dir=tmp_path,
        database_url=settings.database_url,
        log_json=False,
    )
    app = create_app(production, database=db, verifier=TokenVerifier(production))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://kizuna.test"
    ) as client:
        yield GraphQLClient(client)


INTROSPECTION = "{ __schema { queryType { name } } }"
TYPO = "{ viewr { kind } }"
BAD_ENUM = """
query($t: HazardType!) {
  shelters(near: {latitude: 37.49, longitude: 139.93}, hazardType: $t) { id }
}"""


async def test_production_hides_the_schema(production_gql: GraphQLClient) -> None:
    # introspection is refused
    body = await production_gql(INTROSPECTION, expect_errors=True)
    assert body["data"] is None
    assert "introspection" in body["errors"][0]["message"].lower()
    body = await production_gql('{ __type(name: "Query") { name } }', expect_errors=True)
    assert body["data"] is None
    # a typo gets no suggestion, in the document or in a variable
    body = await production_gql(TYPO, expect_errors=True)
    assert "Did you mean" not in json.dumps(body)
    body = await production_gql(BAD_ENUM, {"t": "FLOD"}, expect_errors=True)
    assert body["errors"] and "FLOOD" not in json.dumps(body)
    # __typename is not introspection
    body = await production_gql("{ __typename }")
    assert body["data"] == {"__typename": "Query"}


async def test_development_shows_the_schema(gql: GraphQLClient) -> None:
    body = await gql(INTROSPECTION)
    assert body["data"]["__schema"]["queryType"]["name"] == "Query"
    body = await gql(TYPO, expect_errors=True)
    assert "Did you mean 'viewer'?" in body["errors"][0]["message"]
    body = await gql(BAD_ENUM, {"t": "FLOD"}, expect_errors=True)
    assert "FLOOD" in body["errors"][0]["message"]


def test_introspection_follows_the_setting() -> None:
    assert Settings(environment=Environment.PRODUCTION).graphql_introspection_enabled is False
    assert Settings(environment=Environment.TEST).graphql_introspection_enabled is True
    assert Settings(environment=Environment.DEVELOPMENT).graphql_introspection_enabled is True
    assert Settings(
        environment=Environment.PRODUCTION, graphql_introspection=True
    ).graphql_introspection_enabled
