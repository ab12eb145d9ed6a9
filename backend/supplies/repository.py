"""SQL of the supplies domain."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from .models import SupplyCatalog, SupplyCatalogItem, SupplyProfile, SupplyTick


async def catalog_of(session: AsyncSession, municipality_code: str) -> SupplyCatalog | None:
    return await session.get(SupplyCatalog, municipality_code)


async def catalog_items(session: AsyncSession, municipality_code: str) -> list[SupplyCatalogItem]:
    rows = await session.scalars(
        select(SupplyCatalogItem)
        .where(SupplyCatalogItem.municipality_code == municipality_code)
        .order_by(SupplyCatalogItem.position)
    )
    return list(rows)


async def replace_catalog(
    session: AsyncSession, catalog: SupplyCatalog, items: Sequence[dict[str, Any]]
) -> None:
    """The municipality's catalog and items, replacing what was there."""
    code = catalog.municipality_code
    await session.execute(
        delete(SupplyCatalogItem).where(SupplyCatalogItem.municipality_code == code)
    )
    await session.execute(delete(SupplyCatalog).where(SupplyCatalog.municipality_code == code))
    session.add(catalog)
    await session.flush()
    session.add_all(SupplyCatalogItem(municipality_code=code, **item) for item in items)
    await session.flush()


async def profiles(session: AsyncSession, resident_ids: Sequence[uuid.UUID]) -> list[SupplyProfile]:
    if not resident_ids:
        return []
    rows = await session.scalars(
        select(SupplyProfile).where(SupplyProfile.resident_id.in_(list(resident_ids)))
    )
    return list(rows)


async def ticked_codes(session: AsyncSession, resident_id: uuid.UUID, list_kind: str) -> set[str]:
    rows = await session.scalars(
        select(SupplyTick.item_code).where(
            SupplyTick.resident_id == resident_id, SupplyTick.list_kind == list_kind
        )
    )
    return set(rows)


async def set_tick(
    session: AsyncSession, resident_id: uuid.UUID, list_kind: str, item_code: str, ticked: bool
) -> None:
    existing = await session.get(SupplyTick, (resident_id, list_kind, item_code))
    if ticked and existing is None:
        session.add(SupplyTick(resident_id=resident_id, list_kind=list_kind, item_code=item_code))
    elif not ticked and existing is not None:
        await session.delete(existing)
    await session.flush()
