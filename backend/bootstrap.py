"""Reference data every database needs, kept in sync from code (idempotent)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from .consent import catalog_store
from .municipalities import service as municipality_service


async def sync_reference_data(session: AsyncSession) -> None:
    """Municipalities and the consent catalog (items, purposes, bundles)."""
    await municipality_service.sync_reference(session)
    await catalog_store.sync_catalog(session)
