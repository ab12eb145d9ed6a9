"""SQL of danger spots. Who may see a spot is decided here, once: ``visible_to``."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Select, and_, exists, false, func, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from ..db.dialect import chunked
from .models import AudienceKind, DangerSpot, DangerSpotAudience, SpotScope, SpotStatus

ACTIVE = (SpotStatus.PENDING.value, SpotStatus.PUBLISHED.value)
# Leaders moderate what their town association may see; a FAMILY or STAFF report is not
# theirs to read.
LEADER_SCOPES = (SpotScope.EVERYONE.value, SpotScope.COMMUNITY.value)
Box = tuple[float, float, float, float]


@dataclass(frozen=True, slots=True)
class Audience:
    """What a viewer is, as far as spots care: resident, staff of, member and leader of."""

    resident_id: uuid.UUID | None = None
    staff_codes: frozenset[str] = frozenset()
    community_ids: frozenset[uuid.UUID] = frozenset()
    led_community_ids: frozenset[uuid.UUID] = frozenset()
    family_ids: frozenset[uuid.UUID] = frozenset()


def _in_groups(kind: AudienceKind, group_ids: frozenset[uuid.UUID]) -> ColumnElement[bool]:
    if not group_ids:
        return false()
    return exists().where(
        DangerSpotAudience.spot_id == DangerSpot.id,
        DangerSpotAudience.kind == kind.value,
        DangerSpotAudience.group_id.in_(sorted(group_ids)),
    )


def moderable_by(audience: Audience) -> ColumnElement[bool]:
    """Spots the viewer moderates: staff in their municipalities; a town association's
    leaders the EVERYONE and COMMUNITY reports of its members (members when posted)."""
    clauses: list[ColumnElement[bool]] = []
    if audience.staff_codes:
        clauses.append(DangerSpot.municipality_code.in_(sorted(audience.staff_codes)))
    if audience.led_community_ids:
        clauses.append(
            and_(
                DangerSpot.scope.in_(LEADER_SCOPES),
                _in_groups(AudienceKind.COMMUNITY, audience.led_community_ids),
            )
        )
    return or_(*clauses) if clauses else false()


def visible_to(audience: Audience) -> ColumnElement[bool]:
    """Spots the viewer may see (any status): the author and moderators always; published
    EVERYONE reports anyone; COMMUNITY and FAMILY reports their group, pending or published
    (a trusted circle is warned at once, the public only after moderation)."""
    active_scoped = and_(
        DangerSpot.status.in_(ACTIVE),
        or_(
            and_(
                DangerSpot.scope == SpotScope.COMMUNITY.value,
                _in_groups(AudienceKind.COMMUNITY, audience.community_ids),
            ),
            and_(
                DangerSpot.scope == SpotScope.FAMILY.value,
                _in_groups(AudienceKind.FAMILY, audience.family_ids),
            ),
        ),
    )
    clauses = [
        and_(
            DangerSpot.status == SpotStatus.PUBLISHED.value,
            DangerSpot.scope == SpotScope.EVERYONE.value,
        ),
        active_scoped,
        moderable_by(audience),
    ]
    if audience.resident_id is not None:
        clauses.append(DangerSpot.author_id == audience.resident_id)
    return or_(*clauses)


def _active(now: datetime) -> ColumnElement[bool]:
    return and_(DangerSpot.status.in_(ACTIVE), DangerSpot.expires_at > now)


def _meeting(box: Box) -> ColumnElement[bool]:
    min_lon, min_lat, max_lon, max_lat = box
    return and_(
        DangerSpot.min_lat <= max_lat,
        DangerSpot.max_lat >= min_lat,
        DangerSpot.min_lon <= max_lon,
        DangerSpot.max_lon >= min_lon,
    )


async def add(
    session: AsyncSession, spot: DangerSpot, audiences: Sequence[DangerSpotAudience]
) -> None:
    session.add(spot)
    await session.flush()
    session.add_all(audiences)
    await session.flush()


async def posts_since(session: AsyncSession, author_id: uuid.UUID, since: datetime) -> int:
    """How many spots the author posted since ``since`` (the rate limit)."""
    count = await session.scalar(
        select(func.count())
        .select_from(DangerSpot)
        .where(DangerSpot.author_id == author_id, DangerSpot.created_at >= since)
    )
    return int(count or 0)


async def visible_spot(
    session: AsyncSession, spot_id: uuid.UUID, audience: Audience, *, for_update: bool = False
) -> DangerSpot | None:
    """The spot when the viewer may see it."""
    statement = select(DangerSpot).where(DangerSpot.id == spot_id, visible_to(audience))
    if for_update:
        statement = statement.with_for_update()
    return (await session.scalars(statement)).first()


async def is_moderable(session: AsyncSession, spot_id: uuid.UUID, audience: Audience) -> bool:
    found = await session.scalar(
        select(DangerSpot.id).where(DangerSpot.id == spot_id, moderable_by(audience))
    )
    return found is not None


async def moderable_ids(
    session: AsyncSession, spot_ids: Sequence[uuid.UUID], audience: Audience
) -> set[uuid.UUID]:
    """Which of these spots the viewer moderates (one query for a page of them)."""
    if not spot_ids:
        return set()
    result = await session.scalars(
        select(DangerSpot.id).where(DangerSpot.id.in_(list(spot_ids)), moderable_by(audience))
    )
    return set(result)


async def visible_in_box(
    session: AsyncSession, box: Box, audience: Audience, *, now: datetime, limit: int
) -> list[DangerSpot]:
    """Active spots meeting the box that the viewer may see, newest first."""
    result = await session.scalars(
        select(DangerSpot)
        .where(_meeting(box), _active(now), visible_to(audience))
        .order_by(DangerSpot.created_at.desc(), DangerSpot.id)
        .limit(limit)
    )
    return list(result)


def _page(
    statement: Select[DangerSpot],
    after: tuple[datetime, uuid.UUID] | None,
    *,
    newest_first: bool,
    limit: int,
) -> Select[DangerSpot]:
    key = tuple_(DangerSpot.created_at, DangerSpot.id)
    if after is not None:
        statement = statement.where(key < tuple_(*after) if newest_first else key > tuple_(*after))
    if newest_first:
        return statement.order_by(DangerSpot.created_at.desc(), DangerSpot.id.desc()).limit(limit)
    return statement.order_by(DangerSpot.created_at, DangerSpot.id).limit(limit)


async def moderation_queue(
    session: AsyncSession,
    audience: Audience,
    *,
    now: datetime,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[DangerSpot]:
    """Pending, unexpired spots the viewer moderates, oldest first."""
    statement = select(DangerSpot).where(
        DangerSpot.status == SpotStatus.PENDING.value,
        DangerSpot.expires_at > now,
        moderable_by(audience),
    )
    return list(await session.scalars(_page(statement, after, newest_first=False, limit=limit)))


async def by_author(
    session: AsyncSession,
    author_id: uuid.UUID,
    *,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[DangerSpot]:
    """The author's spots, newest first."""
    statement = select(DangerSpot).where(DangerSpot.author_id == author_id)
    return list(await session.scalars(_page(statement, after, newest_first=True, limit=limit)))


@dataclass(frozen=True, slots=True)
class RouteSpotRow:
    id: uuid.UUID
    geometry_geojson: str
    latitude: float
    longitude: float
    max_lat: float


async def published_keys_in_box(
    session: AsyncSession, box: Box, *, now: datetime, limit: int
) -> list[tuple[uuid.UUID, uuid.UUID | None]]:
    """(id, event id) of published, unexpired spots meeting the box (what routes avoid),
    newest first."""
    rows = await session.execute(
        select(DangerSpot.id, DangerSpot.event_id)
        .where(
            DangerSpot.status == SpotStatus.PUBLISHED.value,
            DangerSpot.expires_at > now,
            _meeting(box),
        )
        .order_by(DangerSpot.created_at.desc(), DangerSpot.id)
        .limit(limit)
    )
    return [(spot_id, event_id) for spot_id, event_id in rows]


async def route_rows(session: AsyncSession, spot_ids: Sequence[uuid.UUID]) -> list[RouteSpotRow]:
    """What a route needs to build these spots' areas."""
    found: list[RouteSpotRow] = []
    for chunk in chunked(list(spot_ids)):
        rows = await session.execute(
            select(
                DangerSpot.id,
                DangerSpot.geometry_geojson,
                DangerSpot.latitude,
                DangerSpot.longitude,
                DangerSpot.max_lat,
            ).where(DangerSpot.id.in_(chunk))
        )
        found.extend(RouteSpotRow(*row) for row in rows)
    return found
