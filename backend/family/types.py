"""GraphQL types of family groups; members see each other's display name only (for now)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING

import strawberry

from ..api.context import KInfo
from ..api.errors import top_level_error
from ..api.ids import encode_id
from ..consent.loaders import shared_data_loader
from ..consent.types import PersonalDataType
from ..errors import DomainError
from ..residents.loaders import display_name_of
from . import service
from .loaders import members_loader
from .models import FamilyGroup, FamilyInvitation, FamilyMembership, MemberRole

if TYPE_CHECKING:
    FamilyMemberRoleType = MemberRole
else:
    FamilyMemberRoleType = strawberry.enum(MemberRole, name="FamilyMemberRole")


@strawberry.type(name="FamilyMember")
class FamilyMemberType:
    id: strawberry.ID
    role: FamilyMemberRoleType
    joined_at: datetime
    is_me: bool
    resident_id: strawberry.Private[uuid.UUID]

    @strawberry.field(description="The member's display name; nothing else is shared yet.")
    async def display_name(self, info: KInfo) -> str | None:
        return await display_name_of(info.context, self.resident_id)

    @strawberry.field(
        description=(
            "What this member shares with you for a purpose (e.g. family_safety, "
            "family_location), as far as their consent allows; null when nothing."
        )
    )
    async def shared_data(self, info: KInfo, purpose: str) -> PersonalDataType | None:
        try:
            data = await info.context.loader("shared_data", shared_data_loader).load(
                (self.resident_id, purpose)
            )
        except DomainError as exc:
            raise top_level_error(exc) from exc
        return PersonalDataType.from_result(data) if data else None

    @classmethod
    def from_model(cls, membership: FamilyMembership, viewer_id: uuid.UUID) -> FamilyMemberType:
        return cls(
            id=strawberry.ID(encode_id("FamilyMember", membership.id)),
            role=MemberRole(membership.role),
            joined_at=membership.joined_at,
            is_me=membership.resident_id == viewer_id,
            resident_id=membership.resident_id,
        )


@strawberry.type(name="FamilyGroup")
class FamilyGroupType:
    id: strawberry.ID
    name: str
    created_at: datetime
    group_id: strawberry.Private[uuid.UUID]

    @strawberry.field
    async def members(self, info: KInfo) -> list[FamilyMemberType]:
        viewer = await info.context.resident()
        memberships = await info.context.loader("family_members", members_loader).load(
            self.group_id
        )
        return [FamilyMemberType.from_model(m, viewer.id) for m in memberships]

    @classmethod
    def from_model(cls, group: FamilyGroup) -> FamilyGroupType:
        return cls(
            id=strawberry.ID(encode_id("FamilyGroup", group.id)),
            name=group.name,
            created_at=group.created_at,
            group_id=group.id,
        )


@strawberry.type(name="FamilyInvitation")
class FamilyInvitationType:
    code: str = strawberry.field(description="Short code to type in, e.g. ABCDE-FGHJK")
    qr_payload: str = strawberry.field(description="Text to encode in a QR code")
    expires_at: datetime
    group: FamilyGroupType

    @classmethod
    def from_model(cls, invitation: FamilyInvitation, group: FamilyGroup) -> FamilyInvitationType:
        return cls(
            code=service.display_code(invitation.code),
            qr_payload=f"{service.QR_PREFIX}{invitation.code}",
            expires_at=invitation.expires_at,
            group=FamilyGroupType.from_model(group),
        )


@strawberry.type
class FamilyMeFields:
    """Family's fields of ``Me`` (composed with the resident's own at assembly)."""

    @strawberry.field(description="The family groups I belong to.")
    async def family_groups(self, info: KInfo) -> list[FamilyGroupType]:
        resident = await info.context.resident()
        async with info.context.db.session() as session:
            groups = await service.list_groups(session, resident.id)
        return [FamilyGroupType.from_model(g) for g in groups]
