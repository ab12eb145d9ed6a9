"""GraphQL types of hazard zones.

(``types.py`` in this package is the pure HazardType enum used by the parsers and shelters.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import strawberry
from shapely.geometry import mapping

from ..api.ids import encode_id
from ..residents.types import PlaceType
from .service import HazardMap, ZoneInfo, rank_labels
from .types import HazardType

if TYPE_CHECKING:
    HazardTypeEnum = HazardType
else:
    HazardTypeEnum = strawberry.enum(
        HazardType, name="HazardType", description="Hazards of 災害対策基本法 (GSI column order)."
    )


@strawberry.type(name="HazardZone", description="A hazard zone (e.g. a flood depth band).")
class HazardZoneType:
    id: strawberry.ID
    hazard_type: HazardTypeEnum
    rank: int | None = strawberry.field(
        description="flood-type: MLIT depth rank 1-6; landslide: 1 warning, 2 special warning"
    )
    depth_meters: float | None
    name: str | None
    source: str
    label_ja: str = strawberry.field(description="the hazard, e.g. 洪水")
    label_en: str
    rank_label_ja: str | None = strawberry.field(description="e.g. 0.5m以上3m未満")
    rank_label_en: str | None

    @classmethod
    def from_info(cls, zone: ZoneInfo) -> HazardZoneType:
        labels = rank_labels(zone.hazard_type, zone.rank)
        return cls(
            id=strawberry.ID(encode_id("HazardZone", zone.id)),
            hazard_type=zone.hazard_type,
            rank=zone.rank,
            depth_meters=zone.depth_m,
            name=zone.name,
            source=zone.source,
            label_ja=zone.hazard_type.label_ja,
            label_en=zone.hazard_type.label_en,
            rank_label_ja=labels[0] if labels else None,
            rank_label_en=labels[1] if labels else None,
        )


@strawberry.type(name="PlaceHazards", description="The hazard zones at one of my places.")
class PlaceHazardsType:
    place: PlaceType
    zones: list[HazardZoneType]


def hazard_feature_collection(hazard_map: HazardMap) -> Any:
    """A GeoJSON FeatureCollection for the map, with a ``truncated`` foreign member."""
    features = []
    for zone, geometry in hazard_map.zones:
        item = HazardZoneType.from_info(zone)
        features.append(
            {
                "type": "Feature",
                "id": item.id,
                "geometry": mapping(geometry),
                "properties": {
                    "hazardType": zone.hazard_type.name,
                    "rank": item.rank,
                    "name": item.name,
                    "labelJa": item.label_ja,
                    "labelEn": item.label_en,
                    "rankLabelJa": item.rank_label_ja,
                    "rankLabelEn": item.rank_label_en,
                },
            }
        )
    return {"type": "FeatureCollection", "features": features, "truncated": hazard_map.truncated}
