"""Per-request loaders of shelters: open needs per shelter (lists of shelters show them)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from typing import TYPE_CHECKING

from strawberry.dataloader import DataLoader

from . import needs
from .models import ShelterNeed

if TYPE_CHECKING:
    from ..api.context import Context


def open_needs_loader(context: Context) -> DataLoader[uuid.UUID, list[ShelterNeed]]:
    async def load(shelter_ids: list[uuid.UUID]) -> list[list[ShelterNeed]]:
        by_shelter: dict[uuid.UUID, list[ShelterNeed]] = defaultdict(list)
        async with context.db.session() as session:
            for need in await needs.open_needs_of_many(session, shelter_ids):
                by_shelter[need.shelter_id].append(need)
        return [by_shelter[shelter_id] for shelter_id in shelter_ids]

    return DataLoader(load_fn=load)
