"""Disaster events and safety answers: who may answer for whom, and what each view may show.

An answer is stored as given (history) and becomes the person's counting answer in the event
when it is the newest by the time it was given. Views read other people's answers only
through consent (``enforcement.read_many``), which logs every read; counts are not personal
data and cover everyone, named or not.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

import h3
import numpy as np
import shapely
from shapely.geometry import GeometryCollection, shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy.ext.asyncio import AsyncSession

from ..api.ids import encode_id
from ..auth import service as auth_service
from ..communities import service as communities_service
from ..consent import enforcement
from ..db.base import utcnow
from ..errors import Checker, Conflict, NotFound, NotPermitted, Unauthenticated, ValidationFailed
from ..family import service as family_service
from ..geo import check_point, h3_cells, haversine_m_array
from ..hazards.sources import parse_client_polygons
from ..hazards.types import HazardType
from ..live import changed, community_topic, consent_topic, family_topic
from ..municipalities import service as municipality_service
from ..principal import Principal, PrincipalKind, RequestMeta, ResidentRef, Viewer
from ..push import service as push_service
from ..residents import service as residents_service
from ..shelters import checkin as shelter_checkin
from ..shelters import service as shelters_service
from ..shelters.errors import ShelterFull
from ..text import clean_text
from . import paper, repository
from .models import (
    AnsweredBy,
    AnswerSource,
    DisasterEvent,
    DisasterEventMunicipality,
    EventState,
    LocationShare,
    SafetyAnswer,
    SafetyLatest,
    SafetyStatus,
)

FAMILY_PURPOSE = "family_safety"
LOCATION_PURPOSE = "family_location"
COMMUNITY_PURPOSE = "community_safety"
# Purposes whose consent to show one's safety answers to someone also lets them answer for
# one (a family member who checks on you, a town-association leader at your door).
PLAN_PURPOSE = "plan_support"


@dataclass(frozen=True, slots=True)
class ProxyRule:
    """Who answers for a person: whoever may read ``item`` of the person for the purpose,
    for one of ``reasons`` when given (a relationship, or law:<basis>)."""

    capacity: AnsweredBy
    item: str = "safety_status"
    reasons: frozenset[str] | None = None


PROXY_PURPOSES = {
    FAMILY_PURPOSE: ProxyRule(AnsweredBy.FAMILY),
    COMMUNITY_PURPOSE: ProxyRule(AnsweredBy.COMMUNITY),
    # The supporters an approved plan names (and, in a declared disaster, those the register
    # goes to without consent) check on the person and answer for them.
    PLAN_PURPOSE: ProxyRule(
        AnsweredBy.SUPPORTER,
        item="evacuation_plan",
        reasons=frozenset({"supporter", "law:disaster_register"}),
    ),
}
MAX_EVENT_MUNICIPALITIES = 100
MAX_AREA_POLYGONS = 20
MAX_AREA_VERTICES = 20_000
MAX_NOTE_LENGTH = 500
MAX_KEY_LENGTH = 100
MAX_LEGAL_BASIS_LENGTH = 200
# Answers of events closed within this many days still show in consented views.
CLOSED_VISIBLE_DAYS = 30
# A position farther than this from every shelter is "evacuated, but not at a shelter".
OUTSIDE_SHELTER_M = 300.0
MAX_OUTSIDE_POINTS = 2_000
MAX_SHARE_MINUTES = 24 * 60
# Below this many places the area test runs inline: a thread hop costs more than the test.
_INLINE_POINTS = 2_000
# Order of a leader's list: who needs help first.
STATUS_ORDER = {
    SafetyStatus.NEEDS_HELP.value: 0,
    SafetyStatus.INJURED.value: 1,
    None: 2,
    SafetyStatus.EVACUATED_TO_SHELTER.value: 3,
    SafetyStatus.SAFE.value: 4,
}
STAFF_ROLES = auth_service.STAFF_ROLES


def _event_not_found() -> NotFound:
    return NotFound("disaster event", "災害", field="eventId")


def _person_not_found() -> NotFound:
    return NotFound("person", "対象者", field="personId")


# --- events ------------------------------------------------------------------------------


@lru_cache(maxsize=256)
def _area(geojson: str) -> BaseGeometry:
    """An event's area as a geometry (parsed once per process; events are few)."""
    return shape(json.loads(geojson))


def _inside(geojson: str, lats: np.ndarray, lons: np.ndarray) -> np.ndarray:
    # A fresh geometry per thread: GEOS prepared geometries must not be shared across threads.
    return shapely.contains_xy(shape(json.loads(geojson)), lons, lats)


async def _points_inside(geojson: str, lats: np.ndarray, lons: np.ndarray) -> np.ndarray:
    if len(lats) <= _INLINE_POINTS:
        return shapely.contains_xy(_area(geojson), lons, lats)
    return await asyncio.to_thread(_inside, geojson, lats, lons)


@dataclass(frozen=True, slots=True)
class EventRequest:
    """What staff (or an alert) give to open an event."""

    name: str
    municipality_codes: Sequence[str]
    hazard_type: HazardType | None = None
    area: Sequence[object] = ()
    started_at: datetime | None = None


async def _checked_event(
    session: AsyncSession, request: EventRequest
) -> tuple[str, list[str], str | None]:
    checker = Checker()
    name = clean_text(checker, "name", request.name, label_ja="名称", max_length=200, required=True)
    codes: list[str] = []
    if not request.municipality_codes:
        checker.add(
            "municipalityCodes", "name at least one municipality", "市区町村を指定してください"
        )
    elif len(request.municipality_codes) > MAX_EVENT_MUNICIPALITIES:
        checker.add(
            "municipalityCodes",
            f"at most {MAX_EVENT_MUNICIPALITIES} municipalities",
            f"市区町村は{MAX_EVENT_MUNICIPALITIES}件までです",
        )
    polygons = parse_client_polygons(
        checker,
        "area",
        list(request.area),
        max_count=MAX_AREA_POLYGONS,
        max_vertices=MAX_AREA_VERTICES,
        label_en="area polygons",
        label_ja="対象区域",
    )
    if request.started_at is not None and request.started_at > utcnow() + timedelta(days=1):
        checker.add("startedAt", "the start lies in the future", "発生日時が未来です")
    checker.raise_if_any()
    for i, raw in enumerate(request.municipality_codes):
        try:
            municipality = await municipality_service.get_municipality(session, raw)
        except NotFound:
            checker.add(
                f"municipalityCodes[{i}]",
                f"unknown municipality {raw!r}",
                "指定された市区町村はありません",
            )
            continue
        if municipality.code not in codes:
            codes.append(municipality.code)
    checker.raise_if_any()
    area = shapely.to_geojson(GeometryCollection(polygons)) if polygons else None
    assert name is not None
    return name, codes, area


async def open_event(
    session: AsyncSession, principal: Principal, request: EventRequest
) -> tuple[DisasterEvent, int]:
    """Open a disaster event (staff of every municipality it covers) and ask its residents."""
    # Refuse callers who are staff nowhere before the polygons are parsed.
    _require_staff(principal)
    name, codes, area = await _checked_event(session, request)
    for code in codes:
        auth_service.require_role(principal, code, *STAFF_ROLES)
    return await _open(
        session, request, name, codes, area, opened_by=principal.subject or "", alert_id=None
    )


async def _open(
    session: AsyncSession,
    request: EventRequest,
    name: str,
    codes: list[str],
    area: str | None,
    *,
    opened_by: str,
    alert_id: uuid.UUID | None,
) -> tuple[DisasterEvent, int]:
    """Store the event and ask its residents; returns how many were asked."""
    event = DisasterEvent(
        id=uuid.uuid4(),
        name=name,
        hazard_type=request.hazard_type.value if request.hazard_type else None,
        area_geojson=area,
        state=EventState.OPEN.value,
        started_at=request.started_at or utcnow(),
        opened_by=opened_by,
        source_alert_id=alert_id,
    )
    session.add(event)
    session.add_all(
        DisasterEventMunicipality(event_id=event.id, municipality_code=c) for c in codes
    )
    await session.flush()
    return event, await _ask_to_check_in(session, event, codes)


async def open_event_for_alert(
    session: AsyncSession, *, alert_id: uuid.UUID, request: EventRequest
) -> DisasterEvent:
    """The event an evacuation order or emergency warning opens (once per alert)."""
    existing = await repository.event_by_alert(session, alert_id)
    if existing is not None:
        return existing
    name, codes, area = await _checked_event(session, request)
    event, _asked = await _open(
        session, request, name, codes, area, opened_by="alert", alert_id=alert_id
    )
    return event


async def close_event(
    session: AsyncSession, principal: Principal, *, event_id: uuid.UUID
) -> DisasterEvent:
    """Close an event (staff of every municipality it covers); answers stay readable."""
    event = await _staff_event(session, principal, event_id, all_municipalities=True)
    if event.state == EventState.CLOSED.value:
        raise Conflict("the event is already closed", "この災害はすでに終了しています")
    event.state = EventState.CLOSED.value
    event.closed_at = utcnow()
    event.closed_by = principal.subject
    await session.flush()
    return event


async def _staff_event(
    session: AsyncSession, principal: Principal, event_id: uuid.UUID, *, all_municipalities: bool
) -> DisasterEvent:
    """An event the principal is staff for; to anyone else it does not exist."""
    event = await repository.get_event(session, event_id)
    if event is None:
        raise _event_not_found()
    codes = (await repository.municipalities_of(session, [event.id]))[event.id]
    mine = principal.municipalities_for(*STAFF_ROLES)
    if not mine & set(codes):
        raise _event_not_found()
    if all_municipalities:
        for code in codes:
            auth_service.require_role(principal, code, *STAFF_ROLES)
    return event


async def staff_tally_of(
    session: AsyncSession,
    principal: Principal,
    *,
    event_id: uuid.UUID,
    people: Callable[[list[str]], Awaitable[Sequence[uuid.UUID]]],
) -> Tally:
    """Counts (no names) of the people ``people`` names in the event's municipalities where
    the principal is staff: how another capability tracks its own group (e.g. the people
    with evacuation plans) in an event."""
    event = await _staff_event(session, principal, event_id, all_municipalities=False)
    event_codes = (await repository.municipalities_of(session, [event.id]))[event.id]
    codes = sorted(set(event_codes) & principal.municipalities_for(*STAFF_ROLES))
    ids = list(await people(codes))
    return Tally.of(await repository.status_counts(session, event.id, ids), len(ids))


async def get_event(session: AsyncSession, event_id: uuid.UUID) -> DisasterEvent:
    """An event by id (events are public: their name, area and state)."""
    event = await repository.get_event(session, event_id)
    if event is None:
        raise _event_not_found()
    return event


async def event_municipalities(
    session: AsyncSession, event_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[str]]:
    """Each event's municipality codes (loader batch)."""
    return await repository.municipalities_of(session, event_ids)


async def municipalities_in_disaster(session: AsyncSession, codes: Sequence[str]) -> set[str]:
    """Those of these municipalities an open disaster event covers now."""
    events = await repository.open_events_in(session, list(codes))
    if not events:
        return set()
    covered = await repository.municipalities_of(session, [e.id for e in events])
    return {code for found in covered.values() for code in found} & set(codes)


async def open_event_at(
    session: AsyncSession, *, municipality_code: str, lat: float, lon: float
) -> uuid.UUID | None:
    """The newest open event of the municipality whose area (if it has one) holds the point."""
    for event in await repository.open_events_in(session, [municipality_code]):
        if event.area_geojson is None or shapely.intersects_xy(_area(event.area_geojson), lon, lat):
            return event.id
    return None


async def open_event_ids(session: AsyncSession, event_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    """Which of these events are open now."""
    return await repository.open_among(session, event_ids) if event_ids else set()


@dataclass(frozen=True, slots=True)
class EventScope:
    """An event's state and municipalities, as other domains need them (routing's gates)."""

    is_open: bool
    municipality_codes: list[str]


async def event_scopes(
    session: AsyncSession, event_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, EventScope]:
    """Each known event's state and municipality codes (unknown ids are left out)."""
    states = await repository.states_of(session, event_ids) if event_ids else {}
    codes = await repository.municipalities_of(session, list(states))
    return {
        event_id: EventScope(state == EventState.OPEN.value, codes[event_id])
        for event_id, state in states.items()
    }


async def evacuated_at_shelters(
    session: AsyncSession, shelter_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, int]:
    """People whose counting answer in an open event is "evacuated to" each of these shelters
    (no names): how routing counts who is there already."""
    return await repository.evacuated_in_open_events(session, shelter_ids)


def _require_staff(principal: Principal) -> list[str]:
    """The municipalities where the principal is staff; refused when there are none."""
    if principal.kind is PrincipalKind.ANONYMOUS:
        raise Unauthenticated()
    codes = sorted(principal.municipalities_for(*STAFF_ROLES))
    if not codes:
        raise NotPermitted("requires a staff role", "市職員の権限が必要です")
    return codes


async def staff_events(
    session: AsyncSession, principal: Principal, *, include_closed: bool, limit: int = 100
) -> list[DisasterEvent]:
    """Events of the municipalities the principal is staff of, newest first."""
    codes = _require_staff(principal)
    return await repository.events_in(session, codes, include_closed=include_closed, limit=limit)


async def _ask_to_check_in(session: AsyncSession, event: DisasterEvent, codes: list[str]) -> int:
    """Tell every resident with a place in the event's area to answer (through the outbox)."""
    spots = await residents_service.place_spots_concerning(session, codes)
    if event.area_geojson and spots:
        lats = np.fromiter((s.latitude for s in spots), float, len(spots))
        lons = np.fromiter((s.longitude for s in spots), float, len(spots))
        inside = await _points_inside(event.area_geojson, lats, lons)
        spots = [s for s, keep in zip(spots, inside, strict=True) if keep]
    residents = list(dict.fromkeys(s.resident_id for s in spots))
    if not residents:
        return 0
    notices = [
        push_service.Notice(
            resident_id=resident_id,
            category=push_service.NotificationCategory.EMERGENCY,
            dedupe_key=f"event:{event.id}:check-in",
            title_ja=f"安否確認：{event.name}",
            body_ja="ご無事ですか。アプリで安否をお知らせください。",
            title_en=f"Safety check: {event.name}",
            body_en="Are you safe? Please tell us in the app.",
            data={"eventId": _global_event_id(event.id), "kind": "safety_check"},
        )
        for resident_id in residents
    ]
    await push_service.notify(session, notices)
    return len(residents)


def _global_event_id(event_id: uuid.UUID) -> str:
    # The GraphQL id, so the app opens the check-in screen from the notification.
    return encode_id("DisasterEvent", event_id)


@dataclass(frozen=True, slots=True)
class OpenEvent:
    """An open event concerning a resident, and their counting answer in it."""

    event: DisasterEvent
    latest: SafetyLatest | None


async def my_open_events(session: AsyncSession, resident: ResidentRef) -> list[OpenEvent]:
    """Open events with one of the resident's places in their area, with the answer given."""
    spots = await residents_service.place_spots_of(session, [resident.id])
    me = await residents_service.residents_by_ids(session, [resident.id])
    homes = {me[0].home_municipality_code} if me and me[0].home_municipality_code else set()
    codes = sorted({s.municipality_code for s in spots if s.municipality_code} | homes)
    events = await repository.open_events_in(session, codes)
    concerned: list[DisasterEvent] = []
    for event in events:
        if event.area_geojson is None:
            concerned.append(event)
            continue
        lats = np.fromiter((s.latitude for s in spots), float, len(spots))
        lons = np.fromiter((s.longitude for s in spots), float, len(spots))
        if (await _points_inside(event.area_geojson, lats, lons)).any():
            concerned.append(event)
    latest: dict[uuid.UUID, SafetyLatest] = {}
    for event in concerned:
        found = await repository.latest_of(session, event.id, [resident.id])
        if resident.id in found:
            latest[event.id] = found[resident.id]
    return [OpenEvent(e, latest.get(e.id)) for e in concerned]


# --- answers -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Report:
    """One safety answer as a client (or a paper form) gives it."""

    event_id: uuid.UUID
    status: SafetyStatus
    person_id: uuid.UUID | None = None
    note: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    shelter_id: uuid.UUID | None = None
    idempotency_key: str | None = None
    legal_basis: str | None = None
    answered_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Reported:
    answer: SafetyAnswer
    # True when the idempotency key named an answer already stored (a retried request).
    replayed: bool = False
    # Whether the answer also checked the person in at its shelter (occupancy counts them).
    checked_in: bool = False


def _check_report(checker: Checker, report: Report, prefix: str = "") -> str | None:
    note = clean_text(
        checker, f"{prefix}note", report.note, label_ja="メモ", max_length=MAX_NOTE_LENGTH
    )
    if (report.latitude is None) != (report.longitude is None):
        checker.add(
            f"{prefix}location",
            "give both latitude and longitude",
            "緯度と経度の両方を指定してください",
        )
    elif report.latitude is not None and report.longitude is not None:
        check_point(checker, f"{prefix}location", report.latitude, report.longitude)
    if report.shelter_id is not None and report.status is not SafetyStatus.EVACUATED_TO_SHELTER:
        checker.add(
            f"{prefix}shelterId",
            "a shelter goes with the status EVACUATED_TO_SHELTER",
            "避難所は「避難所へ避難」の場合に指定します",
        )
    key = report.idempotency_key
    if key is not None and not 1 <= len(key) <= MAX_KEY_LENGTH:
        checker.add(
            f"{prefix}idempotencyKey",
            f"the key must be 1-{MAX_KEY_LENGTH} characters",
            f"再送防止キーは1〜{MAX_KEY_LENGTH}文字です",
        )
    if report.answered_at is not None and report.answered_at > utcnow() + timedelta(minutes=5):
        checker.add(f"{prefix}answeredAt", "the time lies in the future", "回答日時が未来です")
    return note


async def _capacity(
    session: AsyncSession,
    viewer: Viewer,
    subject_id: uuid.UUID,
    event: DisasterEvent,
    report: Report,
) -> AnsweredBy:
    """In which capacity the viewer answers for ``subject_id``; NotFound when in none."""
    if subject_id == viewer.resident_id:
        return AnsweredBy.SELF
    for purpose_code, rule in PROXY_PURPOSES.items():
        readable = await enforcement.readable_items(
            session, viewer, [subject_id], purpose_code=purpose_code
        )
        items, reasons = readable.get(subject_id, (set(), set()))
        if rule.item in items and (rule.reasons is None or rule.reasons & reasons):
            return rule.capacity
    if report.legal_basis is not None and viewer.principal.municipalities_for(*STAFF_ROLES):
        # Staff record paper forms for residents of their municipality, under a stated basis.
        residents = await residents_service.residents_by_ids(session, [subject_id])
        home = residents[0].home_municipality_code if residents else None
        codes = (await repository.municipalities_of(session, [event.id]))[event.id]
        if home is not None and home in codes and viewer.principal.has_role(home, *STAFF_ROLES):
            return AnsweredBy.STAFF
    raise _person_not_found()


def _cell9(lat: float, lon: float) -> int:
    """The res-9 H3 cell an answer is counted in on the staff map."""
    return h3_cells(lat, lon, (9,))[0]


async def _where(
    session: AsyncSession, subject_id: uuid.UUID, report: Report, event_id: uuid.UUID
) -> tuple[str | None, int | None]:
    """The municipality and res-9 cell an answer counts in: where it was given, else home,
    else the event's municipality when it covers only one (so staff never miss an answer)."""
    code: str | None = None
    cell: int | None = None
    if report.latitude is not None and report.longitude is not None:
        code = await municipality_service.locate(session, lat=report.latitude, lon=report.longitude)
        cell = _cell9(report.latitude, report.longitude)
    if code is None or cell is None:
        homes = await residents_service.place_spots_of(session, [subject_id], ["home"])
        if homes:
            code = code or homes[0].municipality_code
            if cell is None:
                cell = _cell9(homes[0].latitude, homes[0].longitude)
    if code is None:
        # Places saved before the boundaries were imported know no municipality.
        residents = await residents_service.residents_by_ids(session, [subject_id])
        code = residents[0].home_municipality_code if residents else None
    if code is None:
        # Read only here: nearly every answer knows its place, and this is a statement more.
        event_codes = (await repository.municipalities_of(session, [event_id]))[event_id]
        code = event_codes[0] if len(event_codes) == 1 else None
    return code, cell


async def report_safety(
    session: AsyncSession,
    viewer: Viewer,
    report: Report,
    *,
    source: AnswerSource = AnswerSource.APP,
    meta: RequestMeta | None = None,
) -> Reported:
    """Record a safety answer for oneself, or for someone one may answer for; "evacuated to
    shelter X" by the person or their family also checks them in at X."""
    recorder = viewer.principal.subject or viewer.principal.client_id or ""
    checker = Checker()
    note = _check_report(checker, report)
    if report.legal_basis is not None:
        clean_text(
            checker,
            "legalBasis",
            report.legal_basis,
            label_ja="法的根拠",
            max_length=MAX_LEGAL_BASIS_LENGTH,
            required=True,
        )
    checker.raise_if_any()
    subject_id = report.person_id or viewer.resident_id
    if subject_id is None:
        raise ValidationFailed.at("personId", "name the person", "対象者を指定してください")
    if report.idempotency_key is not None:
        existing = await repository.answer_by_key(session, recorder, report.idempotency_key)
        if existing is not None:
            return Reported(_same_answer(existing, report, subject_id), replayed=True)
    event = await repository.get_event(session, report.event_id)
    if event is None:
        raise _event_not_found()
    if event.state != EventState.OPEN.value:
        raise ValidationFailed.at(
            "eventId", "the event is closed", "この災害の安否確認は終了しています"
        )
    capacity = await _capacity(session, viewer, subject_id, event, report)
    checked_in = False
    if report.shelter_id is not None:
        checked_in = await _check_in(session, viewer, subject_id, report, capacity, meta)
    answer = await _store(
        session,
        event,
        subject_id,
        report,
        note=note,
        capacity=capacity,
        recorder=recorder,
        source=source,
    )
    return Reported(answer, checked_in=checked_in)


async def _check_in(
    session: AsyncSession,
    viewer: Viewer,
    subject_id: uuid.UUID,
    report: Report,
    capacity: AnsweredBy,
    meta: RequestMeta | None,
) -> bool:
    """Check the person in at the shelter they reported; a full shelter keeps the answer
    (they are there, or on their way) but not the place; a closed one refuses both."""
    assert report.shelter_id is not None
    if capacity not in (AnsweredBy.SELF, AnsweredBy.FAMILY):
        # A leader or staff member relays where someone is: the reception counts arrivals.
        await shelters_service.get_shelter(session, report.shelter_id)
        return False
    try:
        await shelter_checkin.check_in(
            session,
            viewer,
            shelter_id=report.shelter_id,
            resident_id=subject_id,
            meta=meta,
            shelter_field="shelterId",
        )
    except ShelterFull:
        return False
    return True


def _same_answer(existing: SafetyAnswer, report: Report, subject_id: uuid.UUID) -> SafetyAnswer:
    """A retried answer is the stored one; a different answer under the same key is refused."""
    if (
        existing.event_id != report.event_id
        or existing.resident_id != subject_id
        or existing.status != report.status.value
    ):
        raise Conflict(
            "this idempotency key was used for a different answer",
            "この再送防止キーは別の回答に使われています",
            field="idempotencyKey",
        )
    return existing


async def _store(
    session: AsyncSession,
    event: DisasterEvent,
    subject_id: uuid.UUID,
    report: Report,
    *,
    note: str | None,
    capacity: AnsweredBy,
    recorder: str,
    source: AnswerSource,
) -> SafetyAnswer:
    code, cell = await _where(session, subject_id, report, event.id)
    now = utcnow()
    answer = SafetyAnswer(
        id=uuid.uuid4(),
        event_id=event.id,
        resident_id=subject_id,
        status=report.status.value,
        note=note,
        latitude=report.latitude,
        longitude=report.longitude,
        shelter_id=report.shelter_id,
        answered_by=capacity.value,
        recorded_by=recorder,
        legal_basis=report.legal_basis,
        source=source.value,
        idempotency_key=report.idempotency_key,
        answered_at=report.answered_at or now,
        recorded_at=now,
    )
    await repository.add_answers(session, [_answer_row(answer)], [_latest_row(answer, code, cell)])
    await announce(session, event.id, [subject_id])
    return answer


@dataclass(frozen=True, slots=True)
class PaperImport:
    stored: int
    already_stored: int
    people: int


async def import_paper_answers(
    session: AsyncSession,
    *,
    event_id: uuid.UUID,
    answers: Sequence[paper.PaperAnswer],
    path: str,
    legal_basis: str,
    recorder: str,
) -> PaperImport:
    """Store answers collected on paper (all or nothing; a file imported twice stores once)."""
    checker = Checker()
    basis = clean_text(
        checker, "legalBasis", legal_basis, label_ja="法的根拠", max_length=200, required=True
    )
    checker.raise_if_any()
    event = await repository.get_event(session, event_id)
    if event is None:
        raise _event_not_found()
    if event.state != EventState.OPEN.value:
        raise ValidationFailed.at(
            "eventId", "the event is closed", "この災害の安否確認は終了しています"
        )
    event_codes = (await repository.municipalities_of(session, [event.id]))[event.id]
    ids = await residents_service.resident_ids_by_subjects(
        session, list({a.subject for a in answers})
    )
    problems = paper.Problems(path, paper.SafetyAnswersRefused)
    for a in answers:
        if a.subject not in ids:
            problems.add(
                a.line,
                f"no resident has the regional ID {a.subject!r}",
                "この地域IDの住民は登録されていません",
            )
    problems.raise_if_any()
    known = await repository.existing_keys(session, recorder, [a.key for a in answers])
    fresh = list({a.key: a for a in answers if a.key not in known}.values())
    people = list({ids[a.subject] for a in fresh})
    homes = {
        s.resident_id: s for s in await residents_service.place_spots_of(session, people, ["home"])
    }
    registered = {
        r.id: r.home_municipality_code
        for r in await residents_service.residents_by_ids(session, people)
    }
    now = utcnow()
    rows: list[dict[str, Any]] = []
    newest: dict[uuid.UUID, dict[str, Any]] = {}
    for a in fresh:
        subject_id = ids[a.subject]
        answer = SafetyAnswer(
            id=uuid.uuid4(),
            event_id=event.id,
            resident_id=subject_id,
            status=a.status.value,
            note=a.note,
            latitude=a.latitude,
            longitude=a.longitude,
            shelter_id=None,
            answered_by=AnsweredBy.STAFF.value,
            recorded_by=recorder,
            legal_basis=basis,
            source=AnswerSource.PAPER.value,
            idempotency_key=a.key,
            answered_at=a.answered_at,
            recorded_at=now,
        )
        rows.append(_answer_row(answer))
        home = homes.get(subject_id)
        cell = None
        if a.latitude is not None and a.longitude is not None:
            cell = _cell9(a.latitude, a.longitude)
        elif home is not None:
            cell = _cell9(home.latitude, home.longitude)
        code = (home.municipality_code if home else None) or registered.get(subject_id)
        if code is None and len(event_codes) == 1:
            code = event_codes[0]
        latest = _latest_row(answer, code, cell)
        # One statement may not update the same row twice: keep each person's newest.
        kept = newest.get(subject_id)
        if kept is None or kept["answered_at"] <= latest["answered_at"]:
            newest[subject_id] = latest
    await repository.add_answers(session, rows, list(newest.values()))
    await announce(session, event.id, people)
    return PaperImport(
        stored=len(rows), already_stored=len(answers) - len(fresh), people=len(people)
    )


def _answer_row(answer: SafetyAnswer) -> dict[str, Any]:
    return {c.key: getattr(answer, c.key) for c in SafetyAnswer.__table__.columns}


def _latest_row(answer: SafetyAnswer, code: str | None, cell: int | None) -> dict[str, Any]:
    return {
        "event_id": answer.event_id,
        "resident_id": answer.resident_id,
        "answer_id": answer.id,
        "status": answer.status,
        "answered_at": answer.answered_at,
        "municipality_code": code,
        "h3_res9": cell,
        "latitude": answer.latitude,
        "longitude": answer.longitude,
        "shelter_id": answer.shelter_id,
    }


async def announce(
    session: AsyncSession, event_id: uuid.UUID, subject_ids: list[uuid.UUID]
) -> None:
    """Tell the live views these people appear in (their communities and families)."""
    topics: set[str] = set()
    for community_id in await communities_service.community_ids_of(session, subject_ids):
        topics.add(community_topic(community_id, event_id))
    for group_id in await family_service.group_ids_of(session, subject_ids):
        topics.add(family_topic(group_id, event_id))
    if topics:
        changed(session, *topics)


async def my_history(
    session: AsyncSession, resident: ResidentRef, *, event_id: uuid.UUID, limit: int = 50
) -> list[SafetyAnswer]:
    """The resident's own answers in an event, newest first (who gave each, and when)."""
    await get_event(session, event_id)
    return await repository.history(session, event_id, resident.id, limit=limit)


# --- shared position ---------------------------------------------------------------------


async def share_location(
    session: AsyncSession,
    resident: ResidentRef,
    *,
    latitude: float,
    longitude: float,
    accuracy_m: float | None,
    minutes: int,
) -> LocationShare:
    """Share one's current position until it expires (family see it only with consent)."""
    checker = Checker()
    check_point(checker, "location", latitude, longitude)
    if not 1 <= minutes <= MAX_SHARE_MINUTES:
        checker.add(
            "minutes",
            f"share for 1 to {MAX_SHARE_MINUTES} minutes",
            f"共有する時間は1〜{MAX_SHARE_MINUTES}分で指定してください",
        )
    if accuracy_m is not None and not 0 <= accuracy_m <= 100_000:
        checker.add("accuracyMeters", "accuracy must be 0-100000 m", "精度は0〜100000mです")
    checker.raise_if_any()
    now = utcnow()
    share = await session.get(LocationShare, resident.id)
    if share is None:
        share = LocationShare(resident_id=resident.id)
        session.add(share)
    share.latitude, share.longitude, share.accuracy_m = latitude, longitude, accuracy_m
    share.shared_at, share.expires_at = now, now + timedelta(minutes=minutes)
    await session.flush()
    return share


async def stop_sharing_location(session: AsyncSession, resident: ResidentRef) -> bool:
    """Stop sharing one's position at once; True when a share was running."""
    return await repository.stop_location_share(session, resident.id)


async def location_values(
    session: AsyncSession, resident_ids: list[uuid.UUID]
) -> dict[uuid.UUID, dict[str, Any]]:
    """Unexpired shared positions (the current_location item, for consent)."""
    shares = await repository.location_shares(session, resident_ids, utcnow())
    return {
        rid: {
            "latitude": s.latitude,
            "longitude": s.longitude,
            "accuracyMeters": s.accuracy_m,
            "sharedAt": s.shared_at.isoformat(),
            "expiresAt": s.expires_at.isoformat(),
        }
        for rid, s in shares.items()
    }


async def safety_values(
    session: AsyncSession, resident_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[dict[str, Any]]]:
    """Counting answers in open and recently closed events (the safety_status item)."""
    since = utcnow() - timedelta(days=CLOSED_VISIBLE_DAYS)
    found: dict[uuid.UUID, list[dict[str, Any]]] = defaultdict(list)
    for latest, answer, event in await repository.latest_answers_of(
        session, resident_ids, since=since
    ):
        found[latest.resident_id].append(
            {
                "eventId": encode_id("DisasterEvent", event.id),
                "event": event.name,
                "status": answer.status,
                "answeredAt": answer.answered_at.isoformat(),
                "answeredBy": answer.answered_by,
                "note": answer.note,
                "shelterId": encode_id("Shelter", answer.shelter_id) if answer.shelter_id else None,
            }
        )
    return dict(found)


# --- views -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PersonSafety:
    """One person in a view: only what consent lets the viewer see (None where it does not)."""

    resident_id: uuid.UUID
    name: str | None
    status: str | None
    answered_at: datetime | None
    answered_by: str | None
    note: str | None
    shelter_id: str | None  # the global id, as consent hands it out
    shares_status: bool
    location: dict[str, Any] | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def answered(self) -> bool:
        return self.status is not None


def _answer_in(values: dict[str, Any], event_id: uuid.UUID) -> dict[str, Any] | None:
    for entry in values.get("safety_status") or []:
        if entry.get("eventId") == encode_id("DisasterEvent", event_id):
            return dict(entry)
    return None


def _person(
    resident_id: uuid.UUID,
    data: enforcement.PersonalData | None,
    event_id: uuid.UUID,
    location: dict[str, Any] | None = None,
) -> PersonSafety:
    values = data.values if data else {}
    shares = data is not None and "safety_status" in values
    entry = _answer_in(values, event_id) if shares else None
    details = {k: v for k, v in values.items() if k not in ("name", "safety_status")}
    return PersonSafety(
        resident_id=resident_id,
        name=values.get("name"),
        status=entry["status"] if entry else None,
        answered_at=datetime.fromisoformat(entry["answeredAt"]) if entry else None,
        answered_by=entry["answeredBy"] if entry else None,
        note=entry["note"] if entry else None,
        shelter_id=entry["shelterId"] if entry else None,
        shares_status=shares,
        location=location,
        details=details,
    )


@dataclass(frozen=True, slots=True)
class FamilyMemberSafety:
    membership_id: uuid.UUID
    person: PersonSafety


@dataclass(frozen=True, slots=True)
class FamilySafetyView:
    group_id: uuid.UUID
    event: DisasterEvent
    members: list[FamilyMemberSafety]

    @property
    def unanswered(self) -> list[FamilyMemberSafety]:
        """Members who share their answers with the viewer and have not answered."""
        return [m for m in self.members if m.person.shares_status and not m.person.answered]


async def family_safety(
    session: AsyncSession,
    viewer: Viewer,
    resident: ResidentRef,
    *,
    group_id: uuid.UUID,
    event_id: uuid.UUID,
    meta: RequestMeta,
) -> FamilySafetyView:
    """A family group's answers in an event, as each member's consent lets the viewer see."""
    await family_service.get_group(session, resident, group_id)
    event = await get_event(session, event_id)
    memberships = await family_service.members_of_groups(session, [group_id])
    ids = [m.resident_id for m in memberships]
    safety = await enforcement.read_many(
        session,
        viewer,
        ids,
        purpose_code=FAMILY_PURPOSE,
        items=["name", "safety_status"],
        meta=meta,
    )
    where = await enforcement.read_many(
        session, viewer, ids, purpose_code=LOCATION_PURPOSE, items=["current_location"], meta=meta
    )
    members = [
        FamilyMemberSafety(
            m.id,
            _person(
                m.resident_id,
                safety.get(m.resident_id),
                event.id,
                (
                    where[m.resident_id].values.get("current_location")
                    if m.resident_id in where
                    else None
                ),
            ),
        )
        for m in memberships
    ]
    return FamilySafetyView(group_id=group_id, event=event, members=members)


@dataclass(frozen=True, slots=True)
class Tally:
    """Counts over everyone in a group: answered by status, and not answered."""

    safe: int = 0
    injured: int = 0
    needs_help: int = 0
    evacuated: int = 0
    unanswered: int = 0

    @classmethod
    def of(cls, counts: dict[str, int], total: int) -> Tally:
        answered = sum(counts.values())
        return cls(
            safe=counts.get(SafetyStatus.SAFE.value, 0),
            injured=counts.get(SafetyStatus.INJURED.value, 0),
            needs_help=counts.get(SafetyStatus.NEEDS_HELP.value, 0),
            evacuated=counts.get(SafetyStatus.EVACUATED_TO_SHELTER.value, 0),
            unanswered=max(total - answered, 0),
        )

    @property
    def total(self) -> int:
        return self.safe + self.injured + self.needs_help + self.evacuated + self.unanswered


@dataclass(frozen=True, slots=True)
class CommunityTallyView:
    community_id: uuid.UUID
    community_name: str
    event: DisasterEvent
    tally: Tally
    # Members who consented, NEEDS_HELP first; the others are only counted.
    consenting: list[PersonSafety]

    @property
    def unanswered(self) -> list[PersonSafety]:
        return [p for p in self.consenting if p.shares_status and not p.answered]


async def community_tally(
    session: AsyncSession,
    viewer: Viewer,
    *,
    community_id: uuid.UUID,
    event_id: uuid.UUID,
    meta: RequestMeta,
    with_members: bool = True,
) -> CommunityTallyView:
    """A leader's tally of their community in an event: counts over every member, names and
    details only of members who consented to ``community_safety`` (read and logged).

    ``with_members=False`` (a screen showing the counts only) reads and logs nobody's data.
    """
    community, member_ids = await communities_service.members_for_leader(
        session, viewer, community_id=community_id
    )
    event = await get_event(session, event_id)
    counts = await repository.status_counts(session, event.id, member_ids)
    consenting: list[PersonSafety] = []
    if with_members:
        shared = await enforcement.read_many(
            session, viewer, member_ids, purpose_code=COMMUNITY_PURPOSE, items=None, meta=meta
        )
        consenting = [_person(m, shared[m], event.id) for m in member_ids if m in shared]
    consenting.sort(key=lambda p: (STATUS_ORDER.get(p.status, 2), p.name or "", str(p.resident_id)))
    return CommunityTallyView(
        community_id=community.id,
        community_name=community.name,
        event=event,
        tally=Tally.of(counts, len(member_ids)),
        consenting=consenting,
    )


async def require_leader(
    session: AsyncSession, resident_id: uuid.UUID, *, community_id: uuid.UUID
) -> None:
    """NotFound unless the resident leads the community (checked before every live read)."""
    if not await communities_service.leads(session, resident_id, community_id):
        raise NotFound("community", "町内会・自主防災組織", field="communityId")


async def community_view_topics(
    session: AsyncSession, viewer: Viewer, *, community_id: uuid.UUID, event_id: uuid.UUID
) -> list[str]:
    """What a leader's live tally listens to: its answers, and each member's consents (a
    revocation must take the name off at once). NotFound for anyone but a leader."""
    community, member_ids = await communities_service.members_for_leader(
        session, viewer, community_id=community_id
    )
    await get_event(session, event_id)
    return [community_topic(community.id, event_id), *map(consent_topic, member_ids)]


async def family_view_topics(
    session: AsyncSession, resident: ResidentRef, *, group_id: uuid.UUID, event_id: uuid.UUID
) -> list[str]:
    """What a family's live view listens to: its answers and each member's consents."""
    await family_service.get_group(session, resident, group_id)
    await get_event(session, event_id)
    members = await family_service.members_of_groups(session, [group_id])
    return [family_topic(group_id, event_id), *(consent_topic(m.resident_id) for m in members)]


# --- staff dashboard ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AreaTally:
    key: str
    label: str
    tally: Tally


@dataclass(frozen=True, slots=True)
class CellTally:
    cell: str
    tally: Tally


@dataclass(frozen=True, slots=True)
class OutsidePoint:
    latitude: float
    longitude: float
    answered_at: datetime
    nearest_shelter_m: float | None


@dataclass(frozen=True, slots=True)
class ShelterLoad:
    shelter: Any
    evacuated_answers: int


@dataclass(frozen=True, slots=True)
class Dashboard:
    event: DisasterEvent
    municipality_codes: list[str]
    total: Tally
    by_municipality: list[AreaTally]
    by_community: list[AreaTally]
    by_cell: list[CellTally]
    cell_resolution: int
    outside_shelters: list[OutsidePoint]
    shelters: list[ShelterLoad]


def _check_resolution(resolution: int) -> None:
    if not 5 <= resolution <= 9:
        raise ValidationFailed.at(
            "cellResolution", "resolution must be 5-9", "H3の解像度は5〜9で指定してください"
        )


async def staff_dashboard(
    session: AsyncSession, principal: Principal, *, event_id: uuid.UUID, cell_resolution: int = 8
) -> Dashboard:
    """Counts of an event in the municipalities the principal is staff of: per municipality,
    community and H3 cell; evacuees far from every shelter; shelter occupancy. No names."""
    _check_resolution(cell_resolution)
    event = await _staff_event(session, principal, event_id, all_municipalities=False)
    event_codes = (await repository.municipalities_of(session, [event.id]))[event.id]
    codes = sorted(set(event_codes) & principal.municipalities_for(*STAFF_ROLES))
    residents = await residents_service.resident_counts_by_home(session, codes)
    per_code: dict[str, dict[str, int]] = defaultdict(dict)
    for code, status, count in await repository.counts_by_municipality(session, event.id, codes):
        per_code[code or ""][status] = count
    municipalities = {
        m.code: m for m in await municipality_service.municipalities_by_codes(session, set(codes))
    }
    by_municipality = [
        AreaTally(
            code,
            municipalities[code].name_ja if code in municipalities else code,
            Tally.of(per_code[code], max(residents.get(code, 0), sum(per_code[code].values()))),
        )
        for code in codes
    ]
    total_counts: Counter[str] = Counter()
    for counts in per_code.values():
        total_counts.update(counts)
    total = Tally.of(
        dict(total_counts),
        sum(max(residents.get(c, 0), sum(per_code[c].values())) for c in codes),
    )
    by_community = await _community_tallies(session, event.id, codes)
    by_cell = await _cell_tallies(session, event.id, codes, cell_resolution)
    shelters = await _shelters_of(session, codes)
    outside = await _outside_shelters(session, event.id, codes, shelters)
    counted = await repository.evacuated_by_shelter(session, event.id, codes)
    return Dashboard(
        event=event,
        municipality_codes=codes,
        total=total,
        by_municipality=by_municipality,
        by_community=by_community,
        by_cell=by_cell,
        cell_resolution=cell_resolution,
        outside_shelters=outside,
        shelters=[ShelterLoad(s, counted.get(s.id, 0)) for s in shelters],
    )


async def _community_tallies(
    session: AsyncSession, event_id: uuid.UUID, codes: list[str]
) -> list[AreaTally]:
    communities = []
    for code in codes:
        communities.extend(await communities_service.list_communities(session, code))
    members = await communities_service.member_ids_of(session, [c.id for c in communities])
    everyone = list({m for ids in members.values() for m in ids})
    statuses = await repository.statuses_of(session, event_id, everyone)
    result = []
    for community in communities:
        ids = members.get(community.id, [])
        counts = Counter(statuses[m] for m in ids if m in statuses)
        result.append(
            AreaTally(str(community.id), community.name, Tally.of(dict(counts), len(ids)))
        )
    return result


async def _cell_tallies(
    session: AsyncSession, event_id: uuid.UUID, codes: list[str], resolution: int
) -> list[CellTally]:
    per_cell: dict[str, Counter[str]] = defaultdict(Counter)
    for cell, status, count in await repository.counts_by_cell(session, event_id, codes):
        parent = h3.cell_to_parent(h3.int_to_str(cell), resolution)
        per_cell[parent][status] += count
    return [
        CellTally(cell, Tally.of(dict(counts), sum(counts.values())))
        for cell, counts in sorted(per_cell.items())
    ]


async def _shelters_of(session: AsyncSession, codes: list[str]) -> list[Any]:
    found: list[Any] = []
    for code in codes:
        rows, _truncated = await shelters_service.shelters_in_area(
            session, municipality_code=code, open_only=True
        )
        found.extend(rows)
    return found


async def _outside_shelters(
    session: AsyncSession, event_id: uuid.UUID, codes: list[str], shelters: list[Any]
) -> list[OutsidePoint]:
    """Evacuated answers whose position is far from every open shelter (車中泊, a friend's)."""
    rows = await repository.evacuated_positions(session, event_id, codes, limit=MAX_OUTSIDE_POINTS)
    if not rows:
        return []
    lats = np.array([r.latitude for r in rows], dtype=float)
    lons = np.array([r.longitude for r in rows], dtype=float)
    if shelters:
        s_lats = np.array([s.latitude for s in shelters], dtype=float)
        s_lons = np.array([s.longitude for s in shelters], dtype=float)
        # Every position to every shelter at once: a few thousand x a few hundred is instant.
        distances = haversine_m_array(lats[:, None], lons[:, None], s_lats, s_lons)
        nearest = distances.min(axis=1)
    else:
        nearest = np.full(len(rows), np.inf)
    return [
        OutsidePoint(
            r.latitude or 0.0,
            r.longitude or 0.0,
            r.answered_at,
            None if np.isinf(d) else round(float(d), 1),
        )
        for r, d in zip(rows, nearest, strict=True)
        if d > OUTSIDE_SHELTER_M
    ]
