"""Plan queries: my plan, a plan by id, the people I support, the city's review list."""

from __future__ import annotations

from typing import Annotated

import strawberry

from ..api.context import KInfo
from ..api.errors import AuthenticationRequired, top_level_error
from ..api.ids import decode_id, encode_id
from ..api.pagination import (
    FIRST_DESCRIPTION,
    Connection,
    build_connection,
    decode_cursor,
    page_size,
)
from ..errors import DomainError, NotFound, ValidationFailed
from ..principal import PrincipalKind
from ..safety.types import SafetyTallyType
from . import service
from .models import PlanStatus
from .types import (
    EvacuationPlanType,
    PlanContentType,
    PlanStatusEnum,
    PlanSummaryType,
    ProxiedPersonType,
    SupportedPersonType,
    SupportNeededTallyType,
)


@strawberry.type
class PlanQueries:
    @strawberry.field(description="My own evacuation plan, or null when I have none.")
    async def my_evacuation_plan(self, info: KInfo) -> EvacuationPlanType | None:
        resident = await info.context.resident()
        viewer = await info.context.viewer()
        try:
            async with info.context.db.transaction() as session:
                view = await service.read_plan(
                    session, viewer, person_id=resident.id, meta=info.context.request_meta()
                )
        except NotFound:
            return None
        return EvacuationPlanType.from_view(view)

    @strawberry.field(
        description="A plan by its id or its person's id, as far as you may read it (the "
        "person, their proxies, reviewing staff, consented supporters); the read is logged. "
        "Null when there is none you may see."
    )
    async def evacuation_plan(
        self, info: KInfo, id: strawberry.ID | None = None, person_id: strawberry.ID | None = None
    ) -> EvacuationPlanType | None:
        viewer = await info.context.viewer()
        try:
            if (id is None) == (person_id is None):
                raise ValidationFailed.at(
                    "id",
                    "give exactly one of id and personId",
                    "idかpersonIdのどちらか一方を指定してください",
                )
            plan_id = decode_id("EvacuationPlan", id, field="id") if id is not None else None
            person = decode_id("Resident", person_id, field="personId") if person_id else None
            async with info.context.db.transaction() as session:
                view = await service.read_plan(
                    session,
                    viewer,
                    plan_id=plan_id,
                    person_id=person,
                    meta=info.context.request_meta(),
                )
        except NotFound:
            return None
        except DomainError as exc:
            raise top_level_error(exc) from exc
        return EvacuationPlanType.from_view(view)

    @strawberry.field(
        description="The people who named me (a care manager, family, a care-plan service) "
        "as the proxy for their plan under their consent, and where each plan stands: whom "
        "I draft for (`saveEvacuationPlan` with their personId)."
    )
    async def my_proxy_people(self, info: KInfo) -> list[ProxiedPersonType]:
        viewer = await info.context.viewer()
        if viewer.principal.kind is PrincipalKind.ANONYMOUS:
            raise AuthenticationRequired("sign in to see whom you act for")
        async with info.context.db.transaction() as session:
            people = await service.proxied_people(session, viewer, info.context.request_meta())
        return [ProxiedPersonType.from_person(p) for p in people]

    @strawberry.field(
        description="The people whose approved plans name me as a supporter, with what their "
        "consent (or, while a disaster is declared, the disaster-time exception) lets me read."
    )
    async def my_supported_people(self, info: KInfo) -> list[SupportedPersonType]:
        await info.context.resident()
        viewer = await info.context.viewer()
        async with info.context.db.transaction() as session:
            people = await service.supported_people(session, viewer, info.context.request_meta())
        return [
            SupportedPersonType(
                person_id=strawberry.ID(encode_id("Resident", p.subject_id)),
                name=p.values.get("name"),
                address=p.values.get("address"),
                phone=p.values.get("phone"),
                content=PlanContentType.from_content(service.content_of(p.values)),
                refused_items=p.refused,
                read_as=p.relationships,
            )
            for p in people
        ]

    @strawberry.field(
        description="City staff: the people who need support (linked register entries and "
        "approved plans) in an event's municipalities, counted by their latest safety answer, "
        "and the plans an alert activated. Counts only: no names."
    )
    async def support_needed_tally(
        self, info: KInfo, event_id: strawberry.ID
    ) -> SupportNeededTallyType:
        principal = await info.context.staff_principal()
        try:
            async with info.context.db.session() as session:
                result = await service.support_needed_tally(
                    session, principal, decode_id("DisasterEvent", event_id, field="eventId")
                )
        except DomainError as exc:
            raise top_level_error(exc) from exc
        return SupportNeededTallyType(
            tally=SafetyTallyType.from_tally(result.tally),
            people=result.people,
            activated_plans=result.activated_plans,
        )

    @strawberry.field(
        description="City staff: the plans of a municipality, newest change first "
        "(e.g. statuses: [SUBMITTED] for the review queue)."
    )
    async def evacuation_plans(
        self,
        info: KInfo,
        municipality_code: str,
        statuses: list[PlanStatusEnum] | None = None,  # type: ignore[valid-type]
        first: Annotated[int | None, strawberry.argument(description=FIRST_DESCRIPTION)] = 20,
        after: str | None = None,
    ) -> Connection[PlanSummaryType]:
        principal = await info.context.staff_principal()
        try:
            limit = page_size(first)
            async with info.context.db.session() as session:
                rows = await service.review_queue(
                    session,
                    principal,
                    municipality_code,
                    [PlanStatus(s) for s in statuses or []],
                    after=decode_cursor(after),
                    limit=limit + 1,
                )
        except DomainError as exc:
            raise top_level_error(exc) from exc
        return build_connection(
            rows,
            limit=limit,
            key=lambda p: (p.updated_at, p.id),
            node=lambda p: PlanSummaryType(
                id=strawberry.ID(encode_id("EvacuationPlan", p.id)),
                person_id=strawberry.ID(encode_id("Resident", p.resident_id)),
                status=PlanStatus(p.status),
                version=p.version,
                updated_at=p.updated_at,
            ),
        )
