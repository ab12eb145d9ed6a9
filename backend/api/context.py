"""The typed request context: principal, database handle and per-request loaders."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

from strawberry.dataloader import DataLoader
from strawberry.fastapi import BaseContext
from strawberry.types import Info

from ..auth import service as auth_service
from ..auth.principal import Principal
from ..config import Settings
from ..consent.viewer import RequestMeta, Viewer
from ..db.session import RequestDatabase
from ..errors import DomainError
from ..residents import service as residents_service
from ..residents.models import Resident
from .errors import AuthenticationRequired, top_level_error

L = TypeVar("L", bound=DataLoader[Any, Any])


class Context(BaseContext):
    """Everything a resolver may use; built once per request by the context getter."""

    def __init__(
        self, *, settings: Settings, principal: Principal, db: RequestDatabase, request_id: str
    ) -> None:
        super().__init__()
        self.settings = settings
        self.principal = principal
        self.db = db
        self.request_id = request_id
        self._loaders: dict[str, DataLoader[Any, Any]] = {}
        self._resident: asyncio.Task[Resident] | None = None
        self._staff: asyncio.Task[Principal] | None = None
        db.on_rollback(self._forget_cached_rows)

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

    async def resident(self) -> Resident:
        """The signed-in resident (created on first sign-in); top-level error otherwise."""
        if not self.principal.is_resident:
            raise AuthenticationRequired("a resident sign-in is required")
        if self._resident is None:
            self._resident = asyncio.ensure_future(self._load_resident())
        return await asyncio.shield(self._resident)

    async def _load_resident(self) -> Resident:
        try:
            async with self.db.transaction() as session:
                return await residents_service.get_or_create_resident(session, self.principal)
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
            return await auth_service.with_granted_roles(session, self.principal)


KInfo = Info[Context, None]
