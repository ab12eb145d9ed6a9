"""Alert queries: what concerns me, one alert, and the staff's lists."""

from __future__ import annotations

from typing import Annotated

import strawberry

from ..api.context import KInfo
from ..api.errors import top_level_error
from ..api.ids import decode_id
from ..api.pagination import (
    Connection,
    build_connection,
    decode_cursor,
    first_description,
    page_size,
)
from ..errors import DomainError, NotFound
from . import service
from .types import AlertRejectionType, AlertType, MyAlertsType


@strawberry.type
class AlertQueries:
    @strawberry.field(
        description=(
            "Active alerts concerning any of your places, and the homes of family members who "
            "share family_safety with you: am I subject to evacuation?"
        )
    )
    async def my_alerts(self, info: KInfo) -> MyAlertsType:
        viewer = await info.context.viewer()
        if viewer.resident_id is None:
            await info.context.resident()  # raises the typed UNAUTHENTICATED error
        try:
            async with info.context.db.session() as session:
                result = await service.my_alerts(session, viewer, info.context.request_meta())
        except DomainError as exc:
            raise top_level_error(exc) from exc
        return MyAlertsType.from_result(result)

    @strawberry.field(description="One alert by id (with its areas as GeoJSON), or null.")
    async def alert(self, info: KInfo, id: strawberry.ID) -> AlertType | None:
        principal = await info.context.staff_principal()
        try:
            async with info.context.db.session() as session:
                alert = await service.get_alert(session, principal, decode_id("Alert", id))
        except NotFound:
            return None
        return AlertType.from_model(alert)

    @strawberry.field(
        description="Alerts owned by or covering a municipality, newest first; its staff only."
    )
    async def alerts(
        self,
        info: KInfo,
        municipality_code: str,
        include_inactive: bool = False,
        include_exercises: bool = False,
        first: Annotated[int, strawberry.argument(description=first_description())] = 20,
        after: str | None = None,
    ) -> Connection[AlertType]:
        principal = await info.context.staff_principal()
        try:
            limit = page_size(first)
            async with info.context.db.session() as session:
                rows = await service.staff_alerts(
                    session,
                    principal,
                    municipality_code=municipality_code,
                    include_inactive=include_inactive,
                    include_exercises=include_exercises,
                    limit=limit + 1,
                    before=decode_cursor(after),
                )
        except DomainError as exc:
            raise top_level_error(exc) from exc
        return build_connection(
            rows, limit=limit, key=lambda a: (a.updated_at, a.id), node=AlertType.from_model
        )

    @strawberry.field(description="Alert documents refused at ingest, newest first; staff only.")
    async def alert_rejections(
        self,
        info: KInfo,
        first: Annotated[int, strawberry.argument(description=first_description())] = 20,
    ) -> list[AlertRejectionType]:
        principal = await info.context.staff_principal()
        try:
            limit = page_size(first)
            async with info.context.db.session() as session:
                rows = await service.rejections(session, principal, limit=limit, before=None)
        except DomainError as exc:
            raise top_level_error(exc) from exc
        return [
            AlertRejectionType(
                received_at=r.received_at,
                via=r.via,
                name=r.name,
                size=r.size,
                sha256=r.sha256,
                reason=r.reason,
                reason_ja=r.reason_ja,
                client=r.client,
            )
            for r in rows
        ]
