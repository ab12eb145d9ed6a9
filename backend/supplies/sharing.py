"""What supplies provide to consent: the values of ``supply_needs`` (pets, medication, diet)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ..consent.providers import ConsentProviders
from . import service


async def supply_needs_values(
    session: AsyncSession, wanted: Mapping[uuid.UUID, frozenset[str]], _today: date
) -> dict[uuid.UUID, dict[str, Any]]:
    """Each subject's pets, regular medication and dietary needs (None when never saved)."""
    values = await service.needs_values(session, list(wanted))
    return {subject_id: {service.SUPPLY_NEEDS: values[subject_id]} for subject_id in wanted}


def register(providers: ConsentProviders) -> None:
    """Tell consent what supplies provide."""
    providers.add_values((service.SUPPLY_NEEDS,), supply_needs_values)
