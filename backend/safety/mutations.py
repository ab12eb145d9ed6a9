"""Safety mutations: staff open and close events; residents (and proxies) answer."""

from __future__ import annotations

from datetime import datetime

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from ..api.context import KInfo
from ..api.errors import UserError
from ..api.ids import decode_id
from ..api.inputs import CoordinatesInput
from ..api.mutations import as_principal, as_resident, as_viewer
from ..api.scalars import GeoJSON
from ..hazards.api_types import HazardTypeEnum
from ..hazards.types import HazardType
from ..principal import Principal, ResidentRef, Viewer
from . import service
from .models import SafetyStatus
from .types import DisasterEventType, SafetyAnswerType, SafetyStatusEnum, SharedLocationType


@strawberry.input
class OpenDisasterEventInput:
    name: str
    municipality_codes: list[str] = strawberry.field(
        description="The municipalities it covers; you need a staff role in each"
    )
    hazard_type: HazardTypeEnum | None = None
    area: list[GeoJSON] = strawberry.field(
        default_factory=list,
        description="Optional GeoJSON Polygon/MultiPolygon areas within the municipalities",
    )
    started_at: datetime | None = None


@strawberry.input
class DisasterEventInput:
    event_id: strawberry.ID


@strawberry.type
class DisasterEventPayload:
    event: DisasterEventType | None = None
    asked_residents: int | None = strawberry.field(
        default=None, description="Residents asked to answer (when the event was opened)"
    )
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class ReportSafetyInput:
    event_id: strawberry.ID
    status: SafetyStatusEnum
    person_id: strawberry.ID | None = strawberry.field(
        default=None, description="Answer for someone else (a proxy); omit for yourself"
    )
    note: str | None = None
    location: CoordinatesInput | None = None
    shelter_id: strawberry.ID | None = strawberry.field(
        default=None, description="The shelter, with EVACUATED_TO_SHELTER"
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Choose one per answer: a retry with the same key is stored once",
    )
    legal_basis: str | None = strawberry.field(
        default=None,
        description="City staff recording a paper form without the person's consent: the basis",
    )


@strawberry.type
class ReportSafetyPayload:
    answer: SafetyAnswerType | None = None
    replayed: bool = strawberry.field(
        default=False, description="True when this idempotency key was already received"
    )
    checked_in_to_shelter: bool = strawberry.field(
        default=False,
        description="True when the answer also checked the person in at its shelter (false "
        "when the shelter is full, or a leader or staff member relayed the answer)",
    )
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class ShareLocationInput:
    location: CoordinatesInput
    accuracy_meters: float | None = None
    minutes: int = strawberry.field(default=180, description="How long to share, 1-1440")


@strawberry.type
class ShareLocationPayload:
    shared: SharedLocationType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class SafetyMutations:
    @strawberry.mutation(
        description="Open a disaster event (city staff of each municipality); its residents are "
        "asked to answer."
    )
    async def open_disaster_event(
        self, info: KInfo, input: OpenDisasterEventInput
    ) -> DisasterEventPayload:
        async def work(session: AsyncSession, principal: Principal) -> DisasterEventPayload:
            request = service.EventRequest(
                name=input.name,
                municipality_codes=input.municipality_codes,
                hazard_type=HazardType(input.hazard_type) if input.hazard_type else None,
                area=list(input.area),
                started_at=input.started_at,
            )
            event, asked = await service.open_event(session, principal, request)
            codes = await service.event_municipalities(session, [event.id])
            return DisasterEventPayload(
                event=DisasterEventType.from_model(event, codes[event.id]), asked_residents=asked
            )

        return await as_principal(info, DisasterEventPayload, work)

    @strawberry.mutation(description="Close a disaster event (its answers stay readable).")
    async def close_disaster_event(
        self, info: KInfo, input: DisasterEventInput
    ) -> DisasterEventPayload:
        async def work(session: AsyncSession, principal: Principal) -> DisasterEventPayload:
            event = await service.close_event(
                session,
                principal,
                event_id=decode_id("DisasterEvent", input.event_id, field="eventId"),
            )
            codes = await service.event_municipalities(session, [event.id])
            return DisasterEventPayload(event=DisasterEventType.from_model(event, codes[event.id]))

        return await as_principal(info, DisasterEventPayload, work)

    @strawberry.mutation(
        description="Answer 安否 for yourself, or for someone you may answer for (family or "
        "town-association leader with their consent; city staff with a legal basis)."
    )
    async def report_safety(self, info: KInfo, input: ReportSafetyInput) -> ReportSafetyPayload:
        async def work(session: AsyncSession, viewer: Viewer) -> ReportSafetyPayload:
            location = input.location
            report = service.Report(
                event_id=decode_id("DisasterEvent", input.event_id, field="eventId"),
                status=SafetyStatus(input.status),
                person_id=(
                    decode_id("Resident", input.person_id, field="personId")
                    if input.person_id
                    else None
                ),
                note=input.note,
                latitude=location.latitude if location else None,
                longitude=location.longitude if location else None,
                shelter_id=(
                    decode_id("Shelter", input.shelter_id, field="shelterId")
                    if input.shelter_id
                    else None
                ),
                idempotency_key=input.idempotency_key,
                legal_basis=input.legal_basis,
            )
            reported = await service.report_safety(
                session, viewer, report, meta=info.context.request_meta()
            )
            return ReportSafetyPayload(
                answer=SafetyAnswerType.from_model(reported.answer),
                replayed=reported.replayed,
                checked_in_to_shelter=reported.checked_in,
            )

        return await as_viewer(info, ReportSafetyPayload, work)

    @strawberry.mutation(
        description="Share my current position for a while; family see it only if I consented "
        "(family_location)."
    )
    async def share_my_location(
        self, info: KInfo, input: ShareLocationInput
    ) -> ShareLocationPayload:
        async def work(session: AsyncSession, resident: ResidentRef) -> ShareLocationPayload:
            share = await service.share_location(
                session,
                resident,
                latitude=input.location.latitude,
                longitude=input.location.longitude,
                accuracy_m=input.accuracy_meters,
                minutes=input.minutes,
            )
            return ShareLocationPayload(
                shared=SharedLocationType(
                    latitude=share.latitude,
                    longitude=share.longitude,
                    accuracy_meters=share.accuracy_m,
                    shared_at=share.shared_at,
                    expires_at=share.expires_at,
                )
            )

        return await as_resident(info, ShareLocationPayload, work)

    @strawberry.mutation(description="Stop sharing my position at once.")
    async def stop_sharing_my_location(self, info: KInfo) -> ShareLocationPayload:
        async def work(session: AsyncSession, resident: ResidentRef) -> ShareLocationPayload:
            await service.stop_sharing_location(session, resident)
            return ShareLocationPayload()

        return await as_resident(info, ShareLocationPayload, work)
