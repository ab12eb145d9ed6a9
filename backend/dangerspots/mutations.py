"""Danger-spot mutations: residents report, moderators decide."""

from __future__ import annotations

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from ..api.context import KInfo
from ..api.errors import UserError
from ..api.ids import decode_id
from ..api.mutations import as_viewer
from ..api.scalars import GeoJSON
from ..principal import Viewer
from . import service
from .models import SpotKind, SpotScope
from .service import ModerationAction
from .types import DangerSpotActionEnum, DangerSpotKindEnum, DangerSpotScopeEnum, DangerSpotType


@strawberry.input
class ReportDangerSpotInput:
    kind: DangerSpotKindEnum
    geometry: GeoJSON = strawberry.field(
        description="GeoJSON Point, or a Polygon (at most 200 vertices and 0.25 km²)"
    )
    note: str | None = strawberry.field(default=None, description="At most 500 characters")
    scope: DangerSpotScopeEnum = strawberry.field(
        default=SpotScope.EVERYONE, description="Who may see it (default EVERYONE)"
    )


@strawberry.input
class ModerateDangerSpotInput:
    id: strawberry.ID
    action: DangerSpotActionEnum
    merge_into: strawberry.ID | None = strawberry.field(
        default=None,
        description="MERGE: the report this one repeats (same kind, within a few metres)",
    )


@strawberry.type
class DangerSpotPayload:
    danger_spot: DangerSpotType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class DangerSpotMutations:
    @strawberry.mutation(
        description=(
            "Report a danger spot (pending until city staff or your town association's "
            "leaders approve it; it expires after 72 hours by default). Add a photo with "
            "POST /danger-spots/photo?id=<id>. At most 10 reports an hour."
        )
    )
    async def report_danger_spot(
        self, info: KInfo, input: ReportDangerSpotInput
    ) -> DangerSpotPayload:
        settings = info.context.settings

        async def work(session: AsyncSession, viewer: Viewer) -> DangerSpotPayload:
            report = service.SpotReport(
                kind=SpotKind(input.kind),
                geometry=input.geometry,
                scope=SpotScope(input.scope),
                note=input.note,
            )
            view = await service.report_spot(session, settings, viewer, report)
            return DangerSpotPayload(danger_spot=DangerSpotType.from_view(view))

        return await as_viewer(info, DangerSpotPayload, work)

    @strawberry.mutation(
        description=(
            "Approve (routes then avoid it), reject, resolve, or merge into a duplicate a "
            "danger spot you moderate."
        )
    )
    async def moderate_danger_spot(
        self, info: KInfo, input: ModerateDangerSpotInput
    ) -> DangerSpotPayload:
        settings = info.context.settings

        async def work(session: AsyncSession, viewer: Viewer) -> DangerSpotPayload:
            spot_id = decode_id(service.GRAPHQL_TYPE, input.id)
            merge_into = (
                decode_id(service.GRAPHQL_TYPE, input.merge_into, field="mergeInto")
                if input.merge_into is not None
                else None
            )
            view = await service.moderate(
                session,
                settings,
                viewer,
                spot_id=spot_id,
                action=ModerationAction(input.action),
                merge_into=merge_into,
            )
            return DangerSpotPayload(danger_spot=DangerSpotType.from_view(view))

        return await as_viewer(info, DangerSpotPayload, work)
