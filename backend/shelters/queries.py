"""Shelter queries: nearest shelters, one shelter, and the map layer."""

from __future__ import annotations

from typing import Annotated

import strawberry

from ..api.context import KInfo
from ..api.errors import top_level_error
from ..api.ids import decode_id
from ..api.inputs import BoundingBoxInput, CoordinatesInput
from ..api.pagination import first_description
from ..api.scalars import GeoJSON
from ..errors import DomainError, NotFound
from ..hazards.api_types import HazardTypeEnum
from . import service
from .types import ShelterKindEnum, ShelterType, shelter_feature_collection


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
