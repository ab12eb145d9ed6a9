"""The reader of personal data and where a request came from."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from ..auth.principal import Principal


@dataclass(frozen=True, slots=True)
class RequestMeta:
    """Where a consent action or a read came from (kept in the append-only records)."""

    via_client: str | None = None
    ip_address: str | None = None
    user_agent: str | None = None
    request_id: str | None = None


@dataclass(frozen=True, slots=True)
class Viewer:
    """The reader: a principal, its resident record if any, and the app it came through."""

    principal: Principal
    resident_id: uuid.UUID | None = None

    @property
    def actor(self) -> str:
        if self.principal.is_system_client:
            return f"client:{self.principal.client_id}"
        return self.principal.subject or "anonymous"
