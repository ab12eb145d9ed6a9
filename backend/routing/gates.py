"""Ticket gates opened in a disaster: areas where city staff marked station ticket gates
(改札, ``barrier=turnstile``) and fee gates open for a disaster event, because railway
operators open them to let evacuees through.

Routes treat such gates as impassable except inside the open areas of open events. Rules:
- staff (city staff or admin) of a municipality the event covers open and close them, and
  list them; to anyone else an event's openings do not exist;
- an area opens only while its event is open; closing the event makes its openings inert
  (routes ask which events are open), closing an opening ends it at once;
- an area is a GeoJSON Polygon/MultiPolygon, its vertices capped before any geometry is built,
  refused (never repaired) when invalid.

Routing imports no other domain: disaster events are known through ``disaster_events``, which
the safety domain fills at assembly.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeAlias

import shapely
from shapely.geometry import MultiPolygon, Polygon
from sqlalchemy.ext.asyncio import AsyncSession

from ..auth import service as auth_service
from ..db.base import utcnow
from ..errors import (
    Checker,
    Conflict,
    LimitExceeded,
    NotFound,
    NotPermitted,
    Unauthenticated,
    ValidationFailed,
)
from ..hazards.sources import parse_client_polygon
from ..principal import Principal, PrincipalKind
from ..text import clean_text
from . import repository
from .models import TicketGateOpening

STAFF_ROLES = auth_service.STAFF_ROLES
MAX_AREA_VERTICES = 2_000
MAX_NOTE_LENGTH = 500
# Open areas per event, and per route: a route's look-up stays small whatever staff do.
MAX_OPEN_PER_EVENT = 100
MAX_ROUTE_AREAS = 200
MAX_LISTED = 500
Box = repository.Box
Area: TypeAlias = Polygon | MultiPolygon


class EventScope(Protocol):
    """What routing needs to know of a disaster event."""

    @property
    def is_open(self) -> bool: ...

    @property
    def municipality_codes(self) -> Sequence[str]: ...


EventScopes = Callable[
    [AsyncSession, Sequence[uuid.UUID]], Awaitable[Mapping[uuid.UUID, EventScope]]
]
OpenEventIds = Callable[[AsyncSession, Sequence[uuid.UUID]], Awaitable[set[uuid.UUID]]]


class DisasterEvents:
    """The events domain as routing sees it (one per process, set at assembly)."""

    def __init__(self) -> None:
        self._scopes: EventScopes | None = None
        self._open_ids: OpenEventIds | None = None

    def register(self, *, scopes: EventScopes, open_ids: OpenEventIds) -> None:
        """Register how events are read (setting again replaces)."""
        self._scopes, self._open_ids = scopes, open_ids

    async def scopes(
        self, session: AsyncSession, event_ids: Sequence[uuid.UUID]
    ) -> Mapping[uuid.UUID, EventScope]:
        """Each known event's state and municipalities (none without an events domain)."""
        return await self._scopes(session, event_ids) if self._scopes and event_ids else {}

    async def open_ids(
        self, session: AsyncSession, event_ids: Sequence[uuid.UUID]
    ) -> set[uuid.UUID]:
        """Which of these events are open now."""
        return await self._open_ids(session, event_ids) if self._open_ids and event_ids else set()


disaster_events = DisasterEvents()


@dataclass(frozen=True, slots=True)
class GateOpening:
    """An opening and whether it lets routes through now (it and its event are open)."""

    opening: TicketGateOpening
    active: bool


def _event_not_found() -> NotFound:
    return NotFound("disaster event", "災害", field="eventId")


def _opening_not_found() -> NotFound:
    return NotFound("ticket gate opening", "改札開放の区域", field="id")


def _require_staff(principal: Principal) -> set[str]:
    """Where the principal is staff; refused (before any input is parsed) when nowhere."""
    if principal.kind is PrincipalKind.ANONYMOUS:
        raise Unauthenticated()
    codes = principal.municipalities_for(*STAFF_ROLES)
    if not codes:
        raise NotPermitted("requires a staff role", "市職員の権限が必要です")
    return codes


async def _staff_scope(
    session: AsyncSession, principal: Principal, event_id: uuid.UUID, staff_codes: set[str]
) -> EventScope:
    """The event, if the principal is staff of a municipality it covers; else not found."""
    scope = (await disaster_events.scopes(session, [event_id])).get(event_id)
    if scope is None or not staff_codes & set(scope.municipality_codes):
        raise _event_not_found()
    return scope


async def open_gates(
    session: AsyncSession,
    principal: Principal,
    *,
    event_id: uuid.UUID,
    area: object,
    note: str | None = None,
) -> GateOpening:
    """Mark gates open in an area for an open event (staff of a municipality it covers)."""
    staff_codes = _require_staff(principal)
    checker = Checker()
    cleaned = clean_text(checker, "note", note, label_ja="メモ", max_length=MAX_NOTE_LENGTH)
    # Validity is geometry work: off the event loop.
    polygon = await asyncio.to_thread(
        parse_client_polygon,
        checker,
        "area",
        area,
        max_vertices=MAX_AREA_VERTICES,
        label_en="the area",
        label_ja="区域",
    )
    checker.raise_if_any()
    assert polygon is not None
    scope = await _staff_scope(session, principal, event_id, staff_codes)
    if not scope.is_open:
        raise ValidationFailed.at(
            "eventId", "the event is closed", "この災害は終了しているため改札を開放できません"
        )
    if await repository.count_open(session, event_id) >= MAX_OPEN_PER_EVENT:
        raise LimitExceeded(
            f"an event has at most {MAX_OPEN_PER_EVENT} open gate areas: close one first",
            f"開放中の区域は1つの災害につき{MAX_OPEN_PER_EVENT}件までです。先にどれかを閉じてください",
            field="area",
        )
    min_lon, min_lat, max_lon, max_lat = polygon.bounds
    opening = TicketGateOpening(
        id=uuid.uuid4(),
        event_id=event_id,
        area_geojson=shapely.to_geojson(polygon),
        min_lon=min_lon,
        min_lat=min_lat,
        max_lon=max_lon,
        max_lat=max_lat,
        note=cleaned,
        opened_by=principal.subject or "",
        opened_at=utcnow(),
    )
    await repository.add_opening(session, opening)
    return GateOpening(opening, active=True)


async def close_gates(
    session: AsyncSession, principal: Principal, *, opening_id: uuid.UUID
) -> GateOpening:
    """End an opening (staff of a municipality its event covers): routes stop using it."""
    staff_codes = _require_staff(principal)
    opening = await repository.get_opening(session, opening_id)
    if opening is None:
        raise _opening_not_found()
    try:
        await _staff_scope(session, principal, opening.event_id, staff_codes)
    except NotFound:
        raise _opening_not_found() from None
    if opening.closed_at is not None:
        raise Conflict("these gates are already closed", "この区域の改札はすでに閉じています")
    opening.closed_at = utcnow()
    opening.closed_by = principal.subject
    await session.flush()
    return GateOpening(opening, active=False)


async def openings_of(
    session: AsyncSession, principal: Principal, *, event_id: uuid.UUID, include_closed: bool
) -> list[GateOpening]:
    """An event's gate openings, newest first (staff of a municipality it covers)."""
    staff_codes = _require_staff(principal)
    scope = await _staff_scope(session, principal, event_id, staff_codes)
    rows = await repository.openings_of(
        session, event_id, include_closed=include_closed, limit=MAX_LISTED
    )
    return [GateOpening(row, active=scope.is_open and row.closed_at is None) for row in rows]


def _areas_meeting(geojson: list[str], box: Box) -> tuple[Area, ...]:
    """The stored areas that meet the box itself, not only its corner-to-corner bounds."""
    areas = shapely.from_geojson(geojson)
    return tuple(areas[shapely.intersects(areas, shapely.box(*box))])


async def open_areas_in(session: AsyncSession, box: Box) -> tuple[Area, ...]:
    """The open areas of open events meeting the box (what a route may pass gates in).

    One statement, and a second only when some opening meets the box. Each call builds its
    own polygons: nothing is shared between the threads that search routes.
    """
    rows = await repository.open_areas_in(session, box, limit=MAX_ROUTE_AREAS)
    if not rows:
        return ()
    open_events = await disaster_events.open_ids(session, sorted({row[1] for row in rows}))
    geojson = [area for _, event_id, area in rows if event_id in open_events]
    if not geojson:
        return ()
    return await asyncio.to_thread(_areas_meeting, geojson, box)
