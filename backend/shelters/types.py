"""GraphQL types of shelters."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import strawberry

from ..api.context import KInfo
from ..api.ids import encode_id
from ..api.scalars import GeoJSON, point_geojson
from ..hazards.api_types import HazardTypeEnum
from ..hazards.types import HazardType
from ..municipalities.loaders import load_municipality
from ..municipalities.types import MunicipalityType
from .models import Shelter, ShelterStatus
from .records import ShelterKind

if TYPE_CHECKING:
    ShelterKindEnum = ShelterKind
    ShelterStatusEnum = ShelterStatus
else:
    ShelterKindEnum = strawberry.enum(
        ShelterKind,
        name="ShelterKind",
        description=(
            "指定緊急避難場所 (emergency site), 指定避難所 (evacuation shelter), 福祉避難所."
        ),
    )
    ShelterStatusEnum = strawberry.enum(ShelterStatus, name="ShelterStatus")


@strawberry.type(name="Shelter", description="A designated evacuation site and/or shelter.")
class ShelterType:
    id: strawberry.ID
    common_id: str = strawberry.field(description="GSI 共通ID (the emergency site's if both)")
    name: str
    address: str | None
    municipality_code: str
    latitude: float
    longitude: float
    kinds: list[ShelterKindEnum]
    hazard_types: list[HazardTypeEnum] = strawberry.field(
        description="hazards the place is designated for (emergency sites)"
    )
    target_group: str | None = strawberry.field(description="受入対象者 of an evacuation shelter")
    capacity: int | None
    elevation_meters: float | None
    status: ShelterStatusEnum
    occupancy: int | None
    status_updated_at: datetime | None
    updated_at: datetime
    distance_meters: float | None = strawberry.field(
        default=None, description="geodesic distance from `near`; null outside such a query"
    )

    @strawberry.field(description="The point as GeoJSON, [longitude, latitude].")
    def location(self) -> GeoJSON:
        return point_geojson(self.latitude, self.longitude)

    @strawberry.field
    async def municipality(self, info: KInfo) -> MunicipalityType | None:
        municipality = await load_municipality(info.context, self.municipality_code)
        return MunicipalityType.from_model(municipality) if municipality else None

    @classmethod
    def from_model(cls, shelter: Shelter, distance_m: float | None = None) -> ShelterType:
        return cls(
            id=strawberry.ID(encode_id("Shelter", shelter.id)),
            common_id=shelter.common_id,
            name=shelter.name,
            address=shelter.address,
            municipality_code=shelter.municipality_code,
            latitude=shelter.latitude,
            longitude=shelter.longitude,
            kinds=shelter.kinds,
            hazard_types=shelter.hazard_types,
            target_group=shelter.target_group,
            capacity=shelter.capacity,
            elevation_meters=shelter.elevation_m,
            status=ShelterStatus(shelter.status),
            occupancy=shelter.occupancy,
            status_updated_at=shelter.status_updated_at,
            updated_at=shelter.updated_at,
            distance_meters=None if distance_m is None else round(distance_m, 1),
        )


def _names(values: Sequence[ShelterKind | HazardType]) -> list[str]:
    return [value.name for value in values]


def shelter_feature_collection(shelters: Sequence[Shelter], *, truncated: bool) -> Any:
    """Shelters as a GeoJSON FeatureCollection of Points for the map."""
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": encode_id("Shelter", shelter.id),
                "geometry": point_geojson(shelter.latitude, shelter.longitude),
                "properties": {
                    "name": shelter.name,
                    "address": shelter.address,
                    "municipalityCode": shelter.municipality_code,
                    "kinds": _names(shelter.kinds),
                    "hazardTypes": _names(shelter.hazard_types),
                    "status": ShelterStatus(shelter.status).name,
                    "capacity": shelter.capacity,
                    "occupancy": shelter.occupancy,
                },
            }
            for shelter in shelters
        ],
        "truncated": truncated,
    }
