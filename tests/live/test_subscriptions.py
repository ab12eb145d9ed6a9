"""GraphQL subscriptions over a real websocket (graphql-transport-ws at /graphql).

A server in a thread (tests/live_server.py) on a database of its own with the demo shelters;
the test's clients are a websocket client and an HTTP client, as the app's would be.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from backend import live
from backend.app import create_app
from backend.auth.tokens import TokenVerifier
from backend.config import Environment, Settings
from backend.db.session import Database
from tests.conftest import token_maker
from tests.error_contract import check_answer
from tests.live.clients import (
    SHELTER_OCCUPANCY,
    UPDATE_SHELTER,
    GraphQLWebSocket,
    graphql_websocket,
)
from tests.live_server import serving

LIMIT = 3
MANAGER = [("shelter_manager", "07202")]
NEAREST = """
query { shelters(near: {latitude: 37.5078, longitude: 139.9335}, first: 3) { id status } }
"""


@pytest.fixture(scope="module")
def live_settings(tmp_path_factory: pytest.TempPathFactory, live_database_url: str) -> Settings:
    return Settings(
        environment=Environment.DEVELOPMENT,
        data_dir=tmp_path_factory.mktemp("live-state"),
        database_url=live_database_url,
        log_json=False,
        subscriptions_per_connection=LIMIT,
        subscription_min_interval_seconds=0.05,
        clock_skew_seconds=0,
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
async def http(server: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server, timeout=30) as client:
        yield client


@pytest.fixture
def manager(verifier: TokenVerifier) -> str:
    return str(token_maker(verifier)("live-manager", roles=MANAGER))


@pytest.fixture
async def shelters(http: httpx.AsyncClient) -> list[str]:
    answer = await http.post("/graphql", json={"query": NEAREST})
    return [s["id"] for s in answer.json()["data"]["shelters"]]


async def set_occupancy(http: httpx.AsyncClient, token: str, shelter: str, count: int) -> None:
    variables = {"input": {"id": shelter, "status": "OPEN", "occupancy": count}}
    answer = await http.post(
        "/graphql",
        json={"query": UPDATE_SHELTER, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.json()["data"]["updateShelterStatus"]["errors"] == [], answer.text


async def watch(ws: GraphQLWebSocket, operation_id: str, shelter: str) -> dict[str, Any]:
    """Subscribe to a shelter; its first update (the shelter now)."""
    await ws.subscribe(operation_id, SHELTER_OCCUPANCY, {"shelterId": shelter})
    return await update_of(ws, operation_id)


async def update_of(ws: GraphQLWebSocket, operation_id: str) -> dict[str, Any]:
    message = await ws.receive()
    assert message["type"] == "next" and message["id"] == operation_id, message
    assert "errors" not in message["payload"], message
    return dict(message["payload"]["data"]["shelterOccupancyChanged"])


def broker_subscriptions() -> int:
    return live.current_broker().subscription_count


async def no_subscriptions_left(within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while broker_subscriptions():
        assert time.monotonic() < deadline, f"{broker_subscriptions()} subscriptions left"
        await asyncio.sleep(0.05)


async def test_a_viewer_sees_the_shelter_now_and_after_each_change(  # type: ignore[no-untyped-def]
    server, http, manager, shelters
) -> None:
    watched, other = shelters[0], shelters[1]
    async with graphql_websocket(server) as ws:
        assert (await ws.init())["type"] == "connection_ack"
        # given a viewer of one shelter (anonymous: shelters are public) and of another
        now = await watch(ws, "1", watched)
        assert now["id"] == watched
        await watch(ws, "2", other)
        # when its manager reports 12 people in it
        await set_occupancy(http, manager, watched, 12)
        # then the viewer gets the shelter as it is now
        update = await update_of(ws, "1")
        assert update == {"id": watched, "status": "OPEN", "occupancy": 12, "capacity": None}
        # and the same again for the next report
        await set_occupancy(http, manager, watched, 30)
        assert (await update_of(ws, "1"))["occupancy"] == 30
        # and the viewer of the other shelter got nothing meanwhile (the next message is
        # its own update once that shelter changes)
        await set_occupancy(http, manager, other, 1)
        assert (await update_of(ws, "2"))["occupancy"] == 1


async def test_check_ins_and_check_outs_reach_the_shelters_viewers(  # type: ignore[no-untyped-def]
    server, http, manager, shelters, verifier: TokenVerifier
) -> None:
    resident = token_maker(verifier)("live-evacuee")
    check_in = (
        "mutation($s: ID!) { checkInToShelter(input: {shelterId: $s})"
        " { stay { id } errors { code } } }"
    )
    check_out = "mutation { checkOutOfShelter(input: {}) { stay { id } errors { code } } }"
    headers = {"Authorization": f"Bearer {resident}"}
    async with graphql_websocket(server) as ws:
        await ws.init()
        # given a viewer of an open shelter with nobody in it
        await set_occupancy(http, manager, shelters[1], 0)
        await watch(ws, "1", shelters[1])
        # when a resident checks in, and then out
        answer = await http.post(
            "/graphql", json={"query": check_in, "variables": {"s": shelters[1]}}, headers=headers
        )
        assert answer.json()["data"]["checkInToShelter"]["errors"] == [], answer.text
        # then the viewer sees each count
        assert (await update_of(ws, "1"))["occupancy"] == 1
        answer = await http.post("/graphql", json={"query": check_out}, headers=headers)
        assert answer.json()["data"]["checkOutOfShelter"]["errors"] == [], answer.text
        assert (await update_of(ws, "1"))["occupancy"] == 0


async def test_a_burst_of_changes_ends_with_the_last_state(  # type: ignore[no-untyped-def]
    server, http, manager, shelters
) -> None:
    async with graphql_websocket(server) as ws:
        await ws.init()
        await watch(ws, "burst", shelters[0])
        for count in range(1, 6):
            await set_occupancy(http, manager, shelters[0], count)
        # however the re-reads were coalesced, the view ends with the last report
        seen = [(await update_of(ws, "burst"))["occupancy"]]
        while seen[-1] != 5:
            seen.append((await update_of(ws, "burst"))["occupancy"])
        assert seen == sorted(seen)


@pytest.mark.parametrize("where", ["payload", "lowercase payload", "header"])
async def test_a_token_is_taken_from_connection_init_or_the_handshake(  # type: ignore[no-untyped-def]
    server, manager, shelters, where: str
) -> None:
    bearer = f"Bearer {manager}"
    headers = {"Authorization": bearer} if where == "header" else None
    payload = {
        "payload": {"Authorization": bearer},
        "lowercase payload": {"authorization": bearer},
        "header": {},
    }[where]
    async with graphql_websocket(server, headers) as ws:
        assert (await ws.init(payload))["type"] == "connection_ack"
        assert (await watch(ws, "1", shelters[0]))["id"] == shelters[0]


@pytest.mark.parametrize(
    ("payload", "headers", "reason"),
    [
        ({"Authorization": "Bearer not-a-token"}, None, "malformed token"),
        ({"authorization": "Basic dXNlcjpwYXNz"}, None, "expected 'Authorization: Bearer"),
        ({"Authorization": ["Bearer", "x"]}, None, "must be a string"),
        ({}, {"Authorization": "Bearer not-a-token"}, "malformed token"),
    ],
)
async def test_a_bad_token_closes_the_connection_with_4401(  # type: ignore[no-untyped-def]
    server, payload, headers, reason: str
) -> None:
    async with graphql_websocket(server, headers) as ws:
        await ws.send({"type": "connection_init", "payload": payload})
        code, why = await ws.closed()
    assert code == 4401
    assert why.startswith("Unauthorized") and reason in why


async def test_an_expired_sign_in_ends_the_subscription_at_its_next_read(  # type: ignore[no-untyped-def]
    server, http, manager, shelters, verifier: TokenVerifier
) -> None:
    # given a viewer signed in with a token that expires in a second
    short = verifier.dev_signer.sign("live-short", ttl=timedelta(seconds=1))
    async with graphql_websocket(server) as ws:
        await ws.init({"Authorization": f"Bearer {short}"})
        await watch(ws, "1", shelters[2])
        await asyncio.sleep(1.5)
        # when the shelter changes after the token expired
        await set_occupancy(http, manager, shelters[2], 7)
        # then the subscription ends with UNAUTHENTICATED, not with the new value
        message = await ws.receive()
        assert message["type"] == "next"
        assert message["payload"]["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        assert (await ws.receive())["type"] == "complete"


async def test_subscriptions_per_connection_are_capped(server, shelters) -> None:  # type: ignore[no-untyped-def]
    async with graphql_websocket(server) as ws:
        await ws.init()
        for number in range(LIMIT):
            await watch(ws, str(number), shelters[0])
        # when one more is asked for
        await ws.subscribe("extra", SHELTER_OCCUPANCY, {"shelterId": shelters[0]})
        # then it is refused with LIMIT_EXCEEDED, the connection stays open
        refused = await ws.receive()
        assert refused["type"] == "error" and refused["id"] == "extra"
        assert refused["payload"][0]["extensions"]["code"] == "LIMIT_EXCEEDED"
        assert "messageJa" in refused["payload"][0]["extensions"]
        # and once one completes, another may start
        await ws.send({"type": "complete", "id": "0"})
        assert (await watch(ws, "again", shelters[0]))["id"] == shelters[0]


async def test_request_limits_apply_to_subscription_documents(server, shelters) -> None:  # type: ignore[no-untyped-def]
    aliases = " ".join(f"a{i}: id" for i in range(31))
    async with graphql_websocket(server) as ws:
        await ws.init()
        await ws.subscribe(
            "aliases",
            "subscription($s: ID!) { shelterOccupancyChanged(shelterId: $s) { " + aliases + " } }",
            {"s": shelters[0]},
        )
        refused = await ws.receive()
        assert refused["type"] == "error"
        assert refused["payload"][0]["extensions"]["code"] == "LIMIT_EXCEEDED"
        assert "aliases" in refused["payload"][0]["message"]
        # a document over the token limit does not even parse: the connection is closed
        tokens = " ".join(["id"] * 5_000)
        await ws.subscribe(
            "tokens", 'subscription { shelterOccupancyChanged(shelterId: "x") { ' + tokens + " } }"
        )
        code, reason = await ws.closed()
        assert code == 4400 and "token" in reason


async def test_a_message_over_the_size_limit_closes_the_connection(server) -> None:  # type: ignore[no-untyped-def]
    async with graphql_websocket(server) as ws:
        await ws.init()
        await ws.subscribe("big", "subscription { __typename }" + " " * 300_000)
        code, reason = await ws.closed()
    assert code == 1009 and "larger than" in reason


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ("not json", "not valid JSON"),
        ('["subscribe"]', "JSON object"),
        ({"type": 1}, "'type'"),
        ({"type": "subscribe", "id": ["1"], "payload": {"query": "{ x }"}}, "'id' must be"),
        ({"type": "subscribe", "id": "1", "payload": "query"}, "'payload' object"),
        ({"type": "subscribe", "id": "1", "payload": {"query": 1}}, "payload.query"),
        (
            {"type": "subscribe", "id": "1", "payload": {"query": "{ x }", "variables": []}},
            "payload.variables",
        ),
        ({"type": "complete", "id": {"a": 1}}, "'id' must be"),
        ({"type": "subscribe", "id": "1", "payload": {"query": "subscription {"}}, "Syntax Error"),
    ],
)
async def test_malformed_messages_close_the_connection_with_4400(  # type: ignore[no-untyped-def]
    server, message: Any, reason: str
) -> None:
    async with graphql_websocket(server) as ws:
        await ws.init()
        await ws.send(message)
        code, why = await ws.closed()
    assert code == 4400 and reason in why


@pytest.mark.parametrize(
    ("document", "variables", "expected"),
    [
        (SHELTER_OCCUPANCY, {"shelterId": "not-an-id"}, "NOT_FOUND"),
        # well-formed, but no such shelter
        (
            SHELTER_OCCUPANCY,
            {"shelterId": "U2hlbHRlcjowMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMA"},
            "NOT_FOUND",
        ),
        (SHELTER_OCCUPANCY, {}, None),  # a missing variable
        ("subscription { noSuchField }", {}, None),
        (NEAREST, {}, None),  # queries go over HTTP
    ],
)
async def test_a_refused_operation_is_a_typed_error_and_the_connection_stays(  # type: ignore[no-untyped-def]
    server, shelters, document: str, variables: dict[str, Any], expected: str | None
) -> None:
    async with graphql_websocket(server) as ws:
        await ws.init()
        await ws.subscribe("bad", document, variables)
        refused = await ws.receive()
        assert refused["type"] == "error" and refused["id"] == "bad", refused
        error = refused["payload"][0]
        assert error["message"] != "internal server error"
        check_answer(document, None, {"errors": refused["payload"]})
        if expected is not None:
            assert error["extensions"]["code"] == expected
            assert error["extensions"]["field"] == "shelterId"
        # and the connection goes on serving
        assert (await watch(ws, "good", shelters[0]))["id"] == shelters[0]
    await no_subscriptions_left()


async def test_a_binary_frame_closes_the_connection(server) -> None:  # type: ignore[no-untyped-def]
    async with graphql_websocket(server) as ws:
        await ws.init()
        await ws.connection.send(b'{"type": "ping"}')
        code, _ = await ws.closed()
    assert code == 4400


async def test_a_client_that_goes_away_leaves_no_subscriber_behind(server, shelters) -> None:  # type: ignore[no-untyped-def]
    await no_subscriptions_left()
    # given a client with three subscriptions
    async with graphql_websocket(server) as ws:
        await ws.init()
        for number in range(LIMIT):
            await watch(ws, str(number), shelters[number])
        assert broker_subscriptions() == LIMIT
        # and one it completes itself
        await ws.send({"type": "complete", "id": "0"})
        await asyncio.sleep(0.2)
        # when it disconnects
    # then the broker forgets every one of them
    await no_subscriptions_left()


async def test_subscriptions_over_http_are_refused(http) -> None:  # type: ignore[no-untyped-def]
    answer = await http.post(
        "/graphql", json={"query": SHELTER_OCCUPANCY, "variables": {"shelterId": "x"}}
    )
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
