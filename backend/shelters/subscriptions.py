"""Shelter subscriptions: a shelter's status and occupancy as they change."""

from __future__ import annotations

from collections.abc import AsyncIterator

import strawberry

from ..api.context import KInfo
from ..api.errors import top_level_error
from ..api.ids import decode_id
from ..api.live import live_view
from ..errors import NotFound
from ..live import shelter_topic
from . import service
from .types import ShelterType


@strawberry.type
class ShelterSubscriptions:
    @strawberry.subscription(
        description=(
            "A shelter now, then again each time its status, occupancy or capacity changes "
            "(public, like `shelter`)."
        )
    )
    async def shelter_occupancy_changed(
        self, info: KInfo, shelter_id: strawberry.ID
    ) -> AsyncIterator[ShelterType]:
        try:
            shelter_uuid = decode_id("Shelter", shelter_id, field="shelterId")
        except NotFound as exc:
            raise top_level_error(exc) from exc

        async def read() -> ShelterType:
            try:
                async with info.context.db.session() as session:
                    shelter = await service.get_shelter(session, shelter_uuid)
            except NotFound:  # unknown, or removed by a later import
                raise NotFound("shelter", "避難所", field="shelterId") from None
            return ShelterType.from_model(shelter)

        topic = shelter_topic(shelter_uuid)
        # Public: every viewer told of a change shares one read of it.
        return await live_view(info, read, topic, shared=topic)
