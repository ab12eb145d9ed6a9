"""Community queries."""

from __future__ import annotations

import strawberry

from ..api.context import KInfo
from ..api.errors import top_level_error
from ..api.ids import decode_id
from ..errors import DomainError, NotFound
from . import service
from .types import CommunityRosterType, CommunityType


@strawberry.type
class CommunityQueries:
    @strawberry.field(description="Communities of a municipality (to pick yours).")
    async def communities(self, info: KInfo, municipality_code: str) -> list[CommunityType]:
        try:
            async with info.context.db.session() as session:
                rows = await service.list_communities(session, municipality_code)
        except DomainError as exc:
            raise top_level_error(exc) from exc
        return [CommunityType.from_model(c) for c in rows]

    @strawberry.field(description="The communities I belong to, with my role.")
    async def my_communities(self, info: KInfo) -> list[CommunityType]:
        resident = await info.context.resident()
        async with info.context.db.session() as session:
            rows = await service.my_communities(session, resident)
        return [CommunityType.from_model(c, role) for c, role in rows]

    @strawberry.field(
        description="Leaders: member count and the consented members' data; null for anyone "
        "who does not lead the community."
    )
    async def community_roster(
        self,
        info: KInfo,
        community_id: strawberry.ID,
        purpose: str = service.COMMUNITY_PURPOSE,
    ) -> CommunityRosterType | None:
        await info.context.resident()
        viewer = await info.context.viewer()
        try:
            async with info.context.db.transaction() as session:
                roster = await service.roster(
                    session,
                    viewer,
                    community_id=decode_id("Community", community_id, field="communityId"),
                    purpose_code=purpose,
                    meta=info.context.request_meta(),
                )
        except NotFound:
            return None
        except DomainError as exc:
            raise top_level_error(exc) from exc
        return CommunityRosterType.from_roster(roster)
