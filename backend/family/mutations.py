"""Family mutations: groups, invitations, membership."""

from __future__ import annotations

import uuid

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from ..api.context import KInfo
from ..api.errors import UserError
from ..api.ids import decode_id
from ..api.mutations import as_resident
from ..principal import ResidentRef
from . import service
from .types import FamilyGroupType, FamilyInvitationType


@strawberry.input
class CreateFamilyGroupInput:
    name: str


@strawberry.input
class CreateFamilyInvitationInput:
    group_id: strawberry.ID
    expires_in_hours: int | None = strawberry.field(
        default=None, description="1 to 336 hours (72 by default)"
    )


@strawberry.input
class AcceptFamilyInvitationInput:
    code: str = strawberry.field(description="The code as typed (hyphens optional) or scanned")


@strawberry.input
class LeaveFamilyGroupInput:
    group_id: strawberry.ID


@strawberry.input
class FamilyMemberInput:
    group_id: strawberry.ID
    member_id: strawberry.ID


@strawberry.type
class FamilyGroupPayload:
    group: FamilyGroupType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class FamilyInvitationPayload:
    invitation: FamilyInvitationType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class LeaveFamilyGroupPayload:
    left_group_id: strawberry.ID | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class FamilyMutations:
    @strawberry.mutation(description="Create a family group; you become its owner.")
    async def create_family_group(
        self, info: KInfo, input: CreateFamilyGroupInput
    ) -> FamilyGroupPayload:
        async def work(session: AsyncSession, resident: ResidentRef) -> FamilyGroupPayload:
            group = await service.create_group(
                session, info.context.settings, resident, name=input.name
            )
            return FamilyGroupPayload(group=FamilyGroupType.from_model(group))

        return await as_resident(info, FamilyGroupPayload, work)

    @strawberry.mutation(description="Create a single-use invitation code (owners only).")
    async def create_family_invitation(
        self, info: KInfo, input: CreateFamilyInvitationInput
    ) -> FamilyInvitationPayload:
        async def work(session: AsyncSession, resident: ResidentRef) -> FamilyInvitationPayload:
            group_id = decode_id("FamilyGroup", input.group_id, field="groupId")
            invitation = await service.create_invitation(
                session,
                info.context.settings,
                resident,
                group_id=group_id,
                expires_in_hours=input.expires_in_hours,
            )
            group = await service.get_group(session, resident, group_id)
            return FamilyInvitationPayload(
                invitation=FamilyInvitationType.from_model(invitation, group)
            )

        return await as_resident(info, FamilyInvitationPayload, work)

    @strawberry.mutation(description="Join a family group with an invitation code.")
    async def accept_family_invitation(
        self, info: KInfo, input: AcceptFamilyInvitationInput
    ) -> FamilyGroupPayload:
        async def work(session: AsyncSession, resident: ResidentRef) -> FamilyGroupPayload:
            group = await service.accept_invitation(
                session, info.context.settings, resident, code=input.code
            )
            return FamilyGroupPayload(group=FamilyGroupType.from_model(group))

        return await as_resident(info, FamilyGroupPayload, work)

    @strawberry.mutation(
        description="Leave a family group; consents given to or received from its members by "
        "name end when no other family group links you."
    )
    async def leave_family_group(
        self, info: KInfo, input: LeaveFamilyGroupInput
    ) -> LeaveFamilyGroupPayload:
        async def work(session: AsyncSession, resident: ResidentRef) -> LeaveFamilyGroupPayload:
            await service.leave_group(
                session,
                resident,
                group_id=decode_id("FamilyGroup", input.group_id, field="groupId"),
                meta=info.context.request_meta(),
            )
            return LeaveFamilyGroupPayload(left_group_id=input.group_id)

        return await as_resident(info, LeaveFamilyGroupPayload, work)

    @strawberry.mutation(
        description="Remove a member from a family group (owners only); consents naming them "
        "by name end."
    )
    async def remove_family_member(
        self, info: KInfo, input: FamilyMemberInput
    ) -> FamilyGroupPayload:
        async def work(session: AsyncSession, resident: ResidentRef) -> FamilyGroupPayload:
            group_id, membership_id = _ids(input)
            await service.remove_member(
                session,
                resident,
                group_id=group_id,
                membership_id=membership_id,
                meta=info.context.request_meta(),
            )
            group = await service.get_group(session, resident, group_id)
            return FamilyGroupPayload(group=FamilyGroupType.from_model(group))

        return await as_resident(info, FamilyGroupPayload, work)

    @strawberry.mutation(description="Make a member an owner too (owners only).")
    async def promote_family_member(
        self, info: KInfo, input: FamilyMemberInput
    ) -> FamilyGroupPayload:
        async def work(session: AsyncSession, resident: ResidentRef) -> FamilyGroupPayload:
            group_id, membership_id = _ids(input)
            await service.promote_member(
                session, resident, group_id=group_id, membership_id=membership_id
            )
            group = await service.get_group(session, resident, group_id)
            return FamilyGroupPayload(group=FamilyGroupType.from_model(group))

        return await as_resident(info, FamilyGroupPayload, work)


def _ids(input: FamilyMemberInput) -> tuple[uuid.UUID, uuid.UUID]:
    return (
        decode_id("FamilyGroup", input.group_id, field="groupId"),
        decode_id("FamilyMember", input.member_id, field="memberId"),
    )
