"""GraphQL types of municipalities."""

from __future__ import annotations

import strawberry

from .models import Municipality
from .reference import with_check_digit


@strawberry.type(name="Municipality", description="A municipality (JIS X 0402 code, e.g. 07202).")
class MunicipalityType:
    code: str = strawberry.field(description="5-digit JIS X 0402 code without check digit")
    local_government_code: str = strawberry.field(
        description="6-digit 全国地方公共団体コード with check digit"
    )
    prefecture_code: str
    name_ja: str
    name_kana: str
    name_en: str
    has_boundary: bool = strawberry.field(
        description="whether a boundary is imported, so homes inside it are located here"
    )

    @classmethod
    def from_model(cls, municipality: Municipality) -> MunicipalityType:
        return cls(
            code=municipality.code,
            local_government_code=with_check_digit(municipality.code),
            prefecture_code=municipality.prefecture_code,
            name_ja=municipality.name_ja,
            name_kana=municipality.name_kana,
            name_en=municipality.name_en,
            has_boundary=municipality.boundary_geojson is not None,
        )


@strawberry.type(description="Counts for a municipality's staff dashboard.")
class MunicipalityDashboard:
    municipality: MunicipalityType
    registered_residents: int = strawberry.field(
        description="residents whose home municipality is this one"
    )
    saved_places: int
    homes: int
