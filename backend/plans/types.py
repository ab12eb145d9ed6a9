"""GraphQL types of individual evacuation plans."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime
from enum import Enum
from typing import Any

import strawberry

from ..api.context import KInfo
from ..api.errors import UserError, top_level_error
from ..api.ids import encode_id
from ..api.scalars import GeoJSON, JSONValue
from ..errors import DomainError, ErrorCode
from ..hazards.api_types import HazardTypeEnum
from ..hazards.types import HazardType
from ..routing.engine import Profile
from ..routing.types import RouteProfileEnum
from ..safety.types import SafetyTallyType
from . import service
from .content import Change, InformedBy, Transport
from .models import EvacuationPlanVersion, PlanStatus, PlanTransition
from .register import ReasonKind
from .register_types import SupportReasonType

PlanStatusEnum = strawberry.enum(PlanStatus, name="PlanStatus")
TransportEnum = strawberry.enum(Transport, name="PlanTransport")
InformedByEnum = strawberry.enum(InformedBy, name="PlanInformedBy")


def _id(kind: str, value: Any) -> strawberry.ID | None:
    if not value:
        return None
    return strawberry.ID(encode_id(kind, uuid.UUID(str(value))))


@strawberry.type(name="PlanSupporter")
class PlanSupporterType:
    name: str
    phone: str | None
    relation: str | None
    resident_id: strawberry.ID | None = strawberry.field(
        description="Set when the supporter has a regional ID (they then see the plan)"
    )


@strawberry.type(name="PlanShelter")
class PlanShelterType:
    hazard_type: HazardTypeEnum
    shelter_id: strawberry.ID
    shelter_name: str | None
    designated: bool = strawberry.field(
        description="Whether the shelter is designated for this hazard (welfare shelters "
        "often are not)"
    )


@strawberry.type(name="PlanRouteCrossing")
class PlanRouteCrossingType:
    length_meters: float
    zone: str | None
    rank: int | None


@strawberry.type(
    name="PlanRoute",
    description="The walk from home to the first shelter, computed with its hazard check when "
    "the plan was saved (or activated).",
)
class PlanRouteType:
    shelter_id: strawberry.ID | None
    hazard_type: HazardTypeEnum | None
    distance_meters: float | None
    duration_seconds: int | None
    safe: bool | None
    exposure_meters: float | None
    crossings: list[PlanRouteCrossingType]
    geometry: GeoJSON | None
    computed_at: str | None
    profile: RouteProfileEnum | None = strawberry.field(
        description="who the walk was planned for: STEP_FREE (no steps or escalators), the "
        "default for a plan; null for routes computed before profiles existed"
    )
    steps_used: int | None
    danger_spots_avoided: list[strawberry.ID] = strawberry.field(
        description="Approved danger spots the route goes around"
    )
    problem: UserError | None = strawberry.field(
        description="Why no route could be computed (e.g. no home place, no route)"
    )

    @classmethod
    def from_content(cls, route: dict[str, Any]) -> PlanRouteType:
        hazard = route.get("hazardType")
        return cls(
            shelter_id=_id("Shelter", route.get("shelterId")),
            hazard_type=HazardType(hazard) if hazard else None,
            distance_meters=route.get("distanceMeters"),
            duration_seconds=route.get("durationSeconds"),
            safe=route.get("safe"),
            exposure_meters=route.get("exposureMeters"),
            crossings=[
                PlanRouteCrossingType(
                    length_meters=c["lengthMeters"], zone=c.get("zone"), rank=c.get("rank")
                )
                for c in route.get("crossings", [])
            ],
            geometry=route.get("geometry"),
            computed_at=route.get("computedAt"),
            profile=Profile(route["profile"]) if route.get("profile") else None,
            steps_used=route.get("stepsUsed"),
            danger_spots_avoided=[strawberry.ID(i) for i in route.get("dangerSpotsAvoided", [])],
            problem=_problem(route.get("problem")),
        )


def _problem(stored: Any) -> UserError | None:
    if not isinstance(stored, dict):
        return None
    return UserError(
        code=ErrorCode(stored["code"]),
        field=None,
        message=stored["message"],
        message_ja=stored["messageJa"],
    )


def _enum_or_none(enum: type[Enum], value: Any) -> Any:
    return enum(value) if value is not None else None


@strawberry.type(
    name="PlanContent",
    description="What the plan says, limited to the items you may read: a field you may not "
    "read is null (see the plan's refusedItems).",
)
class PlanContentType:
    support_needs: str | None
    reasons: list[SupportReasonType] | None
    medical_notes: str | None
    supporters: list[PlanSupporterType] | None
    shelters: list[PlanShelterType] | None
    transport: TransportEnum | None  # type: ignore[valid-type]
    transport_note: str | None
    informed_by: list[InformedByEnum] | None  # type: ignore[valid-type]
    trigger_level: int | None
    leave_note: str | None
    route: PlanRouteType | None

    @classmethod
    def from_content(cls, content: dict[str, Any]) -> PlanContentType:
        supporters = content.get("supporters")
        shelters = content.get("shelters")
        reasons = content.get("reasons")
        route = content.get("route")
        informed = content.get("informedBy")
        return cls(
            support_needs=content.get("supportNeeds"),
            reasons=[
                SupportReasonType(kind=ReasonKind(r.get("kind", "other")), value=r.get("value"))
                for r in reasons
            ]
            if reasons is not None
            else None,  # fmt: skip
            medical_notes=content.get("medicalNotes"),
            supporters=[
                PlanSupporterType(
                    name=s["name"],
                    phone=s.get("phone"),
                    relation=s.get("relation"),
                    resident_id=_id("Resident", s.get("residentId")),
                )
                for s in supporters
            ]
            if supporters is not None
            else None,
            shelters=[
                PlanShelterType(
                    hazard_type=HazardType(s["hazardType"]),
                    shelter_id=strawberry.ID(encode_id("Shelter", uuid.UUID(s["shelterId"]))),
                    shelter_name=s.get("shelterName"),
                    designated=bool(s.get("designated")),
                )
                for s in shelters
            ]
            if shelters is not None
            else None,
            transport=_enum_or_none(Transport, content.get("transport")),
            transport_note=content.get("transportNote"),
            informed_by=[InformedBy(i) for i in informed] if informed is not None else None,
            trigger_level=content.get("triggerLevel"),
            leave_note=content.get("leaveNote"),
            route=PlanRouteType.from_content(route) if isinstance(route, dict) else None,
        )


@strawberry.type(name="PlanVersion")
class PlanVersionType:
    version: int
    author: str
    capacity: str = strawberry.field(
        description="self, proxy:<role> (care_manager, family, ...) or staff"
    )
    legal_basis: str | None
    created_at: datetime
    content: PlanContentType

    @classmethod
    def from_model(cls, row: EvacuationPlanVersion, items: set[str]) -> PlanVersionType:
        return cls(
            version=row.version,
            author=row.author,
            capacity=row.capacity,
            legal_basis=row.legal_basis,
            created_at=row.created_at,
            content=PlanContentType.from_content(service.readable_part(row.content, items)),
        )


@strawberry.type(name="PlanTransition", description="One step of the plan's workflow.")
class PlanTransitionType:
    from_status: PlanStatusEnum | None  # type: ignore[valid-type]
    to_status: PlanStatusEnum  # type: ignore[valid-type]
    version: int
    actor: str
    capacity: str
    comment: str | None
    at: datetime

    @classmethod
    def from_model(cls, row: PlanTransition) -> PlanTransitionType:
        return cls(
            from_status=PlanStatus(row.from_status) if row.from_status else None,
            to_status=PlanStatus(row.to_status),
            version=row.version,
            actor=row.actor,
            capacity=row.capacity,
            comment=row.comment,
            at=row.at,
        )


@strawberry.type(name="PlanChange", description="One field that differs between two versions.")
class PlanChangeType:
    path: str
    before: JSONValue | None
    after: JSONValue | None

    @classmethod
    def from_change(cls, change: Change) -> PlanChangeType:
        return cls(path=change.path, before=change.before, after=change.after)


@strawberry.type(name="EvacuationPlan", description="An individual evacuation plan (個別避難計画).")
class EvacuationPlanType:
    id: strawberry.ID
    person_id: strawberry.ID
    municipality_code: str
    status: PlanStatusEnum  # type: ignore[valid-type]
    version: int
    person_name: str | None
    person_kana: str | None
    person_address: str | None
    person_phone: str | None
    person_age: int | None
    content: PlanContentType
    refused_items: list[str] = strawberry.field(
        description="Plan items no consent (or legal basis) lets you read"
    )
    read_as: list[str] = strawberry.field(
        description="Why you may read it: self, supporter, city_staff, person, or "
        "law:<basis> (e.g. law:disaster_register while a disaster is declared)"
    )
    manages: bool = strawberry.field(
        description="Whether you may change, submit or sign it (the person, their proxy, or "
        "reviewing staff): then its history is readable too"
    )
    acknowledged_at: datetime | None
    acknowledged_how: str | None = strawberry.field(description="app or paper")
    activated_at: datetime | None
    updated_at: datetime
    plan_uuid: strawberry.Private[uuid.UUID]
    view: strawberry.Private[service.PlanView]
    # One read of the history however many of its fields a query selects.
    history_read: strawberry.Private[asyncio.Future[Any] | None] = None

    @classmethod
    def from_view(cls, view: service.PlanView) -> EvacuationPlanType:
        plan = view.plan
        manages = view.manages
        return cls(
            id=strawberry.ID(encode_id("EvacuationPlan", plan.id)),
            person_id=strawberry.ID(encode_id("Resident", plan.resident_id)),
            municipality_code=plan.municipality_code,
            status=PlanStatus(plan.status),
            version=plan.version,
            person_name=view.person.get("name"),
            person_kana=view.person.get("kana"),
            person_address=view.person.get("address"),
            person_phone=view.person.get("phone"),
            person_age=view.person.get("age"),
            content=PlanContentType.from_content(view.content),
            refused_items=[i for i in view.refused if i in service.PLAN_ITEMS],
            read_as=view.reasons,
            manages=manages,
            acknowledged_at=plan.acknowledged_at if manages else None,
            acknowledged_how=plan.acknowledged_how if manages else None,
            activated_at=plan.activated_at,
            updated_at=plan.updated_at,
            plan_uuid=plan.id,
            view=view,
        )

    @strawberry.field(
        description="The route as it would be walked now, from home to the plan's first "
        "shelter: recomputed against today's hazard zones and approved danger spots (what an "
        "active plan's supporters follow). Null when you may not read the plan's route."
    )
    async def current_route(self, info: KInfo) -> PlanRouteType | None:
        # Read, give the connection back, then search (as evacuationRoute does).
        async with info.context.db.session() as session:
            prepared = await service.prepare_current_route(
                session, info.context.settings, self.view.plan, self.view.content
            )
        if prepared is None:
            return None
        return PlanRouteType.from_content(await service.walk(info.context.settings, prepared))

    async def _history(self, info: KInfo) -> tuple[list[Any], list[Any], set[str]]:
        if self.history_read is None:
            self.history_read = asyncio.ensure_future(self._read_history(info))
        result: tuple[list[Any], list[Any], set[str]] = await asyncio.shield(self.history_read)
        return result

    async def _read_history(self, info: KInfo) -> tuple[list[Any], list[Any], set[str]]:
        viewer = await info.context.viewer()
        try:
            async with info.context.db.session() as session:
                return await service.history(session, viewer, self.plan_uuid)
        except DomainError as exc:
            raise top_level_error(exc) from exc

    @strawberry.field(description="Every version (for those who manage the plan).")
    async def versions(self, info: KInfo) -> list[PlanVersionType] | None:
        if not self.manages:
            return None
        versions, _transitions, items = await self._history(info)
        return [PlanVersionType.from_model(v, items) for v in versions]

    @strawberry.field(description="Every workflow step, oldest first (for those who manage it).")
    async def transitions(self, info: KInfo) -> list[PlanTransitionType] | None:
        if not self.manages:
            return None
        _versions, transitions, _items = await self._history(info)
        return [PlanTransitionType.from_model(t) for t in transitions]

    @strawberry.field(description="What changed between two versions (what you may read of it).")
    async def changes(
        self, info: KInfo, from_version: int, to_version: int
    ) -> list[PlanChangeType] | None:
        if not self.manages:
            return None
        viewer = await info.context.viewer()
        try:
            async with info.context.db.session() as session:
                changes = await service.compare(
                    session, viewer, self.plan_uuid, from_version, to_version
                )
        except DomainError as exc:
            raise top_level_error(exc) from exc
        return [PlanChangeType.from_change(c) for c in changes]


@strawberry.type(
    name="SupportedPerson",
    description="Someone whose plan names you as a supporter, as far as you may read.",
)
class SupportedPersonType:
    person_id: strawberry.ID
    name: str | None
    address: str | None
    phone: str | None
    content: PlanContentType
    refused_items: list[str]
    read_as: list[str]


@strawberry.type(name="PlanSummary", description="A plan in the city's review list.")
class PlanSummaryType:
    id: strawberry.ID
    person_id: strawberry.ID
    status: PlanStatusEnum  # type: ignore[valid-type]
    version: int
    updated_at: datetime


@strawberry.type(name="SupportNeededTally")
class SupportNeededTallyType:
    tally: SafetyTallyType
    people: int = strawberry.field(description="People who need support in these municipalities")
    activated_plans: int = strawberry.field(description="Plans an alert activated in the event")


@strawberry.type(
    name="ProxiedPerson",
    description="Someone who named you as the proxy (代理人) for their plan, and where it stands.",
)
class ProxiedPersonType:
    person_id: strawberry.ID
    name: str | None
    address: str | None
    phone: str | None
    plan_id: strawberry.ID | None
    plan_status: PlanStatusEnum | None  # type: ignore[valid-type]
    plan_version: int | None

    @classmethod
    def from_person(cls, person: service.ProxiedPerson) -> ProxiedPersonType:
        plan = person.plan
        return cls(
            person_id=strawberry.ID(encode_id("Resident", person.person_id)),
            name=person.name,
            address=person.address,
            phone=person.phone,
            plan_id=strawberry.ID(encode_id("EvacuationPlan", plan.id)) if plan else None,
            plan_status=PlanStatus(plan.status) if plan else None,
            plan_version=plan.version if plan else None,
        )
