"""App assembly: the one place (with the GraphQL schema) that knows every domain.

It registers what each domain provides to consent, and tells the request context how a
principal becomes a resident record. The app factory, the CLI and the tests call
``assemble()`` before serving or running services; it is idempotent.
"""

from __future__ import annotations

import threading

from sqlalchemy.ext.asyncio import AsyncSession

from .auth import service as auth_service
from .communities import sharing as community_sharing
from .consent.providers import providers
from .dangerspots import service as dangerspots_service
from .family import sharing as family_sharing
from .plans import service as plans_service
from .plans import sharing as plan_sharing
from .principal import Principal
from .residents import service as residents_service
from .residents import sharing as resident_sharing
from .residents.models import Resident
from .routing.avoid_sources import avoid_sources
from .routing.gates import disaster_events
from .routing.load import arrival_sources
from .routing.support_sources import support_sources
from .safety import service as safety_service
from .safety import sharing as safety_sharing
from .shelters import sharing as shelter_sharing
from .supplies import sharing as supplies_sharing

_lock = threading.Lock()
_assembled = False


def assemble() -> None:
    """Register every domain's consent providers (once per process)."""
    global _assembled
    with _lock:
        if _assembled:
            return
        resident_sharing.register(providers)
        family_sharing.register(providers)
        community_sharing.register(providers)
        safety_sharing.register(providers)
        shelter_sharing.register(providers)
        plan_sharing.register(providers)
        avoid_sources.add("danger_spots", dangerspots_service.spots_to_avoid)
        # A resident on the support-needed register or with a plan walks STEP_FREE by default.
        support_sources.add("evacuation_plans", plans_service.needs_support)
        # Routing counts who is at a shelter and reads disaster events through these.
        arrival_sources.add("safety_answers", safety_service.evacuated_at_shelters)
        disaster_events.register(
            scopes=safety_service.event_scopes, open_ids=safety_service.open_event_ids
        )
        supplies_sharing.register(providers)
        _assembled = True


async def load_resident(
    session: AsyncSession, principal: Principal, create: bool
) -> Resident | None:
    """The signed-in resident's record (the context's loader); ``create`` on first sign-in."""
    if create:
        return await residents_service.get_or_create_resident(session, principal)
    return await residents_service.find_resident(session, principal)


async def load_roles(session: AsyncSession, principal: Principal) -> Principal:
    """The principal with the staff roles granted to it (the context's role loader)."""
    return await auth_service.with_granted_roles(session, principal)
