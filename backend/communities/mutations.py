"""Community mutations: staff create communities and name leaders; residents join/leave."""

from __future__ import annotations

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from ..api.context import KInfo
from ..api.errors import UserError
from ..api.ids import decode_id
from ..api.mutations import as_principal, as_resident
from ..principal import Principal, ResidentRef
from . import service
from .models import CommunityKind
from .types import CommunityKindType, CommunityType


@strawberry.input
class CreateCommunityInput:
    municipality_code: str
    name: str
    kind: CommunityKindType


@strawberry.input
class CommunityInput:
    community_id: strawberry.ID


@strawberry.input
class SetCommunityLeaderInput:
    community_id: strawberry.ID
    subject: str = strawberry.field(description="The member's regional-ID subject")
    leader: bool = True


@strawberry.type
class CommunityPayload:
    community: CommunityType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class CommunityMutations:
    @strawberry.mutation(description="Create a community (city staff of its municipality).")
    async def create_community(self, info: KInfo, input: CreateCommunityInput) -> CommunityPayload:
        async def work(session: AsyncSession, principal: Principal) -> CommunityPayload:
            community = await service.create_community(
                session,
                principal,
                municipality_code=input.municipality_code,
                name=input.name,
                kind=CommunityKind(input.kind),
            )
            return CommunityPayload(community=CommunityType.from_model(community))

        return await as_principal(info, CommunityPayload, work)

    @strawberry.mutation(description="Join a community as a member (this shares nothing).")
    async def join_community(self, info: KInfo, input: CommunityInput) -> CommunityPayload:
        async def work(session: AsyncSession, resident: ResidentRef) -> CommunityPayload:
            community = await service.join(
                session,
                resident,
                community_id=decode_id("Community", input.community_id, field="communityId"),
            )
            return CommunityPayload(community=CommunityType.from_model(community, "member"))

        return await as_resident(info, CommunityPayload, work)

    @strawberry.mutation(description="Leave a community; its leaders stop seeing you at once.")
    async def leave_community(self, info: KInfo, input: CommunityInput) -> CommunityPayload:
        async def work(session: AsyncSession, resident: ResidentRef) -> CommunityPayload:
            community_id = decode_id("Community", input.community_id, field="communityId")
            await service.leave(session, resident, community_id=community_id)
            community = await service.get_community(session, community_id)
            return CommunityPayload(community=CommunityType.from_model(community))

        return await as_resident(info, CommunityPayload, work)

    @strawberry.mutation(description="Name a member as leader, or not (city staff).")
    async def set_community_leader(
        self, info: KInfo, input: SetCommunityLeaderInput
    ) -> CommunityPayload:
        async def work(session: AsyncSession, principal: Principal) -> CommunityPayload:
            community_id = decode_id("Community", input.community_id, field="communityId")
            await service.set_leader(
                session,
                principal,
                community_id=community_id,
                subject=input.subject,
                leader=input.leader,
            )
            community = await service.get_community(session, community_id)
            return CommunityPayload(community=CommunityType.from_model(community))

        return await as_principal(info, CommunityPayload, work)
