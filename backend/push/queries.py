"""Push queries: one notification of my inbox (the app opens it from a push)."""

from __future__ import annotations

import strawberry

from ..api.context import KInfo
from ..api.ids import decode_id
from ..errors import NotFound
from . import service
from .types import NotificationType


@strawberry.type
class PushQueries:
    @strawberry.field(description="One of my notifications, else null.")
    async def notification(self, info: KInfo, id: strawberry.ID) -> NotificationType | None:
        resident = await info.context.resident()
        try:
            notification_id = decode_id("Notification", id)
        except NotFound:
            return None
        async with info.context.db.session() as session:
            found = await service.get_notification(session, resident.id, notification_id)
        return NotificationType.from_model(found) if found else None
