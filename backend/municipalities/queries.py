"""Municipality queries: the public list and the staff dashboard."""

from __future__ import annotations

import strawberry

from ..api.context import KInfo
from ..api.errors import top_level_error
from ..auth import service as auth_service
from ..errors import DomainError
from ..residents import service as residents_service
from . import service
from .types import MunicipalityDashboard, MunicipalityType


@strawberry.type
class MunicipalityQueries:
    @strawberry.field(description="Known municipalities; Fukushima (07) by default.")
    async def municipalities(
        self, info: KInfo, prefecture_code: str | None = "07"
    ) -> list[MunicipalityType]:
        async with info.context.db.session() as session:
            rows = await service.list_municipalities(session, prefecture_code=prefecture_code)
        return [MunicipalityType.from_model(m) for m in rows]

    @strawberry.field(description="One municipality by its 5- or 6-digit code, or null.")
    async def municipality(self, info: KInfo, code: str) -> MunicipalityType | None:
        try:
            async with info.context.db.session() as session:
                return MunicipalityType.from_model(await service.get_municipality(session, code))
        except DomainError:
            return None

    @strawberry.field(description="Registration counts; city staff of that municipality only.")
    async def municipality_dashboard(self, info: KInfo, code: str) -> MunicipalityDashboard:
        principal = await info.context.staff_principal()
        try:
            async with info.context.db.session() as session:
                municipality = await service.get_municipality(session, code)
                auth_service.require_role(principal, municipality.code, *auth_service.STAFF_ROLES)
                residents, places = await residents_service.municipality_counts(
                    session, municipality.code
                )
        except DomainError as exc:
            raise top_level_error(exc) from exc
        return MunicipalityDashboard(
            municipality=MunicipalityType.from_model(municipality),
            registered_residents=residents,
            saved_places=sum(places.values()),
            homes=places.get("home", 0),
        )
