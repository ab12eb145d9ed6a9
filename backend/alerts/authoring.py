"""Evacuation information and notices written by city staff, for their own municipality.

A staff alert becomes an ``AlertDraft`` (source STAFF) and goes through the same store as JMA
or CAP alerts. With ``alert_approval_required`` one staff member drafts and another
publishes: the draft is stored PENDING_APPROVAL, visible to the municipality's staff only and
pushed to nobody until approved.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from ..config import Settings
from ..db.base import utcnow
from ..errors import Checker, NotFound, NotPermitted, ValidationFailed
from ..hazards.sources import parse_client_polygons
from ..municipalities import service as municipality_service
from ..principal import Principal
from ..text import clean_text
from . import repository
from .areas import MAX_VERTICES
from .drafts import (
    AlertAction,
    AlertArea,
    AlertDraft,
    AlertKind,
    AlertSource,
    AlertStatus,
    AreaScheme,
    Severity,
)
from .messages import EVACUATION_TITLE_EN, EVACUATION_TITLE_JA
from .models import Alert, AlertState
from .service import STAFF_ROLES, StoreOutcome, prepare, publish_pending, store

AUTHORED_KINDS = (AlertKind.EVACUATION, AlertKind.NOTICE, AlertKind.EMERGENCY_NOTICE)
MAX_TOWNS = 300
MAX_POLYGONS = 50
_SEVERITY_BY_LEVEL = {3: Severity.MODERATE, 4: Severity.SEVERE, 5: Severity.EXTREME}


@dataclass(slots=True)
class StaffAlertInput:
    municipality_code: str
    kind: AlertKind
    headline_ja: str
    level: int | None = None
    whole_municipality: bool = False
    towns: list[str] = field(default_factory=list)
    polygons: list[object] = field(default_factory=list)  # GeoJSON Polygon/MultiPolygon
    headline_en: str | None = None
    headline_easy_ja: str | None = None
    body_ja: str | None = None
    body_en: str | None = None
    exercise: bool = False


def _require_staff(principal: Principal, code: str) -> None:
    if not principal.has_role(code, *STAFF_ROLES):
        raise NotPermitted(
            "only city staff of this municipality may issue its alerts",
            "この市区町村の職員だけが避難情報を発表できます",
            field="municipalityCode",
        )


def _areas(checker: Checker, data: StaffAlertInput) -> list[AlertArea]:
    code = data.municipality_code
    areas: list[AlertArea] = []
    if data.whole_municipality:
        areas.append(AlertArea(AreaScheme.MUNICIPALITY, code, code=code))
    if len(data.towns) > MAX_TOWNS:
        checker.add("towns", f"at most {MAX_TOWNS} towns", f"町丁目は{MAX_TOWNS}件までです")
    else:
        for i, raw in enumerate(data.towns):
            town = clean_text(checker, f"towns[{i}]", raw, label_ja="町丁目名", max_length=100)
            if town:
                areas.append(AlertArea(AreaScheme.TOWN, town, code=code))
    polygons = parse_client_polygons(
        checker,
        "areas",
        data.polygons,
        max_count=MAX_POLYGONS,
        max_vertices=MAX_VERTICES,
        label_en="areas",
        label_ja="区域",
    )
    areas.extend(
        AlertArea(AreaScheme.GEOMETRY, f"区域{i + 1}", geometry=polygon)
        for i, polygon in enumerate(polygons)
    )
    if not areas and not checker.errors:
        checker.add(
            "wholeMunicipality",
            "name the area: the whole municipality, towns or polygons",
            "対象区域（市区町村全域、町丁目、または多角形）を指定してください",
        )
    return areas


def _texts(checker: Checker, data: StaffAlertInput) -> dict[str, str | None]:
    return {
        "headline_ja": clean_text(
            checker, "headlineJa", data.headline_ja, label_ja="見出し", max_length=500,
            required=True,
        ),
        "headline_en": clean_text(
            checker, "headlineEn", data.headline_en, label_ja="英語の見出し", max_length=500
        ),
        "headline_easy_ja": clean_text(
            checker, "headlineEasyJa", data.headline_easy_ja, label_ja="やさしい日本語の見出し",
            max_length=500,
        ),
        "body_ja": clean_text(
            checker, "bodyJa", data.body_ja, label_ja="本文", max_length=4000, multiline=True
        ),
        "body_en": clean_text(
            checker, "bodyEn", data.body_en, label_ja="英語の本文", max_length=4000,
            multiline=True,
        ),
    }  # fmt: skip


def _draft(
    data: StaffAlertInput,
    *,
    event_key: str,
    action: AlertAction,
    issuer: str,
    areas: list[AlertArea],
    texts: dict[str, str | None],
) -> AlertDraft:
    level = data.level if data.kind is AlertKind.EVACUATION else None
    return AlertDraft(
        source=AlertSource.STAFF,
        source_id=f"staff:{uuid.uuid4()}",
        event_key=event_key,
        kind=data.kind,
        action=action,
        status=AlertStatus.EXERCISE if data.exercise else AlertStatus.ACTUAL,
        headline_ja=texts["headline_ja"] or "",
        headline_en=texts["headline_en"],
        headline_easy_ja=texts["headline_easy_ja"],
        body_ja=texts["body_ja"],
        body_en=texts["body_en"],
        issued_at=utcnow(),
        areas=tuple(areas),
        issuer=issuer,
        title_ja=EVACUATION_TITLE_JA.get(level or 0) if level else None,
        title_en=EVACUATION_TITLE_EN.get(level or 0) if level else None,
        level=level,
        severity=_SEVERITY_BY_LEVEL.get(level or 0, Severity.MODERATE)
        if data.kind is not AlertKind.NOTICE
        else Severity.MINOR,
    )


async def _checked(
    session: AsyncSession, principal: Principal, data: StaffAlertInput
) -> tuple[list[AlertArea], dict[str, str | None], str]:
    municipality = await municipality_service.get_served_municipality(
        session, data.municipality_code
    )
    _require_staff(principal, municipality.code)
    checker = Checker()
    if data.kind not in AUTHORED_KINDS:
        checker.add("kind", "staff may issue evacuation information and notices only",
                    "職員が発表できるのは避難情報とお知らせだけです")  # fmt: skip
    if data.kind is AlertKind.EVACUATION and data.level not in (3, 4, 5):
        checker.add(
            "level",
            "evacuation information needs level 3, 4 or 5",
            "避難情報の警戒レベルは3・4・5のいずれかで指定してください",
        )
    texts = _texts(checker, data)
    areas = _areas(checker, data)
    checker.raise_if_any()
    return areas, texts, municipality.name_ja


async def issue(
    session: AsyncSession, settings: Settings, principal: Principal, data: StaffAlertInput
) -> Alert:
    """Issue (or, with approval required, draft) evacuation information or a notice."""
    areas, texts, issuer = await _checked(session, principal, data)
    draft = _draft(
        data,
        event_key=f"staff:{uuid.uuid4()}",
        action=AlertAction.ISSUE,
        issuer=issuer,
        areas=areas,
        texts=texts,
    )
    prepared = await asyncio.to_thread(prepare, [draft])
    outcome = await store(
        session,
        prepared[0],
        via="staff",
        municipality_code=data.municipality_code,
        drafted_by=principal.subject,
        pending_approval=settings.alert_approval_required,
        open_events=settings.auto_open_events,
    )
    return await _alert_of(session, outcome)


async def _owned(session: AsyncSession, principal: Principal, alert_id: uuid.UUID) -> Alert:
    alert = await repository.get(session, alert_id)
    if (
        alert is None
        or alert.source != AlertSource.STAFF.value
        or alert.municipality_code is None
        or not principal.has_role(alert.municipality_code, *STAFF_ROLES)
    ):
        raise NotFound("alert", "避難情報", field="id")
    return alert


async def update(
    session: AsyncSession,
    principal: Principal,
    alert_id: uuid.UUID,
    data: StaffAlertInput,
    *,
    open_events: bool = False,
) -> Alert:
    """Replace the level, areas and texts of a staff alert (areas left out are lifted)."""
    alert = await _owned(session, principal, alert_id)
    if alert.state in (AlertState.LIFTED.value, AlertState.CANCELLED.value):
        raise ValidationFailed(
            "a lifted alert cannot be updated: issue a new one",
            "解除済みの避難情報は変更できません。新たに発表してください",
            field="id",
        )
    data.municipality_code = alert.municipality_code or data.municipality_code
    data.kind = AlertKind(alert.kind)
    areas, texts, issuer = await _checked(session, principal, data)
    draft = _draft(
        data,
        event_key=alert.event_key,
        action=AlertAction.UPDATE,
        issuer=issuer,
        areas=areas,
        texts=texts,
    )
    prepared = (await asyncio.to_thread(prepare, [draft]))[0]
    keep = {p.key for p in prepared.areas}
    dropped = [a.area_key for a in await repository.areas_of(session, [alert.id])]
    await repository.deactivate_areas(
        session, alert.id, [k for k in dropped if k not in keep], utcnow()
    )
    outcome = await store(
        session, prepared, via="staff", drafted_by=principal.subject, open_events=open_events
    )
    return await _alert_of(session, outcome)


async def lift(session: AsyncSession, principal: Principal, alert_id: uuid.UUID) -> Alert:
    """Lift a staff alert everywhere (解除); residents who were told hear of it."""
    alert = await _owned(session, principal, alert_id)
    if alert.state != AlertState.ACTIVE.value:
        raise ValidationFailed(
            "only an active alert can be lifted", "発表中の避難情報だけを解除できます", field="id"
        )
    draft = AlertDraft(
        source=AlertSource.STAFF,
        source_id=f"staff:{uuid.uuid4()}",
        event_key=alert.event_key,
        kind=AlertKind(alert.kind),
        action=AlertAction.LIFT,
        status=AlertStatus(alert.status),
        headline_ja=alert.headline_ja,
        issued_at=utcnow(),
        areas=(),
        issuer=alert.issuer,
    )
    outcome = await store(session, prepare([draft])[0], via="staff", drafted_by=principal.subject)
    return await _alert_of(session, outcome)


async def approve(
    session: AsyncSession, principal: Principal, alert_id: uuid.UUID, *, open_events: bool = False
) -> Alert:
    """Publish a drafted alert; the person who drafted it cannot approve it."""
    alert = await _owned(session, principal, alert_id)
    if alert.state != AlertState.PENDING_APPROVAL.value:
        raise ValidationFailed(
            "the alert is not waiting for approval", "この避難情報は承認待ちではありません",
            field="id",
        )  # fmt: skip
    if alert.drafted_by == principal.subject:
        raise NotPermitted(
            "another staff member must approve what you drafted",
            "作成した本人以外の職員が承認してください",
            field="id",
        )
    await publish_pending(session, alert, approved_by=principal.subject, open_events=open_events)
    return alert


async def _alert_of(session: AsyncSession, outcome: StoreOutcome) -> Alert:
    assert outcome.alert_id is not None
    alert = await repository.get(session, outcome.alert_id)
    assert alert is not None
    return alert
