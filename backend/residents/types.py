"""GraphQL types of the signed-in resident and their places."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from ..api.context import KInfo
from ..api.ids import encode_id
from ..api.scalars import GeoJSON, point_geojson
from ..municipalities.loaders import load_municipality
from ..municipalities.types import MunicipalityType
from . import service
from .models import Gender, Language, Place, PlaceKind, Resident

if TYPE_CHECKING:
    from ..api.schema import Me

if TYPE_CHECKING:
    GenderType = Gender
    LanguageType = Language
    PlaceKindType = PlaceKind
else:
    GenderType = strawberry.enum(Gender, name="Gender")
    LanguageType = strawberry.enum(Language, name="Language")
    PlaceKindType = strawberry.enum(PlaceKind, name="PlaceKind")


async def signed_in_resident(info: KInfo) -> Resident:
    """The signed-in resident's own record (the context loads it through this domain)."""
    resident = await info.context.resident()
    assert isinstance(resident, Resident)
    return resident


@strawberry.type(
    name="Place", description="A saved place: home, workplace, school, child's school."
)
class PlaceType:
    id: strawberry.ID
    kind: PlaceKindType
    label: str
    address: str | None
    latitude: float
    longitude: float
    municipality_code: str | None
    created_at: datetime

    @strawberry.field(description="The point as GeoJSON, [longitude, latitude].")
    def location(self) -> GeoJSON:
        return point_geojson(self.latitude, self.longitude)

    @classmethod
    def from_model(cls, place: Place) -> PlaceType:
        return cls(
            id=strawberry.ID(encode_id("Place", place.id)),
            kind=PlaceKind(place.kind),
            label=place.label,
            address=place.address,
            latitude=place.latitude,
            longitude=place.longitude,
            municipality_code=place.municipality_code,
            created_at=place.created_at,
        )


@strawberry.type
class ResidentMeFields:
    """The resident's own fields of ``Me``; other domains add theirs (e.g. family groups)
    and the assembly composes the ``Me`` type (``backend/api/schema.py``), so this domain
    needs to know none of them."""

    id: strawberry.ID
    display_name: str | None
    family_name: str | None
    given_name: str | None
    family_name_kana: str | None
    given_name_kana: str | None
    birth_date: date | None
    gender: GenderType
    phone: str | None
    address: str | None
    preferred_language: LanguageType
    municipality_chosen: bool = strawberry.field(
        description="true when chosen explicitly; false when derived from the home place"
    )
    home_municipality_code: strawberry.Private[str | None]

    @strawberry.field
    async def home_municipality(self, info: KInfo) -> MunicipalityType | None:
        municipality = await load_municipality(info.context, self.home_municipality_code)
        return MunicipalityType.from_model(municipality) if municipality else None

    @strawberry.field
    async def places(self, info: KInfo) -> list[PlaceType]:
        resident = await info.context.resident()
        async with info.context.db.session() as session:
            rows = await service.list_places(session, resident)
        return [PlaceType.from_model(p) for p in rows]

    @classmethod
    def from_model(cls, resident: Resident) -> ResidentMeFields:
        return cls(
            id=strawberry.ID(encode_id("Resident", resident.id)),
            display_name=resident.display_name,
            family_name=resident.family_name,
            given_name=resident.given_name,
            family_name_kana=resident.family_name_kana,
            given_name_kana=resident.given_name_kana,
            birth_date=resident.birth_date,
            gender=Gender(resident.gender),
            phone=resident.phone,
            address=resident.address,
            preferred_language=Language(resident.preferred_language),
            municipality_chosen=resident.municipality_chosen,
            home_municipality_code=resident.home_municipality_code,
        )


MeRef = Annotated["Me", strawberry.lazy("backend.api.schema")]


def me_of(resident: Resident) -> Me:
    """The composed ``Me`` of a resident (looked up lazily: the assembly defines it)."""
    from ..api.schema import Me

    return Me.from_model(resident)  # type: ignore[return-value]
