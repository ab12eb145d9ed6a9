"""Portal queries: my portal (anyone), my usage, staff usage counts."""

from __future__ import annotations

from datetime import datetime
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
from .types import Portal, PortalServiceType, ServiceUsageCount, ServiceUsageType


@strawberry.type
class PortalQueries:
    @strawberry.field(
        description="My portal: prefecture-wide services, where I live, where I commute or "
        'study, and "for me" (with my portal_personalization consent), each with its reason. '
        "Anonymous callers get the prefecture-wide services and those of `municipalityCode`."
    )
    async def my_portal(
        self,
        info: KInfo,
        municipality_code: Annotated[
            str | None, strawberry.argument(description="A municipality to browse as well")
        ] = None,
    ) -> Portal:
        principal = info.context.principal
        resident = await info.context.resident() if principal.is_resident else None
        try:
            # Household facts are logged reads of family members' data: a transaction.
            async with info.context.db.transaction() as session:
                view = await service.my_portal(
                    session,
                    principal,
                    resident,
                    selected_code=municipality_code,
                    meta=info.context.request_meta(),
                )
        except DomainError as exc:
            raise top_level_error(exc) from exc
        return Portal.from_view(view)

    @strawberry.field(description="Services I opened, newest first.")
    async def my_service_usage(
        self,
        info: KInfo,
        first: Annotated[int | None, strawberry.argument(description=FIRST_DESCRIPTION)] = 20,
        after: str | None = None,
    ) -> Connection[ServiceUsageType]:
        resident = await info.context.resident()
        try:
            limit = page_size(first)
            async with info.context.db.session() as session:
                rows, cards = await service.usage_page(
                    session, resident, after=decode_cursor(after), limit=limit + 1
                )
        except DomainError as exc:
            raise top_level_error(exc) from exc
        return build_connection(
            rows,
            limit=limit,
            key=lambda u: (u.opened_at, u.id),
            node=lambda u: ServiceUsageType.of(u, cards[u.service_id]),
        )

    @strawberry.field(
        description="Opens per service of a municipality (or prefecture code) since a time: "
        "aggregates only, for that municipality's staff."
    )
    async def service_usage_counts(
        self, info: KInfo, municipality_code: str, since: datetime
    ) -> list[ServiceUsageCount]:
        principal = await info.context.staff_principal()
        try:
            async with info.context.db.session() as session:
                counts = await service.usage_counts(
                    session, principal, owner_code=municipality_code, since=since
                )
        except DomainError as exc:
            raise top_level_error(exc) from exc
        return [
            ServiceUsageCount(
                service=PortalServiceType.from_card(c.card), opens=c.opens, residents=c.residents
            )
            for c in counts
        ]
