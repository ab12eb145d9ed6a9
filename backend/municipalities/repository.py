"""SQL for municipalities."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..db.dialect import upsert
from .models import Municipality
from .reference import MunicipalityRef


async def upsert_reference(session: AsyncSession, refs: Sequence[MunicipalityRef]) -> None:
    rows = [
        {
            "code": ref.code,
            "prefecture_code": ref.code[:2],
            "name_ja": ref.name_ja,
            "name_kana": ref.name_kana,
            "name_en": ref.name_en,
        }
        for ref in refs
    ]
    await upsert(
        session,
        Municipality.__table__,
        rows,
        index_elements=["code"],
        update_columns=["prefecture_code", "name_ja", "name_kana", "name_en"],
    )


async def get(session: AsyncSession, code: str) -> Municipality | None:
    return await session.get(Municipality, code)


async def get_many(session: AsyncSession, codes: Sequence[str]) -> list[Municipality]:
    result = await session.scalars(select(Municipality).where(Municipality.code.in_(codes)))
    return list(result)


async def list_all(session: AsyncSession, prefecture_code: str | None = None) -> list[Municipality]:
    statement = select(Municipality).order_by(Municipality.code)
    if prefecture_code:
        statement = statement.where(Municipality.prefecture_code == prefecture_code)
    return list(await session.scalars(statement))


async def candidates_containing(
    session: AsyncSession, lat: float, lon: float
) -> list[Municipality]:
    """Municipalities whose boundary bounding box contains the point."""
    statement = select(Municipality).where(
        Municipality.boundary_geojson.is_not(None),
        Municipality.min_lon <= lon,
        Municipality.max_lon >= lon,
        Municipality.min_lat <= lat,
        Municipality.max_lat >= lat,
    )
    return list(await session.scalars(statement))


async def count(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(Municipality)) or 0)
