"""The staff query listing an event's ticket gate openings."""

from __future__ import annotations

import strawberry

from ..api.context import KInfo
from ..api.errors import top_level_error
from ..api.ids import decode_id
from ..errors import DomainError
from . import gates
from .gate_types import TicketGateOpeningType


@strawberry.type
class TicketGateQueries:
    @strawberry.field(
        description="City staff of a municipality the event covers: where ticket gates stand "
        "open in the event, newest first (closed ones too with `includeClosed`)."
    )
    async def ticket_gate_openings(
        self, info: KInfo, event_id: strawberry.ID, include_closed: bool = False
    ) -> list[TicketGateOpeningType]:
        principal = await info.context.staff_principal()
        try:
            async with info.context.db.session() as session:
                found = await gates.openings_of(
                    session,
                    principal,
                    event_id=decode_id("DisasterEvent", event_id, field="eventId"),
                    include_closed=include_closed,
                )
        except DomainError as exc:
            raise top_level_error(exc) from exc
        return [TicketGateOpeningType.from_opening(item) for item in found]
