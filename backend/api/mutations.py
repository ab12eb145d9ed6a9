"""The one shape of a mutation resolver: who is calling, one transaction, a typed payload.

Every mutation reads its caller (a signed-in resident or any principal with its roles), runs
its work in one transaction of the request's session, and returns its payload; an expected
failure (a DomainError, including a unique violation turned into CONFLICT by the database
handle) rolls the transaction back and becomes the payload's ``errors``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from ..errors import DomainError
from ..principal import Principal, ResidentRef, Viewer
from .context import KInfo
from .errors import AuthenticationRequired, user_errors

P = TypeVar("P")


async def in_transaction(
    info: KInfo, payload: Callable[..., P], work: Callable[[AsyncSession], Awaitable[P]]
) -> P:
    """Run ``work`` in one transaction; expected failures become ``payload(errors=...)``."""
    try:
        async with info.context.db.transaction() as session:
            return await work(session)
    except DomainError as exc:
        return payload(errors=user_errors(exc))


async def as_resident(
    info: KInfo,
    payload: Callable[..., P],
    work: Callable[[AsyncSession, ResidentRef], Awaitable[P]],
) -> P:
    """A mutation of the signed-in resident (created on first sign-in)."""
    resident = await info.context.resident()
    return await in_transaction(info, payload, lambda session: work(session, resident))


async def as_principal(
    info: KInfo,
    payload: Callable[..., P],
    work: Callable[[AsyncSession, Principal], Awaitable[P]],
) -> P:
    """A mutation of any caller, with the staff roles granted to it (services check them)."""
    principal = await info.context.staff_principal()
    return await in_transaction(info, payload, lambda session: work(session, principal))


async def as_viewer(
    info: KInfo,
    payload: Callable[..., P],
    work: Callable[[AsyncSession, Viewer], Awaitable[P]],
) -> P:
    """A mutation acting on personal data: a signed-in resident or staff member, with roles."""
    if not info.context.principal.is_resident:
        raise AuthenticationRequired("a resident sign-in is required")
    viewer = await info.context.viewer()
    return await in_transaction(info, payload, lambda session: work(session, viewer))


def sent(value: Any, unset: Any) -> Any:
    """An input field's value, with strawberry's UNSET (not sent) replaced by ``unset``."""
    return unset if value is strawberry.UNSET else value
