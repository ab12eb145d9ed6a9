"""How a viewer relates to each subject: family, community leader, city staff."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from ..auth import service as auth_service
from ..communities import service as community_service
from ..family import service as family_service
from ..residents import repository as residents_repository
from ..residents.models import Resident
from .catalog import RecipientRole
from .viewer import Viewer


async def resident_by_subject(session: AsyncSession, subject: str) -> Resident | None:
    """A resident by their regional-ID subject."""
    return await residents_repository.by_subject(session, subject)


async def links(
    session: AsyncSession, viewer: Viewer, subjects: Sequence[Resident]
) -> dict[uuid.UUID, set[str]]:
    """For each subject, the recipient roles the viewer holds towards them right now."""
    result: dict[uuid.UUID, set[str]] = {s.id: set() for s in subjects}
    ids = [s.id for s in subjects]
    if viewer.resident_id is not None:
        for subject_id in await family_service.co_member_ids(session, viewer.resident_id, ids):
            result[subject_id].add(RecipientRole.FAMILY.value)
        for subject_id in await community_service.led_member_ids(session, viewer.resident_id, ids):
            result[subject_id].add(RecipientRole.COMMUNITY.value)
    staff_in = viewer.principal.municipalities_for(*auth_service.STAFF_ROLES)
    for subject in subjects:
        if subject.home_municipality_code and subject.home_municipality_code in staff_in:
            result[subject.id].add(RecipientRole.CITY_STAFF.value)
    # Supporters are named in individual evacuation plans (a later capability): none yet.
    return result
