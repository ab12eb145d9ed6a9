"""Live views: the one shape of a subscription resolver.

A domain subscription decodes its arguments, then returns ``live_view(info, read, *topics)``:
``read()`` authorises and reads the view (through the context's database handle, loaders and
consent, like a query) and its result is sent at once; after every change of one of the
topics the view is read again and sent, at most once per
``subscription_min_interval_seconds`` however fast changes come, until the client goes away.
Each re-read runs on a renewed context (a fresh database handle, empty loaders, the caller's
roles loaded again), so a revoked consent or role takes effect on the next signal, and no
session or pooled connection is held while a viewer waits.

A view that is the same for everyone allowed to see it (a shelter's occupancy, a community's
tally) may name itself with ``shared=``: viewers told of a change together then share one
read of it instead of a read each (1,000 viewers of a shelter cost one query per change,
not 1,000). Its value is handed to every viewer as it is: field resolvers must not change
it. What differs between viewers (may this one see it?) goes in ``authorize``, which runs
for each of them before every read, shared or not.

A failure of the first read (unknown id, not permitted) ends the subscription with an
``error`` message, as any request error would; a later one ends it with the error in a
final ``next`` message.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

from .. import live
from ..errors import DomainError
from .context import Context, KInfo
from .errors import top_level_error

T = TypeVar("T")
Read = Callable[[], Awaitable[T]]


async def live_view(
    info: KInfo,
    read: Read[T],
    *topics: str,
    shared: Hashable | None = None,
    authorize: Callable[[], Awaitable[None]] | None = None,
) -> LiveView[T]:
    """``read()`` now, then again on every change of ``topics`` (see the module docstring)."""
    # Subscribed before the first read: a change committed meanwhile signals a re-read.
    subscription = live.subscribe(*topics)
    reader: _Reader[T] = _Reader(info.context, read, shared, authorize)
    try:
        first = await reader.read(since=subscription.signalled_at)
    except BaseException:
        subscription.close()
        raise
    return LiveView(reader, subscription, first)


@dataclass(slots=True)
class _SharedRead:
    started: float  # time.monotonic() when it began: it sees every change signalled before
    result: asyncio.Future[Any]


# The latest shared read of each view in this process (by event loop), kept this long.
_reads: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[Hashable, _SharedRead]] = (
    weakref.WeakKeyDictionary()
)
SHARED_READ_KEPT_SECONDS = 5.0


class _ViewerLeft(Exception):
    """The viewer whose read others waited for went away before it finished."""


class _Reader(Generic[T]):
    """Reads one viewer's view: checks, then its own read or one shared with others."""

    def __init__(
        self,
        context: Context,
        read: Read[T],
        shared: Hashable | None,
        authorize: Callable[[], Awaitable[None]] | None,
    ) -> None:
        self.context = context
        self._read = read
        self._shared = shared
        self._authorize = authorize

    async def read(self, *, since: float) -> T:
        """The view as of a moment after ``since`` (a time.monotonic() value)."""
        try:
            self.context.check_signed_in()
            if self._authorize is not None:
                await self._authorize()
            if self._shared is None:
                return await self._read()
            return await self._read_shared(self._shared, since)
        except DomainError as exc:
            raise top_level_error(exc) from exc

    async def _read_shared(self, key: Hashable, since: float) -> T:
        loop = asyncio.get_running_loop()
        reads = _reads.setdefault(loop, {})
        latest = reads.get(key)
        # Only a read begun after this viewer's latest signal is sure to show that change;
        # it serves while in progress and for a moment after (viewers told together wake
        # one after the other).
        if latest is not None and latest.started >= since:
            try:
                return cast(T, await asyncio.shield(latest.result))
            except _ViewerLeft:
                pass  # read it here instead
        mine = reads[key] = _SharedRead(time.monotonic(), loop.create_future())
        loop.call_later(SHARED_READ_KEPT_SECONDS, _forget, reads, key, mine)
        try:
            value = await self._read()
        except BaseException as exc:
            # Viewers waiting for it read for themselves when this one left; a failure of
            # the view itself (it is gone) is theirs too.
            left = isinstance(exc, asyncio.CancelledError)
            mine.result.set_exception(_ViewerLeft() if left else exc)
            mine.result.exception()  # retrieved: nobody waiting is not a lost error
            if left:
                _forget(reads, key, mine)
            raise
        mine.result.set_result(value)
        return value


def _forget(reads: dict[Hashable, _SharedRead], key: Hashable, read: _SharedRead) -> None:
    if reads.get(key) is read:
        del reads[key]


class LiveView(Generic[T]):
    """The stream of one subscriber's view (an async iterator that graphql-core maps)."""

    def __init__(self, reader: _Reader[T], subscription: live.Subscription, first: T) -> None:
        self._reader = reader
        self._subscription = subscription
        self._first: tuple[T] | None = (first,)
        self._read_at = asyncio.get_running_loop().time()
        # graphql-core wraps this in an async generator that, if it is dropped before its
        # first step (the client left at once), never calls aclose(): the broker must not
        # keep the subscription then.
        weakref.finalize(self, subscription.close)

    def __aiter__(self) -> AsyncIterator[T]:
        return self

    async def __anext__(self) -> T:
        if self._first is not None:
            (value,), self._first = self._first, None
            return value
        subscription, context = self._subscription, self._reader.context
        loop = asyncio.get_running_loop()
        await subscription.wait()
        # Coalesce a burst: whatever else changes before the next read is covered by it.
        delay = self._read_at + context.settings.subscription_min_interval_seconds
        if delay > loop.time():
            await asyncio.sleep(delay - loop.time())
        since = subscription.signalled_at
        subscription.clear()
        await context.renew()
        value = await self._reader.read(since=since)
        self._read_at = loop.time()
        return value

    async def aclose(self) -> None:
        self._subscription.close()
        await self._reader.context.db.close()
