"""What shelters provide to consent: the shelter-manager relationship (避難所の受付)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from ..consent.providers import ConsentProviders
from ..principal import Role, Viewer
from . import repository

SHELTER_MANAGER = "shelter_manager"
# Who runs a shelter's reception: its managers and the municipality's staff.
MANAGER_ROLES = (Role.SHELTER_MANAGER, Role.CITY_STAFF, Role.CITY_ADMIN)


async def managing_shelter_of(
    session: AsyncSession, viewer: Viewer, subject_ids: Sequence[uuid.UUID]
) -> set[uuid.UUID]:
    """Subjects checked in now at a shelter of a municipality where the viewer manages
    shelters (the relationship ends with the stay)."""
    municipalities = viewer.principal.municipalities_for(*MANAGER_ROLES)
    if not municipalities or not subject_ids:
        return set()
    return await repository.residents_staying_in(session, subject_ids, sorted(municipalities))


def register(providers: ConsentProviders) -> None:
    """Tell consent what shelters provide."""
    providers.add_relationship(
        SHELTER_MANAGER,
        managing_shelter_of,
        label_ja="避難所の管理者（滞在中の避難所）",
        label_en="Managers of the shelter you are staying at",
    )
