"""Danger spots (危険箇所): residents report them, moderators decide, routes go around them.

Rules, in one place:

* A resident posts a Point or a Polygon (vertex and area caps checked before any geometry
  work), a kind, a note and a scope; at most ``danger_spot_posts_per_hour`` posts an hour.
  The spot belongs to the municipality its point lies in (else the author's home one) and
  to the open disaster event covering it, if any; it expires after ``danger_spot_ttl_hours``.
* Who sees what is ``repository.visible_to``: the author and moderators always; a published
  EVERYONE report anyone; a COMMUNITY / FAMILY report its group at once (pending too);
  a STAFF report only staff. Nobody but the municipality's staff learns who reported it.
* Staff moderate the spots of their municipality; a town association's leaders the
  EVERYONE and COMMUNITY reports of its members. Nobody moderates their own report.
* Routes avoid published, unexpired spots whose event is open (or that have none):
  ``spots_to_avoid`` is registered with routing at assembly.
"""

from __future__ import annotations

import asyncio
import json
import math
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry import MultiPolygon, Polygon
from sqlalchemy.ext.asyncio import AsyncSession

from ..api import uploads
from ..auth import service as auth_service
from ..communities import service as communities_service
from ..config import Settings
from ..db.base import utcnow
from ..errors import (
    Checker,
    Conflict,
    Expired,
    LimitExceeded,
    NotFound,
    NotPermitted,
    Unauthenticated,
    ValidationFailed,
)
from ..family import service as family_service
from ..geo import MEAN_EARTH_RADIUS_M, check_bbox, check_point, haversine_m
from ..hazards.sources import count_positions, parse_client_polygons
from ..municipalities import service as municipality_service
from ..principal import Viewer
from ..residents import service as residents_service
from ..routing.avoid_sources import AvoidSpot, Box
from ..safety import service as safety_service
from ..text import clean_text
from . import repository
from .models import AudienceKind, DangerSpot, DangerSpotAudience, SpotKind, SpotScope, SpotStatus
from .repository import Audience

GRAPHQL_TYPE = "DangerSpot"
MAX_NOTE_LENGTH = 500
# A map view spans at most this many degrees and shows at most this many spots.
MAX_MAP_SPAN_DEGREES = 0.5
MAX_MAP_SPOTS = 1_000
# Spots a route looks at (the newest in its search box): bounds a route's geometry work.
MAX_ROUTE_SPOTS = 2_000
# Vertices of a point's circle (a 16-gon: within 2 % of the circle's area).
_CIRCLE_VERTICES = 16
PHOTO_TYPES = (uploads.JPEG, uploads.PNG, uploads.WEBP)


class ModerationAction(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    RESOLVE = "resolve"
    MERGE = "merge"


def _not_found(field: str = "id") -> NotFound:
    return NotFound("danger spot", "危険箇所", field=field)


# --- who is looking ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _ResidentRef:
    id: uuid.UUID
    subject: str


async def audience_of(session: AsyncSession, viewer: Viewer) -> Audience:
    """The viewer's staff municipalities, town associations (led ones apart) and families."""
    staff = frozenset(viewer.principal.municipalities_for(*auth_service.STAFF_ROLES))
    if viewer.resident_id is None:
        return Audience(staff_codes=staff)
    me = _ResidentRef(viewer.resident_id, viewer.principal.subject or "")
    communities = await communities_service.my_communities(session, me)
    families = await family_service.group_ids_of(session, [viewer.resident_id])
    return Audience(
        resident_id=viewer.resident_id,
        staff_codes=staff,
        community_ids=frozenset(c.id for c, _ in communities),
        led_community_ids=frozenset(c.id for c, role in communities if role == "leader"),
        family_ids=frozenset(families),
    )


@dataclass(frozen=True, slots=True)
class SpotView:
    """A spot as one viewer sees it; ``staff`` views show who reported it."""

    spot: DangerSpot
    status: SpotStatus
    mine: bool
    staff: bool
    can_moderate: bool


def effective_status(spot: DangerSpot, now: datetime) -> SpotStatus:
    """The stored status, except that a pending or published spot past its expiry is expired."""
    status = SpotStatus(spot.status)
    if status in (SpotStatus.PENDING, SpotStatus.PUBLISHED) and spot.expires_at <= now:
        return SpotStatus.EXPIRED
    return status


def _view(spot: DangerSpot, audience: Audience, moderable: bool, now: datetime) -> SpotView:
    return SpotView(
        spot=spot,
        status=effective_status(spot, now),
        mine=audience.resident_id is not None and spot.author_id == audience.resident_id,
        staff=spot.municipality_code in audience.staff_codes,
        can_moderate=moderable and spot.author_id != audience.resident_id,
    )


async def _views(
    session: AsyncSession, spots: list[DangerSpot], audience: Audience
) -> list[SpotView]:
    now = utcnow()
    moderable = await repository.moderable_ids(session, [s.id for s in spots], audience)
    return [_view(s, audience, s.id in moderable, now) for s in spots]


# --- posting -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SpotReport:
    """What a resident posts."""

    kind: SpotKind
    geometry: object
    scope: SpotScope = SpotScope.EVERYONE
    note: str | None = None


@dataclass(frozen=True, slots=True)
class _Shape:
    geojson: str
    latitude: float
    longitude: float
    bounds: Box


def circle_offsets(lat: float, radius_m: float) -> tuple[float, float]:
    """(dlon, dlat) degrees of ``radius_m`` metres at this latitude."""
    dlat = math.degrees(radius_m / MEAN_EARTH_RADIUS_M)
    return dlat / max(math.cos(math.radians(lat)), 1e-6), dlat


def _circles(
    lons: NDArray[np.float64], lats: NDArray[np.float64], dlats: NDArray[np.float64]
) -> NDArray[np.object_]:
    """16-gons around points, ``dlats`` degrees of latitude in radius (lon scaled by cos)."""
    angles = np.linspace(0.0, 2 * math.pi, _CIRCLE_VERTICES, endpoint=False)
    dlons = dlats / np.maximum(np.cos(np.radians(lats)), 1e-6)
    xs = lons[:, None] + dlons[:, None] * np.cos(angles)[None, :]
    ys = lats[:, None] + dlats[:, None] * np.sin(angles)[None, :]
    ring = np.stack([xs, ys], axis=-1)
    closed = np.concatenate([ring, ring[:, :1]], axis=1)
    polygons: NDArray[np.object_] = shapely.polygons(closed)
    return polygons


def _area_m2(polygon: Polygon | MultiPolygon) -> float:
    """Area in square metres (local equirectangular scale: spots are small)."""
    lat = polygon.centroid.y
    scale = math.radians(1.0) * MEAN_EARTH_RADIUS_M
    return float(polygon.area) * scale * scale * math.cos(math.radians(lat))


def _check_shape(checker: Checker, settings: Settings, geometry: object) -> _Shape | None:
    """The posted geometry, validated (problems on ``checker`` under ``geometry``)."""
    kind = geometry.get("type") if isinstance(geometry, dict) else None
    if kind == "Point":
        assert isinstance(geometry, dict)
        coords = geometry.get("coordinates")
        numbers = (
            isinstance(coords, list)
            and len(coords) in (2, 3)
            and all(isinstance(v, int | float) and not isinstance(v, bool) for v in coords)
        )
        if not numbers:
            checker.add(
                "geometry",
                "a Point needs [longitude, latitude] numbers",
                "地点は[経度, 緯度]の数値で指定してください",
            )
            return None
        assert isinstance(coords, list)
        lon, lat = float(coords[0]), float(coords[1])
        # The geometry is one scalar input: its problems name it, not its parts.
        local = Checker()
        check_point(local, "", lat, lon)
        for error in local.errors:
            checker.add("geometry", error.message, error.message_ja)
        if local.errors:
            return None
        dlon, dlat = circle_offsets(lat, settings.danger_spot_point_radius_m)
        return _Shape(
            json.dumps({"type": "Point", "coordinates": [lon, lat]}),
            lat,
            lon,
            (lon - dlon, lat - dlat, lon + dlon, lat + dlat),
        )
    if kind != "Polygon":
        checker.add(
            "geometry",
            "geometry must be a GeoJSON Point or Polygon",
            "範囲は地点か多角形で指定してください",
        )
        return None
    # The avoid-area validator of routing (vertex cap first, never repaired); its problems
    # name the first list item, ours the one geometry.
    local = Checker()
    polygons = parse_client_polygons(
        local,
        "geometry",
        [geometry],
        max_count=1,
        max_vertices=settings.danger_spot_max_vertices,
        label_en="a danger spot's area",
        label_ja="危険箇所の範囲",
    )
    for error in local.errors:
        checker.add("geometry", error.message.replace("geometry[0]", "geometry"), error.message_ja)
    if not polygons:
        return None
    polygon = polygons[0]
    area = _area_m2(polygon)
    if area > settings.danger_spot_max_area_m2:
        checker.add(
            "geometry",
            f"the area may be at most {settings.danger_spot_max_area_m2:g} m² (it is {area:.0f})",
            f"範囲の面積は{settings.danger_spot_max_area_m2:g}平方メートルまでです",
        )
        return None
    inside = polygon.representative_point()
    return _Shape(shapely.to_geojson(polygon), inside.y, inside.x, polygon.bounds)


async def _parse_shape(checker: Checker, settings: Settings, geometry: object) -> _Shape | None:
    # A polygon's validity check is geometry work: capped (vertices counted first, linear in
    # the document) and then run off the event loop.
    if (
        isinstance(geometry, dict)
        and geometry.get("type") == "Polygon"
        and count_positions(geometry) <= settings.danger_spot_max_vertices
    ):
        return await asyncio.to_thread(_check_shape, checker, settings, geometry)
    return _check_shape(checker, settings, geometry)


async def _municipality(session: AsyncSession, resident_id: uuid.UUID, shape: _Shape) -> str:
    """Where the spot lies, else the author's home municipality; it must be served."""
    code = await municipality_service.locate(session, lat=shape.latitude, lon=shape.longitude)
    if code is None:
        # Without imported boundaries nothing is located: the author's home municipality.
        found = await residents_service.residents_by_ids(session, [resident_id])
        code = found[0].home_municipality_code if found else None
    if code is None or not await municipality_service.served_among(session, {code}):
        raise ValidationFailed.at(
            "geometry",
            "the spot is not in a municipality this service covers",
            "この地点はサービスの対象市町村にありません",
        )
    return code


async def report_spot(
    session: AsyncSession, settings: Settings, viewer: Viewer, report: SpotReport
) -> SpotView:
    """Post a danger spot (pending until moderated)."""
    if viewer.resident_id is None:
        raise Unauthenticated()
    resident_id = viewer.resident_id
    checker = Checker()
    note = clean_text(
        checker, "note", report.note, label_ja="メモ", max_length=MAX_NOTE_LENGTH, multiline=True
    )
    shape = await _parse_shape(checker, settings, report.geometry)
    checker.raise_if_any()
    assert shape is not None
    now = utcnow()
    recent = await repository.posts_since(session, resident_id, now - timedelta(hours=1))
    if recent >= settings.danger_spot_posts_per_hour:
        raise LimitExceeded(
            f"at most {settings.danger_spot_posts_per_hour} danger spots an hour; try later",
            f"危険箇所の投稿は1時間に{settings.danger_spot_posts_per_hour}件までです。"
            "しばらくしてから投稿してください",
        )
    code = await _municipality(session, resident_id, shape)
    audience = await audience_of(session, viewer)
    if report.scope is SpotScope.COMMUNITY and not audience.community_ids:
        raise ValidationFailed.at(
            "scope", "you belong to no town association", "町内会・自主防災組織に加入していません"
        )
    if report.scope is SpotScope.FAMILY and not audience.family_ids:
        raise ValidationFailed.at(
            "scope", "you belong to no family group", "家族グループに参加していません"
        )
    event_id = await safety_service.open_event_at(
        session, municipality_code=code, lat=shape.latitude, lon=shape.longitude
    )
    min_lon, min_lat, max_lon, max_lat = shape.bounds
    spot = DangerSpot(
        id=uuid.uuid4(),
        municipality_code=code,
        author_id=resident_id,
        kind=report.kind.value,
        note=note,
        geometry_geojson=shape.geojson,
        latitude=shape.latitude,
        longitude=shape.longitude,
        min_lon=min_lon,
        min_lat=min_lat,
        max_lon=max_lon,
        max_lat=max_lat,
        status=SpotStatus.PENDING.value,
        scope=report.scope.value,
        event_id=event_id,
        expires_at=now + timedelta(hours=settings.danger_spot_ttl_hours),
        created_at=now,
    )
    # The author's town associations always (their leaders moderate); families only for a
    # FAMILY report, as they are now: someone joining later does not see older reports.
    audiences = [
        DangerSpotAudience(spot_id=spot.id, group_id=c, kind=AudienceKind.COMMUNITY.value)
        for c in sorted(audience.community_ids)
    ]
    if report.scope is SpotScope.FAMILY:
        audiences += [
            DangerSpotAudience(spot_id=spot.id, group_id=g, kind=AudienceKind.FAMILY.value)
            for g in sorted(audience.family_ids)
        ]
    await repository.add(session, spot, audiences)
    moderable = await repository.is_moderable(session, spot.id, audience)
    return _view(spot, audience, moderable, now)


# --- reading -------------------------------------------------------------------------------


async def get_spot(session: AsyncSession, viewer: Viewer, spot_id: uuid.UUID) -> SpotView:
    """A spot the viewer may see (any status); NotFound otherwise."""
    audience = await audience_of(session, viewer)
    spot = await repository.visible_spot(session, spot_id, audience)
    if spot is None:
        raise _not_found()
    return (await _views(session, [spot], audience))[0]


@dataclass(frozen=True, slots=True)
class SpotMap:
    views: list[SpotView]
    truncated: bool


async def spot_map(
    session: AsyncSession, viewer: Viewer, *, bbox: tuple[float, float, float, float]
) -> SpotMap:
    """Active (pending or published, unexpired) spots in a map view that the viewer may see."""
    checker = Checker()
    check_bbox(checker, "bbox", bbox, max_span_degrees=MAX_MAP_SPAN_DEGREES)
    checker.raise_if_any()
    audience = await audience_of(session, viewer)
    spots = await repository.visible_in_box(
        session, bbox, audience, now=utcnow(), limit=MAX_MAP_SPOTS + 1
    )
    views = await _views(session, spots[:MAX_MAP_SPOTS], audience)
    return SpotMap(views, truncated=len(spots) > MAX_MAP_SPOTS)


async def moderation_queue(
    session: AsyncSession,
    viewer: Viewer,
    *,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[SpotView]:
    """Pending spots the viewer moderates, oldest first; NotPermitted for non-moderators."""
    audience = await audience_of(session, viewer)
    if not audience.staff_codes and not audience.led_community_ids:
        raise NotPermitted(
            "only city staff and town-association leaders moderate danger spots",
            "危険箇所の確認は市職員と町内会・自主防災組織の役員のみが行えます",
        )
    spots = await repository.moderation_queue(
        session, audience, now=utcnow(), after=after, limit=limit
    )
    return await _views(session, spots, audience)


async def my_spots(
    session: AsyncSession,
    viewer: Viewer,
    *,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[SpotView]:
    """The viewer's own reports, newest first."""
    if viewer.resident_id is None:
        raise Unauthenticated()
    audience = await audience_of(session, viewer)
    spots = await repository.by_author(session, viewer.resident_id, after=after, limit=limit)
    return await _views(session, spots, audience)


# --- moderation ----------------------------------------------------------------------------


def _distance_m(a: DangerSpot, b: DangerSpot) -> float:
    return haversine_m(a.latitude, a.longitude, b.latitude, b.longitude)


async def moderate(
    session: AsyncSession,
    settings: Settings,
    viewer: Viewer,
    *,
    spot_id: uuid.UUID,
    action: ModerationAction,
    merge_into: uuid.UUID | None = None,
) -> SpotView:
    """Approve, reject, resolve or merge (into a duplicate nearby) a spot one moderates."""
    audience = await audience_of(session, viewer)
    spot = await repository.visible_spot(session, spot_id, audience, for_update=True)
    if spot is None:
        raise _not_found()
    if not await repository.is_moderable(session, spot.id, audience):
        raise NotPermitted(
            "only city staff of its municipality and leaders of its reporter's town "
            "association moderate this spot",
            "この危険箇所を確認できるのは市職員と投稿者の町内会・自主防災組織の役員のみです",
        )
    if spot.author_id is not None and spot.author_id == viewer.resident_id:
        raise NotPermitted(
            "nobody moderates their own report", "自分の投稿を自分で確認することはできません"
        )
    now = utcnow()
    status = effective_status(spot, now)
    allowed = {
        ModerationAction.APPROVE: {SpotStatus.PENDING},
        ModerationAction.REJECT: {SpotStatus.PENDING, SpotStatus.PUBLISHED},
        ModerationAction.RESOLVE: {SpotStatus.PENDING, SpotStatus.PUBLISHED},
        ModerationAction.MERGE: {SpotStatus.PENDING, SpotStatus.PUBLISHED},
    }[action]
    if status is SpotStatus.EXPIRED and action is not ModerationAction.REJECT:
        raise Expired("this danger spot has expired", "この危険箇所は期限切れです", field="id")
    if status not in allowed and status is not SpotStatus.EXPIRED:
        raise Conflict(
            f"cannot {action.value} a {status.value} danger spot",
            "この状態の危険箇所にはその操作を行えません",
            field="action",
        )
    if action is ModerationAction.MERGE:
        await _merge(session, settings, audience, spot, merge_into, now)
    else:
        spot.status = {
            ModerationAction.APPROVE: SpotStatus.PUBLISHED,
            ModerationAction.REJECT: SpotStatus.REJECTED,
            ModerationAction.RESOLVE: SpotStatus.RESOLVED,
        }[action].value
    spot.moderated_by = viewer.principal.subject
    spot.moderated_at = now
    await session.flush()
    return _view(spot, audience, True, now)


async def _merge(
    session: AsyncSession,
    settings: Settings,
    audience: Audience,
    spot: DangerSpot,
    merge_into: uuid.UUID | None,
    now: datetime,
) -> None:
    """Fold a duplicate into the report it repeats (same kind, within the merge radius)."""
    if merge_into is None:
        raise ValidationFailed.at(
            "mergeInto", "give the spot to merge into", "統合先の危険箇所を指定してください"
        )
    target = await repository.visible_spot(session, merge_into, audience, for_update=True)
    if target is None or not await repository.is_moderable(session, target.id, audience):
        raise _not_found("mergeInto")
    checker = Checker()
    if target.id == spot.id:
        checker.add(
            "mergeInto", "a spot cannot merge into itself", "同じ危険箇所には統合できません"
        )
    elif effective_status(target, now) not in (SpotStatus.PENDING, SpotStatus.PUBLISHED):
        checker.add(
            "mergeInto",
            "merge into a pending or published spot",
            "統合先は確認待ちか公開中の危険箇所にしてください",
        )
    elif target.kind != spot.kind:
        checker.add(
            "mergeInto", "only spots of the same kind merge", "種類が同じ危険箇所のみ統合できます"
        )
    elif (distance := _distance_m(spot, target)) > settings.danger_spot_merge_radius_m:
        checker.add(
            "mergeInto",
            f"the spots are {distance:.0f} m apart; duplicates lie within "
            f"{settings.danger_spot_merge_radius_m:g} m",
            f"危険箇所が{distance:.0f}メートル離れています"
            f"（統合できるのは{settings.danger_spot_merge_radius_m:g}メートル以内）",
        )
    checker.raise_if_any()
    spot.status = SpotStatus.MERGED.value
    spot.merged_into_id = target.id
    # The duplicate says the danger is still there: the report it repeats lasts as long.
    target.expires_at = max(target.expires_at, spot.expires_at)


# --- photos --------------------------------------------------------------------------------


def photo_dir(settings: Settings) -> Path:
    """Where photos are kept (a local directory; an object store would replace these calls)."""
    return settings.danger_spot_photo_dir or settings.data_dir / "danger-spots"


async def attach_photo(
    session: AsyncSession, settings: Settings, viewer: Viewer, *, spot_id: uuid.UUID, data: bytes
) -> SpotView:
    """Attach (or replace) the photo of one's own active report."""
    audience = await audience_of(session, viewer)
    spot = await repository.visible_spot(session, spot_id, audience, for_update=True)
    if spot is None:
        raise _not_found()
    if spot.author_id is None or spot.author_id != viewer.resident_id:
        raise NotPermitted("only its reporter adds a photo", "写真を追加できるのは投稿者のみです")
    now = utcnow()
    if effective_status(spot, now) not in (SpotStatus.PENDING, SpotStatus.PUBLISHED):
        raise Conflict("this danger spot is no longer active", "この危険箇所はすでに終了しています")
    uploads.check_size(
        data, settings.danger_spot_photo_max_bytes, what="a photo", what_ja="写真", field="photo"
    )
    media_type = uploads.sniff(data, PHOTO_TYPES)
    if media_type is None:
        raise ValidationFailed.at(
            "photo", "the photo must be JPEG, PNG or WebP", "写真はJPEG・PNG・WebPのいずれかです"
        )
    name = f"{spot.id.hex}.{uploads.EXTENSIONS[media_type]}"
    await asyncio.to_thread(uploads.write_file, photo_dir(settings), name, data, spot.photo_name)
    spot.photo_name, spot.photo_type, spot.photo_bytes = name, media_type, len(data)
    await session.flush()
    moderable = await repository.is_moderable(session, spot.id, audience)
    return _view(spot, audience, moderable, now)


async def read_photo(
    session: AsyncSession, settings: Settings, viewer: Viewer, *, spot_id: uuid.UUID
) -> tuple[bytes, str]:
    """The photo of a spot the viewer may see, and its media type; NotFound otherwise."""
    audience = await audience_of(session, viewer)
    spot = await repository.visible_spot(session, spot_id, audience)
    if spot is None or spot.photo_name is None or spot.photo_type is None:
        raise _not_found()
    data = await uploads.read_file(photo_dir(settings), spot.photo_name, _not_found())
    return data, spot.photo_type


# --- routing -------------------------------------------------------------------------------


def _route_polygons(rows: list[repository.RouteSpotRow]) -> list[Polygon | MultiPolygon]:
    """Worker thread: each row's area (a point's circle from its stored box)."""
    polygons = shapely.from_geojson([row.geometry_geojson for row in rows])
    points = np.flatnonzero(shapely.get_type_id(polygons) == 0)
    if len(points):
        lats = np.array([rows[i].latitude for i in points])
        lons = np.array([rows[i].longitude for i in points])
        dlats = np.array([rows[i].max_lat - rows[i].latitude for i in points])
        polygons[points] = _circles(lons, lats, dlats)
    return list(polygons)


class _AreaCache:
    """Route areas by spot id, kept per process: a spot's geometry never changes once posted,
    so every route after the first reads ids only and builds nothing. The polygons are shared
    across threads: routing copies them before any predicate (which could prepare them)."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._areas: dict[uuid.UUID, Polygon | MultiPolygon] = {}

    def get(self, spot_id: uuid.UUID) -> Polygon | MultiPolygon | None:
        return self._areas.get(spot_id)

    def put(self, found: dict[uuid.UUID, Polygon | MultiPolygon]) -> None:
        if len(self._areas) + len(found) > self.capacity:
            self._areas.clear()  # rare (a city has far fewer live spots): start again
        self._areas.update(found)


_areas = _AreaCache(capacity=8 * MAX_ROUTE_SPOTS)


async def spots_to_avoid(session: AsyncSession, box: Box) -> list[AvoidSpot]:
    """Published, unexpired spots meeting the box whose event is open (or that have none):
    the areas every evacuation route keeps out of (registered with routing at assembly)."""
    keys = await repository.published_keys_in_box(session, box, now=utcnow(), limit=MAX_ROUTE_SPOTS)
    events = {event_id for _, event_id in keys if event_id is not None}
    open_events = await safety_service.open_event_ids(session, sorted(events)) if events else set()
    ids = [spot_id for spot_id, event_id in keys if event_id is None or event_id in open_events]
    missing = [spot_id for spot_id in ids if _areas.get(spot_id) is None]
    if missing:
        rows = await repository.route_rows(session, missing)
        polygons = await asyncio.to_thread(_route_polygons, rows)
        _areas.put({row.id: polygon for row, polygon in zip(rows, polygons, strict=True)})
    spots = []
    for spot_id in ids:
        area = _areas.get(spot_id)
        if area is not None:  # None only if the cache was just cleared: next time
            spots.append(AvoidSpot(GRAPHQL_TYPE, spot_id, area))
    return spots
