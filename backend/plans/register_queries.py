"""Queries of the support-needed register: staff lists, and a resident's own entry."""

from __future__ import annotations

from typing import Annotated

import strawberry

from ..api.context import KInfo
from ..api.errors import top_level_error
from ..api.pagination import (
    FIRST_DESCRIPTION,
    Connection,
    Edge,
    PageInfo,
    decode_key_cursor,
    encode_key_cursor,
    page_size,
)
from ..errors import DomainError
from . import register_service as service
from .models import RegisterConsent
from .register_types import RegisterConsentEnum, SupportRegisterEntryType


@strawberry.input
class SupportRegisterFilter:
    linked: bool | None = strawberry.field(
        default=None, description="true: linked to a resident; false: not yet linked"
    )
    consent_status: RegisterConsentEnum | None = None
    search: str | None = strawberry.field(
        default=None, description="Part of the name, kana, register number or address"
    )


@strawberry.type
class SupportRegisterQueries:
    @strawberry.field(
        description="City staff: your municipality's register of people who need support to "
        "evacuate, in register-number order. Reads of linked people are logged for them."
    )
    async def support_register(
        self,
        info: KInfo,
        municipality_code: str,
        filter: SupportRegisterFilter | None = None,
        first: Annotated[int | None, strawberry.argument(description=FIRST_DESCRIPTION)] = 20,
        after: str | None = None,
    ) -> Connection[SupportRegisterEntryType] | None:
        # Nullable: a refusal is an error on this field only (see shelterEvacuees).
        viewer = await info.context.viewer()
        chosen = filter or SupportRegisterFilter()
        try:
            limit = page_size(first)
            cursor = decode_key_cursor(after)
            # The reads of linked people are logged in the transaction that returns them.
            async with info.context.db.transaction() as session:
                page = await service.page_entries(
                    session,
                    viewer,
                    municipality_code=municipality_code,
                    filter=service.RegisterFilter(
                        linked=chosen.linked,
                        consent_status=(
                            RegisterConsent(chosen.consent_status)
                            if chosen.consent_status
                            else None
                        ),
                        search=chosen.search,
                    ),
                    after=cursor,
                    limit=limit,
                    meta=info.context.request_meta(),
                )
        except DomainError as exc:
            raise top_level_error(exc) from exc
        shown = page.entries[:limit]
        edges = [
            Edge(
                cursor=encode_key_cursor(e.register_number, e.id),
                node=SupportRegisterEntryType.from_model(e, page.suggestions.get(e.id)),
            )
            for e in shown
        ]
        return Connection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=len(page.entries) > limit,
                end_cursor=edges[-1].cursor if edges else None,
            ),
        )

    @strawberry.field(
        description="My entry on my municipality's register of people who need support, once "
        "city staff linked it to me (null otherwise)."
    )
    async def my_support_register_entry(self, info: KInfo) -> SupportRegisterEntryType | None:
        resident = await info.context.resident()
        async with info.context.db.session() as session:
            entry = await service.my_entry(session, resident)
        return SupportRegisterEntryType.from_model(entry) if entry else None
