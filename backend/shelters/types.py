"""GraphQL types of shelters."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import strawberry

from ..api.context import KInfo
from ..api.ids import encode_id
from ..api.scalars import GeoJSON, point_geojson
from ..consent.types import PersonalDataType
from ..hazards.api_types import HazardTypeEnum
from ..hazards.types import HazardType
from ..municipalities.loaders import load_municipality
from ..municipalities.types import MunicipalityType
from .checkin import Evacuee, Stay
from .codes import check_in_code
from .loaders import open_needs_loader
from .models import NeedKind, NeedState, Shelter, ShelterNeed, ShelterStatus, StayMethod
from .records import ShelterKind

if TYPE_CHECKING:
    ShelterKindEnum = ShelterKind
    ShelterStatusEnum = ShelterStatus
    StayMethodEnum = StayMethod
    NeedKindEnum = NeedKind
    NeedStateEnum = NeedState
else:
    ShelterKindEnum = strawberry.enum(
        ShelterKind,
        name="ShelterKind",
        description=(
            "指定緊急避難場所 (emergency site), 指定避難所 (evacuation shelter), 福祉避難所."
        ),
    )
    ShelterStatusEnum = strawberry.enum(ShelterStatus, name="ShelterStatus")
    StayMethodEnum = strawberry.enum(
        StayMethod,
        name="ShelterStayMethod",
        description="How a stay was recorded: by the resident (in the app or by the QR code), "
        "by a family member for them, or by the shelter's reception.",
    )
    NeedKindEnum = strawberry.enum(
        NeedKind, name="ShelterNeedKind", description="物資 (supplies), ボランティア, other."
    )
    NeedStateEnum = strawberry.enum(NeedState, name="ShelterNeedState")


@strawberry.type(name="ShelterNeed", description="What a shelter asks for; public.")
class ShelterNeedType:
    id: strawberry.ID
    kind: NeedKindEnum
    text_ja: str
    text_en: str | None
    quantity: int | None = strawberry.field(description="How many are needed, if counted")
    state: NeedStateEnum
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_model(cls, need: ShelterNeed) -> ShelterNeedType:
        return cls(
            id=strawberry.ID(encode_id("ShelterNeed", need.id)),
            kind=NeedKind(need.kind),
            text_ja=need.text_ja,
            text_en=need.text_en,
            quantity=need.quantity,
            state=NeedState(need.state),
            created_at=need.created_at,
            updated_at=need.updated_at,
        )


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
    check_in_code: str = strawberry.field(
        description="Text of the QR code posted at the entrance (checkInToShelter takes it)"
    )
    shelter_id: strawberry.Private[uuid.UUID]
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

    @strawberry.field(description="What the shelter asks for now (open needs), newest first.")
    async def needs(self, info: KInfo) -> list[ShelterNeedType]:
        found = await info.context.loader("shelter_open_needs", open_needs_loader).load(
            self.shelter_id
        )
        return [ShelterNeedType.from_model(need) for need in found]

    @classmethod
    def from_model(cls, shelter: Shelter, distance_m: float | None = None) -> ShelterType:
        return cls(
            id=strawberry.ID(encode_id("Shelter", shelter.id)),
            check_in_code=check_in_code(shelter.id),
            shelter_id=shelter.id,
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


@strawberry.type(name="ShelterStay", description="Someone's stay at a shelter.")
class ShelterStayType:
    id: strawberry.ID
    shelter: ShelterType
    checked_in_at: datetime
    checked_out_at: datetime | None
    how: StayMethodEnum
    party_size: int = strawberry.field(description="People the stay counts in the occupancy")

    @classmethod
    def from_stay(cls, stay: Stay) -> ShelterStayType:
        return cls(
            id=strawberry.ID(encode_id("ShelterStay", stay.stay.id)),
            shelter=ShelterType.from_model(stay.shelter),
            checked_in_at=stay.stay.checked_in_at,
            checked_out_at=stay.stay.checked_out_at,
            how=StayMethod(stay.stay.how),
            party_size=stay.stay.party_size,
        )


@strawberry.type(
    name="ShelterEvacuee",
    description="A current stay as the reception sees it: a resident's data only as far as "
    "their shelter_registration consent allows, or the label of a party without the app.",
)
class ShelterEvacueeType:
    id: strawberry.ID = strawberry.field(description="The stay (recordShelterDeparture takes it)")
    checked_in_at: datetime
    how: StayMethodEnum
    party_size: int
    registered: bool = strawberry.field(description="A resident with the app (not a label)")
    label: str | None = strawberry.field(description="The reception's label of a party")
    person: PersonalDataType | None = strawberry.field(
        description="The consented items (shelter_registration); null when none"
    )

    @classmethod
    def from_evacuee(cls, evacuee: Evacuee) -> ShelterEvacueeType:
        stay = evacuee.stay
        return cls(
            id=strawberry.ID(encode_id("ShelterStay", stay.id)),
            checked_in_at=stay.checked_in_at,
            how=StayMethod(stay.how),
            party_size=stay.party_size,
            registered=stay.resident_id is not None,
            label=stay.label,
            person=PersonalDataType.from_result(evacuee.person) if evacuee.person else None,
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
