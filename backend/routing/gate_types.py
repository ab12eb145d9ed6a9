"""GraphQL types of ticket gate openings."""

from __future__ import annotations

import json
from datetime import datetime

import strawberry

from ..api.errors import UserError
from ..api.ids import encode_id
from ..api.scalars import GeoJSON
from .gates import GateOpening

GRAPHQL_TYPE = "TicketGateOpening"


@strawberry.type(
    name="TicketGateOpening",
    description="An area where station ticket gates and fee gates stand open in a disaster "
    "event (the railway operator opened them): routes may pass gates there while it and its "
    "event are open.",
)
class TicketGateOpeningType:
    id: strawberry.ID
    event_id: strawberry.ID = strawberry.field(description="the DisasterEvent")
    area: GeoJSON = strawberry.field(description="GeoJSON Polygon or MultiPolygon")
    note: str | None
    opened_at: datetime
    opened_by: str = strawberry.field(description="the staff member's regional-ID subject")
    closed_at: datetime | None
    closed_by: str | None
    active: bool = strawberry.field(
        description="routes pass its gates now: neither it nor its event is closed"
    )

    @classmethod
    def from_opening(cls, item: GateOpening) -> TicketGateOpeningType:
        opening = item.opening
        return cls(
            id=strawberry.ID(encode_id(GRAPHQL_TYPE, opening.id)),
            event_id=strawberry.ID(encode_id("DisasterEvent", opening.event_id)),
            area=GeoJSON(json.loads(opening.area_geojson)),
            note=opening.note,
            opened_at=opening.opened_at,
            opened_by=opening.opened_by,
            closed_at=opening.closed_at,
            closed_by=opening.closed_by,
            active=item.active,
        )


@strawberry.type(description="The opening as the mutation left it, or why not.")
class TicketGateOpeningPayload:
    opening: TicketGateOpeningType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)
