"""SQL for hazard zones."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..db.dialect import chunked
from .models import HazardZone

# Zone geometry can be large; a few hundred rows per INSERT keeps statements moderate.
INSERT_CHUNK = 200


async def all_zones(session: AsyncSession) -> list[Row[Any]]:
    """Every zone as a plain row (no ORM objects: the index is built from them in a thread)."""
    statement = select(
        HazardZone.id,
        HazardZone.hazard_type,
        HazardZone.rank,
        HazardZone.depth_m,
        HazardZone.name,
        HazardZone.source,
        HazardZone.municipality_code,
        HazardZone.geometry_geojson,
    ).order_by(HazardZone.created_at, HazardZone.id)
    return list(await session.execute(statement))


async def extent(
    session: AsyncSession, municipality_code: str
) -> tuple[float, float, float, float] | None:
    """(min_lon, min_lat, max_lon, max_lat) of one municipality's zones, None without any."""
    statement = select(
        func.min(HazardZone.min_lon),
        func.min(HazardZone.min_lat),
        func.max(HazardZone.max_lon),
        func.max(HazardZone.max_lat),
    ).where(HazardZone.municipality_code == municipality_code)
    row = (await session.execute(statement)).one()
    return None if row[0] is None else (row[0], row[1], row[2], row[3])


async def count_by_source(session: AsyncSession, sources: Sequence[str]) -> dict[str, int]:
    statement = (
        select(HazardZone.source, func.count())
        .where(HazardZone.source.in_(sources))
        .group_by(HazardZone.source)
    )
    return {source: int(n) for source, n in (await session.execute(statement)).all()}


async def delete_by_source(
    session: AsyncSession, sources: Sequence[str], *, municipality_code: str | None = None
) -> None:
    """Delete the zones of these sources (only those of one municipality, when given)."""
    statement = delete(HazardZone).where(HazardZone.source.in_(sources))
    if municipality_code is not None:
        statement = statement.where(HazardZone.municipality_code == municipality_code)
    await session.execute(statement)


async def count_by_municipality(session: AsyncSession, source: str) -> dict[str | None, int]:
    """How many zones of one source each municipality has (None: zones of no municipality)."""
    statement = (
        select(HazardZone.municipality_code, func.count())
        .where(HazardZone.source == source)
        .group_by(HazardZone.municipality_code)
    )
    return {code: int(n) for code, n in (await session.execute(statement)).all()}


async def count_of_municipality(
    session: AsyncSession, municipality_code: str, *, excluding_source: str
) -> int:
    """How many zones of a municipality come from other sources than ``excluding_source``."""
    statement = (
        select(func.count())
        .select_from(HazardZone)
        .where(
            HazardZone.municipality_code == municipality_code,
            HazardZone.source != excluding_source,
        )
    )
    return int(await session.scalar(statement) or 0)


async def geometries_meeting_box(
    session: AsyncSession,
    box: tuple[float, float, float, float],
    *,
    excluding_source: str,
) -> list[str]:
    """GeoJSON of other sources' zones whose bbox meets (min_lon, min_lat, max_lon, max_lat)."""
    min_lon, min_lat, max_lon, max_lat = box
    statement = select(HazardZone.geometry_geojson).where(
        HazardZone.source != excluding_source,
        HazardZone.min_lon <= max_lon,
        HazardZone.max_lon >= min_lon,
        HazardZone.min_lat <= max_lat,
        HazardZone.max_lat >= min_lat,
    )
    return list(await session.scalars(statement))


async def insert_zones(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    for chunk in chunked(rows, INSERT_CHUNK):
        await session.execute(insert(HazardZone), chunk)
