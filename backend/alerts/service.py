"""The alert store: drafts in, alerts updated, recipients notified; and what residents see.

``store`` applies one prepared draft in the caller's transaction: a delivery already received
(same ``source_id``) is ignored; otherwise the alert of the same (source, event_key) is
created or updated, its areas issued, updated or lifted, or the whole alert cancelled; then
every resident with a place in the newly concerned areas gets one notification naming those
places (the push outbox is written in the same transaction, so nothing is lost between the
two). Only ACTUAL alerts are ever pushed; exercises and tests are visible to staff only.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from ..api.ids import encode_id
from ..consent import enforcement
from ..db.base import utcnow
from ..errors import NotFound, NotPermitted, ValidationFailed
from ..family import service as family_service
from ..municipalities import service as municipality_service
from ..plans import service as plans_service
from ..principal import Principal, RequestMeta, Role, Viewer
from ..push import service as push_service
from ..residents import service as residents_service
from ..residents.service import PlaceSpot
from ..safety import service as safety_service
from . import jma_areas, repository
from .areas import PreparedArea, prepare_areas
from .drafts import AlertAction, AlertDraft, AlertKind, AlertStatus, AreaScheme
from .messages import (
    EVACUATION_TITLE_EN,
    EVACUATION_TITLE_JA,
    KIND_EN,
    KIND_JA,
    concern_en,
    concern_ja,
    lifted_en,
    lifted_ja,
)
from .models import Alert, AlertAreaRow, AlertRejection, AlertState
from .repository import AreaCover
from .targeting import Reach, areas_at_places, places_in_areas

STAFF_ROLES = (Role.CITY_STAFF, Role.CITY_ADMIN)
# Lifting these is news worth a push (避難指示の解除); other lifts only show in the app.
_PUSHED_LIFTS = {AlertKind.EVACUATION, AlertKind.EMERGENCY_WARNING, AlertKind.TSUNAMI_WARNING}
_SHINDO_ORDER = ("1", "2", "3", "4", "5-", "5+", "6-", "6+", "7")


@dataclass(frozen=True, slots=True)
class PreparedDraft:
    draft: AlertDraft
    areas: list[PreparedArea]


def prepare(drafts: Sequence[AlertDraft]) -> list[PreparedDraft]:
    """Check and cut the drafts' areas: CPU work, to run off the event loop."""
    return [PreparedDraft(d, prepare_areas(d.areas)) for d in drafts]


@dataclass(slots=True)
class StoreOutcome:
    """What one stored draft did."""

    alert_id: uuid.UUID | None
    duplicate: bool = False
    created: bool = False
    concerned_residents: int = 0
    unresolved_areas: list[str] = field(default_factory=list)


def category_of(kind: AlertKind, level: int | None) -> str:
    """The push category: EMERGENCY always goes out; the others follow preferences."""
    categories = push_service.NotificationCategory
    if kind in {
        AlertKind.EMERGENCY_WARNING,
        AlertKind.TSUNAMI_WARNING,
        AlertKind.EMERGENCY_NOTICE,
    } or (kind is AlertKind.EVACUATION and (level or 0) >= 4):
        return categories.EMERGENCY.value
    if kind is AlertKind.EARTHQUAKE:
        return categories.EARTHQUAKE.value
    if kind is AlertKind.NOTICE:
        return categories.CITY_NOTICE.value
    if kind in {AlertKind.ADVISORY, AlertKind.TSUNAMI_INFO}:
        return categories.ADVISORY.value
    return categories.WARNING.value


def title_ja(alert: Alert) -> str:
    if alert.title_ja:
        return alert.title_ja
    if alert.kind == AlertKind.EVACUATION and alert.level in EVACUATION_TITLE_JA:
        return EVACUATION_TITLE_JA[alert.level]
    return KIND_JA[AlertKind(alert.kind)]


def title_en(alert: Alert) -> str:
    if alert.title_en:
        return alert.title_en
    if alert.kind == AlertKind.EVACUATION and alert.level in EVACUATION_TITLE_EN:
        return EVACUATION_TITLE_EN[alert.level]
    return KIND_EN[AlertKind(alert.kind)].capitalize()


async def _resolve_municipalities(
    session: AsyncSession, areas: Sequence[PreparedArea]
) -> dict[str, tuple[list[tuple[str, str]], bool]]:
    """For each area key: the (municipality, town) pairs it covers and whether it resolved.

    Every code goes through the JMA area lookup, one query per scheme at most: it knows the
    tables, the wards of a designated city and whole prefectures; a 町丁目 is looked up as
    the municipality it names.
    """
    codes: dict[AreaScheme, set[str]] = defaultdict(set)
    for prepared in areas:
        scheme = prepared.area.scheme
        if scheme is not AreaScheme.GEOMETRY:
            lookup = AreaScheme.MUNICIPALITY if scheme is AreaScheme.TOWN else scheme
            codes[lookup].add(prepared.area.code or "")
    covered = {
        scheme: await jma_areas.municipalities_for(session, scheme, wanted)
        for scheme, wanted in codes.items()
    }
    resolved: dict[str, tuple[list[tuple[str, str]], bool]] = {}
    for prepared in areas:
        area = prepared.area
        if area.scheme is AreaScheme.GEOMETRY:
            resolved[prepared.key] = ([], bool(prepared.cells))
            continue
        town = area.name if area.scheme is AreaScheme.TOWN else ""
        lookup = AreaScheme.MUNICIPALITY if area.scheme is AreaScheme.TOWN else area.scheme
        pairs = [(c, town) for c in sorted(covered[lookup].get(area.code or "", set()))]
        resolved[prepared.key] = (pairs, bool(pairs))
    return resolved


def _apply_fields(alert: Alert, draft: AlertDraft) -> None:
    alert.kind = draft.kind.value
    alert.type_code = draft.type_code
    alert.status = draft.status.value
    alert.level = draft.level
    alert.severity = draft.severity.value
    alert.intensity = draft.intensity
    alert.title_ja = draft.title_ja
    alert.title_en = draft.title_en
    alert.headline_ja = draft.headline_ja
    alert.headline_en = draft.headline_en
    alert.headline_easy_ja = draft.headline_easy_ja
    alert.body_ja = draft.body_ja
    alert.body_en = draft.body_en
    alert.issuer = draft.issuer
    alert.issued_at = draft.issued_at
    alert.effective_at = draft.effective_at
    alert.expires_at = draft.expires_at
    alert.last_source_id = draft.source_id
    alert.details = dict(draft.details)


async def store(
    session: AsyncSession,
    prepared: PreparedDraft,
    *,
    via: str,
    sha256: str | None = None,
    municipality_code: str | None = None,
    drafted_by: str | None = None,
    pending_approval: bool = False,
    open_events: bool = False,
) -> StoreOutcome:
    """Apply one draft (see the module docstring); the caller's transaction commits it.

    ``open_events``: an evacuation order or emergency warning also opens a disaster event,
    whose residents are asked to answer 安否 (KIZUNA_AUTO_OPEN_EVENTS).
    """
    draft = prepared.draft
    receipt_key = _receipt_key(draft)
    existing_receipt = await repository.receipt(session, receipt_key)
    if existing_receipt is not None:
        return StoreOutcome(existing_receipt.alert_id, duplicate=True)
    now = utcnow()
    alert = await repository.by_event(session, draft.source.value, draft.event_key)
    if alert is None and draft.references:
        # A chain A <- B <- C where C names only B: B's alert is found by its delivery.
        alert = await repository.by_last_source(session, draft.source.value, draft.references)
    outcome = StoreOutcome(alert.id if alert else None)

    if draft.action is AlertAction.CANCEL:
        if alert is not None:
            alert.state = AlertState.CANCELLED.value
            alert.version += 1
            alert.updated_at = now
            alert.last_source_id = draft.source_id
            await repository.deactivate_areas(session, alert.id, None, now)
        await repository.add_receipt(session, receipt_key, outcome.alert_id, via, sha256)
        return outcome

    if alert is None:
        only_lifts = bool(prepared.areas) and all(
            p.area.action is AlertAction.LIFT for p in prepared.areas
        )
        if draft.action is AlertAction.LIFT or only_lifts:
            # Lifting what was never received: remember the delivery, store nothing.
            await repository.add_receipt(session, receipt_key, None, via, sha256)
            return outcome
        alert = Alert(
            id=uuid.uuid4(),
            source=draft.source.value,
            event_key=draft.event_key,
            municipality_code=municipality_code,
            drafted_by=drafted_by,
            version=0,
            generation=1,
            received_at=now,
            details={},
        )
        _apply_fields(alert, draft)
        alert.state = (
            AlertState.PENDING_APPROVAL.value if pending_approval else AlertState.ACTIVE.value
        )
        session.add(alert)
        await session.flush()
        outcome.alert_id = alert.id
        outcome.created = True
    elif draft.action is not AlertAction.LIFT:
        was_live = alert.state == AlertState.ACTIVE.value
        _apply_fields(alert, draft)
        if not was_live and alert.state != AlertState.PENDING_APPROVAL.value:
            alert.state = AlertState.ACTIVE.value
            alert.generation += 1
    alert.version += 1
    alert.updated_at = now
    alert.last_source_id = draft.source_id

    existing_areas = {a.area_key: a for a in await repository.areas_of(session, [alert.id])}
    issued: list[AlertAreaRow] = []
    lifted: list[AlertAreaRow] = []
    whole_lift = draft.action is AlertAction.LIFT
    covers = await _resolve_municipalities(session, prepared.areas)
    links: list[tuple[uuid.UUID, list[tuple[str, str]], tuple[tuple[int, bool], ...]]] = []
    for prep in prepared.areas:
        area = prep.area
        lift = whole_lift or area.action is AlertAction.LIFT
        row = existing_areas.get(prep.key)
        if lift:
            if row is not None and row.active:
                row.active = False
                row.updated_at = now
                lifted.append(row)
            continue
        level = area.level if area.level is not None else draft.level
        if row is None:
            row = AlertAreaRow(
                id=uuid.uuid4(),
                alert_id=alert.id,
                area_key=prep.key,
                scheme=area.scheme.value,
                code=area.code,
                name=area.name[:200],
            )
            session.add(row)
            existing_areas[prep.key] = row
        row.geometry_geojson = prep.geojson
        row.level = level
        row.intensity = area.intensity
        row.active = True
        row.updated_at = now
        municipalities, resolved = covers[prep.key]
        if not resolved:
            outcome.unresolved_areas.append(area.name)
        links.append((row.id, municipalities, prep.cells))
        issued.append(row)
    await session.flush()
    await repository.replace_area_links(session, links)
    if whole_lift and not prepared.areas:
        for row in existing_areas.values():
            if row.active:
                row.active = False
                row.updated_at = now
                lifted.append(row)
    if not any(a.active for a in existing_areas.values()) and alert.state == "active":
        alert.state = AlertState.LIFTED.value
    await session.flush()
    await repository.add_receipt(session, receipt_key, alert.id, via, sha256)

    expired = alert.expires_at is not None and alert.expires_at <= now
    if (
        alert.status == AlertStatus.ACTUAL.value
        and alert.state != "pending_approval"
        and not expired
    ):
        outcome.concerned_residents = await _notify(session, alert, issued, lifted)
        if open_events and issued:
            await _open_event(session, alert)
    return outcome


async def publish_pending(
    session: AsyncSession, alert: Alert, *, approved_by: str | None, open_events: bool = False
) -> int:
    """Publish an approved draft: it becomes active and its residents are told."""
    alert.state = AlertState.ACTIVE.value
    alert.approved_by = approved_by
    alert.version += 1
    alert.updated_at = utcnow()
    await session.flush()
    if alert.status != AlertStatus.ACTUAL.value:
        return 0
    live = [a for a in await repository.areas_of(session, [alert.id]) if a.active]
    told = await _notify(session, alert, live, [])
    if open_events and live:
        await _open_event(session, alert)
    return told


def opens_event(alert: Alert) -> bool:
    """An evacuation order (避難指示) or above, or an emergency warning (特別警報, 大津波警報…)."""
    kind = AlertKind(alert.kind)
    if alert.status != AlertStatus.ACTUAL.value or alert.state != AlertState.ACTIVE.value:
        return False
    if kind is AlertKind.EVACUATION:
        return (alert.level or 0) >= 4
    return kind in (AlertKind.EMERGENCY_WARNING, AlertKind.TSUNAMI_WARNING)


async def _open_event(session: AsyncSession, alert: Alert) -> None:
    """Open the disaster event of this alert once, over the municipalities it covers."""
    if not opens_event(alert):
        return
    covered = (await covered_municipalities(session, [alert.id])).get(alert.id, set())
    codes = sorted(covered | ({alert.municipality_code} if alert.municipality_code else set()))
    if not codes:
        return
    live = [a for a in await repository.areas_of(session, [alert.id]) if a.active]
    # Polygon areas only (a municipality-wide area asks the whole municipality anyway).
    area = (
        [json.loads(a.geometry_geojson) for a in live if a.geometry_geojson]
        if all(a.geometry_geojson for a in live)
        else []
    )
    name = title_ja(alert)[:200]
    try:
        await safety_service.open_event_for_alert(
            session,
            alert_id=alert.id,
            request=safety_service.EventRequest(name=name, municipality_codes=codes, area=area),
        )
    except ValidationFailed:
        # An area too detailed for an event: ask the whole municipalities rather than nobody.
        await safety_service.open_event_for_alert(
            session,
            alert_id=alert.id,
            request=safety_service.EventRequest(name=name, municipality_codes=codes),
        )


def _receipt_key(draft: AlertDraft) -> str:
    """One delivery of one alert: a telegram holding several warnings has several."""
    key = f"{draft.source.value}|{draft.source_id}|{draft.event_key}"
    return key if len(key) <= 300 else "sha256:" + hashlib.sha256(key.encode()).hexdigest()


def _cover(row: AlertAreaRow) -> AreaCover:
    return AreaCover(row.id, row.alert_id, row.level, row.intensity, row.geometry_geojson)


def _max_intensity(values: Sequence[str | None]) -> str | None:
    known = [v for v in values if v in _SHINDO_ORDER]
    return max(known, key=_SHINDO_ORDER.index) if known else None


async def _notify(
    session: AsyncSession, alert: Alert, issued: list[AlertAreaRow], lifted: list[AlertAreaRow]
) -> int:
    """One notification per concerned resident, naming their places in these areas."""
    notices: list[push_service.Notice] = []
    kind = AlertKind(alert.kind)
    if issued and alert.state == AlertState.ACTIVE.value:
        reaches = await places_in_areas(session, [_cover(r) for r in issued])
        home_levels: dict[uuid.UUID, int] = {}
        for resident_id, found in _by_resident(reaches).items():
            levels = [area.level for area, _ in found if area.level is not None]
            level = max(levels) if levels else alert.level
            home = [area.level or alert.level or 0 for area, kinds in found if "home" in kinds]
            if home and max(home) > 0:
                home_levels[resident_id] = max(home)
            intensity = _max_intensity([area.intensity for area, _ in found]) or alert.intensity
            kinds = [k for _, area_kinds in found for k in area_kinds]
            category = category_of(kind, level)
            if category == push_service.NotificationCategory.EARTHQUAKE.value and not intensity:
                # 震源に関する情報 carries no 震度 to filter by: it is general information.
                category = push_service.NotificationCategory.ADVISORY.value
            notices.append(
                push_service.Notice(
                    resident_id=resident_id,
                    category=push_service.NotificationCategory(category),
                    # A resident hears of an alert once per level it reaches (a continuation
                    # telegram at the same level is silent); a new generation starts after a lift.
                    dedupe_key=f"alert:{alert.id}:{alert.generation}:L{level or 0}",
                    title_ja=title_ja(alert),
                    body_ja=_body(concern_ja(kinds, title_ja(alert)), alert.headline_ja, "。"),
                    title_en=title_en(alert),
                    body_en=_body(concern_en(kinds, title_en(alert)), alert.headline_en, ". "),
                    data=_data(alert, level),
                    intensity=intensity,
                )
            )
        if home_levels:
            # Individual evacuation plans whose trigger level the alert reaches at home.
            await plans_service.activate(
                session,
                alert_id=alert.id,
                alert_title_ja=title_ja(alert),
                alert_title_en=title_en(alert),
                home_levels=home_levels,
            )
    if lifted and kind in _PUSHED_LIFTS:
        reaches = await places_in_areas(session, [_cover(r) for r in lifted])
        for resident_id, found in _by_resident(reaches).items():
            kinds = [k for _, area_kinds in found for k in area_kinds]
            notices.append(
                push_service.Notice(
                    resident_id=resident_id,
                    category=push_service.NotificationCategory(category_of(kind, alert.level)),
                    dedupe_key=f"alert:{alert.id}:{alert.generation}:lifted:{alert.version}",
                    title_ja=f"{title_ja(alert)}の解除",
                    body_ja=lifted_ja(kinds, title_ja(alert)),
                    title_en=f"Lifted: {title_en(alert)}",
                    body_en=lifted_en(kinds, title_en(alert)),
                    data=_data(alert, None),
                )
            )
    if not notices:
        return 0
    await push_service.notify(session, notices)
    return len({n.resident_id for n in notices})


def _body(lead: str, headline: str | None, joiner: str) -> str:
    if not headline:
        return lead
    text = f"{lead}{joiner}{headline}"
    return text if len(text) <= 500 else text[:499] + "…"


def _data(alert: Alert, level: int | None) -> dict[str, str]:
    # The GraphQL id, so the app opens alert(id) from the notification.
    data = {"alertId": encode_id("Alert", alert.id), "kind": alert.kind}
    if level is not None:
        data["level"] = str(level)
    return data


def _by_resident(reaches: Sequence[Reach]) -> dict[uuid.UUID, list[tuple[AreaCover, list[str]]]]:
    """Per resident, the areas they have places in and the kinds of those places."""
    grouped: dict[uuid.UUID, list[tuple[AreaCover, list[str]]]] = defaultdict(list)
    for reach in reaches:
        for resident_id, kinds in reach.kinds_by_resident.items():
            grouped[resident_id].append((reach.area, kinds))
    return grouped


# --- reading ---------------------------------------------------------------------------


def may_see(principal: Principal, alert: Alert, covered: set[str]) -> bool:
    """Residents see published actual alerts; staff also exercises and drafts of their city."""
    staff_codes = principal.municipalities_for(*STAFF_ROLES)
    if alert.municipality_code in staff_codes or covered & staff_codes:
        return True
    return alert.status == AlertStatus.ACTUAL.value and alert.state != "pending_approval"


async def get_alert(session: AsyncSession, principal: Principal, alert_id: uuid.UUID) -> Alert:
    """An alert the caller may see; any other id is NotFound."""
    alert = await repository.get(session, alert_id)
    if alert is None:
        raise NotFound("alert", "警報・避難情報", field="id")
    covered = await covered_municipalities(session, [alert.id])
    if not may_see(principal, alert, covered.get(alert.id, set())):
        raise NotFound("alert", "警報・避難情報", field="id")
    return alert


async def covered_municipalities(
    session: AsyncSession, alert_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, set[str]]:
    areas = await repository.areas_of(session, alert_ids)
    alert_of = {a.id: a.alert_id for a in areas}
    covered: dict[uuid.UUID, set[str]] = defaultdict(set)
    for area_id, code, _town in await repository.municipality_links(session, list(alert_of)):
        covered[alert_of[area_id]].add(code)
    return covered


async def area_feature_collection(session: AsyncSession, alert: Alert) -> str:
    """The alert's areas as GeoJSON: polygons as sent, municipalities by their boundary."""
    areas = await repository.areas_of(session, [alert.id])
    links = await repository.municipality_links(session, [a.id for a in areas])
    codes_of: dict[uuid.UUID, list[str]] = defaultdict(list)
    for area_id, code, _town in links:
        codes_of[area_id].append(code)
    features = []
    for area in areas:
        geometry = json.loads(area.geometry_geojson) if area.geometry_geojson else None
        codes = sorted(set(codes_of.get(area.id, [])))
        if geometry is None and len(codes) == 1 and area.scheme != AreaScheme.TOWN.value:
            boundary = await municipality_service.boundary_geojson(session, codes[0])
            geometry = json.loads(boundary) if boundary else None
        features.append(
            {
                "type": "Feature",
                "geometry": geometry,
                "properties": {
                    "name": area.name,
                    "scheme": area.scheme,
                    "code": area.code,
                    "municipalityCodes": codes,
                    "level": area.level,
                    "intensity": area.intensity,
                    "active": area.active,
                },
            }
        )
    return json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False)


async def areas_of(session: AsyncSession, alert_ids: Sequence[uuid.UUID]) -> list[AlertAreaRow]:
    return await repository.areas_of(session, alert_ids)


async def alerts_by_ids(session: AsyncSession, ids: Sequence[uuid.UUID]) -> list[Alert]:
    return await repository.alerts_by_ids(session, ids)


# --- what concerns a resident -----------------------------------------------------------


@dataclass(slots=True)
class PlaceUnderAlert:
    """One of the resident's places (or a family member's home) and the alerts over it."""

    spot: PlaceSpot
    member_name: str | None  # None: the resident's own place
    alerts: list[tuple[Alert, int | None]]  # (alert, level in this place's area)

    @property
    def highest_level(self) -> int | None:
        levels = [level for _, level in self.alerts if level is not None]
        return max(levels) if levels else None


@dataclass(slots=True)
class MyAlerts:
    places: list[PlaceUnderAlert]
    alerts: list[Alert]

    @property
    def highest_level(self) -> int | None:
        levels = [p.highest_level for p in self.places if p.highest_level is not None]
        return max(levels) if levels else None


async def _family_homes(
    session: AsyncSession, viewer: Viewer, meta: RequestMeta
) -> tuple[list[PlaceSpot], dict[uuid.UUID, str]]:
    """Homes of family members who share family_safety with the viewer (read and logged)."""
    assert viewer.resident_id is not None
    groups = await family_service.list_groups(session, viewer.resident_id)
    if not groups:
        return [], {}
    members = await family_service.members_of_groups(session, [g.id for g in groups])
    others = sorted({m.resident_id for m in members} - {viewer.resident_id})
    if not others:
        return [], {}
    shared = await enforcement.read_many(
        session, viewer, others, purpose_code="family_safety", items=["name"], meta=meta
    )
    names = {sid: str(data.values.get("name") or "") for sid, data in shared.items()}
    homes = await residents_service.place_spots_of(session, list(names), ["home"])
    return homes, names


async def my_alerts(session: AsyncSession, viewer: Viewer, meta: RequestMeta) -> MyAlerts:
    """Active actual alerts over the resident's places and consenting family members' homes."""
    assert viewer.resident_id is not None
    own = await residents_service.place_spots_of(session, [viewer.resident_id])
    homes, names = await _family_homes(session, viewer, meta)
    spots = own + homes
    concerns = await areas_at_places(session, spots)
    alerts = {a.id: a for a in await repository.alerts_by_ids(
        session, sorted({c.area.alert_id for c in concerns})
    )}  # fmt: skip
    by_place: dict[uuid.UUID, dict[uuid.UUID, int | None]] = defaultdict(dict)
    for concern in concerns:
        levels = by_place[concern.spot.id]
        area_level = concern.area.level
        previous = levels.get(concern.area.alert_id)
        if concern.area.alert_id not in levels or (area_level or 0) > (previous or 0):
            levels[concern.area.alert_id] = area_level
    places = []
    for spot in spots:
        found = by_place.get(spot.id)
        if not found:
            continue
        member = None if spot.resident_id == viewer.resident_id else names.get(spot.resident_id)
        listed = sorted(
            ((alerts[a], level) for a, level in found.items() if a in alerts),
            key=lambda pair: (-(pair[1] or 0), pair[0].issued_at),
        )
        places.append(PlaceUnderAlert(spot, member, listed))
    ordered = sorted(
        {a.id: a for p in places for a, _ in p.alerts}.values(),
        key=lambda a: (-(a.level or 0), a.issued_at),
    )
    return MyAlerts(places, ordered)


async def staff_alerts(
    session: AsyncSession,
    principal: Principal,
    *,
    municipality_code: str,
    include_inactive: bool,
    include_exercises: bool,
    limit: int,
    before: tuple[datetime, uuid.UUID] | None,
) -> list[Alert]:
    """Alerts owned by or covering a municipality, for its staff (exercises and drafts too)."""
    if not principal.has_role(municipality_code, *STAFF_ROLES):
        raise NotPermitted(
            "only city staff of this municipality may list its alerts",
            "この市区町村の職員だけが一覧を見られます",
            field="municipalityCode",
        )
    states = None if include_inactive else [AlertState.ACTIVE.value, "pending_approval"]
    statuses = None if include_exercises else [AlertStatus.ACTUAL.value]
    return await repository.list_alerts(
        session,
        states=states,
        statuses=statuses,
        municipality_codes=[municipality_code],
        limit=limit,
        before=before,
    )


async def rejections(
    session: AsyncSession, principal: Principal, *, limit: int, before: datetime | None
) -> list[AlertRejection]:
    """The refused documents, for city staff of any municipality served."""
    if not principal.municipalities_for(*STAFF_ROLES):
        raise NotPermitted(
            "only city staff may read the rejection log",
            "受け付けなかった文書の記録は市職員だけが見られます",
        )
    return await repository.rejections(session, limit, before)
