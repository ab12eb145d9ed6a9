"""Two `kizuna serve` processes on one database and one Redis: a change made through one
reaches a viewer connected to the other (KIZUNA_TEST_REDIS_URL)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from backend.auth.tokens import TokenVerifier
from backend.config import Environment, Settings
from tests.conftest import token_maker
from tests.live.clients import graphql_websocket, server_process
from tests.live.conftest import prepared_database_url
from tests.live.test_subscriptions import NEAREST, set_occupancy, update_of, watch


@pytest.fixture(scope="module")
async def shared_database_url(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    return await prepared_database_url(
        database_url, "live_two", tmp_path_factory.mktemp("live-two")
    )


@pytest.fixture
def two_servers(
    redis_url: str, channel_prefix: str, shared_database_url: str, tmp_path: Path
) -> Iterator[tuple[str, str, str]]:
    """Two server processes; and a shelter manager's token both accept."""
    data_dir = tmp_path / "state"
    # The development key both processes check tokens with, made before they start.
    settings = Settings(environment=Environment.DEVELOPMENT, data_dir=data_dir)
    manager = token_maker(TokenVerifier(settings))(
        "two-manager", roles=[("shelter_manager", "07202")]
    )
    env = {
        "KIZUNA_ENVIRONMENT": "development",
        "KIZUNA_DATABASE_URL": shared_database_url,
        "KIZUNA_DATA_DIR": str(data_dir),
        "KIZUNA_REDIS_URL": redis_url,
        "KIZUNA_REDIS_CHANNEL_PREFIX": channel_prefix,
        "KIZUNA_PUSH_WORKER_IN_PROCESS": "false",
    }
    with server_process(env) as first, server_process(env) as second:
        yield first.url, second.url, manager


async def test_a_change_through_one_server_reaches_a_viewer_of_the_other(two_servers) -> None:  # type: ignore[no-untyped-def]
    first, second, manager = two_servers
    async with httpx.AsyncClient(base_url=second, timeout=30) as http:
        shelters = (await http.post("/graphql", json={"query": NEAREST})).json()["data"]["shelters"]
        shelter = shelters[0]["id"]
        # given a viewer of a shelter connected to the first server
        async with graphql_websocket(first) as ws:
            assert (await ws.init())["type"] == "connection_ack"
            await watch(ws, "1", shelter)
            # when its manager reports through the second server
            await set_occupancy(http, manager, shelter, 42)
            # then the viewer on the first server gets the new occupancy
            update = await update_of(ws, "1")
            assert update["occupancy"] == 42 and update["status"] == "OPEN"
            # and a viewer on the second server sees a change made through the first
            async with (
                httpx.AsyncClient(base_url=first, timeout=30) as other_http,
                graphql_websocket(second) as other_ws,
            ):
                await other_ws.init()
                await watch(other_ws, "1", shelter)
                await set_occupancy(other_http, manager, shelter, 43)
                assert (await update_of(other_ws, "1"))["occupancy"] == 43
                assert (await update_of(ws, "1"))["occupancy"] == 43
