"""What evacuation plans provide to consent: the supporter and care-manager relationships,
the plan items (support needed, health notes, supporters, the plan), and two legal bases:

* ``municipal_plan_record`` — the register and the plans are the municipality's own records
  (災害対策基本法 49-10, 49-14): its staff read them to keep and review them;
* ``disaster_register`` — while a disaster event covering the person's municipality is open,
  the register and plan go to their supporters and town-association leaders without consent
  (49-11 (3), 49-15 (3)). Outside an open event the exception does not apply.

Every read under either is logged like any other, with the basis, so the person sees it.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ..auth import service as auth_service
from ..consent.catalog import PURPOSES
from ..consent.providers import ConsentProviders, LegalException
from ..principal import Role, Viewer
from ..residents import service as residents_service
from ..safety import service as safety_service
from . import repository
from .content import readable_part

PURPOSE = "plan_support"
# The legal bases (their codes appear in access logs as law:<code>).
MUNICIPAL_RECORD = "municipal_plan_record"
DISASTER_REGISTER = "disaster_register"
SUPPORTER = "supporter"
CARE_MANAGER = "care_manager"
PLAN_ITEMS = ("support_needed", "health_notes", "supporters", "evacuation_plan")
# What supporters and leaders receive in a declared disaster without consent: how to reach
# and help the person, never their health notes.
DISASTER_ITEMS = ("name", "address", "phone", "support_needed", "evacuation_plan")
# The municipality's own records: everything the plan_support purpose covers.
MUNICIPAL_ITEMS = next(p.items for p in PURPOSES if p.code == PURPOSE)


async def supporting(
    session: AsyncSession, viewer: Viewer, subject_ids: Sequence[uuid.UUID]
) -> set[uuid.UUID]:
    """Subjects whose approved plan names the viewer as a supporter."""
    if viewer.resident_id is None:
        return set()
    return await repository.supported_by(session, viewer.resident_id, list(subject_ids))


async def _homes(session: AsyncSession, subject_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str]:
    residents = await residents_service.residents_by_ids(session, list(subject_ids))
    return {r.id: r.home_municipality_code for r in residents if r.home_municipality_code}


async def care_managing(
    session: AsyncSession, viewer: Viewer, subject_ids: Sequence[uuid.UUID]
) -> set[uuid.UUID]:
    """Subjects living where the viewer is a care manager (a grant names which one)."""
    codes = viewer.principal.municipalities_for(Role.CARE_MANAGER)
    if not codes:
        return set()
    return {s for s, code in (await _homes(session, subject_ids)).items() if code in codes}


async def named_care_manager(
    session: AsyncSession, resident_id: uuid.UUID, reference: str
) -> uuid.UUID | None:
    """The care manager a resident names by their regional-ID subject: a resident holding
    the care-manager role in the naming resident's municipality."""
    home = (await _homes(session, [resident_id])).get(resident_id)
    manager_id = await residents_service.resident_id_by_subject(session, reference)
    if home is None or manager_id is None:
        return None
    if not await auth_service.granted_role(session, reference, Role.CARE_MANAGER, home):
        return None
    return manager_id


async def plan_values(
    session: AsyncSession, wanted: Mapping[uuid.UUID, frozenset[str]], _today: date
) -> dict[uuid.UUID, dict[str, Any]]:
    """The items of each subject's plan (current version) and register entry."""
    ids = list(wanted)
    plans = await repository.plans_of(session, ids)
    versions = await repository.current_versions(session, list(plans.values()))
    entries = await repository.entries_of(session, ids)
    result: dict[uuid.UUID, dict[str, Any]] = {}
    for subject_id, items in wanted.items():
        plan = plans.get(subject_id)
        version = versions.get(plan.id) if plan else None
        content = version.content if version else {}
        entry = entries.get(subject_id)
        values: dict[str, Any] = {}
        if "support_needed" in items:
            reasons = list(entry.reasons) if entry else []
            needs = content.get("supportNeeds")
            values["support_needed"] = {"reasons": reasons, "needs": needs} if (
                reasons or needs
            ) else None  # fmt: skip
        if "health_notes" in items:
            values["health_notes"] = content.get("medicalNotes")
        if "supporters" in items:
            values["supporters"] = content.get("supporters")
        if "evacuation_plan" in items:
            values["evacuation_plan"] = (
                {
                    "status": plan.status,
                    "version": plan.version,
                    **readable_part(content, {"evacuation_plan"}),
                }
                if plan
                else None
            )
        result[subject_id] = values
    return result


async def kept_by_municipality(
    session: AsyncSession, subject_ids: Sequence[uuid.UUID]
) -> set[uuid.UUID]:
    """Subjects on a municipality's register or with a plan (the municipality's records)."""
    return set(await repository.on_register_or_planned(session, subject_ids))


async def in_declared_disaster(
    session: AsyncSession, subject_ids: Sequence[uuid.UUID]
) -> set[uuid.UUID]:
    """Subjects on the register (or planned) of a municipality an open event covers now."""
    kept = await repository.on_register_or_planned(session, subject_ids)
    if not kept:
        return set()
    affected = await safety_service.municipalities_in_disaster(session, sorted(set(kept.values())))
    return {s for s, code in kept.items() if code in affected}


def register(providers: ConsentProviders) -> None:
    """Tell consent what evacuation plans provide."""
    providers.add_relationship(SUPPORTER, supporting, label_ja="避難支援者", label_en="Supporters")
    providers.add_relationship(
        CARE_MANAGER, care_managing, label_ja="ケアマネジャー", label_en="Care managers"
    )
    providers.add_person_resolver(CARE_MANAGER, named_care_manager)
    providers.add_values(PLAN_ITEMS, plan_values)
    providers.add_exception(
        LegalException(
            code=MUNICIPAL_RECORD,
            purpose=PURPOSE,
            items=MUNICIPAL_ITEMS,
            relationships=("city_staff",),
            applies_to=kept_by_municipality,
            label_ja="市町村が作成・保有する名簿と個別避難計画（災害対策基本法第49条の10・14）",
            label_en="The municipality's own register and plans (Disaster Countermeasures "
            "Basic Act, art. 49-10 and 49-14)",
        )
    )
    providers.add_exception(
        LegalException(
            code=DISASTER_REGISTER,
            purpose=PURPOSE,
            items=DISASTER_ITEMS,
            relationships=(SUPPORTER, "community"),
            applies_to=in_declared_disaster,
            label_ja="災害発生時の避難支援等関係者への提供（災害対策基本法第49条の11第3項）",
            label_en="Given to supporters in a declared disaster without consent (art. 49-11 (3))",
        )
    )
