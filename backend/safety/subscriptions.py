"""Safety subscriptions: a leader's tally and a family's answers as they change."""

from __future__ import annotations

from collections.abc import AsyncIterator

import strawberry

from ..api.context import KInfo
from ..api.errors import top_level_error
from ..api.ids import decode_id
from ..api.live import live_view
from ..errors import DomainError
from . import service
from .queries import asks_for_people, read_community_tally, read_family_safety
from .types import CommunityTallyType, FamilySafetyType


@strawberry.type
class SafetySubscriptions:
    @strawberry.subscription(
        description="Leaders: the community's tally now, then again after every answer of a "
        "member and every change of a member's consent (a revoked name disappears)."
    )
    async def community_tally_changed(
        self, info: KInfo, community_id: strawberry.ID, event_id: strawberry.ID
    ) -> AsyncIterator[CommunityTallyType]:
        await info.context.resident()
        viewer = await info.context.viewer()
        try:
            async with info.context.db.session() as session:
                topics = await service.community_view_topics(
                    session,
                    viewer,
                    community_id=decode_id("Community", community_id, field="communityId"),
                    event_id=decode_id("DisasterEvent", event_id, field="eventId"),
                )
        except DomainError as exc:
            raise top_level_error(exc) from exc
        if asks_for_people(info):
            # Names depend on each viewer's consents: every viewer reads its own view.
            return await live_view(
                info, lambda: read_community_tally(info, community_id, event_id), *topics
            )
        # Counts only: the same for every leader of the community, so leaders told of one
        # answer share one read; each is still checked to be a leader before every read.
        community_uuid = decode_id("Community", community_id, field="communityId")

        resident_id = (await info.context.resident()).id  # a connection's resident stays

        async def still_leader() -> None:
            async with info.context.db.session() as session:
                await service.require_leader(session, resident_id, community_id=community_uuid)

        return await live_view(
            info,
            lambda: read_community_tally(info, community_id, event_id, with_members=False),
            *topics,
            shared=("community-counts", topics[0]),
            authorize=still_leader,
        )

    @strawberry.subscription(
        description="The family's answers in an event now, then again after every answer "
        "and every change of a member's consent."
    )
    async def family_safety_changed(
        self, info: KInfo, group_id: strawberry.ID, event_id: strawberry.ID
    ) -> AsyncIterator[FamilySafetyType]:
        resident = await info.context.resident()
        try:
            async with info.context.db.session() as session:
                topics = await service.family_view_topics(
                    session,
                    resident,
                    group_id=decode_id("FamilyGroup", group_id, field="groupId"),
                    event_id=decode_id("DisasterEvent", event_id, field="eventId"),
                )
        except DomainError as exc:
            raise top_level_error(exc) from exc
        return await live_view(info, lambda: read_family_safety(info, group_id, event_id), *topics)
