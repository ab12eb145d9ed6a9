"""SQL for family groups, memberships and invitations."""

from __future__ import annotations

import uuid

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..db.dialect import chunked
from .models import FamilyGroup, FamilyInvitation, FamilyMembership, MemberRole


async def groups_of(session: AsyncSession, resident_id: uuid.UUID) -> list[FamilyGroup]:
    statement = (
        select(FamilyGroup)
        .join(FamilyMembership, FamilyMembership.group_id == FamilyGroup.id)
        .where(FamilyMembership.resident_id == resident_id)
        .order_by(FamilyMembership.joined_at, FamilyGroup.id)
    )
    return list(await session.scalars(statement))


async def count_groups_of(session: AsyncSession, resident_id: uuid.UUID) -> int:
    statement = (
        select(func.count())
        .select_from(FamilyMembership)
        .where(FamilyMembership.resident_id == resident_id)
    )
    return int(await session.scalar(statement) or 0)


async def membership(
    session: AsyncSession, group_id: uuid.UUID, resident_id: uuid.UUID
) -> FamilyMembership | None:
    return await session.scalar(
        select(FamilyMembership).where(
            FamilyMembership.group_id == group_id, FamilyMembership.resident_id == resident_id
        )
    )


async def membership_by_id(
    session: AsyncSession, group_id: uuid.UUID, membership_id: uuid.UUID
) -> FamilyMembership | None:
    return await session.scalar(
        select(FamilyMembership).where(
            FamilyMembership.group_id == group_id, FamilyMembership.id == membership_id
        )
    )


async def members_of_groups(
    session: AsyncSession, group_ids: list[uuid.UUID]
) -> list[FamilyMembership]:
    statement = (
        select(FamilyMembership)
        .where(FamilyMembership.group_id.in_(group_ids))
        .order_by(FamilyMembership.joined_at, FamilyMembership.id)
    )
    return list(await session.scalars(statement))


async def count_members(session: AsyncSession, group_id: uuid.UUID) -> int:
    statement = (
        select(func.count())
        .select_from(FamilyMembership)
        .where(FamilyMembership.group_id == group_id)
    )
    return int(await session.scalar(statement) or 0)


async def count_owners(session: AsyncSession, group_id: uuid.UUID) -> int:
    statement = (
        select(func.count())
        .select_from(FamilyMembership)
        .where(
            FamilyMembership.group_id == group_id,
            FamilyMembership.role == MemberRole.OWNER.value,
        )
    )
    return int(await session.scalar(statement) or 0)


async def lock_group(session: AsyncSession, group_id: uuid.UUID) -> FamilyGroup | None:
    """The group row, locked on PostgreSQL so membership changes of one group serialise."""
    return await session.scalar(
        select(FamilyGroup).where(FamilyGroup.id == group_id).with_for_update()
    )


async def invitation_by_code(session: AsyncSession, code: str) -> FamilyInvitation | None:
    return await session.scalar(
        select(FamilyInvitation).where(FamilyInvitation.code == code).with_for_update()
    )


async def delete_group(session: AsyncSession, group_id: uuid.UUID) -> None:
    await session.execute(delete(FamilyGroup).where(FamilyGroup.id == group_id))


async def co_member_ids(
    session: AsyncSession, resident_id: uuid.UUID, candidate_ids: list[uuid.UUID]
) -> set[uuid.UUID]:
    """Which candidates share at least one family group with the resident."""
    mine = select(FamilyMembership.group_id).where(FamilyMembership.resident_id == resident_id)
    statement = select(FamilyMembership.resident_id).where(
        FamilyMembership.group_id.in_(mine), FamilyMembership.resident_id.in_(candidate_ids)
    )
    return set(await session.scalars(statement))


async def member_resident_id(
    session: AsyncSession, membership_id: uuid.UUID, resident_id: uuid.UUID
) -> uuid.UUID | None:
    """The resident of a membership, if that membership's group also has ``resident_id``."""
    mine = FamilyMembership.__table__.alias("mine")
    statement = (
        select(FamilyMembership.resident_id)
        .join(mine, mine.c.group_id == FamilyMembership.group_id)
        .where(FamilyMembership.id == membership_id, mine.c.resident_id == resident_id)
        .limit(1)
    )
    return await session.scalar(statement)


async def household_counts(
    session: AsyncSession, resident_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[tuple[str, int]]]:
    """For each resident: (group name, member count) of each family group they belong to."""
    member = FamilyMembership.__table__.alias("member")
    statement = (
        select(FamilyMembership.resident_id, FamilyGroup.name, func.count(member.c.id))
        .join(FamilyGroup, FamilyGroup.id == FamilyMembership.group_id)
        .join(member, member.c.group_id == FamilyGroup.id)
        .where(FamilyMembership.resident_id.in_(resident_ids))
        .group_by(FamilyMembership.resident_id, FamilyGroup.id, FamilyGroup.name)
        .order_by(FamilyGroup.name)
    )
    result: dict[uuid.UUID, list[tuple[str, int]]] = {}
    for resident_id, name, count in (await session.execute(statement)).all():
        result.setdefault(resident_id, []).append((name, int(count)))
    return result


async def group_ids_of(session: AsyncSession, resident_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    found: set[uuid.UUID] = set()
    for batch in chunked(resident_ids):
        statement = select(FamilyMembership.group_id).where(FamilyMembership.resident_id.in_(batch))
        found.update(await session.scalars(statement))
    return found
