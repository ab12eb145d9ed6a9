"""Reference data every database needs, kept in sync from code (idempotent)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from .config import Settings, get_settings
from .consent import catalog_store
from .municipalities import service as municipality_service
from .portal import service as portal_service


async def sync_reference_data(session: AsyncSession, settings: Settings | None = None) -> None:
    """Municipalities (and which are served) and the consent catalog (items, purposes, bundles)."""
    served = (settings or get_settings()).served_selection
    await municipality_service.sync_reference(session, served_selection=served)
    await catalog_store.sync_catalog(session)
    await portal_service.ensure_portal_client(session)
