"""Individual evacuation plans: drafting (by the person or a proxy), the city's review, the
person's acknowledgement, versions and their differences, and reading under consent.

Who may act for a person on their plan: the person; a proxy (代理人: care manager, family, a
care-plan service) named in an active ``plan_support`` grant that covers the plan; or city
staff of the person's municipality stating a legal basis, stored with the version. Reading
a plan goes through consent (``enforcement.read_many``): supporters see what the person
consented to, and — while a disaster event is open — what the disaster-time exception gives.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ..api.ids import encode_id
from ..auth.service import STAFF_ROLES
from ..config import Settings
from ..consent import enforcement
from ..consent.catalog_store import get_purpose
from ..db.base import utcnow
from ..errors import Checker, Conflict, DomainError, ErrorCode, NotFound, ValidationFailed
from ..hazards.types import HazardType
from ..principal import Principal, RequestMeta, Viewer
from ..push import service as push_service
from ..residents import service as residents_service
from ..routing import service as routing_service
from ..safety import service as safety_service
from ..shelters import service as shelters_service
from ..text import clean_text
from . import repository
from .content import Change, PlanDraft, check_draft, diff, readable_part
from .models import EvacuationPlan, EvacuationPlanVersion, PlanStatus, PlanTransition
from .sharing import PLAN_ITEMS, PURPOSE

MAX_COMMENT = 2000
MAX_LEGAL_BASIS = 200
# Statuses in which the plan's author may still change it without starting a new review.
EDITABLE = (PlanStatus.DRAFT, PlanStatus.RETURNED)
SELF = "self"
STAFF = "staff"


def _person_not_found() -> NotFound:
    return NotFound("person", "対象者", field="personId")


def _plan_not_found(field: str = "planId") -> NotFound:
    return NotFound("evacuation plan", "個別避難計画", field=field)


def _actor(viewer: Viewer) -> str:
    return viewer.actor[:255]


# --- who acts ----------------------------------------------------------------------------


async def _home_of(session: AsyncSession, person_id: uuid.UUID) -> str | None:
    residents = await residents_service.residents_by_ids(session, [person_id])
    if not residents:
        raise _person_not_found()
    return residents[0].home_municipality_code


async def _acting_capacity(
    session: AsyncSession,
    viewer: Viewer,
    person_id: uuid.UUID,
    home_code: str | None,
    *,
    legal_basis: str | None = None,
    basis_required: bool = False,
    staff_may: bool = True,
) -> str:
    """In which capacity the viewer acts on the person's plan; NotFound when in none.

    Staff without the person's proxy consent must state a legal basis when they write the
    plan (``basis_required``); it is stored with the version they write."""
    if viewer.resident_id is not None and viewer.resident_id == person_id:
        return SELF
    roles = await enforcement.proxy_roles(
        session, viewer, person_id, purpose_code=PURPOSE, item="evacuation_plan"
    )
    if roles:
        return f"proxy:{sorted(roles)[0]}"[:32]
    if staff_may and home_code is not None and viewer.principal.has_role(home_code, *STAFF_ROLES):
        if basis_required and legal_basis is None:
            raise ValidationFailed.at(
                "legalBasis",
                "without the person's proxy consent, state the legal basis you act on",
                "本人の代理の同意がない場合は、根拠となる法令等を記入してください",
            )
        return STAFF
    raise _person_not_found()


def _check_legal_basis(checker: Checker, legal_basis: str | None) -> str | None:
    return clean_text(
        checker, "legalBasis", legal_basis, label_ja="法的根拠", max_length=MAX_LEGAL_BASIS
    )


def _require_reviewer(principal: Principal, plan: EvacuationPlan) -> None:
    if not principal.has_role(plan.municipality_code, *STAFF_ROLES):
        raise _plan_not_found()


# --- drafting ----------------------------------------------------------------------------


async def _resolve_supporters(
    session: AsyncSession, person_id: uuid.UUID, subjects: list[str | None]
) -> list[uuid.UUID | None]:
    named = [s for s in subjects if s]
    found = await residents_service.resident_ids_by_subjects(session, named) if named else {}
    ids: list[uuid.UUID | None] = []
    checker = Checker()
    for n, subject in enumerate(subjects):
        if not subject:
            ids.append(None)
            continue
        resident_id = found.get(subject)
        if resident_id is None or resident_id == person_id:
            checker.add(
                f"plan.supporters[{n}].subject",
                "no resident has this regional ID (and a person cannot support themselves)",
                "この地域IDの住民が見つかりません（本人は支援者になれません）",
            )
        ids.append(resident_id)
    checker.raise_if_any()
    return ids


async def _shelters(session: AsyncSession, content: dict[str, Any]) -> list[Any]:
    found = []
    for n, choice in enumerate(content["shelters"]):
        shelter = await shelters_service.get_shelter(
            session, uuid.UUID(choice["shelterId"]), field=f"plan.shelters[{n}].shelterId"
        )
        choice["shelterName"] = shelter.name
        # Welfare shelters (福祉避難所) often carry no hazard designation; a plan may still
        # choose one, and the plan says so.
        choice["designated"] = bool(getattr(shelter, f"for_{choice['hazardType']}", False))
        found.append(shelter)
    return found


def _route_problem(code: str, message: str, message_ja: str) -> dict[str, Any]:
    return {
        "problem": {"code": code, "message": message, "messageJa": message_ja},
        "computedAt": utcnow().isoformat(),
    }


@dataclass(frozen=True, slots=True)
class PreparedRoute:
    """What a plan's route needs from the database, read; the search runs after, without a
    connection held. ``problem`` is set when there is nothing to search."""

    choice: dict[str, Any]
    inputs: routing_service.RouteInputs | None = None
    problem: dict[str, Any] | None = None


async def prepare_route(
    session: AsyncSession, settings: Settings, person_id: uuid.UUID, choice: dict[str, Any]
) -> PreparedRoute:
    """The walk's inputs from the person's home to the shelter ``choice`` names."""
    homes = await residents_service.place_spots_of(session, [person_id], ["home"])
    if not homes:
        return PreparedRoute(
            choice,
            problem=_route_problem(
                ErrorCode.VALIDATION.value,
                "the person has no home place: add one to compute the route",
                "自宅の場所が登録されていないため経路を計算できません",
            ),
        )
    request = routing_service.RouteRequest(
        origin=(homes[0].latitude, homes[0].longitude),
        hazard_type=HazardType(choice["hazardType"]),
        shelter_id=uuid.UUID(choice["shelterId"]),
        needs_support=True,
    )
    try:
        inputs = await routing_service.request_inputs(session, settings, request)
    except DomainError as exc:
        return PreparedRoute(
            choice, problem=_route_problem(exc.code.value, exc.message, exc.message_ja)
        )
    return PreparedRoute(choice, inputs=inputs)


async def walk(settings: Settings, prepared: PreparedRoute) -> dict[str, Any]:
    """The route's summary, with its hazard check (the route avoids the hazard's zones and
    approved danger spots; ``safe`` is false when it could not)."""
    if prepared.inputs is None:
        assert prepared.problem is not None
        return prepared.problem
    try:
        result = await routing_service.plan_route(settings, prepared.inputs)
    except DomainError as exc:
        return _route_problem(exc.code.value, exc.message, exc.message_ja)
    route, choice = result.route, prepared.choice
    return {
        "shelterId": choice["shelterId"],
        "hazardType": choice["hazardType"],
        "distanceMeters": round(route.distance_m, 1),
        "durationSeconds": round(route.duration_s),
        "safe": route.safe,
        "exposureMeters": round(route.exposure_m, 1),
        "crossings": [
            {
                "lengthMeters": round(c.length_m, 1),
                "zone": c.zone.name if c.zone else None,
                "rank": c.zone.rank if c.zone else None,
            }
            for c in result.crossings
        ],
        "dangerSpotsAvoided": [encode_id(s.kind, s.id) for s in result.spots_avoided],
        "profile": route.profile.value,
        "stepsUsed": result.uses.get("steps", 0),
        "geometry": {
            "type": "LineString",
            "coordinates": [[round(x, 6), round(y, 6)] for x, y in route.coordinates],
        },
        "computedAt": utcnow().isoformat(),
    }


async def prepare_current_route(
    session: AsyncSession, settings: Settings, plan: EvacuationPlan, content: dict[str, Any]
) -> PreparedRoute | None:
    """The inputs of the plan's route as it would be walked now (today's hazard zones and
    approved danger spots), for a reader who may see the route (``content`` is what they
    read); None otherwise."""
    shelters = content.get("shelters")
    if not shelters or "route" not in content:
        return None
    return await prepare_route(session, settings, plan.resident_id, shelters[0])


def _transition(
    plan: EvacuationPlan,
    to: PlanStatus,
    actor: str,
    capacity: str,
    comment: str | None = None,
) -> PlanTransition:
    from_status = plan.status
    plan.status = to.value
    return PlanTransition(
        id=uuid.uuid4(),
        plan_id=plan.id,
        from_status=from_status,
        to_status=to.value,
        version=plan.version,
        actor=actor,
        capacity=capacity,
        comment=comment,
        at=utcnow(),
    )


async def save_draft(
    session: AsyncSession,
    settings: Settings,
    viewer: Viewer,
    *,
    person_id: uuid.UUID,
    draft: PlanDraft,
    legal_basis: str | None = None,
) -> EvacuationPlan:
    """Create the person's plan or save a new version of it (a changed approved plan goes
    back to draft and needs the city's review again)."""
    checker = Checker()
    basis = _check_legal_basis(checker, legal_basis)
    checked = check_draft(checker, draft)
    checker.raise_if_any()
    home = await _home_of(session, person_id)
    capacity = await _acting_capacity(
        session, viewer, person_id, home, legal_basis=basis, basis_required=True
    )
    plan = await repository.plan_of(session, person_id)
    if plan is None and home is None:
        raise ValidationFailed.at(
            "personId",
            "the person has no home municipality: set it in their profile first",
            "対象者の住所の市区町村が登録されていません",
        )
    if plan is not None and plan.status == PlanStatus.SUBMITTED.value:
        raise Conflict(
            "the plan is being reviewed by the city: wait for its answer",
            "計画は市の確認中です。結果が出るまで変更できません",
            field="personId",
        )
    supporter_ids = await _resolve_supporters(session, person_id, checked.supporter_subjects)
    await _shelters(session, checked.content)
    content = checked.content
    for supporter, resident_id in zip(content["supporters"], supporter_ids, strict=True):
        supporter["residentId"] = str(resident_id) if resident_id else None
    prepared = await prepare_route(session, settings, person_id, content["shelters"][0])
    content["route"] = await walk(settings, prepared)
    actor = _actor(viewer)
    if plan is None:
        assert home is not None
        plan = EvacuationPlan(
            id=uuid.uuid4(),
            resident_id=person_id,
            municipality_code=home,
            status=PlanStatus.DRAFT.value,
            version=1,
            trigger_level=draft.trigger_level,
            created_by=actor,
        )
        session.add(plan)
        entry = (await repository.entries_of(session, [person_id])).get(person_id)
        plan.register_entry_id = entry.id if entry else None
        await session.flush()
        transition = _transition(plan, PlanStatus.DRAFT, actor, capacity)
        transition.from_status = None
    else:
        plan.version += 1
        plan.trigger_level = draft.trigger_level
        plan.acknowledged_at = plan.acknowledged_by = None
        plan.acknowledged_text_version = plan.acknowledged_how = None
        status = PlanStatus(plan.status)
        transition = _transition(
            plan, status if status in EDITABLE else PlanStatus.DRAFT, actor, capacity
        )
    session.add(
        EvacuationPlanVersion(
            plan_id=plan.id,
            version=plan.version,
            content=content,
            author=actor,
            capacity=capacity,
            legal_basis=basis,
        )
    )
    await repository.replace_supporters(
        session,
        plan.id,
        [
            {
                "resident_id": resident_id,
                "name": s["name"],
                "phone": s["phone"],
                "relation": s["relation"],
            }
            for s, resident_id in zip(content["supporters"], supporter_ids, strict=True)
        ],
    )
    session.add(transition)
    plan.updated_at = utcnow()
    await session.flush()
    return plan


async def _plan_for(
    session: AsyncSession, plan_id: uuid.UUID, field: str = "planId"
) -> EvacuationPlan:
    plan = await repository.plan_by_id(session, plan_id)
    if plan is None:
        raise _plan_not_found(field)
    return plan


def _require_status(plan: EvacuationPlan, *allowed: PlanStatus, action_ja: str) -> None:
    if plan.status not in {s.value for s in allowed}:
        raise Conflict(
            f"the plan is {plan.status}: allowed only when {' or '.join(s.value for s in allowed)}",
            f"現在の状態では{action_ja}できません",
            field="planId",
        )


def _comment(comment: str | None, *, required: bool) -> str | None:
    checker = Checker()
    cleaned = clean_text(
        checker,
        "comment",
        comment,
        label_ja="コメント",
        max_length=MAX_COMMENT,
        required=required,
        multiline=True,
    )
    checker.raise_if_any()
    return cleaned


async def submit(session: AsyncSession, viewer: Viewer, plan_id: uuid.UUID) -> EvacuationPlan:
    """Send a draft (or a corrected returned plan) to the city for review."""
    plan = await _plan_for(session, plan_id)
    capacity = await _acting_capacity(session, viewer, plan.resident_id, plan.municipality_code)
    _require_status(plan, *EDITABLE, action_ja="提出")
    session.add(_transition(plan, PlanStatus.SUBMITTED, _actor(viewer), capacity))
    plan.updated_at = utcnow()
    await session.flush()
    return plan


async def review(
    session: AsyncSession,
    principal: Principal,
    plan_id: uuid.UUID,
    *,
    approve: bool,
    comment: str | None,
) -> EvacuationPlan:
    """City staff of the plan's municipality approve it, or return it with a comment (差戻し).
    Whoever wrote the version under review cannot approve it."""
    text = _comment(comment, required=not approve)
    plan = await _plan_for(session, plan_id)
    _require_reviewer(principal, plan)
    _require_status(plan, PlanStatus.SUBMITTED, action_ja="確認")
    actor = (principal.subject or f"client:{principal.client_id}")[:255]
    current = await repository.version(session, plan.id, plan.version)
    if approve and current is not None and current.author == actor:
        raise Conflict(
            "the author of this version cannot approve it: another staff member must",
            "この版を作成した職員は承認できません。別の職員が承認してください",
            field="planId",
        )
    to = PlanStatus.APPROVED if approve else PlanStatus.RETURNED
    session.add(_transition(plan, to, actor, STAFF, text))
    plan.updated_at = utcnow()
    await session.flush()
    return plan


async def _check_text_version(session: AsyncSession, text_version: str) -> str:
    purpose = await get_purpose(session, PURPOSE)
    if text_version != purpose.text_version:
        raise ValidationFailed.at(
            "textVersion",
            f"the consent text has changed: version {purpose.text_version} is current",
            "同意文が更新されています。最新の同意文を確認してから署名してください",
        )
    return purpose.text_version


async def acknowledge(
    session: AsyncSession, viewer: Viewer, plan_id: uuid.UUID, *, text_version: str
) -> EvacuationPlan:
    """The person (or their proxy) signs the approved plan after reading the consent text."""
    plan = await _plan_for(session, plan_id)
    capacity = await _acting_capacity(
        session, viewer, plan.resident_id, plan.municipality_code, staff_may=False
    )
    _require_status(plan, PlanStatus.APPROVED, action_ja="署名")
    version = await _check_text_version(session, text_version)
    return await _acknowledged(session, plan, _actor(viewer), capacity, version, "app", None)


async def record_paper_acknowledgement(
    session: AsyncSession,
    principal: Principal,
    plan_id: uuid.UUID,
    *,
    text_version: str,
    signed_on: date,
    signed_by: str | None,
) -> EvacuationPlan:
    """City staff record the signature the person (or proxy) gave on paper."""
    checker = Checker()
    signer = clean_text(checker, "signedBy", signed_by, label_ja="署名者", max_length=100)
    if signed_on > utcnow().date():
        checker.add("signedOn", "the date lies in the future", "署名日が未来の日付です")
    checker.raise_if_any()
    plan = await _plan_for(session, plan_id)
    _require_reviewer(principal, plan)
    _require_status(plan, PlanStatus.APPROVED, action_ja="署名の記録")
    version = await _check_text_version(session, text_version)
    actor = (principal.subject or "")[:255]
    note = f"紙の署名 {signed_on.isoformat()}" + (f"（{signer}）" if signer else "")
    return await _acknowledged(session, plan, actor, STAFF, version, "paper", note)


async def _acknowledged(
    session: AsyncSession,
    plan: EvacuationPlan,
    actor: str,
    capacity: str,
    text_version: str,
    how: str,
    comment: str | None,
) -> EvacuationPlan:
    now = utcnow()
    session.add(_transition(plan, PlanStatus.ACKNOWLEDGED, actor, capacity, comment))
    plan.acknowledged_at = now
    plan.acknowledged_by = actor
    plan.acknowledged_text_version = text_version
    plan.acknowledged_how = how
    plan.updated_at = now
    await session.flush()
    return plan


# --- reading -----------------------------------------------------------------------------


@dataclass(slots=True)
class PlanView:
    """What one viewer may see of a plan: the readable part of its content, and whether they
    manage it (then its workflow and history too)."""

    plan: EvacuationPlan
    content: dict[str, Any]
    items: set[str]
    reasons: list[str]
    manages: bool
    refused: list[str] = field(default_factory=list)
    # The person's profile items read with the plan (name, address, phone, ...).
    person: dict[str, Any] = field(default_factory=dict)


def content_of(values: dict[str, Any]) -> dict[str, Any]:
    """The plan content as read through consent (only the items it permitted)."""
    content: dict[str, Any] = {}
    plan = values.get("evacuation_plan")
    if isinstance(plan, dict):
        content.update({k: v for k, v in plan.items() if k not in ("status", "version")})
    if "support_needed" in values:
        needed = values["support_needed"] or {}
        content["supportNeeds"] = needed.get("needs")
        content["reasons"] = needed.get("reasons", [])
    if "health_notes" in values:
        content["medicalNotes"] = values["health_notes"]
    if "supporters" in values:
        content["supporters"] = values["supporters"]
    return content


async def _manages(session: AsyncSession, viewer: Viewer, plan: EvacuationPlan) -> bool:
    try:
        await _acting_capacity(session, viewer, plan.resident_id, plan.municipality_code)
    except NotFound:
        return False
    return True


async def read_plan(
    session: AsyncSession,
    viewer: Viewer,
    *,
    plan_id: uuid.UUID | None = None,
    person_id: uuid.UUID | None = None,
    meta: RequestMeta,
) -> PlanView:
    """A plan as the viewer may see it (read through consent, logged); NotFound otherwise."""
    if plan_id is not None:
        plan = await repository.plan_by_id(session, plan_id)
    else:
        assert person_id is not None
        plan = await repository.plan_of(session, person_id)
    if plan is None:
        raise _plan_not_found("planId" if plan_id is not None else "personId")
    results = await enforcement.read_many(
        session, viewer, [plan.resident_id], purpose_code=PURPOSE, items=None, meta=meta
    )
    read = results.get(plan.resident_id)
    if read is None or read.values.get("evacuation_plan") is None:
        raise _plan_not_found("planId" if plan_id is not None else "personId")
    items = {i for i in read.values if i not in read.refused}
    return PlanView(
        plan=plan,
        content=content_of(read.values),
        items=items,
        reasons=read.relationships,
        manages=await _manages(session, viewer, plan),
        refused=read.refused,
        person={k: v for k, v in read.values.items() if k not in PLAN_ITEMS},
    )


async def _managed(
    session: AsyncSession, viewer: Viewer, plan_id: uuid.UUID
) -> tuple[EvacuationPlan, set[str]]:
    """A plan the viewer manages, and the plan items they may read (nothing is logged here:
    the versions themselves are read through ``read_plan`` first by the API)."""
    plan = await _plan_for(session, plan_id)
    if not await _manages(session, viewer, plan):
        raise _plan_not_found()
    if viewer.resident_id == plan.resident_id:
        return plan, {"support_needed", "health_notes", "supporters", "evacuation_plan"}
    readable = await enforcement.readable_items(
        session, viewer, [plan.resident_id], purpose_code=PURPOSE
    )
    items, _reasons = readable.get(plan.resident_id, (set(), set()))
    return plan, items


async def history(
    session: AsyncSession, viewer: Viewer, plan_id: uuid.UUID
) -> tuple[list[EvacuationPlanVersion], list[PlanTransition], set[str]]:
    """Versions and transitions, for the person, their proxies and the reviewing staff."""
    plan, items = await _managed(session, viewer, plan_id)
    return (
        await repository.versions(session, plan.id),
        await repository.transitions(session, plan.id),
        items,
    )


async def compare(
    session: AsyncSession, viewer: Viewer, plan_id: uuid.UUID, older: int, newer: int
) -> list[Change]:
    """What changed between two versions, limited to what the viewer may read."""
    plan, items = await _managed(session, viewer, plan_id)
    found = {}
    for name, number in (("fromVersion", older), ("toVersion", newer)):
        version = await repository.version(session, plan.id, number)
        if version is None:
            raise NotFound("plan version", "計画の版", field=name)
        found[name] = version
    changes = diff(
        readable_part(found["fromVersion"].content, items),
        readable_part(found["toVersion"].content, items),
    )
    return [
        Change(c.path, _as_shown(c.path, c.before), _as_shown(c.path, c.after)) for c in changes
    ]


# Content keys stored as internal values, shown as the API shows them elsewhere.
_SHOWN_IDS = {"shelterId": "Shelter", "residentId": "Resident"}
_SHOWN_ENUMS = ("hazardType", "transport", "informedBy")


def _as_shown(path: str, value: Any) -> Any:
    key = path.rsplit(".", 1)[-1]
    if value is None:
        return None
    if key in _SHOWN_IDS:
        return encode_id(_SHOWN_IDS[key], uuid.UUID(str(value)))
    if key in _SHOWN_ENUMS:
        return [v.upper() for v in value] if isinstance(value, list) else str(value).upper()
    return value


async def review_queue(
    session: AsyncSession,
    principal: Principal,
    municipality_code: str,
    statuses: list[PlanStatus],
    *,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[EvacuationPlan]:
    """A municipality's plans for its staff, newest change first."""
    if not principal.has_role(municipality_code, *STAFF_ROLES):
        raise NotFound("municipality", "市区町村", field="municipalityCode")
    return await repository.plans_in(
        session, municipality_code, [s.value for s in statuses], after=after, limit=limit
    )


async def supported_people(
    session: AsyncSession, viewer: Viewer, meta: RequestMeta
) -> list[enforcement.PersonalData]:
    """The people whose plans name the viewer as a supporter, read through consent (or the
    disaster-time exception while an event is open); people nothing may be read of are
    left out."""
    if viewer.resident_id is None:
        return []
    subjects = await repository.supported_by(session, viewer.resident_id, None)
    if not subjects:
        return []
    results = await enforcement.read_many(
        session, viewer, sorted(subjects), purpose_code=PURPOSE, items=None, meta=meta
    )
    return [results[s] for s in sorted(subjects) if s in results]


async def needs_support(session: AsyncSession, resident_id: uuid.UUID) -> bool:
    """Whether the resident is on a support-needed register or has an evacuation plan (for
    their own use of their own data, e.g. the portal under their consent)."""
    return resident_id in await repository.on_register_or_planned(session, [resident_id])


@dataclass(frozen=True, slots=True)
class ProxiedPerson:
    """Someone whose plan the viewer may write as their proxy, and where their plan stands."""

    person_id: uuid.UUID
    name: str | None
    address: str | None
    phone: str | None
    plan: EvacuationPlan | None


async def proxied_people(
    session: AsyncSession, viewer: Viewer, meta: RequestMeta
) -> list[ProxiedPerson]:
    """The people who named the viewer (a care manager, a care-plan service, family) as the
    proxy for their plan, read through consent (logged): a care manager's caseload."""
    candidates = await enforcement.proxy_candidates(session, viewer, purpose_code=PURPOSE)
    roles = await enforcement.proxy_roles_of(
        session, viewer, candidates, purpose_code=PURPOSE, item="evacuation_plan"
    )
    acting = [person_id for person_id in candidates if roles.get(person_id)]
    if not acting:
        return []
    read = await enforcement.read_many(
        session, viewer, acting, purpose_code=PURPOSE, items=["name", "address", "phone"],
        meta=meta,
    )  # fmt: skip
    plans = await repository.plans_of(session, acting)
    people = [
        ProxiedPerson(
            person_id=person_id,
            name=read[person_id].values.get("name") if person_id in read else None,
            address=read[person_id].values.get("address") if person_id in read else None,
            phone=read[person_id].values.get("phone") if person_id in read else None,
            plan=plans.get(person_id),
        )
        for person_id in acting
    ]
    return sorted(people, key=lambda p: (p.name or "", str(p.person_id)))


# --- activation by alerts ------------------------------------------------------------------


async def activate(
    session: AsyncSession,
    *,
    alert_id: uuid.UUID,
    alert_title_ja: str,
    alert_title_en: str,
    home_levels: Mapping[uuid.UUID, int],
) -> int:
    """Activate the shared plans of the people whose home an alert reaches at or above their
    plan's trigger level (once per alert): the person and the supporters with a regional ID
    are told. The notification names nobody: the app reads the plan through consent."""
    plans = await repository.plans_of(session, list(home_levels))
    due = [
        p
        for p in plans.values()
        if p.status in repository.SHARED_STATUSES
        and home_levels[p.resident_id] >= p.trigger_level
        and p.activated_by_alert_id != alert_id
    ]
    if not due:
        return 0
    supporters = await repository.supporters_of(session, [p.id for p in due])
    now = utcnow()
    notices: list[push_service.Notice] = []
    for plan in due:
        plan.activated_at = now
        plan.activated_by_alert_id = alert_id
        level = home_levels[plan.resident_id]
        category = (
            push_service.NotificationCategory.EMERGENCY
            if level >= 4
            else push_service.NotificationCategory.WARNING
        )
        data = {
            "planId": encode_id("EvacuationPlan", plan.id),
            "alertId": encode_id("Alert", alert_id),
        }
        notices.append(
            push_service.Notice(
                resident_id=plan.resident_id,
                category=category,
                dedupe_key=f"plan:{plan.id}:{alert_id}",
                title_ja="個別避難計画に沿って避難を始めてください",
                body_ja=f"{alert_title_ja}。計画の避難先と経路をアプリで確認してください。"
                "支援者にもお知らせしました。",
                title_en="Start evacuating as your plan says",
                body_en=f"{alert_title_en}. Check your shelter and route in the app; your "
                "supporters have been told.",
                data=data,
            )
        )
        for supporter_id in {s.resident_id for s in supporters[plan.id] if s.resident_id}:
            notices.append(
                push_service.Notice(
                    resident_id=supporter_id,
                    category=category,
                    dedupe_key=f"plan:{plan.id}:{alert_id}:supporter",
                    title_ja="支援している方の個別避難計画が発動しました",
                    body_ja=f"{alert_title_ja}。アプリで計画（避難先・経路・必要な支援）を"
                    "確認し、声かけと避難の支援をお願いします。",
                    title_en="A plan you support is now active",
                    body_en=f"{alert_title_en}. Check the plan (shelter, route, help needed) "
                    "in the app and help the person evacuate.",
                    data=data,
                )
            )
    await push_service.notify(session, notices)
    return len(due)


@dataclass(frozen=True, slots=True)
class SupportNeededTally:
    """The people who need support in an event, counted (no names): by their latest answer,
    and how many plans an alert activated since the event began."""

    tally: safety_service.Tally
    people: int
    activated_plans: int


async def support_needed_tally(
    session: AsyncSession, principal: Principal, event_id: uuid.UUID
) -> SupportNeededTally:
    """For city staff of the event's municipalities (others: the event does not exist)."""
    event = await safety_service.get_event(session, event_id)
    kept: dict[uuid.UUID, datetime | None] = {}

    async def people(codes: list[str]) -> list[uuid.UUID]:
        kept.update(await repository.kept_in(session, codes))
        return list(kept)

    tally = await safety_service.staff_tally_of(
        session, principal, event_id=event_id, people=people
    )
    activated = sum(1 for at in kept.values() if at is not None and at >= event.started_at)
    return SupportNeededTally(tally, len(kept), activated)
