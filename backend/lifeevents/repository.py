"""SQL of the life-events domain."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from .models import LifeEventRow, LifeEventSet


async def set_of(session: AsyncSession, municipality_code: str) -> LifeEventSet | None:
    return await session.get(LifeEventSet, municipality_code)


async def events_of(session: AsyncSession, municipality_code: str) -> list[LifeEventRow]:
    rows = await session.scalars(
        select(LifeEventRow)
        .where(LifeEventRow.municipality_code == municipality_code)
        .order_by(LifeEventRow.position)
    )
    return list(rows)


async def event(session: AsyncSession, municipality_code: str, code: str) -> LifeEventRow | None:
    return await session.get(LifeEventRow, (municipality_code, code))


async def replace_set(
    session: AsyncSession, stored: LifeEventSet, events: Sequence[dict[str, Any]]
) -> None:
    """The municipality's life events, replacing what was there."""
    code = stored.municipality_code
    await session.execute(delete(LifeEventRow).where(LifeEventRow.municipality_code == code))
    await session.execute(delete(LifeEventSet).where(LifeEventSet.municipality_code == code))
    session.add(stored)
    await session.flush()
    session.add_all(LifeEventRow(municipality_code=code, **row) for row in events)
    await session.flush()
