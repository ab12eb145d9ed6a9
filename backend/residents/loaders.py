"""Per-request loader of residents by id (callers decide what of them may be shown)."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from strawberry.dataloader import DataLoader

from . import service
from .models import Resident

if TYPE_CHECKING:
    from ..api.context import Context


def resident_loader(context: Context) -> DataLoader[uuid.UUID, Resident | None]:
    async def load(ids: list[uuid.UUID]) -> list[Resident | None]:
        async with context.db.session() as session:
            found = {r.id: r for r in await service.residents_by_ids(session, ids)}
        return [found.get(resident_id) for resident_id in ids]

    return DataLoader(load_fn=load)


async def display_name_of(context: Context, resident_id: uuid.UUID) -> str | None:
    """A resident's display name, through the request's loader (shown to family members)."""
    resident = await context.loader("resident", resident_loader).load(resident_id)
    return resident.display_name if resident else None
