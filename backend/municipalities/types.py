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
    prefecture_code: str = strawberry.field(description="2-digit prefecture code, e.g. 07")
    prefecture_name_ja: str = strawberry.field(description="prefecture name, e.g. 福島県")
    name_ja: str = strawberry.field(description="name in Japanese, e.g. 会津若松市, 仙台市青葉区")
    name_kana: str | None = strawberry.field(
        description="reading in hiragana; null where no source gives it (wards of 政令市)"
    )
    name_en: str | None = strawberry.field(
        description=(
            "English name; written for Fukushima's municipalities, null elsewhere (show nameJa)"
        )
    )
    designated_city_code: str | None = strawberry.field(
        description="for a ward of a designated city (政令市), the city's code (04100 for 青葉区)"
    )
    served: bool = strawberry.field(
        description=(
            "whether this installation serves the municipality (staff roles, system clients); "
            "places, shelters and boundaries work everywhere"
        )
    )
    has_boundary: bool = strawberry.field(
        description="whether a boundary is imported, so homes inside it are located here"
    )

    @classmethod
    def from_model(cls, municipality: Municipality) -> MunicipalityType:
        return cls(
            code=municipality.code,
            local_government_code=with_check_digit(municipality.code),
            prefecture_code=municipality.prefecture_code,
            prefecture_name_ja=municipality.prefecture_name_ja,
            name_ja=municipality.name_ja,
            name_kana=municipality.name_kana,
            name_en=municipality.name_en,
            designated_city_code=municipality.designated_city_code,
            served=municipality.served,
            has_boundary=municipality.min_lon is not None,  # set with the boundary
        )


@strawberry.type(description="Counts for a municipality's staff dashboard.")
class MunicipalityDashboard:
    municipality: MunicipalityType = strawberry.field(description="the municipality counted")
    registered_residents: int = strawberry.field(
        description="residents whose home municipality is this one"
    )
    saved_places: int = strawberry.field(description="saved places located in the municipality")
    homes: int = strawberry.field(description="home places located in the municipality")
