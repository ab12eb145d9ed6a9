"""Live updates: "this view changed" signals, sent after the change is committed.

A service that changes what a live view shows calls ``changed(session, topic)``; the topics
are announced once the session's transaction commits (never for a rollback), to every
subscriber in this process and, when ``KIZUNA_REDIS_URL`` is set, in every other process
through Redis pub/sub. A signal carries only its topic: no personal data leaves the
database, and each subscriber re-reads its view through consent when told.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

log = logging.getLogger("kizuna.live")
_PENDING = "kizuna.live.pending"


def community_topic(community_id: object, event_id: object) -> str:
    """The tally of one community in one disaster event."""
    return f"safety:{event_id}:community:{community_id}"


def family_topic(group_id: object, event_id: object) -> str:
    """The safety view of one family group in one disaster event."""
    return f"safety:{event_id}:family:{group_id}"


def shelter_topic(shelter_id: object) -> str:
    """Occupancy (and status) of one shelter."""
    return f"shelter:{shelter_id}"


def changed(session: AsyncSession, *topics: str) -> None:
    """Announce ``topics`` once this session's transaction commits."""
    session.sync_session.info.setdefault(_PENDING, set()).update(topics)


class InProcessBroker:
    """Fan-out to the subscribers of this process (the embedded default)."""

    def __init__(self) -> None:
        self._queues: dict[str, set[asyncio.Queue[str]]] = defaultdict(set)

    async def publish(self, topics: set[str]) -> None:
        """Wake every local subscriber of each topic."""
        self.deliver(topics)

    def deliver(self, topics: set[str]) -> None:
        for topic in topics:
            for queue in list(self._queues.get(topic, ())):
                if queue.empty():  # one pending signal is enough: the view is re-read
                    queue.put_nowait(topic)

    @asynccontextmanager
    async def subscription(self, topic: str) -> AsyncIterator[asyncio.Queue[str]]:
        """A queue that receives ``topic`` each time it changes, while the block runs."""
        queue: asyncio.Queue[str] = asyncio.Queue(maxsize=1)
        self._queues[topic].add(queue)
        try:
            yield queue
        finally:
            self._queues[topic].discard(queue)
            if not self._queues[topic]:
                del self._queues[topic]

    async def close(self) -> None:
        return None


broker: InProcessBroker = InProcessBroker()


def _announce(topics: set[str]) -> None:
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:  # committed outside an event loop: nobody here can be listening
        return
    task = loop.create_task(broker.publish(topics))
    task.add_done_callback(_report)


def _report(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.warning("live update not published", exc_info=task.exception())


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    topics = session.info.pop(_PENDING, None)
    if topics:
        _announce(topics)


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session: Session, _previous: object) -> None:
    # A savepoint rolled back inside a transaction that may still commit keeps the topics.
    if not session.in_transaction():
        session.info.pop(_PENDING, None)
