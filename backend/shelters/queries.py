"""Shelter queries: nearest shelters, one shelter, the map layer, stays, evacuees, needs."""

from __future__ import annotations

from typing import Annotated

import strawberry

from ..api.context import KInfo
from ..api.errors import top_level_error
from ..api.ids import decode_id
from ..api.inputs import BoundingBoxInput, CoordinatesInput
from ..api.pagination import (
    FIRST_DESCRIPTION,
    Connection,
    build_connection,
    decode_cursor,
    first_description,
    page_size,
)
from ..api.scalars import GeoJSON
from ..errors import DomainError, NotFound
from ..hazards.api_types import HazardTypeEnum
from . import checkin, needs, service
from .types import (
    ShelterEvacueeType,
    ShelterKindEnum,
    ShelterNeedType,
    ShelterStayType,
    ShelterType,
    shelter_feature_collection,
)


@strawberry.type
class ShelterQueries:
    @strawberry.field(description="Shelters nearest to a point (geodesic distance), nearest first.")
    async def shelters(
        self,
        info: KInfo,
        near: CoordinatesInput,
        hazard_type: HazardTypeEnum | None = None,
        kind: ShelterKindEnum | None = None,
        open_only: bool = False,
        first: Annotated[
            int, strawberry.argument(description=first_description(service.MAX_NEAREST, 10))
        ] = 10,
        max_distance_meters: float | None = None,
    ) -> list[ShelterType]:
        try:
            async with info.context.db.session() as session:
                found = await service.nearest_shelters(
                    session,
                    lat=near.latitude,
                    lon=near.longitude,
                    hazard_type=hazard_type,
                    kinds=[kind] if kind is not None else None,
                    open_only=open_only,
                    limit=first,
                    max_distance_m=max_distance_meters,
                    cache_size=info.context.settings.nearest_shelter_cache_size,
                )
        except DomainError as exc:
            raise top_level_error(exc) from exc
        return [ShelterType.from_model(n.shelter, n.distance_m) for n in found]

    @strawberry.field(description="One shelter by id, or null.")
    async def shelter(self, info: KInfo, id: strawberry.ID) -> ShelterType | None:
        try:
            async with info.context.db.session() as session:
                shelter = await service.get_shelter(session, decode_id("Shelter", id))
        except NotFound:
            return None
        return ShelterType.from_model(shelter)

    @strawberry.field(
        name="sheltersGeoJSON",
        description=(
            "Shelters in a map view (bbox) or a municipality as a GeoJSON FeatureCollection of "
            f"Points, at most {service.MAX_MAP_FEATURES}; `truncated` is true when capped."
        ),
    )
    async def shelters_geojson(
        self,
        info: KInfo,
        bbox: BoundingBoxInput | None = None,
        municipality_code: str | None = None,
        hazard_type: HazardTypeEnum | None = None,
        kind: ShelterKindEnum | None = None,
        open_only: bool = False,
    ) -> GeoJSON:
        try:
            async with info.context.db.session() as session:
                shelters, truncated = await service.shelters_in_area(
                    session,
                    bbox=bbox.as_tuple() if bbox is not None else None,
                    municipality_code=municipality_code,
                    hazard_type=hazard_type,
                    kinds=[kind] if kind is not None else None,
                    open_only=open_only,
                )
        except DomainError as exc:
            raise top_level_error(exc) from exc
        return shelter_feature_collection(shelters, truncated=truncated)

    @strawberry.field(description="Where I am checked in now (null when nowhere).")
    async def my_shelter_stay(self, info: KInfo) -> ShelterStayType | None:
        resident = await info.context.resident()
        async with info.context.db.session() as session:
            stay = await checkin.current_stay(session, resident.id)
        return ShelterStayType.from_stay(stay) if stay else None

    @strawberry.field(
        description="Who is checked in at a shelter now, newest first: for its municipality's "
        "shelter managers and staff. Residents show only what they consented to "
        "(shelter_registration); every such read is logged."
    )
    async def shelter_evacuees(
        self,
        info: KInfo,
        shelter_id: strawberry.ID,
        first: Annotated[int | None, strawberry.argument(description=FIRST_DESCRIPTION)] = 20,
        after: str | None = None,
    ) -> Connection[ShelterEvacueeType] | None:
        # Nullable: a refusal is an error on this field only. An error on a non-null root
        # field makes graphql-core cancel its sibling resolvers (e.g. `shelter` of the same
        # screen) in the middle of their database work.
        await info.context.resident()
        viewer = await info.context.viewer()
        try:
            limit = page_size(first)
            cursor = decode_cursor(after)
            # The reads of consented items are logged in the transaction that returns them.
            async with info.context.db.transaction() as session:
                rows = await checkin.evacuees(
                    session,
                    viewer,
                    shelter_id=decode_id("Shelter", shelter_id, field="shelterId"),
                    after=cursor,
                    limit=limit,
                    meta=info.context.request_meta(),
                )
        except DomainError as exc:
            raise top_level_error(exc) from exc
        return build_connection(
            rows,
            limit=limit,
            key=lambda e: (e.stay.checked_in_at, e.stay.id),
            node=ShelterEvacueeType.from_evacuee,
        )

    @strawberry.field(
        description="What a shelter asks for: open needs, newest first (public); with "
        f"includeClosed also the newest {needs.MAX_CLOSED_LISTED} fulfilled or withdrawn."
    )
    async def shelter_needs(
        self, info: KInfo, shelter_id: strawberry.ID, include_closed: bool = False
    ) -> list[ShelterNeedType]:
        try:
            async with info.context.db.session() as session:
                found = await needs.shelter_needs(
                    session,
                    shelter_id=decode_id("Shelter", shelter_id, field="shelterId"),
                    include_closed=include_closed,
                )
        except DomainError as exc:
            raise top_level_error(exc) from exc
        return [ShelterNeedType.from_model(need) for need in found]
