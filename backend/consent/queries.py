"""Consent queries: the catalog, my consents, history, requests, access log, personal data."""

from __future__ import annotations

from typing import Annotated

import strawberry

from ..api.context import KInfo
from ..api.errors import AuthenticationRequired, top_level_error
from ..api.ids import decode_id
from ..api.pagination import (
    FIRST_DESCRIPTION,
    Connection,
    build_connection,
    decode_cursor,
    page_size,
)
from ..errors import DomainError, NotFound, NotPermitted
from . import catalog_store, enforcement, service
from .types import (
    AccessDeniedType,
    CatalogType,
    ConsentEventType,
    ConsentRequestType,
    ConsentType,
    DataAccessType,
    PersonalDataResult,
    PersonalDataType,
)


@strawberry.input(description="Whose data: a resident id, or a regional-ID subject.")
class PersonalDataInput:
    purpose: str
    subject_id: strawberry.ID | None = None
    subject: str | None = strawberry.field(
        default=None, description="The regional-ID subject (system clients know residents by it)"
    )
    items: list[str] | None = strawberry.field(
        default=None, description="Items wanted; all of the purpose's items when omitted"
    )


@strawberry.type
class ConsentQueries:
    @strawberry.field(
        description="Data items, purposes, bundles and relationships a resident can consent to."
    )
    async def consent_catalog(self, info: KInfo) -> CatalogType:
        async with info.context.db.session() as session:
            view = await catalog_store.catalog_view(session)
        return CatalogType.from_view(view)

    @strawberry.field(description="My consents; revoked and expired ones on request.")
    async def my_consents(self, info: KInfo, include_inactive: bool = False) -> list[ConsentType]:
        resident = await info.context.resident()
        async with info.context.db.session() as session:
            views = await service.list_grants(
                session, resident.id, include_inactive=include_inactive
            )
        return [ConsentType.from_view(v) for v in views]

    @strawberry.field(description="My consent history (granted, revoked, declined), newest first.")
    async def my_consent_history(
        self,
        info: KInfo,
        first: Annotated[int | None, strawberry.argument(description=FIRST_DESCRIPTION)] = 20,
        after: str | None = None,
    ) -> Connection[ConsentEventType]:
        resident = await info.context.resident()
        try:
            limit = page_size(first)
            async with info.context.db.session() as session:
                rows = await service.consent_history(
                    session, resident.id, after=decode_cursor(after), limit=limit + 1
                )
        except DomainError as exc:
            raise top_level_error(exc) from exc
        return build_connection(
            rows, limit=limit, key=lambda e: (e.at, e.id), node=ConsentEventType.from_model
        )

    @strawberry.field(description="Consent requests waiting for my answer.")
    async def my_consent_requests(self, info: KInfo) -> list[ConsentRequestType]:
        resident = await info.context.resident()
        async with info.context.db.session() as session:
            rows = await service.pending_requests(session, resident)
        return [ConsentRequestType.from_model(r) for r in rows]

    @strawberry.field(description="Who read my data: viewer, items, purpose, time; newest first.")
    async def my_data_access_log(
        self,
        info: KInfo,
        first: Annotated[int | None, strawberry.argument(description=FIRST_DESCRIPTION)] = 20,
        after: str | None = None,
    ) -> Connection[DataAccessType]:
        resident = await info.context.resident()
        try:
            limit = page_size(first)
            async with info.context.db.session() as session:
                rows = await service.access_log(
                    session, resident.id, after=decode_cursor(after), limit=limit + 1
                )
        except DomainError as exc:
            raise top_level_error(exc) from exc
        return build_connection(
            rows, limit=limit, key=lambda r: (r.accessed_at, r.id), node=DataAccessType.from_model
        )

    @strawberry.field(
        description="A person's data for a purpose, limited to what their consent allows you."
    )
    async def personal_data(self, info: KInfo, input: PersonalDataInput) -> PersonalDataResult:
        context = info.context
        if not context.principal.is_resident and not context.principal.is_system_client:
            raise AuthenticationRequired()
        viewer = await context.viewer()
        try:
            subject_id = None
            if input.subject_id is not None:
                try:
                    subject_id = decode_id("Resident", input.subject_id, field="subjectId")
                except NotFound:
                    subject_id = None  # a malformed id looks like anyone who shares nothing
            async with context.db.transaction() as session:
                if subject_id is None and input.subject is not None:
                    subject_id = await enforcement.subject_id_of(session, subject=input.subject)
                data = await enforcement.read_personal_data(
                    session,
                    viewer,
                    subject_id=subject_id,
                    purpose_code=input.purpose,
                    items=input.items,
                    meta=context.request_meta(),
                )
        except NotPermitted as exc:
            return AccessDeniedType(
                code=exc.code, field=exc.field, message=exc.message, message_ja=exc.message_ja
            )
        except DomainError as exc:
            raise top_level_error(exc) from exc
        return PersonalDataType.from_result(data)
