"""SQL for municipalities."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ..db.dialect import table_of, upsert
from .models import Municipality

# The columns kept in step with the generated reference table (and the served selection).
REFERENCE_COLUMNS = (
    "prefecture_code",
    "prefecture_name_ja",
    "name_ja",
    "name_kana",
    "name_en",
    "designated_city_code",
    "served",
)


async def reference_rows(session: AsyncSession) -> dict[str, tuple[Any, ...]]:
    """The stored REFERENCE_COLUMNS of every municipality, by code."""
    columns = [getattr(Municipality, name) for name in REFERENCE_COLUMNS]
    result = await session.execute(select(Municipality.code, *columns))
    return {row[0]: tuple(row[1:]) for row in result}


async def upsert_reference(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    await upsert(
        session,
        table_of(Municipality),
        rows,
        index_elements=["code"],
        update_columns=list(REFERENCE_COLUMNS),
    )


async def get(session: AsyncSession, code: str) -> Municipality | None:
    return await session.get(Municipality, code)


async def get_many(session: AsyncSession, codes: Sequence[str]) -> list[Municipality]:
    result = await session.scalars(select(Municipality).where(Municipality.code.in_(codes)))
    return list(result)


async def served_among(session: AsyncSession, codes: Collection[str]) -> set[str]:
    statement = select(Municipality.code).where(
        Municipality.served.is_(True), Municipality.code.in_(list(codes))
    )
    return set(await session.scalars(statement))


async def list_all(
    session: AsyncSession, prefecture_code: str | None = None, *, served_only: bool = False
) -> list[Municipality]:
    statement = select(Municipality).order_by(Municipality.code)
    if prefecture_code:
        statement = statement.where(Municipality.prefecture_code == prefecture_code)
    if served_only:
        statement = statement.where(Municipality.served.is_(True))
    return list(await session.scalars(statement))


async def candidates_containing(
    session: AsyncSession, lat: float, lon: float
) -> list[Municipality]:
    """Municipalities with a boundary whose bounding box contains the point."""
    statement = select(Municipality).where(
        Municipality.boundary_geojson.is_not(None),
        Municipality.min_lon <= lon,
        Municipality.max_lon >= lon,
        Municipality.min_lat <= lat,
        Municipality.max_lat >= lat,
    )
    return list(await session.scalars(statement))


async def boundary_geojson(session: AsyncSession, code: str) -> str | None:
    statement = select(Municipality.boundary_geojson).where(Municipality.code == code)
    return await session.scalar(statement)


BoundaryRow = tuple[str, str, float, float, float, float]


async def boundaries_overlapping(
    session: AsyncSession, boxes: Sequence[tuple[float, float, float, float]]
) -> list[BoundaryRow]:
    """(code, GeoJSON, min_lon, min_lat, max_lon, max_lat) of boundaries meeting any box."""
    if not boxes:
        return []
    statement = select(
        Municipality.code,
        Municipality.boundary_geojson,
        Municipality.min_lon,
        Municipality.min_lat,
        Municipality.max_lon,
        Municipality.max_lat,
    ).where(
        Municipality.boundary_geojson.is_not(None),
        or_(
            *(
                (Municipality.min_lon <= max_lon)
                & (Municipality.max_lon >= min_lon)
                & (Municipality.min_lat <= max_lat)
                & (Municipality.max_lat >= min_lat)
                for min_lon, min_lat, max_lon, max_lat in boxes
            )
        ),
    )
    return [tuple(row) for row in await session.execute(statement)]  # type: ignore[misc]


async def unserve(session: AsyncSession, codes: Collection[str]) -> None:
    if codes:
        await session.execute(
            update(Municipality).where(Municipality.code.in_(list(codes))).values(served=False)
        )


async def count(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(Municipality)) or 0)


async def existing_codes(session: AsyncSession, codes: Collection[str]) -> set[str]:
    statement = select(Municipality.code).where(Municipality.code.in_(list(codes)))
    return set(await session.scalars(statement))
