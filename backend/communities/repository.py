"""SQL for communities and memberships."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..db.dialect import chunked
from .models import Community, CommunityMembership, CommunityRole


async def led_member_ids(
    session: AsyncSession, leader_id: uuid.UUID, candidate_ids: list[uuid.UUID]
) -> set[uuid.UUID]:
    led = select(CommunityMembership.community_id).where(
        CommunityMembership.resident_id == leader_id,
        CommunityMembership.role == CommunityRole.LEADER.value,
    )
    statement = select(CommunityMembership.resident_id).where(
        CommunityMembership.community_id.in_(led),
        CommunityMembership.resident_id.in_(candidate_ids),
    )
    return set(await session.scalars(statement))


async def of_municipality(session: AsyncSession, municipality_code: str) -> list[Community]:
    statement = (
        select(Community)
        .where(Community.municipality_code == municipality_code)
        .order_by(Community.name)
    )
    return list(await session.scalars(statement))


async def named(session: AsyncSession, municipality_code: str, name: str) -> Community | None:
    return await session.scalar(
        select(Community).where(
            Community.municipality_code == municipality_code, Community.name == name
        )
    )


async def get(session: AsyncSession, community_id: uuid.UUID) -> Community | None:
    return await session.get(Community, community_id)


async def membership(
    session: AsyncSession, community_id: uuid.UUID, resident_id: uuid.UUID
) -> CommunityMembership | None:
    return await session.scalar(
        select(CommunityMembership).where(
            CommunityMembership.community_id == community_id,
            CommunityMembership.resident_id == resident_id,
        )
    )


async def communities_of(
    session: AsyncSession, resident_id: uuid.UUID
) -> list[tuple[Community, str]]:
    statement = (
        select(Community, CommunityMembership.role)
        .join(CommunityMembership, CommunityMembership.community_id == Community.id)
        .where(CommunityMembership.resident_id == resident_id)
        .order_by(Community.name)
    )
    return [(c, r) for c, r in (await session.execute(statement)).all()]


async def member_ids(session: AsyncSession, community_id: uuid.UUID) -> list[uuid.UUID]:
    statement = (
        select(CommunityMembership.resident_id)
        .where(CommunityMembership.community_id == community_id)
        .order_by(CommunityMembership.joined_at, CommunityMembership.id)
    )
    return list(await session.scalars(statement))


async def member_count(session: AsyncSession, community_id: uuid.UUID) -> int:
    statement = (
        select(func.count())
        .select_from(CommunityMembership)
        .where(CommunityMembership.community_id == community_id)
    )
    return int(await session.scalar(statement) or 0)


async def community_ids_of(session: AsyncSession, resident_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    found: set[uuid.UUID] = set()
    for batch in chunked(resident_ids):
        statement = select(CommunityMembership.community_id).where(
            CommunityMembership.resident_id.in_(batch)
        )
        found.update(await session.scalars(statement))
    return found


async def member_ids_of(
    session: AsyncSession, community_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[uuid.UUID]]:
    found: dict[uuid.UUID, list[uuid.UUID]] = {c: [] for c in community_ids}
    statement = select(CommunityMembership.community_id, CommunityMembership.resident_id).where(
        CommunityMembership.community_id.in_(community_ids)
    )
    for community_id, resident_id in await session.execute(statement):
        found[community_id].append(resident_id)
    return found
