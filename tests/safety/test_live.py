"""Live safety views over a real websocket: a leader's tally and a family's answers update
after each answer, and a revoked consent takes the name off at once."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from backend.app import create_app
from backend.auth.tokens import TokenVerifier
from backend.config import Environment, Settings
from backend.db.session import Database
from tests.conftest import GraphQLClient, token_maker
from tests.live.clients import GraphQLWebSocket, graphql_websocket
from tests.live_server import serving
from tests.safety.test_api import OPEN, REPORT, Town, build_town

TALLY_CHANGED = """
subscription($c: ID!, $e: ID!) {
  communityTallyChanged(communityId: $c, eventId: $e) {
    tally { safe needsHelp unanswered total }
    members { name status }
  }
}"""
FAMILY_CHANGED = """
subscription($g: ID!, $e: ID!) {
  familySafetyChanged(groupId: $g, eventId: $e) { members { person { name status } } }
}"""


@pytest.fixture(scope="module")
def live_settings(tmp_path_factory: pytest.TempPathFactory, live_database_url: str) -> Settings:
    return Settings(
        environment=Environment.DEVELOPMENT,
        data_dir=tmp_path_factory.mktemp("safety-live"),
        database_url=live_database_url,
        log_json=False,
        subscription_min_interval_seconds=0.05,
    )


@pytest.fixture(scope="module")
def verifier(live_settings: Settings) -> TokenVerifier:
    return TokenVerifier(live_settings)


@pytest.fixture(scope="module")
def server(live_settings: Settings, verifier: TokenVerifier) -> Iterator[str]:
    database = Database.from_url(live_settings.resolved_database_url)
    with serving(create_app(live_settings, database=database, verifier=verifier)) as base_url:
        yield base_url


@pytest.fixture
async def api(server: str) -> AsyncIterator[GraphQLClient]:
    async with httpx.AsyncClient(base_url=server, timeout=30) as client:
        yield GraphQLClient(client)


@pytest.fixture(scope="module")
def tokens(verifier: TokenVerifier) -> Any:
    return token_maker(verifier)


async def _signed_in(server: str, bearer: str) -> Any:
    ws = graphql_websocket(server)
    connection: GraphQLWebSocket = await ws.__aenter__()
    ack = await connection.init({"Authorization": f"Bearer {bearer}"})
    assert ack["type"] == "connection_ack", ack
    return ws, connection


async def _next(ws: GraphQLWebSocket, field: str) -> dict[str, Any]:
    message = await ws.receive()
    assert message["type"] == "next", message
    assert "errors" not in message["payload"], message
    return dict(message["payload"]["data"][field])


async def test_a_leader_and_a_family_watch_answers_arrive(
    server: str, api: GraphQLClient, tokens: Any
) -> None:
    # given the town (built once on this server's own database) and an open event
    town: Town = await build_town(api, tokens)
    opened = await api(
        OPEN,
        {"input": {"name": "ライブ確認", "municipalityCodes": ["07202"]}},
        token=town.tokens["staff"],
    )
    event_id = opened["data"]["openDisasterEvent"]["event"]["id"]
    leader_ctx, leader = await _signed_in(server, town.tokens["leader"])
    taro_ctx, taro = await _signed_in(server, town.tokens["taro"])
    try:
        await leader.subscribe("t", TALLY_CHANGED, {"c": town.community_id, "e": event_id})
        first = await _next(leader, "communityTallyChanged")
        assert first["tally"] == {"safe": 0, "needsHelp": 0, "unanswered": 3, "total": 3}
        await taro.subscribe("f", FAMILY_CHANGED, {"g": town.group_id, "e": event_id})
        await _next(taro, "familySafetyChanged")
        # when Hanako answers
        await api(
            REPORT, {"input": {"eventId": event_id, "status": "NEEDS_HELP"}},
            token=town.tokens["hanako"],
        )  # fmt: skip
        # then the leader and her family see it without asking
        tally = await _next(leader, "communityTallyChanged")
        assert tally["tally"]["needsHelp"] == 1
        assert {"name": "hanako 太郎", "status": "NEEDS_HELP"} in tally["members"]
        family = await _next(taro, "familySafetyChanged")
        assert {"person": {"name": "hanako 太郎", "status": "NEEDS_HELP"}} in family["members"]
        # when she revokes what she shares with the community
        consents = await api("{ myConsents { id purposeCode } }", token=town.tokens["hanako"])
        [community] = [
            c for c in consents["data"]["myConsents"] if c["purposeCode"] == "community_safety"
        ]
        await api(
            "mutation($id: ID!) { revokeConsent(input: {consentId: $id}) { errors { code } } }",
            {"id": community["id"]},
            token=town.tokens["hanako"],
        )
        # then the leader's view drops her name at once, and still counts her
        after = await _next(leader, "communityTallyChanged")
        assert after["tally"]["needsHelp"] == 1
        assert all(m["name"] != "hanako 太郎" for m in after["members"])
    finally:
        await leader_ctx.__aexit__(None, None, None)
        await taro_ctx.__aexit__(None, None, None)


async def test_nobody_else_may_watch_a_tally(server: str, api: GraphQLClient, tokens: Any) -> None:
    town: Town = await build_town(api, tokens, suffix="-2")
    opened = await api(
        OPEN,
        {"input": {"name": "ライブ確認2", "municipalityCodes": ["07202"]}},
        token=town.tokens["staff"],
    )
    event_id = opened["data"]["openDisasterEvent"]["event"]["id"]
    for who in ("other_leader", "hanako"):
        ctx, ws = await _signed_in(server, town.tokens[who])
        try:
            await ws.subscribe("t", TALLY_CHANGED, {"c": town.community_id, "e": event_id})
            message = await ws.receive()
            assert message["type"] == "error", message
            assert message["payload"][0]["extensions"]["code"] == "NOT_FOUND"
        finally:
            await ctx.__aexit__(None, None, None)


async def test_leaders_counters_share_one_read_and_strangers_get_none(
    server: str, api: GraphQLClient, tokens: Any
) -> None:
    town: Town = await build_town(api, tokens, suffix="-3")
    opened = await api(
        OPEN,
        {"input": {"name": "ライブ確認3", "municipalityCodes": ["07202"]}},
        token=town.tokens["staff"],
    )
    event_id = opened["data"]["openDisasterEvent"]["event"]["id"]
    counts = """
    subscription($c: ID!, $e: ID!) {
      communityTallyChanged(communityId: $c, eventId: $e) { tally { needsHelp total } }
    }"""
    ctx, leader = await _signed_in(server, town.tokens["leader"])
    other_ctx, other = await _signed_in(server, town.tokens["other_leader"])
    try:
        await leader.subscribe("c", counts, {"c": town.community_id, "e": event_id})
        first = await _next(leader, "communityTallyChanged")
        assert first == {"tally": {"needsHelp": 0, "total": 3}}
        await other.subscribe("c", counts, {"c": town.community_id, "e": event_id})
        refused = await other.receive()
        assert refused["type"] == "error", refused
        await api(
            REPORT, {"input": {"eventId": event_id, "status": "NEEDS_HELP"}},
            token=town.tokens["jiro"],
        )  # fmt: skip
        assert await _next(leader, "communityTallyChanged") == {
            "tally": {"needsHelp": 1, "total": 3}
        }
    finally:
        await ctx.__aexit__(None, None, None)
        await other_ctx.__aexit__(None, None, None)
