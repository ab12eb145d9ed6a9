"""SQL for role grants."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from .models import RoleGrantRecord


async def for_subject(session: AsyncSession, subject: str) -> list[RoleGrantRecord]:
    return list(
        await session.scalars(select(RoleGrantRecord).where(RoleGrantRecord.subject == subject))
    )


async def find(
    session: AsyncSession, *, subject: str, role: str, municipality_code: str
) -> RoleGrantRecord | None:
    return await session.scalar(
        select(RoleGrantRecord).where(
            RoleGrantRecord.subject == subject,
            RoleGrantRecord.role == role,
            RoleGrantRecord.municipality_code == municipality_code,
        )
    )


async def delete_grant(session: AsyncSession, grant_id: uuid.UUID) -> None:
    await session.execute(delete(RoleGrantRecord).where(RoleGrantRecord.id == grant_id))


async def page_for_municipality(
    session: AsyncSession,
    municipality_code: str,
    *,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[RoleGrantRecord]:
    """Grants of one municipality ordered by (created_at, id), keyset-paginated."""
    statement = (
        select(RoleGrantRecord)
        .where(RoleGrantRecord.municipality_code == municipality_code)
        .order_by(RoleGrantRecord.created_at, RoleGrantRecord.id)
        .limit(limit)
    )
    if after is not None:
        statement = statement.where(
            tuple_(RoleGrantRecord.created_at, RoleGrantRecord.id) > tuple_(*after)
        )
    return list(await session.scalars(statement))
