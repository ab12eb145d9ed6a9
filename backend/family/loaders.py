"""Per-request loaders for family members."""

from __future__ import annotations

import uuid
from collections import defaultdict
from typing import TYPE_CHECKING

from strawberry.dataloader import DataLoader

from . import service
from .models import FamilyMembership

if TYPE_CHECKING:
    from ..api.context import Context


def members_loader(context: Context) -> DataLoader[uuid.UUID, list[FamilyMembership]]:
    async def load(group_ids: list[uuid.UUID]) -> list[list[FamilyMembership]]:
        by_group: dict[uuid.UUID, list[FamilyMembership]] = defaultdict(list)
        async with context.db.session() as session:
            for membership in await service.members_of_groups(session, group_ids):
                by_group[membership.group_id].append(membership)
        return [by_group[group_id] for group_id in group_ids]

    return DataLoader(load_fn=load)
