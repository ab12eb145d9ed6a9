"""Staff role mutations (city admins, within their own municipality)."""

from __future__ import annotations

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from ..api.context import KInfo
from ..api.errors import UserError
from ..api.mutations import as_principal
from ..principal import Principal
from . import service
from .types import RoleGrantType, StaffRoleType


@strawberry.input
class RoleGrantInput:
    subject: str = strawberry.field(description="The identity provider's subject of the person")
    role: StaffRoleType
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
        async def work(session: AsyncSession, principal: Principal) -> GrantRolePayload:
            record = await service.grant_role(
                session,
                principal,
                subject=input.subject,
                role=input.role.value,
                municipality_code=input.municipality_code,
            )
            return GrantRolePayload(grant=RoleGrantType.from_model(record))

        return await as_principal(info, GrantRolePayload, work)

    @strawberry.mutation(description="Revoke a staff role in your municipality (city admins).")
    async def revoke_role(self, info: KInfo, input: RoleGrantInput) -> RevokeRolePayload:
        async def work(session: AsyncSession, principal: Principal) -> RevokeRolePayload:
            revoked = await service.revoke_role(
                session,
                principal,
                subject=input.subject,
                role=input.role.value,
                municipality_code=input.municipality_code,
            )
            return RevokeRolePayload(revoked=revoked)

        return await as_principal(info, RevokeRolePayload, work)
