"""GraphQL types of communities."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import strawberry

from ..api.ids import encode_id
from ..consent.types import PersonalDataType
from .models import Community, CommunityKind, CommunityRole
from .service import Roster

if TYPE_CHECKING:
    CommunityKindType = CommunityKind
    CommunityRoleType = CommunityRole
else:
    CommunityKindType = strawberry.enum(CommunityKind, name="CommunityKind")
    CommunityRoleType = strawberry.enum(CommunityRole, name="CommunityRole")


@strawberry.type(name="Community", description="A town association or disaster organisation.")
class CommunityType:
    id: strawberry.ID
    name: str
    kind: CommunityKindType
    municipality_code: str
    created_at: datetime
    my_role: CommunityRoleType | None = None

    @classmethod
    def from_model(cls, community: Community, my_role: str | None = None) -> CommunityType:
        return cls(
            id=strawberry.ID(encode_id("Community", community.id)),
            name=community.name,
            kind=CommunityKind(community.kind),
            municipality_code=community.municipality_code,
            created_at=community.created_at,
            my_role=CommunityRole(my_role) if my_role else None,
        )


@strawberry.type(
    name="CommunityRoster",
    description="For leaders: member count, and the data of members who consented only.",
)
class CommunityRosterType:
    community: CommunityType
    member_count: int
    purpose_code: str
    consented_members: list[PersonalDataType]

    @classmethod
    def from_roster(cls, roster: Roster) -> CommunityRosterType:
        return cls(
            community=CommunityType.from_model(roster.community, "leader"),
            member_count=roster.member_count,
            purpose_code=roster.purpose_code,
            consented_members=[PersonalDataType.from_result(d) for d in roster.consented],
        )
