"""The demo's person who needs support: 山口トシ (架空, a neighbour of the demo street, on the
register as D-0002), with an approved and signed individual evacuation plan.

Her care manager (demo-care) drafted it under her proxy consent, the city (demo-staff)
approved it, she signed it; her supporters are the town-association leader (demo-leader) and
her neighbour 佐藤健一 (demo-neighbour-01), who see what the plan_support_basic bundle gives
supporters.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from ..config import Settings
from ..consent import service as consent_service
from ..consent.catalog import PURPOSES
from ..hazards.types import HazardType
from ..principal import (
    Principal,
    PrincipalKind,
    RequestMeta,
    ResidentRef,
    Role,
    RoleGrant,
    Viewer,
)
from ..residents import service as residents_service
from ..shelters import service as shelters_service
from . import register_service, service
from .content import InformedBy, PlanDraft, ShelterChoice, SupporterDraft, Transport
from .models import EvacuationPlan, SupportRegisterEntry
from .sharing import CARE_MANAGER, PURPOSE

DEMO_MUNICIPALITY = "07202"
DEMO_CARE_MANAGER = "demo-care"
DEMO_PERSON_ENTRY = "D-0002"
# Her plan names the nearest shelter for each (the demo's, or the real ones once imported).
DEMO_HAZARDS = (HazardType.FLOOD, HazardType.EARTHQUAKE)
TEXT_VERSION = next(p.text_version for p in PURPOSES if p.code == PURPOSE)
CARE_MANAGER_ITEMS = (
    "name", "kana", "birth_date", "age", "gender", "address", "phone", "support_needed",
    "health_notes", "supporters", "evacuation_plan",
)  # fmt: skip


def _viewer(subject: str, resident: ResidentRef, *roles: RoleGrant) -> Viewer:
    principal = Principal(
        kind=PrincipalKind.RESIDENT, subject=subject, issuer="demo", roles=frozenset(roles)
    )
    return Viewer(principal=principal, resident_id=resident.id)


async def seed_demo_plan(
    session: AsyncSession,
    settings: Settings,
    *,
    person: ResidentRef,
    supporters: list[tuple[str, str]],
    entries: dict[str, SupportRegisterEntry],
    meta: RequestMeta,
) -> EvacuationPlan:
    """Link her register entry, record her consents, and take her plan through the workflow."""
    staff = Viewer(
        principal=Principal(
            kind=PrincipalKind.RESIDENT,
            subject="demo-staff",
            issuer="demo",
            roles=frozenset({RoleGrant(Role.CITY_STAFF, DEMO_MUNICIPALITY)}),
        )
    )
    await register_service.link_entry(
        session, staff, entry_id=entries[DEMO_PERSON_ENTRY].id, resident_id=person.id, meta=meta
    )
    care = await residents_service.get_or_create_resident(
        session, Principal(kind=PrincipalKind.RESIDENT, subject=DEMO_CARE_MANAGER, issuer="demo")
    )
    await consent_service.grant_consent(
        session,
        person,
        purpose_code=PURPOSE,
        recipient=await consent_service.named_person(
            session, person, relationship=CARE_MANAGER, reference=DEMO_CARE_MANAGER, field="demo"
        ),
        items=CARE_MANAGER_ITEMS,
        meta=meta,
        text_version=TEXT_VERSION,
        proxy_role=CARE_MANAGER,
    )
    await consent_service.grant_bundle(session, person, bundle_code="plan_support_basic", meta=meta)
    home = (await residents_service.place_spots_of(session, [person.id], ["home"]))[0]
    shelters = {
        hazard: (
            await shelters_service.nearest_shelters(
                session, lat=home.latitude, lon=home.longitude, hazard_type=hazard, limit=1
            )
        )[0].shelter.id
        for hazard in DEMO_HAZARDS
    }
    draft = PlanDraft(
        support_needs="車いすを使用。玄関の段差と坂道は介助が必要。耳が遠いので訪問して声をかける。",
        medical_notes="高血圧の薬（朝1回）。お薬手帳は玄関の非常袋に入れてある。",
        supporters=[
            SupporterDraft(name=name, relation=relation, subject=subject)
            for (name, subject), relation in zip(supporters, ("町内会長", "隣家の方"), strict=True)
        ],
        shelters=[ShelterChoice(hazard, shelter_id) for hazard, shelter_id in shelters.items()],
        transport=Transport.WHEELCHAIR,
        informed_by=[InformedBy.SUPPORTER_VISIT, InformedBy.PHONE],
        trigger_level=3,
        leave_note="高齢者等避難（レベル3）で佐藤さんが迎えに行き、門田さんが避難所に連絡する。",
    )
    manager = _viewer(DEMO_CARE_MANAGER, care, RoleGrant(Role.CARE_MANAGER, DEMO_MUNICIPALITY))
    plan = await service.save_draft(session, settings, manager, person_id=person.id, draft=draft)
    await service.submit(session, manager, plan.id)
    await service.review(session, staff.principal, plan.id, approve=True, comment="承認します")
    owner = _viewer(person.subject, person)
    return await service.acknowledge(session, owner, plan.id, text_version=TEXT_VERSION)
