"""Queries about the caller and staff roles."""

from __future__ import annotations

from typing import Annotated

import strawberry

from ..api.context import KInfo
from ..api.errors import top_level_error
from ..api.pagination import (
    FIRST_DESCRIPTION,
    Connection,
    build_connection,
    decode_cursor,
    page_size,
)
from ..errors import DomainError
from . import service
from .types import RoleAssignmentType, RoleGrantType, ViewerType


@strawberry.type
class AuthQueries:
    @strawberry.field(description="The caller: anonymous, resident or system client, with roles.")
    async def viewer(self, info: KInfo) -> ViewerType:
        principal = await info.context.staff_principal()
        roles = sorted(principal.roles, key=lambda g: (g.municipality_code, g.role.value))
        return ViewerType(
            kind=principal.kind,
            client_id=principal.client_id,
            roles=[RoleAssignmentType.from_grant(g) for g in roles],
        )

    @strawberry.field(description="Staff role grants of a municipality; its city admins only.")
    async def role_grants(
        self,
        info: KInfo,
        municipality_code: str,
        first: Annotated[int | None, strawberry.argument(description=FIRST_DESCRIPTION)] = 20,
        after: str | None = None,
    ) -> Connection[RoleGrantType]:
        principal = await info.context.staff_principal()
        try:
            limit = page_size(first)
            async with info.context.db.session() as session:
                rows = await service.page_role_grants(
                    session,
                    principal,
                    municipality_code=municipality_code,
                    after=decode_cursor(after),
                    limit=limit + 1,
                )
        except DomainError as exc:
            raise top_level_error(exc) from exc
        return build_connection(
            rows,
            limit=limit,
            key=lambda r: (r.created_at, r.id),
            node=RoleGrantType.from_model,
        )
