"""GraphQL types of the caller and of staff role grants."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import strawberry

from ..api.ids import encode_id
from ..principal import PrincipalKind, Role, RoleGrant
from .models import RoleGrantRecord

if TYPE_CHECKING:
    StaffRoleType = Role
    PrincipalKindType = PrincipalKind
else:
    StaffRoleType = strawberry.enum(Role, name="StaffRole")
    PrincipalKindType = strawberry.enum(PrincipalKind, name="PrincipalKind")


@strawberry.type(name="RoleAssignment", description="A staff role in one municipality.")
class RoleAssignmentType:
    role: StaffRoleType
    municipality_code: str

    @classmethod
    def from_grant(cls, grant: RoleGrant) -> RoleAssignmentType:
        return cls(role=grant.role, municipality_code=grant.municipality_code)


@strawberry.type(name="Viewer", description="Who the caller is, and the staff roles it holds.")
class ViewerType:
    kind: PrincipalKindType
    client_id: str | None
    roles: list[RoleAssignmentType]


@strawberry.type(name="RoleGrant")
class RoleGrantType:
    id: strawberry.ID
    subject: str
    role: StaffRoleType
    municipality_code: str
    granted_by: str
    created_at: datetime

    @classmethod
    def from_model(cls, record: RoleGrantRecord) -> RoleGrantType:
        return cls(
            id=strawberry.ID(encode_id("RoleGrant", record.id)),
            subject=record.subject,
            role=Role(record.role),
            municipality_code=record.municipality_code,
            granted_by=record.granted_by,
            created_at=record.created_at,
        )
