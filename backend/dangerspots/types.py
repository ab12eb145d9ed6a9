"""GraphQL types of danger spots: the spot as its viewer may see it, and the map's GeoJSON."""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

import strawberry

from ..api.ids import encode_id
from ..api.scalars import GeoJSON
from .models import SpotKind, SpotScope, SpotStatus
from .service import GRAPHQL_TYPE, ModerationAction, SpotMap, SpotView

if TYPE_CHECKING:
    DangerSpotKindEnum = SpotKind
    DangerSpotStatusEnum = SpotStatus
    DangerSpotScopeEnum = SpotScope
    DangerSpotActionEnum = ModerationAction
else:
    DangerSpotKindEnum = strawberry.enum(
        SpotKind, name="DangerSpotKind", description="What the danger is."
    )
    DangerSpotStatusEnum = strawberry.enum(
        SpotStatus,
        name="DangerSpotStatus",
        description="Moderation state; EXPIRED once past expiresAt while pending or published.",
    )
    DangerSpotScopeEnum = strawberry.enum(
        SpotScope,
        name="DangerSpotScope",
        description=(
            "Who may see the report: EVERYONE (once approved), my COMMUNITY (town "
            "associations) or FAMILY (groups) at once, or city STAFF only. The reporter "
            "and moderators always see it."
        ),
    )
    DangerSpotActionEnum = strawberry.enum(
        ModerationAction, name="DangerSpotModeration", description="A moderator's decision."
    )

PHOTO_PATH = "/danger-spots/photo"


def spot_id(view: SpotView) -> str:
    return encode_id(GRAPHQL_TYPE, view.spot.id)


def _photo_url(view: SpotView) -> str | None:
    return f"{PHOTO_PATH}?id={spot_id(view)}" if view.spot.photo_name else None


@strawberry.type(name="DangerSpot", description="A reported danger spot (危険箇所).")
class DangerSpotType:
    id: strawberry.ID
    kind: DangerSpotKindEnum
    status: DangerSpotStatusEnum
    scope: DangerSpotScopeEnum
    note: str | None
    geometry: GeoJSON = strawberry.field(description="GeoJSON Point or Polygon as reported")
    latitude: float = strawberry.field(description="The point, or a point inside the polygon")
    longitude: float
    municipality_code: str
    reported_at: datetime
    expires_at: datetime
    moderated_at: datetime | None
    in_open_event: bool = strawberry.field(
        description="posted while a disaster event covering it was open"
    )
    merged_into_id: strawberry.ID | None = strawberry.field(
        description="the report this duplicate was merged into"
    )
    photo_url: str | None = strawberry.field(
        description="GET it with your bearer token (only viewers who may see the spot)"
    )
    reported_by_me: bool
    can_moderate: bool = strawberry.field(description="you may approve, reject, resolve, merge")
    reporter_id: strawberry.ID | None = strawberry.field(
        description="the reporter (a Resident id): city staff of the municipality only"
    )
    moderated_by: str | None = strawberry.field(
        description="who moderated it: city staff of the municipality only"
    )

    @classmethod
    def from_view(cls, view: SpotView) -> DangerSpotType:
        spot = view.spot
        return cls(
            id=strawberry.ID(spot_id(view)),
            kind=SpotKind(spot.kind),
            status=view.status,
            scope=SpotScope(spot.scope),
            note=spot.note,
            geometry=GeoJSON(json.loads(spot.geometry_geojson)),
            latitude=spot.latitude,
            longitude=spot.longitude,
            municipality_code=spot.municipality_code,
            reported_at=spot.created_at,
            expires_at=spot.expires_at,
            moderated_at=spot.moderated_at,
            in_open_event=spot.event_id is not None,
            merged_into_id=(
                strawberry.ID(encode_id(GRAPHQL_TYPE, spot.merged_into_id))
                if spot.merged_into_id
                else None
            ),
            photo_url=_photo_url(view),
            reported_by_me=view.mine,
            can_moderate=view.can_moderate,
            reporter_id=(
                strawberry.ID(encode_id("Resident", spot.author_id))
                if view.staff and spot.author_id
                else None
            ),
            moderated_by=spot.moderated_by if view.staff else None,
        )


def spot_feature_collection(spot_map: SpotMap) -> Any:
    """The map's GeoJSON FeatureCollection (no reporter in it: the map is for everyone)."""
    features = [
        {
            "type": "Feature",
            "id": spot_id(view),
            "geometry": json.loads(view.spot.geometry_geojson),
            "properties": {
                "kind": SpotKind(view.spot.kind).name,
                "status": view.status.name,
                "scope": SpotScope(view.spot.scope).name,
                "note": view.spot.note,
                "reportedAt": view.spot.created_at.isoformat(),
                "expiresAt": view.spot.expires_at.isoformat(),
                "photoUrl": _photo_url(view),
                "reportedByMe": view.mine,
                "canModerate": view.can_moderate,
            },
        }
        for view in spot_map.views
    ]
    return {"type": "FeatureCollection", "features": features, "truncated": spot_map.truncated}
