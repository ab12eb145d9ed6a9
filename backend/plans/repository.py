"""SQL of evacuation plans: plans, versions, supporters, transitions."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from .models import (
    EvacuationPlan,
    EvacuationPlanVersion,
    PlanStatus,
    PlanSupporter,
    PlanTransition,
    SupportRegisterEntry,
)

SHARED_STATUSES = (PlanStatus.APPROVED.value, PlanStatus.ACKNOWLEDGED.value)


async def plan_by_id(session: AsyncSession, plan_id: uuid.UUID) -> EvacuationPlan | None:
    return await session.get(EvacuationPlan, plan_id)


async def plan_of(session: AsyncSession, resident_id: uuid.UUID) -> EvacuationPlan | None:
    result = await session.execute(
        select(EvacuationPlan).where(EvacuationPlan.resident_id == resident_id)
    )
    return result.scalar_one_or_none()


async def plans_of(
    session: AsyncSession, resident_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, EvacuationPlan]:
    if not resident_ids:
        return {}
    result = await session.execute(
        select(EvacuationPlan).where(EvacuationPlan.resident_id.in_(list(resident_ids)))
    )
    return {p.resident_id: p for p in result.scalars()}


async def version(
    session: AsyncSession, plan_id: uuid.UUID, number: int
) -> EvacuationPlanVersion | None:
    result = await session.execute(
        select(EvacuationPlanVersion).where(
            EvacuationPlanVersion.plan_id == plan_id, EvacuationPlanVersion.version == number
        )
    )
    return result.scalar_one_or_none()


async def current_versions(
    session: AsyncSession, plans: Sequence[EvacuationPlan]
) -> dict[uuid.UUID, EvacuationPlanVersion]:
    """Each plan's current version, in one statement."""
    if not plans:
        return {}
    wanted = or_(
        *(
            and_(EvacuationPlanVersion.plan_id == p.id, EvacuationPlanVersion.version == p.version)
            for p in plans
        )
    )
    result = await session.execute(select(EvacuationPlanVersion).where(wanted))
    return {v.plan_id: v for v in result.scalars()}


async def versions(session: AsyncSession, plan_id: uuid.UUID) -> list[EvacuationPlanVersion]:
    result = await session.execute(
        select(EvacuationPlanVersion)
        .where(EvacuationPlanVersion.plan_id == plan_id)
        .order_by(EvacuationPlanVersion.version)
    )
    return list(result.scalars())


async def transitions(session: AsyncSession, plan_id: uuid.UUID) -> list[PlanTransition]:
    result = await session.execute(
        select(PlanTransition)
        .where(PlanTransition.plan_id == plan_id)
        .order_by(PlanTransition.at, PlanTransition.id)
    )
    return list(result.scalars())


async def replace_supporters(
    session: AsyncSession, plan_id: uuid.UUID, supporters: Sequence[dict[str, Any]]
) -> None:
    await session.execute(delete(PlanSupporter).where(PlanSupporter.plan_id == plan_id))
    session.add_all(
        PlanSupporter(plan_id=plan_id, position=n, **supporter)
        for n, supporter in enumerate(supporters)
    )


async def supporters_of(
    session: AsyncSession, plan_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[PlanSupporter]]:
    found: dict[uuid.UUID, list[PlanSupporter]] = {p: [] for p in plan_ids}
    if not plan_ids:
        return found
    result = await session.execute(
        select(PlanSupporter)
        .where(PlanSupporter.plan_id.in_(list(plan_ids)))
        .order_by(PlanSupporter.plan_id, PlanSupporter.position)
    )
    for supporter in result.scalars():
        found[supporter.plan_id].append(supporter)
    return found


async def supported_by(
    session: AsyncSession, supporter_id: uuid.UUID, subject_ids: Sequence[uuid.UUID] | None
) -> set[uuid.UUID]:
    """Persons whose shared (approved or acknowledged) plan names this supporter."""
    query = (
        select(EvacuationPlan.resident_id)
        .join(PlanSupporter, PlanSupporter.plan_id == EvacuationPlan.id)
        .where(
            PlanSupporter.resident_id == supporter_id,
            EvacuationPlan.status.in_(SHARED_STATUSES),
        )
    )
    if subject_ids is not None:
        query = query.where(EvacuationPlan.resident_id.in_(list(subject_ids)))
    return set((await session.execute(query)).scalars())


async def entries_of(
    session: AsyncSession, resident_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, SupportRegisterEntry]:
    """The register entries linked to these residents."""
    if not resident_ids:
        return {}
    result = await session.execute(
        select(SupportRegisterEntry).where(SupportRegisterEntry.resident_id.in_(list(resident_ids)))
    )
    return {e.resident_id: e for e in result.scalars() if e.resident_id is not None}


async def on_register_or_planned(
    session: AsyncSession, resident_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, str]:
    """Residents with a linked register entry or a plan, and the municipality keeping it."""
    if not resident_ids:
        return {}
    ids = list(resident_ids)
    found: dict[uuid.UUID, str] = {}
    entries = await session.execute(
        select(SupportRegisterEntry.resident_id, SupportRegisterEntry.municipality_code).where(
            SupportRegisterEntry.resident_id.in_(ids)
        )
    )
    for resident_id, code in entries:
        if resident_id is not None:
            found[resident_id] = code
    plans = await session.execute(
        select(EvacuationPlan.resident_id, EvacuationPlan.municipality_code).where(
            EvacuationPlan.resident_id.in_(ids)
        )
    )
    for resident_id, code in plans:
        found.setdefault(resident_id, code)
    return found


async def plans_in(
    session: AsyncSession,
    municipality_code: str,
    statuses: Sequence[str],
    *,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[EvacuationPlan]:
    """A municipality's plans, newest change first (keyset on updated_at, id)."""
    query = select(EvacuationPlan).where(EvacuationPlan.municipality_code == municipality_code)
    if statuses:
        query = query.where(EvacuationPlan.status.in_(list(statuses)))
    if after is not None:
        at, last_id = after
        query = query.where(
            or_(
                EvacuationPlan.updated_at < at,
                and_(EvacuationPlan.updated_at == at, EvacuationPlan.id < last_id),
            )
        )
    query = query.order_by(EvacuationPlan.updated_at.desc(), EvacuationPlan.id.desc())
    return list((await session.execute(query.limit(limit))).scalars())


async def shared_plans_concerning(
    session: AsyncSession, municipality_codes: Sequence[str], min_level: int
) -> list[EvacuationPlan]:
    """Shared plans in these municipalities whose trigger level is reached at ``min_level``."""
    if not municipality_codes:
        return []
    result = await session.execute(
        select(EvacuationPlan).where(
            EvacuationPlan.municipality_code.in_(list(municipality_codes)),
            EvacuationPlan.status.in_(SHARED_STATUSES),
            EvacuationPlan.trigger_level <= min_level,
        )
    )
    return list(result.scalars())


async def kept_in(
    session: AsyncSession, municipality_codes: Sequence[str]
) -> dict[uuid.UUID, datetime | None]:
    """People on these municipalities' registers (linked) or with a shared plan there, and
    when their plan was last activated."""
    if not municipality_codes:
        return {}
    codes = list(municipality_codes)
    found: dict[uuid.UUID, datetime | None] = {}
    entries = await session.execute(
        select(SupportRegisterEntry.resident_id).where(
            SupportRegisterEntry.municipality_code.in_(codes),
            SupportRegisterEntry.resident_id.is_not(None),
        )
    )
    for (resident_id,) in entries:
        if resident_id is not None:
            found[resident_id] = None
    plans = await session.execute(
        select(EvacuationPlan.resident_id, EvacuationPlan.activated_at).where(
            EvacuationPlan.municipality_code.in_(codes),
            EvacuationPlan.status.in_(SHARED_STATUSES),
        )
    )
    for resident_id, activated_at in plans:
        found[resident_id] = activated_at
    return found
