"""Safety queries: my open events, family and community views, the staff dashboard."""

from __future__ import annotations

from typing import Annotated

import strawberry

from ..api.context import KInfo
from ..api.errors import AuthenticationRequired, top_level_error
from ..api.ids import decode_id
from ..errors import DomainError, NotFound
from . import service
from .types import (
    CommunityTallyType,
    DisasterEventType,
    FamilySafetyType,
    OpenEventType,
    SafetyAnswerType,
    SafetyDashboardType,
)


@strawberry.type
class SafetyQueries:
    @strawberry.field(description="A disaster event by id (public: name, area, state).")
    async def disaster_event(self, info: KInfo, id: strawberry.ID) -> DisasterEventType | None:
        try:
            event_id = decode_id("DisasterEvent", id, field="id")
            async with info.context.db.session() as session:
                event = await service.get_event(session, event_id)
                codes = await service.event_municipalities(session, [event.id])
        except NotFound:
            return None
        return DisasterEventType.from_model(event, codes[event.id])

    @strawberry.field(description="City staff: the events of your municipalities, newest first.")
    async def disaster_events(
        self, info: KInfo, include_closed: bool = False
    ) -> list[DisasterEventType]:
        principal = await info.context.staff_principal()
        try:
            async with info.context.db.session() as session:
                events = await service.staff_events(
                    session, principal, include_closed=include_closed
                )
                codes = await service.event_municipalities(session, [e.id for e in events])
        except DomainError as exc:
            raise top_level_error(exc) from exc
        return [DisasterEventType.from_model(e, codes[e.id]) for e in events]

    @strawberry.field(
        description="Open events with one of my places in their area, and my answer in each."
    )
    async def my_open_events(self, info: KInfo) -> list[OpenEventType]:
        resident = await info.context.resident()
        async with info.context.db.session() as session:
            items = await service.my_open_events(session, resident)
            codes = await service.event_municipalities(session, [i.event.id for i in items])
        return [OpenEventType.from_open(i, codes[i.event.id]) for i in items]

    @strawberry.field(description="My answers in an event (including proxies'), newest first.")
    async def my_safety_answers(
        self, info: KInfo, event_id: strawberry.ID
    ) -> list[SafetyAnswerType]:
        resident = await info.context.resident()
        try:
            async with info.context.db.session() as session:
                rows = await service.my_history(
                    session,
                    resident,
                    event_id=decode_id("DisasterEvent", event_id, field="eventId"),
                )
        except DomainError as exc:
            raise top_level_error(exc) from exc
        return [SafetyAnswerType.from_model(r) for r in rows]

    @strawberry.field(
        description="A family group's answers in an event, as each member's consent allows; "
        "null unless you belong to the group."
    )
    async def family_safety(
        self, info: KInfo, group_id: strawberry.ID, event_id: strawberry.ID
    ) -> FamilySafetyType | None:
        try:
            return await read_family_safety(info, group_id, event_id)
        except NotFound:
            return None
        except DomainError as exc:
            raise top_level_error(exc) from exc

    @strawberry.field(
        description="Leaders: counts over all members and the consenting members' answers; "
        "null for anyone who does not lead the community."
    )
    async def community_tally(
        self, info: KInfo, community_id: strawberry.ID, event_id: strawberry.ID
    ) -> CommunityTallyType | None:
        try:
            return await read_community_tally(
                info, community_id, event_id, with_members=asks_for_people(info)
            )
        except NotFound:
            return None
        except DomainError as exc:
            raise top_level_error(exc) from exc

    @strawberry.field(
        description="City staff: an event's counts in your municipalities (per municipality, "
        "community and H3 cell), evacuees far from shelters, and shelter occupancy."
    )
    async def safety_dashboard(
        self,
        info: KInfo,
        event_id: strawberry.ID,
        cell_resolution: Annotated[
            int, strawberry.argument(description="H3 resolution of the map cells, 5-9")
        ] = 8,
    ) -> SafetyDashboardType | None:
        principal = await info.context.staff_principal()
        if not principal.is_resident and not principal.is_system_client:
            raise AuthenticationRequired()
        try:
            async with info.context.db.session() as session:
                board = await service.staff_dashboard(
                    session,
                    principal,
                    event_id=decode_id("DisasterEvent", event_id, field="eventId"),
                    cell_resolution=cell_resolution,
                )
                codes = await service.event_municipalities(session, [board.event.id])
        except NotFound:
            return None
        except DomainError as exc:
            raise top_level_error(exc) from exc
        return SafetyDashboardType.from_dashboard(board, codes[board.event.id])


def asks_for_people(info: KInfo) -> bool:
    """Whether the document selects the tally's people (members, unanswered), not only its
    counts: a counts-only screen then reads and logs nobody's personal data."""
    names: set[str] = set()
    pending = list(info.selected_fields)
    while pending:
        node = pending.pop()
        names.add(getattr(node, "name", ""))
        pending.extend(getattr(node, "selections", []) or [])
    return bool(names & {"members", "unanswered"})


async def read_community_tally(
    info: KInfo,
    community_id: strawberry.ID,
    event_id: strawberry.ID,
    *,
    with_members: bool = True,
) -> CommunityTallyType:
    """The tally as the caller may see it now (the query and its live subscription);
    NotFound for anyone who does not lead the community."""
    await info.context.resident()
    viewer = await info.context.viewer()
    async with info.context.db.transaction() as session:
        view = await service.community_tally(
            session,
            viewer,
            community_id=decode_id("Community", community_id, field="communityId"),
            event_id=decode_id("DisasterEvent", event_id, field="eventId"),
            meta=info.context.request_meta(),
            with_members=with_members,
        )
        codes = await service.event_municipalities(session, [view.event.id])
    return CommunityTallyType.from_view(view, codes[view.event.id])


async def read_family_safety(
    info: KInfo, group_id: strawberry.ID, event_id: strawberry.ID
) -> FamilySafetyType:
    """The family's answers as the caller may see them now (query and subscription)."""
    resident = await info.context.resident()
    viewer = await info.context.viewer()
    async with info.context.db.transaction() as session:
        view = await service.family_safety(
            session,
            viewer,
            resident,
            group_id=decode_id("FamilyGroup", group_id, field="groupId"),
            event_id=decode_id("DisasterEvent", event_id, field="eventId"),
            meta=info.context.request_meta(),
        )
        codes = await service.event_municipalities(session, [view.event.id])
    return FamilySafetyType.from_view(view, codes[view.event.id])
