"""Municipality queries: the list of municipalities and one by code."""

from __future__ import annotations

import strawberry

from ..api.context import KInfo
from ..errors import DomainError
from . import service
from .reference import FUKUSHIMA_PREFECTURE
from .types import MunicipalityType


@strawberry.type
class MunicipalityQueries:
    @strawberry.field(
        description=(
            'Municipalities of Japan by code. `prefectureCode` defaults to "07" (Fukushima); '
            "pass null for every prefecture (政令市 and their wards included). `servedOnly` "
            "(default false) keeps only the municipalities this installation serves."
        )
    )
    async def municipalities(
        self,
        info: KInfo,
        prefecture_code: str | None = FUKUSHIMA_PREFECTURE,
        served_only: bool = False,
    ) -> list[MunicipalityType]:
        async with info.context.db.session() as session:
            rows = await service.list_municipalities(
                session, prefecture_code=prefecture_code, served_only=served_only
            )
        return [MunicipalityType.from_model(m) for m in rows]

    @strawberry.field(description="One municipality of Japan by its 5- or 6-digit code, or null.")
    async def municipality(self, info: KInfo, code: str) -> MunicipalityType | None:
        try:
            async with info.context.db.session() as session:
                return MunicipalityType.from_model(await service.get_municipality(session, code))
        except DomainError:
            return None
