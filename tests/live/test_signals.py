"""Live-update signals: announced once the change commits, to this process's subscribers."""

from __future__ import annotations

import pytest

from backend import live
from backend.api.ids import decode_id
from tests.consent.world import REVOKE, grant


async def test_topics_are_announced_when_the_transaction_commits(db) -> None:  # type: ignore[no-untyped-def]
    # given a subscriber of one topic, and one of another
    with live.subscribe("test:a") as watching, live.subscribe("test:b") as elsewhere:
        # when a transaction marks the topic changed
        async with db.session() as session:
            live.changed(session, "test:a")
            # then nothing is announced before the commit
            assert not watching.pending
        # and the subscriber is signalled after it, the other one not
        assert watching.pending
        assert not elsewhere.pending


async def test_nothing_is_announced_for_a_rollback(db) -> None:  # type: ignore[no-untyped-def]
    with live.subscribe("test:rolled-back") as watching:
        with pytest.raises(RuntimeError):
            async with db.session() as session:
                live.changed(session, "test:rolled-back")
                raise RuntimeError("the change fails")
        assert not watching.pending
        # and a later transaction on the same database starts with no topic left over
        async with db.session():
            pass
        assert not watching.pending


async def test_a_rolled_back_savepoint_keeps_the_topics_of_the_transaction(db) -> None:  # type: ignore[no-untyped-def]
    with live.subscribe("test:outer") as watching:
        async with db.session() as session:
            live.changed(session, "test:outer")
            savepoint = await session.begin_nested()
            await savepoint.rollback()
        assert watching.pending


async def test_signals_coalesce_and_closing_unsubscribes() -> None:
    broker = live.InProcessBroker()
    subscription = broker.subscribe(["test:x", "test:y"])
    broker.deliver({"test:x"})
    broker.deliver({"test:y", "test:z"})
    await subscription.wait()  # at once: a signal is pending
    subscription.clear()
    assert not subscription.pending
    subscription.close()
    subscription.close()  # idempotent
    broker.deliver({"test:x"})
    assert not subscription.pending
    assert broker.topics == set() and broker.subscription_count == 0


async def test_granting_and_revoking_consent_announce_the_residents_topic(gql, token) -> None:  # type: ignore[no-untyped-def]
    # given Hanako, signed in
    hanako = token("live-hanako", name="花子")
    me = await gql("{ me { id } }", token=hanako)
    topic = live.consent_topic(decode_id("Resident", me["data"]["me"]["id"]))
    with live.subscribe(topic) as watching:
        # when she shares her name with her family
        consents = await grant(
            gql, hanako, "family_safety", {"kind": "ROLE", "role": "family"}, ["name"]
        )
        # then views showing her are told to read again
        assert watching.pending
        watching.clear()
        # and again when she revokes it
        await gql(REVOKE, {"id": consents[0]["id"]}, token=hanako)
        assert watching.pending
