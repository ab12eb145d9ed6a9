"""Demo supply profiles: the demo family's pets, medication and diet, shared with the family."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.ext.asyncio import AsyncSession

from ..consent import service as consent_service
from ..principal import RequestMeta, ResidentRef
from . import service

# Hanako keeps the family dog, Taro takes regular medication, Yuki has a food allergy.
DEMO_PROFILES = {
    "demo-hanako": service.ProfileChanges(pets=[service.PetChange("dog", 1)]),
    "demo-taro": service.ProfileChanges(regular_medication=True),
    "demo-yuki": service.ProfileChanges(dietary_needs=["allergy"]),
}


async def seed_demo_supplies(
    session: AsyncSession, residents: Mapping[str, ResidentRef], meta: RequestMeta
) -> None:
    """Supply profiles for the demo family, each shared with the family for its list."""
    for subject, changes in DEMO_PROFILES.items():
        await service.update_profile(session, residents[subject], changes)
        await consent_service.grant_bundle(
            session, residents[subject], bundle_code="household_supplies_basic", meta=meta
        )
