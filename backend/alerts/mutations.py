"""Staff mutations: issue, update, lift and approve evacuation information and notices."""

from __future__ import annotations

import enum

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from ..api.context import KInfo
from ..api.errors import UserError
from ..api.ids import decode_id
from ..api.mutations import as_principal
from ..api.scalars import GeoJSON
from ..principal import Principal
from . import authoring
from .drafts import AlertKind
from .types import AlertType


@strawberry.enum(description="What city staff may issue")
class StaffAlertKind(enum.Enum):
    EVACUATION = "evacuation"
    NOTICE = "notice"
    EMERGENCY_NOTICE = "emergency_notice"


@strawberry.input(description="Evacuation information or a notice for one municipality.")
class StaffAlertInput:
    municipality_code: str
    kind: StaffAlertKind
    headline_ja: str
    level: int | None = strawberry.field(
        default=None,
        description="警戒レベル for EVACUATION: 3 高齢者等避難, 4 避難指示, 5 緊急安全確保",
    )
    whole_municipality: bool = False
    towns: list[str] = strawberry.field(
        default_factory=list, description="町丁目 names: places whose address names one are in"
    )
    areas: list[GeoJSON] = strawberry.field(
        default_factory=list, description="GeoJSON Polygon/MultiPolygon areas"
    )
    headline_en: str | None = None
    headline_easy_ja: str | None = strawberry.field(default=None, description="やさしい日本語")
    body_ja: str | None = None
    body_en: str | None = None
    exercise: bool = strawberry.field(
        default=False, description="An exercise (訓練): visible to staff, never pushed"
    )

    def to_service(self) -> authoring.StaffAlertInput:
        return authoring.StaffAlertInput(
            municipality_code=self.municipality_code,
            kind=AlertKind(self.kind.value),
            headline_ja=self.headline_ja,
            level=self.level,
            whole_municipality=self.whole_municipality,
            towns=list(self.towns),
            polygons=list(self.areas),
            headline_en=self.headline_en,
            headline_easy_ja=self.headline_easy_ja,
            body_ja=self.body_ja,
            body_en=self.body_en,
            exercise=self.exercise,
        )


@strawberry.type
class AlertPayload:
    alert: AlertType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class AlertMutations:
    @strawberry.mutation(
        description=(
            "Issue evacuation information or a notice for your municipality; residents with a "
            "place in the area are notified (or, when approval is required, it waits as a draft)."
        )
    )
    async def issue_alert(self, info: KInfo, input: StaffAlertInput) -> AlertPayload:
        settings = info.context.settings

        async def work(session: AsyncSession, principal: Principal) -> AlertPayload:
            alert = await authoring.issue(session, settings, principal, input.to_service())
            return AlertPayload(alert=AlertType.from_model(alert))

        return await as_principal(info, AlertPayload, work)

    @strawberry.mutation(description="Change the level, areas or texts of an alert you issued.")
    async def update_alert(
        self, info: KInfo, id: strawberry.ID, input: StaffAlertInput
    ) -> AlertPayload:
        async def work(session: AsyncSession, principal: Principal) -> AlertPayload:
            alert_id = decode_id("Alert", id)
            alert = await authoring.update(
                session,
                principal,
                alert_id,
                input.to_service(),
                open_events=info.context.settings.auto_open_events,
            )
            return AlertPayload(alert=AlertType.from_model(alert))

        return await as_principal(info, AlertPayload, work)

    @strawberry.mutation(description="Lift (解除) an alert you issued, in all its areas.")
    async def lift_alert(self, info: KInfo, id: strawberry.ID) -> AlertPayload:
        async def work(session: AsyncSession, principal: Principal) -> AlertPayload:
            alert = await authoring.lift(session, principal, decode_id("Alert", id))
            return AlertPayload(alert=AlertType.from_model(alert))

        return await as_principal(info, AlertPayload, work)

    @strawberry.mutation(description="Publish a drafted alert (another staff member's draft).")
    async def approve_alert(self, info: KInfo, id: strawberry.ID) -> AlertPayload:
        async def work(session: AsyncSession, principal: Principal) -> AlertPayload:
            alert = await authoring.approve(
                session,
                principal,
                decode_id("Alert", id),
                open_events=info.context.settings.auto_open_events,
            )
            return AlertPayload(alert=AlertType.from_model(alert))

        return await as_principal(info, AlertPayload, work)
