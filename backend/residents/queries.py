"""Resident queries: the signed-in resident, and the registration counts staff see."""

from __future__ import annotations

import strawberry

from ..api.context import KInfo
from ..api.errors import top_level_error
from ..errors import DomainError
from ..municipalities.types import MunicipalityDashboard, MunicipalityType
from . import service
from .types import MeRef, me_of, signed_in_resident


@strawberry.type
class ResidentQueries:
    @strawberry.field(description="The signed-in resident; the record is created on first sign-in.")
    async def me(self, info: KInfo) -> MeRef:
        return me_of(await signed_in_resident(info))

    @strawberry.field(
        description="Registration counts of a served municipality; its city staff only."
    )
    async def municipality_dashboard(self, info: KInfo, code: str) -> MunicipalityDashboard:
        principal = await info.context.staff_principal()
        try:
            async with info.context.db.session() as session:
                counts = await service.municipality_dashboard(session, principal, code=code)
        except DomainError as exc:
            raise top_level_error(exc) from exc
        return MunicipalityDashboard(
            municipality=MunicipalityType.from_model(counts.municipality),
            registered_residents=counts.registered_residents,
            saved_places=counts.saved_places,
            homes=counts.homes,
        )
