"""Plan mutations: save a version, submit, return or approve (staff), sign."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import date
from typing import TypeVar

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from ..api.context import KInfo
from ..api.errors import AuthenticationRequired, UserError
from ..api.ids import decode_id
from ..api.mutations import as_principal, in_transaction
from ..hazards.api_types import HazardTypeEnum
from ..hazards.types import HazardType
from ..principal import Principal, PrincipalKind, Viewer
from . import service
from .content import InformedBy, PlanDraft, ShelterChoice, SupporterDraft, Transport
from .types import EvacuationPlanType, InformedByEnum, TransportEnum

P = TypeVar("P")


@strawberry.input
class PlanSupporterInput:
    name: str
    phone: str | None = None
    relation: str | None = strawberry.field(default=None, description="e.g. 長男, 近所の方")
    subject: str | None = strawberry.field(
        default=None,
        description="The supporter's regional-ID subject, when they have one: they then see "
        "the plan in the app (as the person's consent allows)",
    )


@strawberry.input
class PlanShelterInput:
    hazard_type: HazardTypeEnum
    shelter_id: strawberry.ID


@strawberry.input
class PlanContentInput:
    support_needs: str = strawberry.field(description="What help the person needs to evacuate")
    supporters: list[PlanSupporterInput] = strawberry.field(description="At least two")
    shelters: list[PlanShelterInput] = strawberry.field(
        description="Where to go for each hazard type; the route is computed to the first"
    )
    transport: TransportEnum  # type: ignore[valid-type]
    informed_by: list[InformedByEnum]  # type: ignore[valid-type]
    trigger_level: int = strawberry.field(
        default=3, description="The alert level at which to leave: 3 (高齢者等避難), 4 or 5"
    )
    medical_notes: str | None = strawberry.field(
        default=None, description="Sensitive: shared only where health_notes is consented"
    )
    transport_note: str | None = None
    leave_note: str | None = None


@strawberry.input
class SaveEvacuationPlanInput:
    person_id: strawberry.ID | None = strawberry.field(
        default=None, description="The person the plan is for; omit for your own plan"
    )
    plan: PlanContentInput
    legal_basis: str | None = strawberry.field(
        default=None,
        description="City staff writing a plan without the person's proxy consent: the basis",
    )


@strawberry.input
class PlanActionInput:
    plan_id: strawberry.ID
    comment: str | None = strawberry.field(
        default=None, description="Required when returning a plan (差戻し)"
    )


@strawberry.input
class AcknowledgeEvacuationPlanInput:
    plan_id: strawberry.ID
    text_version: str = strawberry.field(description="The version of the consent text shown")


@strawberry.input
class RecordPaperPlanSignatureInput:
    plan_id: strawberry.ID
    text_version: str
    signed_on: date
    signed_by: str | None = strawberry.field(
        default=None, description="Who signed (the person, or their proxy's name and role)"
    )


@strawberry.type
class EvacuationPlanPayload:
    plan: EvacuationPlanType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


def _draft(plan: PlanContentInput) -> PlanDraft:
    def shelter_id(n: int, value: strawberry.ID) -> uuid.UUID:
        return decode_id("Shelter", value, field=f"plan.shelters[{n}].shelterId")

    return PlanDraft(
        support_needs=plan.support_needs,
        supporters=[
            SupporterDraft(name=s.name, phone=s.phone, relation=s.relation, subject=s.subject)
            for s in plan.supporters
        ],
        shelters=[
            ShelterChoice(HazardType(s.hazard_type), shelter_id(n, s.shelter_id))
            for n, s in enumerate(plan.shelters)
        ],
        transport=Transport(plan.transport),
        informed_by=[InformedBy(i) for i in plan.informed_by],
        trigger_level=plan.trigger_level,
        medical_notes=plan.medical_notes,
        transport_note=plan.transport_note,
        leave_note=plan.leave_note,
    )


async def _as_actor(
    info: KInfo,
    work: Callable[[AsyncSession, Viewer], Awaitable[uuid.UUID]],
) -> EvacuationPlanPayload:
    """A resident (the person, a proxy, staff) or a registered system client acting on a
    plan; the payload shows the plan as the actor may now read it."""
    if info.context.principal.kind is PrincipalKind.ANONYMOUS:
        raise AuthenticationRequired("sign in to work on evacuation plans")
    viewer = await info.context.viewer()

    async def run(session: AsyncSession) -> EvacuationPlanPayload:
        plan_id = await work(session, viewer)
        view = await service.read_plan(
            session, viewer, plan_id=plan_id, meta=info.context.request_meta()
        )
        return EvacuationPlanPayload(plan=EvacuationPlanType.from_view(view))

    return await in_transaction(info, EvacuationPlanPayload, run)


async def _as_staff(
    info: KInfo, work: Callable[[AsyncSession, Principal], Awaitable[uuid.UUID]]
) -> EvacuationPlanPayload:
    # Before the transaction: a first sign-in creates the resident in its own.
    viewer = await info.context.viewer()

    async def run(session: AsyncSession, principal: Principal) -> EvacuationPlanPayload:
        plan_id = await work(session, principal)
        view = await service.read_plan(
            session, viewer, plan_id=plan_id, meta=info.context.request_meta()
        )
        return EvacuationPlanPayload(plan=EvacuationPlanType.from_view(view))

    return await as_principal(info, EvacuationPlanPayload, run)


def _plan_id(value: strawberry.ID) -> uuid.UUID:
    return decode_id("EvacuationPlan", value, field="planId")


@strawberry.type
class PlanMutations:
    @strawberry.mutation(
        description="Write an individual evacuation plan, for yourself or as a proxy (care "
        "manager, family or care-plan service under the person's proxy consent; city staff "
        "stating a legal basis). Each save is a new version; the route home → first shelter "
        "is computed with its hazard check. A changed approved plan needs review again."
    )
    async def save_evacuation_plan(
        self, info: KInfo, input: SaveEvacuationPlanInput
    ) -> EvacuationPlanPayload:
        async def work(session: AsyncSession, viewer: Viewer) -> uuid.UUID:
            if input.person_id is not None:
                person_id = decode_id("Resident", input.person_id, field="personId")
            elif viewer.resident_id is not None:
                person_id = viewer.resident_id
            else:
                raise service.ValidationFailed.at(
                    "personId", "name the person", "対象者を指定してください"
                )
            plan = await service.save_draft(
                session,
                info.context.settings,
                viewer,
                person_id=person_id,
                draft=_draft(input.plan),
                legal_basis=input.legal_basis,
            )
            return plan.id

        return await _as_actor(info, work)

    @strawberry.mutation(description="Send the plan to the city for review (提出).")
    async def submit_evacuation_plan(
        self, info: KInfo, input: PlanActionInput
    ) -> EvacuationPlanPayload:
        async def work(session: AsyncSession, viewer: Viewer) -> uuid.UUID:
            return (await service.submit(session, viewer, _plan_id(input.plan_id))).id

        return await _as_actor(info, work)

    @strawberry.mutation(description="City staff: return a submitted plan with a comment (差戻し).")
    async def return_evacuation_plan(
        self, info: KInfo, input: PlanActionInput
    ) -> EvacuationPlanPayload:
        async def work(session: AsyncSession, principal: Principal) -> uuid.UUID:
            plan = await service.review(
                session, principal, _plan_id(input.plan_id), approve=False, comment=input.comment
            )
            return plan.id

        return await _as_staff(info, work)

    @strawberry.mutation(
        description="City staff: approve a submitted plan (not the version's own author)."
    )
    async def approve_evacuation_plan(
        self, info: KInfo, input: PlanActionInput
    ) -> EvacuationPlanPayload:
        async def work(session: AsyncSession, principal: Principal) -> uuid.UUID:
            plan = await service.review(
                session, principal, _plan_id(input.plan_id), approve=True, comment=input.comment
            )
            return plan.id

        return await _as_staff(info, work)

    @strawberry.mutation(
        description="The person (or their proxy) signs the approved plan after reading the "
        "plan_support consent text; its version and the time are stored."
    )
    async def acknowledge_evacuation_plan(
        self, info: KInfo, input: AcknowledgeEvacuationPlanInput
    ) -> EvacuationPlanPayload:
        async def work(session: AsyncSession, viewer: Viewer) -> uuid.UUID:
            plan = await service.acknowledge(
                session, viewer, _plan_id(input.plan_id), text_version=input.text_version
            )
            return plan.id

        return await _as_actor(info, work)

    @strawberry.mutation(description="City staff: record a signature given on paper.")
    async def record_paper_plan_signature(
        self, info: KInfo, input: RecordPaperPlanSignatureInput
    ) -> EvacuationPlanPayload:
        async def work(session: AsyncSession, principal: Principal) -> uuid.UUID:
            plan = await service.record_paper_acknowledgement(
                session,
                principal,
                _plan_id(input.plan_id),
                text_version=input.text_version,
                signed_on=input.signed_on,
                signed_by=input.signed_by,
            )
            return plan.id

        return await _as_staff(info, work)
