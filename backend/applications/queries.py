"""Application queries: bundles of a city, prefill, my applications, the staff queue."""

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
from ..errors import DomainError, NotFound
from . import service
from .service import ApplicationView
from .types import (
    ApplicationBundleType,
    ApplicationStatusEnum,
    ApplicationType,
    PrefilledFormType,
)

First = Annotated[int | None, strawberry.argument(description=FIRST_DESCRIPTION)]


def _connection(views: list[ApplicationView], limit: int) -> Connection[ApplicationType]:
    return build_connection(
        views,
        limit=limit,
        key=lambda v: (v.application.created_at, v.application.id),
        node=ApplicationType.from_view,
    )


@strawberry.type
class ApplicationQueries:
    @strawberry.field(description="The bundled applications (一括申請) a municipality offers.")
    async def application_bundles(
        self, info: KInfo, municipality_code: str
    ) -> list[ApplicationBundleType]:
        try:
            async with info.context.db.session() as session:
                views = await service.list_bundles(session, municipality_code)
        except DomainError as exc:
            raise top_level_error(exc) from exc
        return [ApplicationBundleType.from_view(v) for v in views]

    @strawberry.field(
        description="For each form of a bundle, the fields filled from my profile and my "
        "household, with where each came from; only items I consented to share with the city "
        "for applications (purpose application_prefill). Nothing is sent."
    )
    async def prefill_application(
        self, info: KInfo, bundle: strawberry.ID
    ) -> list[PrefilledFormType]:
        await info.context.resident()
        viewer = await info.context.viewer()
        try:
            bundle_id = decode_id("ApplicationBundle", bundle, field="bundle")
            # Household members' items are logged reads: a transaction.
            async with info.context.db.transaction() as session:
                found = await service.prefill(
                    session, viewer, bundle_id=bundle_id, meta=info.context.request_meta()
                )
        except DomainError as exc:
            raise top_level_error(exc) from exc
        return [PrefilledFormType.from_prefill(p) for p in found]

    @strawberry.field(description="My applications and where each stands, newest first.")
    async def my_applications(
        self,
        info: KInfo,
        first: First = None,
        after: str | None = None,
    ) -> Connection[ApplicationType]:
        resident = await info.context.resident()
        try:
            limit, cursor = page_size(first), decode_cursor(after)
            async with info.context.db.session() as session:
                views = await service.my_applications(
                    session, resident.id, after=cursor, limit=limit
                )
        except DomainError as exc:
            raise top_level_error(exc) from exc
        return _connection(views, limit)

    @strawberry.field(
        description="Staff: the municipality's applications whose forms I review (a role of "
        "one of their approval steps), newest first, optionally of one status."
    )
    async def applications(
        self,
        info: KInfo,
        municipality_code: str,
        status: ApplicationStatusEnum | None = None,
        first: First = None,
        after: str | None = None,
    ) -> Connection[ApplicationType]:
        if info.context.principal.kind.value == "anonymous":
            raise AuthenticationRequired()
        principal = await info.context.staff_principal()
        try:
            limit, cursor = page_size(first), decode_cursor(after)
            async with info.context.db.session() as session:
                views = await service.staff_queue(
                    session,
                    principal,
                    municipality_code=municipality_code,
                    status=status,
                    after=cursor,
                    limit=limit,
                )
        except DomainError as exc:
            raise top_level_error(exc) from exc
        return _connection(views, limit)

    @strawberry.field(
        description="An application I sent, or one my municipality's reviewing staff may see; "
        "null otherwise."
    )
    async def application(self, info: KInfo, id: strawberry.ID) -> ApplicationType | None:
        if info.context.principal.kind.value == "anonymous":
            raise AuthenticationRequired()
        viewer = await info.context.viewer()
        try:
            application_id = decode_id("Application", id)
            async with info.context.db.session() as session:
                view = await service.read_application(session, viewer, application_id)
        except NotFound:
            return None
        except DomainError as exc:
            raise top_level_error(exc) from exc
        return ApplicationType.from_view(view)
