"""Family mutations: groups, invitations, membership."""

from __future__ import annotations

import strawberry

from ..api.context import KInfo
from ..api.errors import UserError, user_errors
from ..api.ids import decode_id
from ..errors import DomainError
from . import service
from .types import FamilyGroupType, FamilyInvitationType


@strawberry.input
class CreateFamilyGroupInput:
    name: str


@strawberry.input
class CreateFamilyInvitationInput:
    group_id: strawberry.ID
    expires_in_hours: int | None = strawberry.field(
        default=None, description="1 to 336 hours; 72 by default"
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
        resident = await info.context.resident()
        try:
            async with info.context.db.transaction() as session:
                group = await service.create_group(
                    session, info.context.settings, resident, name=input.name
                )
        except DomainError as exc:
            return FamilyGroupPayload(errors=user_errors(exc))
        return FamilyGroupPayload(group=FamilyGroupType.from_model(group))

    @strawberry.mutation(description="Create a single-use invitation code (owners only).")
    async def create_family_invitation(
        self, info: KInfo, input: CreateFamilyInvitationInput
    ) -> FamilyInvitationPayload:
        resident = await info.context.resident()
        try:
            group_id = decode_id("FamilyGroup", input.group_id, field="groupId")
            async with info.context.db.transaction() as session:
                invitation = await service.create_invitation(
                    session,
                    info.context.settings,
                    resident,
                    group_id=group_id,
                    expires_in_hours=input.expires_in_hours,
                )
                group = await service.get_group(session, resident, group_id)
        except DomainError as exc:
            return FamilyInvitationPayload(errors=user_errors(exc))
        return FamilyInvitationPayload(
            invitation=FamilyInvitationType.from_model(invitation, group)
        )

    @strawberry.mutation(description="Join a family group with an invitation code.")
    async def accept_family_invitation(
        self, info: KInfo, input: AcceptFamilyInvitationInput
    ) -> FamilyGroupPayload:
        resident = await info.context.resident()
        try:
            async with info.context.db.transaction() as session:
                group = await service.accept_invitation(
                    session, info.context.settings, resident, code=input.code
                )
        except DomainError as exc:
            return FamilyGroupPayload(errors=user_errors(exc))
        return FamilyGroupPayload(group=FamilyGroupType.from_model(group))

    @strawberry.mutation(description="Leave a family group.")
    async def leave_family_group(
        self, info: KInfo, input: LeaveFamilyGroupInput
    ) -> LeaveFamilyGroupPayload:
        resident = await info.context.resident()
        try:
            group_id = decode_id("FamilyGroup", input.group_id, field="groupId")
            async with info.context.db.transaction() as session:
                await service.leave_group(session, resident, group_id=group_id)
        except DomainError as exc:
            return LeaveFamilyGroupPayload(errors=user_errors(exc))
        return LeaveFamilyGroupPayload(left_group_id=input.group_id)

    @strawberry.mutation(description="Remove a member from a family group (owners only).")
    async def remove_family_member(
        self, info: KInfo, input: FamilyMemberInput
    ) -> FamilyGroupPayload:
        return await _change_member(info, input, service.remove_member)

    @strawberry.mutation(description="Make a member an owner too (owners only).")
    async def promote_family_member(
        self, info: KInfo, input: FamilyMemberInput
    ) -> FamilyGroupPayload:
        return await _change_member(info, input, service.promote_member)


async def _change_member(
    info: KInfo, input: FamilyMemberInput, action: object
) -> FamilyGroupPayload:
    resident = await info.context.resident()
    try:
        group_id = decode_id("FamilyGroup", input.group_id, field="groupId")
        membership_id = decode_id("FamilyMember", input.member_id, field="memberId")
        async with info.context.db.transaction() as session:
            await action(session, resident, group_id=group_id, membership_id=membership_id)  # type: ignore[operator]
            group = await service.get_group(session, resident, group_id)
    except DomainError as exc:
        return FamilyGroupPayload(errors=user_errors(exc))
    return FamilyGroupPayload(group=FamilyGroupType.from_model(group))
