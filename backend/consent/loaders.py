"""Per-request loaders: consented data of many subjects in one check and one log insert."""

from __future__ import annotations

import uuid
from collections import defaultdict
from typing import TYPE_CHECKING

from strawberry.dataloader import DataLoader

from . import enforcement, service
from .enforcement import PersonalData
from .models import SystemClient

if TYPE_CHECKING:
    from ..api.context import Context

# (subject id, purpose code)
SharedKey = tuple[uuid.UUID, str]


def shared_data_loader(context: Context) -> DataLoader[SharedKey, PersonalData | None]:
    async def load(keys: list[SharedKey]) -> list[PersonalData | None]:
        viewer = await context.viewer()
        by_purpose: dict[str, list[uuid.UUID]] = defaultdict(list)
        for subject_id, purpose in keys:
            by_purpose[purpose].append(subject_id)
        found: dict[SharedKey, PersonalData] = {}
        # The reads are logged in the same transaction that returns them: no unlogged read.
        async with context.db.transaction() as session:
            for purpose, subject_ids in by_purpose.items():
                results = await enforcement.read_many(
                    session,
                    viewer,
                    subject_ids,
                    purpose_code=purpose,
                    items=None,
                    meta=context.request_meta(),
                )
                for subject_id, data in results.items():
                    found[(subject_id, purpose)] = data
        return [found.get(key) for key in keys]

    return DataLoader(load_fn=load)


def system_client_loader(context: Context) -> DataLoader[str, SystemClient | None]:
    async def load(client_ids: list[str]) -> list[SystemClient | None]:
        async with context.db.session() as session:
            found = {
                c.client_id: c for c in await service.system_clients_by_ids(session, client_ids)
            }
        return [found.get(client_id) for client_id in client_ids]

    return DataLoader(load_fn=load)
