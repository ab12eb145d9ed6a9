"""The typed request context: principal, database handle and per-request loaders.

The context knows no domain: how a principal becomes a resident record, and which roles it
was granted, are passed in by the assembly (``backend/assembly.py``), so every domain and
auth's own resolvers can import this module.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.dataloader import DataLoader
from strawberry.fastapi import BaseContext
from strawberry.types import Info

from ..config import Settings
from ..db.session import RequestDatabase
from ..errors import DomainError
from ..principal import Principal, RequestMeta, ResidentRef, Viewer
from .errors import AuthenticationRequired, top_level_error

L = TypeVar("L", bound=DataLoader[Any, Any])

# (session, principal, create) -> the signed-in resident's record; with create=False None
# when they never signed in before, with create=True created on this first sign-in.
ResidentLoader = Callable[[AsyncSession, Principal, bool], Awaitable[ResidentRef | None]]
# (session, principal) -> the principal with the staff roles granted to it.
RoleLoader = Callable[[AsyncSession, Principal], Awaitable[Principal]]


class Context(BaseContext):
    """Everything a resolver may use; built once per request by the context getter."""

    def __init__(
        self,
        *,
        settings: Settings,
        principal: Principal,
        db: RequestDatabase,
        request_id: str,
        load_resident: ResidentLoader,
        load_roles: RoleLoader,
        new_db: Callable[[], RequestDatabase] | None = None,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.principal = principal
        self.db = db
        self.request_id = request_id
        self._load_resident_record = load_resident
        self._load_roles = load_roles
        self._new_db = new_db
        self._loaders: dict[str, DataLoader[Any, Any]] = {}
        self._resident: asyncio.Task[ResidentRef] | None = None
        self._staff: asyncio.Task[Principal] | None = None
        db.on_rollback(self._forget_cached_rows)

    def for_operation(self) -> Context:
        """A context of its own for one operation of a websocket: same caller and request,
        its own database handle and loaders (operations of one connection run side by side)."""
        if self._new_db is None:
            raise RuntimeError("this context cannot open database handles of its own")
        context = Context(
            settings=self.settings,
            principal=self.principal,
            db=self._new_db(),
            request_id=self.request_id,
            load_resident=self._load_resident_record,
            load_roles=self._load_roles,
            new_db=self._new_db,
        )
        context.request = self.request
        context.connection_params = self.connection_params
        return context

    async def renew(self) -> None:
        """Forget everything read so far (database handle, loaders, resident, roles) before a
        live view reads again: each re-read sees current rows, grants and consents."""
        if self._new_db is None:
            raise RuntimeError("this context cannot open database handles of its own")
        previous, self.db = self.db, self._new_db()
        self.db.on_rollback(self._forget_cached_rows)
        self._loaders.clear()
        self._resident = self._staff = None
        await previous.close()

    def check_signed_in(self) -> None:
        """Refuses a caller whose token has expired since the connection was opened."""
        expires = self.principal.claims.get("exp")
        leeway = self.settings.clock_skew_seconds
        if isinstance(expires, int | float) and expires + leeway < time.time():
            raise AuthenticationRequired("the sign-in has expired: connect again with a new token")

    def loader(self, name: str, factory: Callable[[Context], L]) -> L:
        """The request's loader called ``name`` (created on first use, never shared)."""
        loader = self._loaders.get(name)
        if loader is None:
            loader = self._loaders[name] = factory(self)
        return loader  # type: ignore[return-value]

    def _forget_cached_rows(self) -> None:
        # A rollback expires loaded rows; load them again instead of touching expired ones.
        self._resident = None
        self._loaders.clear()

    async def resident(self) -> ResidentRef:
        """The signed-in resident (created on first sign-in); top-level error otherwise."""
        if not self.principal.is_resident:
            raise AuthenticationRequired("a resident sign-in is required")
        if self._resident is None:
            self._resident = asyncio.ensure_future(self._load_resident())
        return await asyncio.shield(self._resident)

    async def _load_resident(self) -> ResidentRef:
        try:
            # Read first: only a first sign-in writes (on SQLite a write takes the lock).
            async with self.db.session() as session:
                found = await self._load_resident_record(session, self.principal, False)
            if found is not None:
                return found
            async with self.db.transaction() as session:
                created = await self._load_resident_record(session, self.principal, True)
            assert created is not None
            return created
        except DomainError as exc:
            raise top_level_error(exc) from exc

    def request_meta(self) -> RequestMeta:
        """Client, IP and user agent of this request, for append-only consent records."""
        request = self.request
        client = request.client if request is not None else None
        return RequestMeta(
            via_client=self.principal.client_id or self.principal.claims.get("azp"),
            ip_address=client.host if client else None,
            user_agent=request.headers.get("user-agent") if request is not None else None,
            request_id=self.request_id or None,
        )

    async def viewer(self) -> Viewer:
        """The reader of personal data: principal with its roles, and resident id if any."""
        principal = await self.staff_principal()
        resident = await self.resident() if principal.is_resident else None
        return Viewer(principal=principal, resident_id=resident.id if resident else None)

    async def staff_principal(self) -> Principal:
        """The principal with its database role grants (loaded once per request)."""
        if self._staff is None:
            self._staff = asyncio.ensure_future(self._load_staff())
        return await asyncio.shield(self._staff)

    async def _load_staff(self) -> Principal:
        async with self.db.session() as session:
            return await self._load_roles(session, self.principal)


KInfo = Info[Context, None]
