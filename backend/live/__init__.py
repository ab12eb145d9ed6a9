"""Live updates: "this view changed" signals, sent after the change is committed.

A service that changes what a live view shows calls ``changed(session, topic)``; the topics
are announced once the session's transaction commits (never for a rollback), to every
subscriber in this process and, when ``KIZUNA_REDIS_URL`` is set, in every other process
through Redis pub/sub. A signal carries only its topic: no personal data leaves the
database, and each subscriber re-reads its view through consent when told.

Subscribers take ``subscribe(*topics)``; the process's broker is chosen by ``broadcasting``
(the app's lifespan, and CLI commands that change data).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from .brokers import InProcessBroker, RedisBroker, Subscription

__all__ = [
    "InProcessBroker",
    "RedisBroker",
    "Subscription",
    "broadcasting",
    "changed",
    "community_topic",
    "consent_topic",
    "current_broker",
    "family_topic",
    "shelter_topic",
    "subscribe",
]

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


def consent_topic(resident_id: object) -> str:
    """What one resident's consents let others see (a grant was given, revoked or ended)."""
    return f"consent:{resident_id}"


def changed(session: AsyncSession, *topics: str) -> None:
    """Announce ``topics`` once this session's transaction commits."""
    session.sync_session.info.setdefault(_PENDING, set()).update(topics)


_broker: InProcessBroker = InProcessBroker()


def current_broker() -> InProcessBroker:
    """The broker of this process (in-process unless ``broadcasting`` set up Redis)."""
    return _broker


def subscribe(*topics: str) -> Subscription:
    """A subscription to ``topics`` on this process's broker; close it when done."""
    return _broker.subscribe(topics)


@asynccontextmanager
async def broadcasting(
    redis_url: str | None, *, channel_prefix: str, listen: bool = True
) -> AsyncIterator[InProcessBroker]:
    """Announce through Redis (when ``redis_url`` is set) while the block runs.

    ``listen``: receive other processes' signals too (a server); a command that only
    changes data (`kizuna worker`, an import) publishes. At the end, signals still on
    their way to Redis are sent before the connection closes.
    """
    global _broker
    if redis_url is None:
        yield _broker
        return
    previous = _broker
    broker = RedisBroker(redis_url, prefix=channel_prefix, listen=listen)
    await broker.start()
    _broker = broker
    try:
        yield broker
    finally:
        _broker = previous
        await broker.close()


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    topics = session.info.pop(_PENDING, None)
    if topics:
        try:
            _broker.announce(topics)
        except Exception:  # the change is committed: a lost signal must not fail it
            log.warning("live update not announced", exc_info=True)


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session: Session, _previous: object) -> None:
    # A savepoint rolled back inside a transaction that may still commit keeps the topics.
    if not session.in_transaction():
        session.info.pop(_PENDING, None)
