"""Brokers: who hears a topic's signal. In-process fan-out, and Redis pub/sub across processes."""

from __future__ import annotations

import asyncio
import logging
import random
import time
import uuid
from collections.abc import Iterable
from contextlib import suppress

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.client import PubSub
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

log = logging.getLogger("kizuna.live")


class Subscription:
    """One subscriber's interest in some topics: ``wait()`` returns once any of them changed.

    Signals coalesce: however many arrive before the subscriber looks, it sees one, and
    re-reads its view once. ``close()`` (idempotent) takes it off the broker.
    """

    def __init__(self, broker: InProcessBroker, topics: frozenset[str]) -> None:
        self.topics = topics
        self._broker: InProcessBroker | None = broker
        self._changed = asyncio.Event()
        # time.monotonic() of the latest signal: a read started after it sees that change.
        self.signalled_at = time.monotonic()

    def signal(self) -> None:
        self.signalled_at = time.monotonic()
        self._changed.set()

    @property
    def pending(self) -> bool:
        """Whether a signal arrived that ``clear()`` has not taken yet."""
        return self._changed.is_set()

    async def wait(self) -> None:
        """Until a signal is pending (at once if one is)."""
        await self._changed.wait()

    def clear(self) -> None:
        """Take the pending signal: the view is about to be read."""
        self._changed.clear()

    def close(self) -> None:
        if self._broker is not None:
            self._broker.remove(self)
            self._broker = None

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


class InProcessBroker:
    """Fan-out to the subscribers of this process (the embedded default)."""

    def __init__(self) -> None:
        self._subscribers: dict[str, set[Subscription]] = {}

    def subscribe(self, topics: Iterable[str]) -> Subscription:
        """A subscription to ``topics``, signalled from now on until it is closed."""
        subscription = Subscription(self, frozenset(topics))
        for topic in subscription.topics:
            self._subscribers.setdefault(topic, set()).add(subscription)
        return subscription

    def remove(self, subscription: Subscription) -> None:
        for topic in subscription.topics:
            subscribers = self._subscribers.get(topic)
            if subscribers is not None:
                subscribers.discard(subscription)
                if not subscribers:
                    del self._subscribers[topic]

    def deliver(self, topics: Iterable[str]) -> None:
        """Signal every subscriber of this process to any of ``topics``."""
        for topic in topics:
            for subscription in self._subscribers.get(topic, ()):
                subscription.signal()

    def announce(self, topics: set[str]) -> None:
        """Topics that changed in a transaction just committed by this process."""
        self.deliver(topics)

    @property
    def topics(self) -> set[str]:
        """The topics someone in this process listens to."""
        return set(self._subscribers)

    @property
    def subscription_count(self) -> int:
        return len({s for subscribers in self._subscribers.values() for s in subscribers})

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None


# A quiet Redis connection is pinged this often; one that has not answered for the same time
# again is taken for dead (a half-open TCP connection would otherwise hang reads forever).
PING_SECONDS = 10.0
RECONNECT_MIN_SECONDS = 0.2
RECONNECT_MAX_SECONDS = 10.0
# Connections to Redis per process: the pub/sub reader and the publisher need one each;
# the pool is blocking, so a burst waits for a connection instead of opening thousands.
POOL_SIZE = 4
# At shutdown, signals not yet published get this long to reach Redis.
FLUSH_SECONDS = 5.0


class RedisBroker(InProcessBroker):
    """Signals go to every process through Redis pub/sub, one channel per topic.

    Each process holds one pattern subscription (``<prefix>*``), made when it starts and
    again whenever it reconnects, instead of subscribing each topic as its viewers come and
    go: no SUBSCRIBE has to reach Redis before a new viewer's first read, so no change can
    fall between the two, and thousands of viewers connecting at once send Redis nothing.
    The price is that every process receives every signal: a topic name and a sender id,
    dropped by a dict look-up when nobody here watches it. Should that cost show in a
    prefecture-wide surge, per-topic SUBSCRIBE is the next step; publishers would not change.

    A process delivers its own signals to its own subscribers at once (Redis or not) and
    ignores their echo. When Redis is unreachable, requests go on: a failed publish is
    logged (once per outage) and the reader reconnects with backoff; on reconnecting, every
    local subscriber re-reads once, since signals sent meanwhile are lost.
    """

    def __init__(self, url: str, *, prefix: str, listen: bool = True) -> None:
        super().__init__()
        self.prefix = prefix
        self.listen = listen
        self.sender = uuid.uuid4().hex.encode()
        pool = BlockingConnectionPool.from_url(
            url,
            max_connections=POOL_SIZE,
            timeout=5,
            socket_connect_timeout=2,
            socket_timeout=5,
            socket_keepalive=True,
            # Names this process's connections in Redis's CLIENT LIST.
            client_name=f"kizuna-live-{self.sender.decode()}",
            # No retries inside redis-py: a failure surfaces here, where the reader
            # reconnects with its own backoff and knows to have subscribers re-read.
            retry=Retry(NoBackoff(), 0),
        )
        self._redis = Redis.from_pool(pool)
        self._outgoing: set[str] = set()
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._tasks: list[asyncio.Task[None]] = []
        self._publish_failing = False
        self.connected = asyncio.Event()  # set while the pattern subscription is live

    async def start(self) -> None:
        self._tasks.append(asyncio.create_task(self._publisher(), name="live-publisher"))
        if self.listen:
            self._tasks.append(asyncio.create_task(self._reader(), name="live-reader"))

    def announce(self, topics: set[str]) -> None:
        self.deliver(topics)
        # One publisher task sends whatever gathered since its last round trip as one
        # pipeline: a burst of commits costs a few round trips, not a task each.
        self._outgoing.update(topics)
        self._idle.clear()
        self._wake.set()

    async def _publisher(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            topics, self._outgoing = self._outgoing, set()
            if topics:
                await self._publish(topics)
            if not self._outgoing:
                self._idle.set()

    async def _publish(self, topics: set[str]) -> None:
        try:
            async with self._redis.pipeline(transaction=False) as pipeline:
                for topic in topics:
                    pipeline.publish(self.prefix + topic, self.sender)
                await pipeline.execute()
        except (RedisError, OSError) as exc:
            if not self._publish_failing:
                self._publish_failing = True
                log.warning(
                    "live updates: cannot publish to Redis; viewers on other processes miss "
                    "changes until it is back",
                    extra={"error": str(exc)},
                )
            return
        if self._publish_failing:
            self._publish_failing = False
            log.info("live updates: publishing to Redis again")

    async def _reader(self) -> None:
        delay = RECONNECT_MIN_SECONDS
        lost = False
        while True:
            pubsub = self._redis.pubsub()
            try:
                await pubsub.psubscribe(self.prefix + "*")
                await self._read(pubsub, reconnected=lost)
            except (RedisError, OSError) as exc:
                if not lost:
                    log.warning(
                        "live updates: lost Redis; viewers here hear only this process's "
                        "changes until it is back",
                        extra={"error": str(exc)},
                    )
                lost = True
                if self.connected.is_set():
                    delay = RECONNECT_MIN_SECONDS
                self.connected.clear()
            finally:
                with suppress(Exception):
                    await pubsub.aclose()
            await asyncio.sleep(delay * random.uniform(0.5, 1.0))
            delay = min(delay * 2, RECONNECT_MAX_SECONDS)

    async def _read(self, pubsub: PubSub, *, reconnected: bool) -> None:
        loop = asyncio.get_running_loop()
        heard = pinged = loop.time()
        skip = len(self.prefix)
        while True:
            message = await pubsub.get_message(timeout=1.0)
            now = loop.time()
            if message is not None:
                heard = now
                kind = message["type"]
                if kind == "pmessage" and message["data"] != self.sender:
                    self.deliver((message["channel"][skip:].decode(),))
                elif kind == "psubscribe":
                    if reconnected:
                        log.info("live updates: Redis is back; every local view re-reads")
                        self.deliver(self.topics)
                    self.connected.set()
            if now - pinged >= PING_SECONDS:
                await pubsub.ping(b"kizuna")
                pinged = now
            elif now - heard >= 2 * PING_SECONDS:
                raise ConnectionError("Redis did not answer a ping")

    async def close(self) -> None:
        """Send what is still to be published (for at most FLUSH_SECONDS), then stop."""
        with suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), FLUSH_SECONDS)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with suppress(asyncio.CancelledError):
                await task
        await self._redis.aclose()
