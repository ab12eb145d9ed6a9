"""The Redis broker: signals between processes, and what happens when Redis goes away.

Two brokers in one test stand for two processes (each has its own sender id and its own
pub/sub connection); they need a real Redis (KIZUNA_TEST_REDIS_URL).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from backend import cli, live
from backend.config import get_settings
from backend.live import RedisBroker, Subscription
from tests.cli import fresh_cli_env


async def signalled(subscription: Subscription, within: float = 10.0) -> bool:
    try:
        await asyncio.wait_for(subscription.wait(), within)
    except TimeoutError:
        return False
    return True


async def started(broker: RedisBroker) -> RedisBroker:
    await broker.start()
    await asyncio.wait_for(broker.connected.wait(), 10)
    return broker


@pytest.fixture
async def two_brokers(redis_url: str, channel_prefix: str) -> AsyncIterator[list[RedisBroker]]:
    brokers = [
        await started(RedisBroker(redis_url, prefix=channel_prefix)),
        await started(RedisBroker(redis_url, prefix=channel_prefix)),
    ]
    yield brokers
    for broker in brokers:
        await broker.close()


async def test_a_signal_reaches_the_subscribers_of_another_process(two_brokers) -> None:  # type: ignore[no-untyped-def]
    here, there = two_brokers
    # given a subscriber on each side, and one to another topic over there
    mine, theirs = here.subscribe(["shelter:1"]), there.subscribe(["shelter:1"])
    other = there.subscribe(["shelter:2"])
    # when this process announces the topic
    here.announce({"shelter:1"})
    # then its own subscriber is signalled at once, the other process's through Redis
    assert mine.pending
    assert await signalled(theirs)
    # and the subscriber of another topic is not
    await asyncio.sleep(0.2)
    assert not other.pending


async def test_a_process_ignores_the_echo_of_its_own_signals(two_brokers) -> None:  # type: ignore[no-untyped-def]
    here, there = two_brokers
    mine, theirs = here.subscribe(["t"]), there.subscribe(["t"])
    here.announce({"t"})
    assert await signalled(theirs)
    mine.clear()
    # the echo came back to this process too by now (Redis delivers in order): still quiet
    there.announce({"t-sync"})
    await asyncio.sleep(0.3)
    assert not mine.pending


async def test_without_redis_requests_go_on_and_local_viewers_still_hear(channel_prefix) -> None:  # type: ignore[no-untyped-def]
    # given a broker whose Redis is not there (nothing listens on port 1)
    broker = RedisBroker("redis://127.0.0.1:1/0", prefix=channel_prefix)
    await broker.start()
    watching = broker.subscribe(["shelter:9"])
    # when a change is announced, then it does not raise and the local subscriber hears it
    broker.announce({"shelter:9"})
    assert watching.pending
    # and closing does not hang on the signal it could not send
    started_at = time.monotonic()
    await broker.close()
    assert time.monotonic() - started_at < 10


async def test_after_losing_redis_every_local_view_reads_again(  # type: ignore[no-untyped-def]
    two_brokers, redis_url: str
) -> None:
    here, there = two_brokers
    watching = here.subscribe(["family:1"])
    # when Redis drops this process's pub/sub connection (signals sent meanwhile are lost)
    admin = Redis.from_url(redis_url)
    try:
        name = f"kizuna-live-{here.sender.decode()}"
        clients = await admin.client_list()
        ids = [c["id"] for c in clients if c.get("name") == name and int(c.get("psub", 0))]
        assert ids, "the broker's pub/sub connection is not in CLIENT LIST"
        for client_id in ids:
            await admin.client_kill_filter(_id=client_id)
    finally:
        await admin.aclose()
    # then it reconnects and tells its subscribers to read again
    assert await signalled(watching, within=30)
    watching.clear()
    # and the other process's signals reach it again
    await asyncio.wait_for(here.connected.wait(), 30)
    there.announce({"family:1"})
    assert await signalled(watching)


async def test_a_command_publishes_what_it_committed_before_it_exits(  # type: ignore[no-untyped-def]
    two_brokers, redis_url: str, channel_prefix: str, db
) -> None:
    server = two_brokers[0]
    watching = server.subscribe(["shelter:cli"])
    # when a command (publishing only) commits a change and closes at once
    async with (
        live.broadcasting(redis_url, channel_prefix=channel_prefix, listen=False),
        db.session() as session,
    ):
        live.changed(session, "shelter:cli")
    # then the server's subscriber hears of it
    assert await signalled(watching)


async def test_what_a_cli_command_commits_reaches_the_servers(  # type: ignore[no-untyped-def]
    two_brokers, redis_url, channel_prefix, database_url, tmp_path, monkeypatch
) -> None:
    server = two_brokers[0]
    watching = server.subscribe(["shelter:from-cli"])
    env = await fresh_cli_env(database_url, "live_cli", tmp_path)
    env |= {"KIZUNA_REDIS_URL": redis_url, "KIZUNA_REDIS_CHANNEL_PREFIX": channel_prefix}
    for name, value in env.items():
        monkeypatch.setenv(name, value)

    async def change(session) -> None:  # type: ignore[no-untyped-def]
        live.changed(session, "shelter:from-cli")

    # when a command's transaction (as `kizuna import shelters` runs one) marks a topic
    get_settings.cache_clear()
    try:
        await asyncio.to_thread(cli._run_in_session, change)
    finally:
        get_settings.cache_clear()
    # then a server's viewer of it is told
    assert await signalled(watching)
