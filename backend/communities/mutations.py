"""Community mutations: staff create communities and name leaders; residents join/leave."""

from __future__ import annotations

import strawberry

from ..api.context import KInfo
from ..api.errors import UserError, user_errors
from ..api.ids import decode_id
from ..errors import DomainError
from . import service
from .models import CommunityKind
from .types import CommunityKindType, CommunityType


@strawberry.input
class CreateCommunityInput:
    municipality_code: str
    name: str
    kind: CommunityKindType  # type: ignore[valid-type]


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
        principal = await info.context.staff_principal()
        try:
            async with info.context.db.transaction() as session:
                community = await service.create_community(
                    session,
                    principal,
                    municipality_code=input.municipality_code,
                    name=input.name,
                    kind=CommunityKind(input.kind),
                )
        except DomainError as exc:
            return CommunityPayload(errors=user_errors(exc))
        return CommunityPayload(community=CommunityType.from_model(community))

    @strawberry.mutation(description="Join a community as a member (this shares nothing).")
    async def join_community(self, info: KInfo, input: CommunityInput) -> CommunityPayload:
        resident = await info.context.resident()
        try:
            community_id = decode_id("Community", input.community_id, field="communityId")
            async with info.context.db.transaction() as session:
                community = await service.join(session, resident, community_id=community_id)
        except DomainError as exc:
            return CommunityPayload(errors=user_errors(exc))
        return CommunityPayload(community=CommunityType.from_model(community, "member"))

    @strawberry.mutation(description="Leave a community.")
    async def leave_community(self, info: KInfo, input: CommunityInput) -> CommunityPayload:
        resident = await info.context.resident()
        try:
            community_id = decode_id("Community", input.community_id, field="communityId")
            async with info.context.db.transaction() as session:
                await service.leave(session, resident, community_id=community_id)
        except DomainError as exc:
            return CommunityPayload(errors=user_errors(exc))
        return CommunityPayload()

    @strawberry.mutation(description="Name a member as leader, or not (city staff).")
    async def set_community_leader(
        self, info: KInfo, input: SetCommunityLeaderInput
    ) -> CommunityPayload:
        principal = await info.context.staff_principal()
        try:
            community_id = decode_id("Community", input.community_id, field="communityId")
            async with info.context.db.transaction() as session:
                await service.set_leader(
                    session,
                    principal,
                    community_id=community_id,
                    subject=input.subject,
                    leader=input.leader,
                )
                community = await service.get_community(session, community_id)
        except DomainError as exc:
            return CommunityPayload(errors=user_errors(exc))
        return CommunityPayload(community=CommunityType.from_model(community))
