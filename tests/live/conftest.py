"""Fixtures of the live-update tests: Redis (KIZUNA_TEST_REDIS_URL) and a prepared database."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from redis.asyncio import Redis
from redis.exceptions import RedisError

from backend.bootstrap import sync_reference_data
from backend.db.migrate import upgrade
from backend.db.session import Database
from backend.shelters import service as shelters_service
from tests.conftest import fresh_database_url


@pytest.fixture(scope="session")
async def redis_url() -> str:
    """Redis for the tests that need one: skipped without KIZUNA_TEST_REDIS_URL, failed when
    it is set but unreachable (CI sets it: a Redis that is down must not pass as a skip)."""
    url = os.environ.get("KIZUNA_TEST_REDIS_URL")
    if not url:
        pytest.skip("KIZUNA_TEST_REDIS_URL is not set (e.g. redis://127.0.0.1:6379/15)")
    client = Redis.from_url(url, socket_connect_timeout=5)
    try:
        await client.ping()
    except (RedisError, OSError) as exc:
        pytest.fail(f"KIZUNA_TEST_REDIS_URL={url} is set but unreachable: {exc}")
    finally:
        await client.aclose()
    return url


@pytest.fixture
def channel_prefix() -> str:
    """Channels of one test only: pub/sub is shared by every client of the Redis server."""
    return f"kizuna-test:{uuid.uuid4().hex[:12]}:"


async def prepared_database_url(base_url: str, suffix: str, folder: Path) -> str:
    """A migrated database of the suite's kind with reference data and the demo shelters."""
    url = await fresh_database_url(base_url, suffix, folder)
    database = Database.from_url(url)
    try:
        await upgrade(database.engine)
        async with database.session() as session:
            await sync_reference_data(session)
            await shelters_service.load_demo_shelters(session)
    finally:
        await database.dispose()
    return url


@pytest.fixture(scope="module")
async def live_database_url(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    yield await prepared_database_url(database_url, "live", tmp_path_factory.mktemp("live"))
