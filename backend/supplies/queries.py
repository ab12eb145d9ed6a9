"""Supplies queries: my supply profile, my checklist and my household's."""

from __future__ import annotations

from typing import Annotated

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from ..api.context import KInfo
from ..api.errors import top_level_error
from ..errors import DomainError
from ..principal import Viewer
from . import service
from .types import SupplyChecklistType, SupplyProfileType

Days = Annotated[
    int,
    strawberry.argument(description="Days to prepare for, 1-14 (3 at least, 7 recommended)"),
]


async def _checklist(info: KInfo, days: int, *, household: bool) -> SupplyChecklistType:
    await info.context.resident()  # signed-in residents only (others: a top-level error)
    viewer: Viewer = await info.context.viewer()
    try:
        # A household read logs members' data: it writes, so it runs in a transaction.
        db = info.context.db
        async with db.transaction() if household else db.session() as session:
            found = await service.checklist(
                session, viewer, days=days, household=household, meta=info.context.request_meta()
            )
    except DomainError as exc:
        raise top_level_error(exc) from exc
    return SupplyChecklistType.from_checklist(found)


async def _profile(session: AsyncSession, info: KInfo) -> SupplyProfileType:
    resident = await info.context.resident()
    return SupplyProfileType.from_model(await service.get_profile(session, resident))


@strawberry.type
class SupplyQueries:
    @strawberry.field(description="My supply profile: pets, regular medication, dietary needs.")
    async def my_supply_profile(self, info: KInfo) -> SupplyProfileType:
        await info.context.resident()
        async with info.context.db.session() as session:
            return await _profile(session, info)

    @strawberry.field(
        description="My own supplies checklist for N days (from my age, gender and supply "
        "profile), with what I have ticked."
    )
    async def my_supplies(
        self, info: KInfo, days: Days = service.DEFAULT_DAYS
    ) -> SupplyChecklistType:
        return await _checklist(info, days, household=False)

    @strawberry.field(
        description="My household's checklist: me and my family members, each counted with "
        "what they consented to share for household_supplies (others as one more adult)."
    )
    async def household_supplies(
        self, info: KInfo, days: Days = service.DEFAULT_DAYS
    ) -> SupplyChecklistType:
        return await _checklist(info, days, household=True)
