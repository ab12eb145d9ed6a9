"""GraphQL types of communities."""

from __future__ import annotations

from datetime import datetime

import strawberry

from ..api.ids import encode_id
from ..consent.types import PersonalDataType
from .models import Community, CommunityKind, CommunityRole

CommunityKindType = strawberry.enum(CommunityKind, name="CommunityKind")
CommunityRoleType = strawberry.enum(CommunityRole, name="CommunityRole")


@strawberry.type(name="Community", description="A town association or disaster organisation.")
class CommunityType:
    id: strawberry.ID
    name: str
    kind: CommunityKindType  # type: ignore[valid-type]
    municipality_code: str
    created_at: datetime
    my_role: CommunityRoleType | None = None  # type: ignore[valid-type]

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
