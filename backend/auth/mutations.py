"""Staff role mutations (city admins, within their own municipality)."""

from __future__ import annotations

import strawberry

from ..api.context import KInfo
from ..api.errors import UserError, user_errors
from ..errors import DomainError
from . import service
from .types import RoleGrantType, StaffRoleType


@strawberry.input
class RoleGrantInput:
    subject: str = strawberry.field(description="The identity provider's subject of the person")
    role: StaffRoleType  # type: ignore[valid-type]
    municipality_code: str


@strawberry.type
class GrantRolePayload:
    grant: RoleGrantType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class RevokeRolePayload:
    revoked: bool = False
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class AuthMutations:
    @strawberry.mutation(description="Grant a staff role in your municipality (city admins).")
    async def grant_role(self, info: KInfo, input: RoleGrantInput) -> GrantRolePayload:
        principal = await info.context.staff_principal()
        try:
            async with info.context.db.transaction() as session:
                record = await service.grant_role(
                    session,
                    principal,
                    subject=input.subject,
                    role=input.role.value,
                    municipality_code=input.municipality_code,
                )
        except DomainError as exc:
            return GrantRolePayload(errors=user_errors(exc))
        return GrantRolePayload(grant=RoleGrantType.from_model(record))

    @strawberry.mutation(description="Revoke a staff role in your municipality (city admins).")
    async def revoke_role(self, info: KInfo, input: RoleGrantInput) -> RevokeRolePayload:
        principal = await info.context.staff_principal()
        try:
            async with info.context.db.transaction() as session:
                revoked = await service.revoke_role(
                    session,
                    principal,
                    subject=input.subject,
                    role=input.role.value,
                    municipality_code=input.municipality_code,
                )
        except DomainError as exc:
            return RevokeRolePayload(errors=user_errors(exc))
        return RevokeRolePayload(revoked=revoked)
