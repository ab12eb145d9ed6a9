"""Consent queries: the catalog, my consents, history, requests, access log, personal data."""

from __future__ import annotations

import strawberry

from ..api.context import KInfo
from ..api.errors import AuthenticationRequired, top_level_error
from ..api.ids import decode_id
from ..api.pagination import Connection, build_connection, decode_cursor, page_size
from ..errors import DomainError, NotFound, NotPermitted
from ..residents import repository as residents_repository
from . import repository, service
from .types import (
    AccessDeniedType,
    BundleType,
    CatalogType,
    ConsentEventType,
    ConsentRequestType,
    ConsentType,
    DataAccessType,
    DataItemType,
    PersonalDataResult,
    PersonalDataType,
    PurposeType,
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
    @strawberry.field(description="Data items, purposes and bundles a resident can consent to.")
    async def consent_catalog(self, info: KInfo) -> CatalogType:
        async with info.context.db.session() as session:
            items = await repository.data_items(session)
            purposes = await repository.purposes(session)
            bundles = await repository.bundles(session)
        return CatalogType(
            items=[DataItemType.from_model(i) for i in items],
            purposes=[PurposeType.from_model(p) for p in purposes],
            bundles=[BundleType.from_model(b) for b in bundles],
        )

    @strawberry.field(description="My consents; revoked and expired ones on request.")
    async def my_consents(self, info: KInfo, include_inactive: bool = False) -> list[ConsentType]:
        resident = await info.context.resident()
        async with info.context.db.session() as session:
            views = await service.list_grants(session, resident, include_inactive=include_inactive)
        return [ConsentType.from_view(v) for v in views]

    @strawberry.field(description="My consent history (granted, revoked, declined), newest first.")
    async def my_consent_history(
        self, info: KInfo, first: int | None = 20, after: str | None = None
    ) -> Connection[ConsentEventType]:
        resident = await info.context.resident()
        try:
            limit = page_size(first)
            async with info.context.db.session() as session:
                rows = await service.consent_history(
                    session, resident, after=decode_cursor(after), limit=limit + 1
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
        self, info: KInfo, first: int | None = 20, after: str | None = None
    ) -> Connection[DataAccessType]:
        resident = await info.context.resident()
        try:
            limit = page_size(first)
            async with info.context.db.session() as session:
                rows = await service.access_log(
                    session, resident, after=decode_cursor(after), limit=limit + 1
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
        if context.principal.kind.value == "anonymous":
            raise AuthenticationRequired()
        viewer = await context.viewer()
        try:
            async with context.db.transaction() as session:
                subject = None
                if input.subject_id is not None:
                    try:
                        subject_id = decode_id("Resident", input.subject_id, field="subjectId")
                        found = await residents_repository.get_many(session, [subject_id])
                        subject = found[0] if found else None
                    except NotFound:
                        subject = None
                elif input.subject is not None:
                    subject = await residents_repository.by_subject(session, input.subject)
                data = await service.read_personal_data(
                    session,
                    viewer,
                    subject=subject,
                    purpose_code=input.purpose,
                    items=input.items,
                    meta=context.request_meta(),
                )
        except NotPermitted as exc:
            return AccessDeniedType(
                code=exc.code.value, message=exc.message, message_ja=exc.message_ja
            )
        except DomainError as exc:
            raise top_level_error(exc) from exc
        return PersonalDataType.from_result(data)
