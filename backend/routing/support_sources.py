"""Whether a resident needs support to evacuate, asked of the domains that know.

Routing plans a resident's own route STEP_FREE (and at the support walking speed) by default
when a domain says so — the evacuation-plans domain, from its register entries and plans.
Routing depends on none of them: a domain registers a lookup at app assembly
(``backend.assembly``). Only the resident's own record is read, for their own route.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from .avoid_sources import Sources

SupportLookup = Callable[[AsyncSession, uuid.UUID], Awaitable[bool]]


class SupportSources(Sources[SupportLookup]):
    """Who needs support to evacuate, by the domains that know."""

    async def needs_support(self, session: AsyncSession, resident_id: uuid.UUID) -> bool:
        """Whether any registered domain says the resident needs support to evacuate."""
        for lookup in self._sources.values():
            if await lookup(session, resident_id):
                return True
        return False


support_sources = SupportSources()
