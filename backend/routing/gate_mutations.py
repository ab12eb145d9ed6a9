"""Staff mutations opening and closing ticket gates for a disaster event."""

from __future__ import annotations

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from ..api.context import KInfo
from ..api.ids import decode_id
from ..api.mutations import as_principal
from ..api.scalars import GeoJSON
from ..principal import Principal
from . import gates
from .gate_types import GRAPHQL_TYPE, TicketGateOpeningPayload, TicketGateOpeningType


@strawberry.input
class OpenTicketGatesInput:
    event_id: strawberry.ID = strawberry.field(description="an open DisasterEvent")
    area: GeoJSON = strawberry.field(
        description="where the gates stand open: a GeoJSON Polygon or MultiPolygon "
        f"(at most {gates.MAX_AREA_VERTICES} vertices)"
    )
    note: str | None = strawberry.field(
        default=None, description="e.g. which operator opened which station's gates"
    )


@strawberry.type
class TicketGateMutations:
    @strawberry.mutation(
        description="City staff of a municipality the event covers: mark ticket gates and fee "
        "gates open in an area while the event lasts (railway operators open them in a "
        "disaster); evacuation routes may then pass them there."
    )
    async def open_ticket_gates(
        self, info: KInfo, input: OpenTicketGatesInput
    ) -> TicketGateOpeningPayload:
        async def work(session: AsyncSession, principal: Principal) -> TicketGateOpeningPayload:
            opened = await gates.open_gates(
                session,
                principal,
                event_id=decode_id("DisasterEvent", input.event_id, field="eventId"),
                area=input.area,
                note=input.note,
            )
            return TicketGateOpeningPayload(opening=TicketGateOpeningType.from_opening(opened))

        return await as_principal(info, TicketGateOpeningPayload, work)

    @strawberry.mutation(
        description="City staff: the gates of this area are closed again; routes stop passing them."
    )
    async def close_ticket_gates(self, info: KInfo, id: strawberry.ID) -> TicketGateOpeningPayload:
        async def work(session: AsyncSession, principal: Principal) -> TicketGateOpeningPayload:
            closed = await gates.close_gates(
                session, principal, opening_id=decode_id(GRAPHQL_TYPE, id, field="id")
            )
            return TicketGateOpeningPayload(opening=TicketGateOpeningType.from_opening(closed))

        return await as_principal(info, TicketGateOpeningPayload, work)
