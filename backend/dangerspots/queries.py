"""Danger-spot queries: the map, one spot, my reports, the moderation queue."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Protocol

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from ..api.context import KInfo
from ..api.errors import top_level_error
from ..api.ids import decode_id
from ..api.inputs import BoundingBoxInput
from ..api.pagination import (
    FIRST_DESCRIPTION,
    Connection,
    build_connection,
    decode_cursor,
    page_size,
)
from ..api.scalars import GeoJSON
from ..errors import DomainError, NotFound
from ..principal import Viewer
from . import service
from .types import DangerSpotType, spot_feature_collection


async def any_viewer(info: KInfo) -> Viewer:
    """The caller as a viewer: a resident with roles, or anyone else (anonymous included)."""
    if info.context.principal.is_resident:
        return await info.context.viewer()
    return Viewer(principal=await info.context.staff_principal())


@strawberry.type
class DangerSpotQueries:
    @strawberry.field(
        description=(
            "Active danger spots (pending or approved, unexpired) in a map view that you may "
            "see, as a GeoJSON FeatureCollection (at most 0.5° a side, 1,000 spots; "
            "`truncated` when more). Anyone sees approved public reports."
        )
    )
    async def danger_spots(self, info: KInfo, bbox: BoundingBoxInput) -> GeoJSON:
        viewer = await any_viewer(info)
        try:
            async with info.context.db.session() as session:
                result = await service.spot_map(session, viewer, bbox=bbox.as_tuple())
        except DomainError as exc:
            raise top_level_error(exc) from exc
        return GeoJSON(spot_feature_collection(result))

    @strawberry.field(description="A danger spot you may see (any status), else null.")
    async def danger_spot(self, info: KInfo, id: strawberry.ID) -> DangerSpotType | None:
        viewer = await any_viewer(info)
        try:
            spot_id = decode_id(service.GRAPHQL_TYPE, id)
            async with info.context.db.session() as session:
                view = await service.get_spot(session, viewer, spot_id)
        except NotFound:
            return None
        return DangerSpotType.from_view(view)

    @strawberry.field(description="The danger spots I reported, newest first.")
    async def my_danger_spots(
        self,
        info: KInfo,
        first: Annotated[int | None, strawberry.argument(description=FIRST_DESCRIPTION)] = 20,
        after: str | None = None,
    ) -> Connection[DangerSpotType]:
        return await _page(info, service.my_spots, first, after)

    @strawberry.field(
        description=(
            "City staff (their municipalities) and town-association leaders (their members' "
            "EVERYONE and COMMUNITY reports): pending danger spots to moderate, oldest first."
        )
    )
    async def danger_spot_moderation_queue(
        self,
        info: KInfo,
        first: Annotated[int | None, strawberry.argument(description=FIRST_DESCRIPTION)] = 20,
        after: str | None = None,
    ) -> Connection[DangerSpotType]:
        return await _page(info, service.moderation_queue, first, after)


class _Lister(Protocol):
    async def __call__(
        self,
        session: AsyncSession,
        viewer: Viewer,
        *,
        after: tuple[datetime, uuid.UUID] | None,
        limit: int,
    ) -> list[service.SpotView]: ...


async def _page(
    info: KInfo, lister: _Lister, first: int | None, after: str | None
) -> Connection[DangerSpotType]:
    """One page of a signed-in viewer's list of spots."""
    viewer = await info.context.viewer()
    try:
        limit = page_size(first)
        async with info.context.db.session() as session:
            views = await lister(session, viewer, after=decode_cursor(after), limit=limit + 1)
    except DomainError as exc:
        raise top_level_error(exc) from exc
    return build_connection(
        views,
        limit=limit,
        key=lambda v: (v.spot.created_at, v.spot.id),
        node=DangerSpotType.from_view,
    )
