"""GraphQL types of alerts: what residents see of warnings and evacuation information."""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING

import strawberry

from ..api.context import KInfo
from ..api.ids import encode_id
from ..api.scalars import JSONValue
from ..residents.types import PlaceKindType
from . import service
from .drafts import AlertKind, AlertSource, AlertStatus, Severity
from .models import Alert, AlertAreaRow, AlertState

if TYPE_CHECKING:
    AlertKindType = AlertKind
    AlertSourceType = AlertSource
    AlertStatusType = AlertStatus
    AlertStateType = AlertState
    SeverityType = Severity
else:
    AlertKindType = strawberry.enum(AlertKind, name="AlertKind")
    AlertSourceType = strawberry.enum(AlertSource, name="AlertSource")
    AlertStatusType = strawberry.enum(
        AlertStatus, name="AlertStatus", description="Only ACTUAL alerts reach residents."
    )
    AlertStateType = strawberry.enum(AlertState, name="AlertState")
    SeverityType = strawberry.enum(Severity, name="AlertSeverity")


@strawberry.type(name="AlertArea")
class AlertAreaType:
    name: str
    scheme: str = strawberry.field(
        description="How the source named it: municipality, jma_city, jma_first, geometry, town…"
    )
    code: str | None
    level: int | None = strawberry.field(description="警戒レベル in this area, when it differs")
    intensity: str | None = strawberry.field(description="震度 observed in this area")
    active: bool = strawberry.field(description="False once lifted (解除) in this area")

    @classmethod
    def from_model(cls, row: AlertAreaRow) -> AlertAreaType:
        return cls(
            name=row.name,
            scheme=row.scheme,
            code=row.code,
            level=row.level,
            intensity=row.intensity,
            active=row.active,
        )


@strawberry.type(name="Alert")
class AlertType:
    id: strawberry.ID
    source: AlertSourceType
    kind: AlertKindType
    type_code: str | None = strawberry.field(description="The source's own code (JMA 警報コード)")
    status: AlertStatusType
    state: AlertStateType
    level: int | None = strawberry.field(description="警戒レベル 1–5 where the source gives one")
    severity: SeverityType
    intensity: str | None = strawberry.field(description="Highest 震度 of an earthquake")
    title_ja: str
    title_en: str
    headline_ja: str
    headline_en: str | None
    headline_easy_ja: str | None = strawberry.field(description="やさしい日本語, when given")
    body_ja: str | None
    body_en: str | None
    issuer: str
    issued_at: datetime
    effective_at: datetime | None
    expires_at: datetime | None
    updated_at: datetime
    version: int
    details: JSONValue = strawberry.field(
        description="Source facts: magnitude, depth, river, shelters opened… (object of strings)"
    )
    _alert: strawberry.Private[Alert]

    @classmethod
    def from_model(cls, alert: Alert) -> AlertType:
        return cls(
            id=strawberry.ID(encode_id("Alert", alert.id)),
            source=AlertSource(alert.source),
            kind=AlertKind(alert.kind),
            type_code=alert.type_code,
            status=AlertStatus(alert.status),
            state=AlertState(alert.state),
            level=alert.level,
            severity=Severity(alert.severity),
            intensity=alert.intensity,
            title_ja=service.title_ja(alert),
            title_en=service.title_en(alert),
            headline_ja=alert.headline_ja,
            headline_en=alert.headline_en,
            headline_easy_ja=alert.headline_easy_ja,
            body_ja=alert.body_ja,
            body_en=alert.body_en,
            issuer=alert.issuer,
            issued_at=alert.issued_at,
            effective_at=alert.effective_at,
            expires_at=alert.expires_at,
            updated_at=alert.updated_at,
            version=alert.version,
            details=JSONValue(dict(alert.details or {})),
            _alert=alert,
        )

    @strawberry.field(description="The areas as the source named them, lifted ones included.")
    async def areas(self, info: KInfo) -> list[AlertAreaType]:
        async with info.context.db.session() as session:
            rows = await service.areas_of(session, [self._alert.id])
        return [AlertAreaType.from_model(r) for r in rows]

    @strawberry.field(
        description=(
            "The areas as a GeoJSON FeatureCollection (polygons as sent, municipalities by "
            "their boundary when imported; properties: name, level, active…)."
        )
    )
    async def area_geojson(self, info: KInfo) -> JSONValue:
        async with info.context.db.session() as session:
            text = await service.area_feature_collection(session, self._alert)
        return JSONValue(json.loads(text))


@strawberry.type
class PlaceUnderAlertType:
    place_id: strawberry.ID | None = strawberry.field(
        description="Your place's id; null for a family member's home"
    )
    kind: PlaceKindType
    label: str
    family_member_name: str | None = strawberry.field(
        description="Whose home it is, when it is a family member's (shared for family_safety)"
    )
    highest_level: int | None = strawberry.field(description="Highest 警戒レベル over this place")
    alerts: list[AlertType]


@strawberry.type
class MyAlertsType:
    highest_level: int | None = strawberry.field(
        description="Highest 警戒レベル over any of your places: 4 or more means evacuate."
    )
    places: list[PlaceUnderAlertType]
    alerts: list[AlertType]

    @classmethod
    def from_result(cls, result: service.MyAlerts) -> MyAlertsType:
        return cls(
            highest_level=result.highest_level,
            places=[
                PlaceUnderAlertType(
                    place_id=strawberry.ID(encode_id("Place", p.spot.id))
                    if p.member_name is None
                    else None,
                    kind=PlaceKindType(p.spot.kind),
                    label=p.spot.label if p.member_name is None else "自宅",
                    family_member_name=p.member_name,
                    highest_level=p.highest_level,
                    alerts=[AlertType.from_model(a) for a, _ in p.alerts],
                )
                for p in result.places
            ],
            alerts=[AlertType.from_model(a) for a in result.alerts],
        )


@strawberry.type(name="AlertRejection")
class AlertRejectionType:
    received_at: datetime
    via: str
    name: str
    size: int
    sha256: str
    reason: str
    reason_ja: str
    client: str | None
