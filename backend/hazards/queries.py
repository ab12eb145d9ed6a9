"""Hazard queries: zones at a point, at my places, and the map layer of a view."""

from __future__ import annotations

import strawberry

from ..api.context import KInfo
from ..api.errors import top_level_error
from ..api.inputs import BoundingBoxInput
from ..api.scalars import GeoJSON
from ..errors import DomainError
from ..residents import service as residents_service
from ..residents.types import PlaceType
from . import service
from .api_types import (
    HazardTypeEnum,
    HazardZoneType,
    PlaceHazardsType,
    hazard_feature_collection,
)


@strawberry.type
class HazardQueries:
    @strawberry.field(description="Hazard zones covering a point (public information).")
    async def hazards_at(
        self,
        info: KInfo,
        latitude: float,
        longitude: float,
        types: list[HazardTypeEnum] | None = None,
    ) -> list[HazardZoneType]:
        try:
            async with info.context.db.session() as session:
                zones = await service.zones_at(session, lat=latitude, lon=longitude, types=types)
        except DomainError as exc:
            raise top_level_error(exc) from exc
        return [HazardZoneType.from_info(z) for z in zones]

    @strawberry.field(description="The hazard zones at each of my saved places.")
    async def my_hazards(
        self,
        info: KInfo,
        types: list[HazardTypeEnum] | None = None,
    ) -> list[PlaceHazardsType]:
        resident = await info.context.resident()
        async with info.context.db.session() as session:
            places = await residents_service.list_places(session, resident)
            zones = await service.zones_at_points(
                session, points=[(p.latitude, p.longitude) for p in places], types=types
            )
        return [
            PlaceHazardsType(
                place=PlaceType.from_model(place),
                zones=[HazardZoneType.from_info(z) for z in at_place],
            )
            for place, at_place in zip(places, zones, strict=True)
        ]

    @strawberry.field(
        description=(
            "Hazard zones in a map view as a GeoJSON FeatureCollection, clipped to the box and "
            "simplified to its scale; `truncated` is true when features were left out."
        )
    )
    async def hazard_map(
        self,
        info: KInfo,
        bbox: BoundingBoxInput,
        types: list[HazardTypeEnum] | None = None,
    ) -> GeoJSON:
        try:
            async with info.context.db.session() as session:
                result = await service.hazard_map(session, bbox=bbox.as_tuple(), types=types)
        except DomainError as exc:
            raise top_level_error(exc) from exc
        return hazard_feature_collection(result)
