"""Live views: the one shape of a subscription resolver.

A domain subscription decodes its arguments, then returns ``live_view(info, read, *topics)``:
``read()`` authorises and reads the view (through the context's database handle, loaders and
consent, like a query) and its result is sent at once; after every change of one of the
topics the view is read again and sent, at most once per
``subscription_min_interval_seconds`` however fast changes come, until the client goes away.
Each re-read runs on a renewed context (a fresh database handle, empty loaders, the caller's
roles loaded again), so a revoked consent or role takes effect on the next signal, and no
session or pooled connection is held while a viewer waits.

A failure of the first read (unknown id, not permitted) ends the subscription with an
``error`` message, as any request error would; a later one ends it with the error in a
final ``next`` message.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Generic, TypeVar

from .. import live
from ..errors import DomainError
from .context import Context, KInfo
from .errors import top_level_error

T = TypeVar("T")


async def live_view(info: KInfo, read: Callable[[], Awaitable[T]], *topics: str) -> LiveView[T]:
    """``read()`` now, then again on every change of ``topics`` (see the module docstring)."""
    # Subscribed before the first read: a change committed meanwhile signals a re-read.
    subscription = live.subscribe(*topics)
    try:
        first = await _read(info.context, read)
    except BaseException:
        subscription.close()
        raise
    return LiveView(info.context, read, subscription, first)


async def _read(context: Context, read: Callable[[], Awaitable[T]]) -> T:
    try:
        context.check_signed_in()
        return await read()
    except DomainError as exc:
        raise top_level_error(exc) from exc


class LiveView(Generic[T]):
    """The stream of one subscriber's view (an async iterator that graphql-core maps)."""

    def __init__(
        self,
        context: Context,
        read: Callable[[], Awaitable[T]],
        subscription: live.Subscription,
        first: T,
    ) -> None:
        self._context = context
        self._read = read
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
        subscription = self._subscription
        loop = asyncio.get_running_loop()
        await subscription.wait()
        # Coalesce a burst: whatever else changes before the next read is covered by it.
        delay = self._read_at + self._context.settings.subscription_min_interval_seconds
        if delay > loop.time():
            await asyncio.sleep(delay - loop.time())
        subscription.clear()
        await self._context.renew()
        value = await _read(self._context, self._read)
        self._read_at = loop.time()
        return value

    async def aclose(self) -> None:
        self._subscription.close()
        await self._context.db.close()
