"""Community queries."""

from __future__ import annotations

import strawberry

from ..api.context import KInfo
from ..api.errors import top_level_error
from ..api.ids import decode_id
from ..consent import service as consent_service
from ..consent.types import PersonalDataType
from ..errors import DomainError, NotFound
from . import service
from .types import CommunityRosterType, CommunityType

COMMUNITY_PURPOSE = "community_safety"


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

    @strawberry.field(description="Leaders: member count and the consented members' data.")
    async def community_roster(
        self, info: KInfo, community_id: strawberry.ID, purpose: str = COMMUNITY_PURPOSE
    ) -> CommunityRosterType | None:
        resident = await info.context.resident()
        viewer = await info.context.viewer()
        try:
            async with info.context.db.transaction() as session:
                community = await service.require_leader(
                    session, resident, decode_id("Community", community_id, field="communityId")
                )
                members = await service.member_residents(session, community.id)
                others = [m for m in members if m.id != resident.id]
                results = await consent_service.read_many(
                    session,
                    viewer,
                    others,
                    purpose_code=purpose,
                    items=None,
                    meta=info.context.request_meta(),
                )
        except NotFound:
            return None
        except DomainError as exc:
            raise top_level_error(exc) from exc
        return CommunityRosterType(
            community=CommunityType.from_model(community, "leader"),
            member_count=len(members),
            purpose_code=purpose,
            consented_members=[
                PersonalDataType.from_result(results[m.id]) for m in others if m.id in results
            ],
        )
