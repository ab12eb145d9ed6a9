"""The subscription helper (backend/api/live.py): read now, read again when told, share reads
of a view that is the same for everyone, and let go of the broker when the viewer leaves."""

from __future__ import annotations

import asyncio
import gc
from dataclasses import dataclass
from typing import Any

import pytest

from backend import live
from backend.api.context import Context
from backend.api.live import live_view
from backend.assembly import load_resident, load_roles
from backend.config import Settings
from backend.db.session import RequestDatabase
from backend.errors import NotPermitted
from backend.principal import Principal

TOPIC = "test:view"


@dataclass
class Info:
    context: Context


@pytest.fixture(autouse=True)
def broker(monkeypatch: pytest.MonkeyPatch) -> live.InProcessBroker:
    """A broker of the test's own: what a failed test leaves subscribed stays there."""
    broker = live.InProcessBroker()
    monkeypatch.setattr(live, "_broker", broker)
    return broker


@pytest.fixture
def info(db, settings: Settings) -> Info:  # type: ignore[no-untyped-def]
    fast = settings.model_copy(update={"subscription_min_interval_seconds": 0.0})

    def new_db() -> RequestDatabase:
        return RequestDatabase(db.new_session())

    return Info(
        Context(
            settings=fast,
            principal=Principal.anonymous(),
            db=new_db(),
            request_id="test",
            load_resident=load_resident,
            load_roles=load_roles,
            new_db=new_db,
        )
    )


class Counter:
    """A view whose value is how often it was read; ``gate`` holds reads while it is clear."""

    def __init__(self) -> None:
        self.reads = 0
        self.gate = asyncio.Event()
        self.gate.set()

    async def read(self) -> int:
        self.reads += 1
        number = self.reads
        await asyncio.sleep(0)  # as a query would, it lets others run meanwhile
        await self.gate.wait()
        return number


def operation(info: Info) -> Info:
    """Each subscription runs with a context of its own (as the websocket gives it)."""
    return Info(info.context.for_operation())


async def test_the_view_is_read_now_and_again_when_told(info: Info) -> None:
    counter = Counter()
    view = await live_view(operation(info), counter.read, TOPIC)  # type: ignore[arg-type]
    assert await anext(view) == 1
    live.current_broker().deliver({TOPIC})
    assert await asyncio.wait_for(anext(view), 5) == 2
    await view.aclose()
    assert live.current_broker().subscription_count == 0


async def test_each_re_read_runs_on_a_fresh_database_handle(info: Info) -> None:
    operation_info = operation(info)
    handles = []

    async def read() -> int:
        handles.append(operation_info.context.db)
        return len(handles)

    view = await live_view(operation_info, read, TOPIC)  # type: ignore[arg-type]
    await anext(view)
    live.current_broker().deliver({TOPIC})
    await asyncio.wait_for(anext(view), 5)
    assert handles[0] is not handles[1]
    await view.aclose()


async def test_viewers_told_together_share_one_read_of_a_shared_view(info: Info) -> None:
    counter = Counter()
    views = [
        await live_view(operation(info), counter.read, TOPIC, shared=TOPIC)  # type: ignore[arg-type]
        for _ in range(5)
    ]
    for view in views:
        await anext(view)
    before = counter.reads
    # when all five are told of one change
    live.current_broker().deliver({TOPIC})
    values = await asyncio.wait_for(asyncio.gather(*(anext(v) for v in views)), 5)
    # then one read served them all
    assert counter.reads == before + 1
    assert len(set(values)) == 1
    for view in views:
        await view.aclose()


async def test_a_read_begun_before_a_viewers_signal_is_not_shared_with_it(info: Info) -> None:
    counter = Counter()
    early = await live_view(operation(info), counter.read, TOPIC, shared=TOPIC)  # type: ignore[arg-type]
    late = await live_view(operation(info), counter.read, "test:other", shared=TOPIC)  # type: ignore[arg-type]
    await anext(early), await anext(late)
    # given a shared read in progress (held at the gate)
    counter.gate.clear()
    live.current_broker().deliver({TOPIC})
    early_next = asyncio.ensure_future(anext(early))
    await asyncio.sleep(0.05)
    # when another viewer is told of a change made after that read began
    live.current_broker().deliver({"test:other"})
    late_next = asyncio.ensure_future(anext(late))
    await asyncio.sleep(0.05)
    counter.gate.set()
    # then it reads for itself, and sees the later state
    first, second = await asyncio.wait_for(asyncio.gather(early_next, late_next), 5)
    assert second > first
    for view in (early, late):
        await view.aclose()


async def test_when_the_reading_viewer_leaves_the_others_read_for_themselves(info: Info) -> None:
    counter = Counter()
    first = await live_view(operation(info), counter.read, TOPIC, shared=TOPIC)  # type: ignore[arg-type]
    second = await live_view(operation(info), counter.read, TOPIC, shared=TOPIC)  # type: ignore[arg-type]
    await anext(first), await anext(second)
    counter.gate.clear()
    live.current_broker().deliver({TOPIC})
    reading = asyncio.ensure_future(anext(first))
    await asyncio.sleep(0.05)
    waiting = asyncio.ensure_future(anext(second))
    await asyncio.sleep(0.05)
    # when the viewer whose read the other waits for goes away
    reading.cancel()
    counter.gate.set()
    # then the other still gets its view
    assert await asyncio.wait_for(waiting, 5) > 0
    await first.aclose(), await second.aclose()


async def test_a_burst_of_signals_is_one_re_read(info: Info) -> None:
    counter = Counter()
    view = await live_view(operation(info), counter.read, TOPIC)  # type: ignore[arg-type]
    await anext(view)
    for _ in range(10):
        live.current_broker().deliver({TOPIC})
    await asyncio.wait_for(anext(view), 5)
    assert counter.reads == 2
    await view.aclose()


async def test_a_refused_viewer_gets_a_typed_error_and_holds_no_subscription(info: Info) -> None:
    async def refuse() -> None:
        raise NotPermitted("not yours", "閲覧できません")

    with pytest.raises(Exception) as raised:
        await live_view(operation(info), Counter().read, TOPIC, authorize=refuse)  # type: ignore[arg-type]
    error: Any = raised.value
    assert error.extensions["code"] == "NOT_PERMITTED"
    assert live.current_broker().subscription_count == 0


async def test_a_view_dropped_before_its_first_step_holds_no_subscription(info: Info) -> None:
    view = await live_view(operation(info), Counter().read, TOPIC)  # type: ignore[arg-type]
    assert live.current_broker().subscription_count == 1
    del view
    gc.collect()
    assert live.current_broker().subscription_count == 0
