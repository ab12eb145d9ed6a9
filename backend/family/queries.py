"""Family queries."""

from __future__ import annotations

import strawberry

from ..api.context import KInfo
from ..api.ids import decode_id
from ..errors import NotFound
from . import service
from .types import FamilyGroupType


@strawberry.type
class FamilyQueries:
    @strawberry.field(description="A family group the signed-in resident belongs to, else null.")
    async def family_group(self, info: KInfo, id: strawberry.ID) -> FamilyGroupType | None:
        resident = await info.context.resident()
        try:
            group_id = decode_id("FamilyGroup", id)
            async with info.context.db.session() as session:
                group = await service.get_group(session, resident, group_id)
        except NotFound:
            return None
        return FamilyGroupType.from_model(group)
