"""SQL of the portal: the catalog, its version stamp, usage rows and their counts."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from .models import PortalService, ServiceUsage


async def catalog_stamp(session: AsyncSession) -> tuple[int, Any]:
    """(count, latest change) of the catalog: a cached index is stale when it differs."""
    row = (
        await session.execute(
            select(func.count(PortalService.id), func.max(PortalService.updated_at))
        )
    ).one()
    return int(row[0]), row[1]


async def all_services(session: AsyncSession) -> Sequence[PortalService]:
    return (await session.scalars(select(PortalService))).all()


async def services_by_codes(session: AsyncSession, codes: Sequence[str]) -> list[PortalService]:
    if not codes:
        return []
    return list(await session.scalars(select(PortalService).where(PortalService.code.in_(codes))))


async def services_by_ids(session: AsyncSession, ids: Sequence[uuid.UUID]) -> list[PortalService]:
    if not ids:
        return []
    return list(await session.scalars(select(PortalService).where(PortalService.id.in_(ids))))


async def recent_uses(
    session: AsyncSession, resident_id: uuid.UUID, since: datetime
) -> dict[uuid.UUID, int]:
    rows = await session.execute(
        select(ServiceUsage.service_id, func.count())
        .where(ServiceUsage.resident_id == resident_id, ServiceUsage.opened_at >= since)
        .group_by(ServiceUsage.service_id)
    )
    return {service_id: int(count) for service_id, count in rows}


async def usage_page(
    session: AsyncSession,
    resident_id: uuid.UUID,
    *,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[ServiceUsage]:
    query = select(ServiceUsage).where(ServiceUsage.resident_id == resident_id)
    if after is not None:
        query = query.where(tuple_(ServiceUsage.opened_at, ServiceUsage.id) < tuple_(*after))
    query = query.order_by(ServiceUsage.opened_at.desc(), ServiceUsage.id.desc()).limit(limit)
    return list(await session.scalars(query))


async def usage_counts(
    session: AsyncSession, owner_code: str, since: datetime
) -> list[tuple[uuid.UUID, int, int]]:
    """(service id, opens, distinct residents) of one owner's services since a time."""
    rows = await session.execute(
        select(
            ServiceUsage.service_id,
            func.count(),
            func.count(func.distinct(ServiceUsage.resident_id)),
        )
        .where(ServiceUsage.owner_code == owner_code, ServiceUsage.opened_at >= since)
        .group_by(ServiceUsage.service_id)
    )
    return [(sid, int(opens), int(people)) for sid, opens, people in rows]
