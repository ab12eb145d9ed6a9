"""GraphQL types of push: devices, notification preferences and the in-app inbox."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from ..api.context import KInfo
from ..api.errors import top_level_error
from ..api.ids import encode_id
from ..api.pagination import (
    FIRST_DESCRIPTION,
    Edge,
    PageInfo,
    build_connection,
    decode_cursor,
    page_size,
)
from ..api.scalars import JSONValue
from ..errors import DomainError
from . import service
from .models import Device, Notification, NotificationCategory, Platform

if TYPE_CHECKING:
    DevicePlatformType = Platform
    NotificationCategoryType = NotificationCategory
else:
    DevicePlatformType = strawberry.enum(Platform, name="DevicePlatform")
    NotificationCategoryType = strawberry.enum(
        NotificationCategory,
        name="NotificationCategory",
        description="EMERGENCY and WARNING always reach a resident; the others as they choose.",
    )


@strawberry.type(name="Device", description="A phone or browser that receives my pushes.")
class DeviceType:
    id: strawberry.ID
    platform: DevicePlatformType
    locale: str = strawberry.field(description="Language tag of pushes to it, e.g. ja-JP")
    app_version: str | None
    registered_at: datetime
    last_seen_at: datetime = strawberry.field(description="Last registration from the app")

    @classmethod
    def from_model(cls, device: Device) -> DeviceType:
        return cls(
            id=strawberry.ID(encode_id("Device", device.id)),
            platform=Platform(device.platform),
            locale=device.locale,
            app_version=device.app_version,
            registered_at=device.created_at,
            last_seen_at=device.last_seen_at,
        )


@strawberry.type(name="NotificationPreferences")
class NotificationPreferencesType:
    advisories: bool = strawberry.field(description="Advisories (注意報) and other information")
    city_notices: bool = strawberry.field(description="The city's non-emergency notices")
    earthquake_min_intensity: str = strawberry.field(
        description="Earthquake information from this 震度 up: 1, 2, 3, 4, 5-, 5+, 6-, 6+ or 7"
    )

    @classmethod
    def from_view(cls, preferences: service.Preferences) -> NotificationPreferencesType:
        return cls(
            advisories=preferences.advisories,
            city_notices=preferences.city_notices,
            earthquake_min_intensity=preferences.earthquake_min_intensity,
        )


@strawberry.type(name="Notification", description="One entry of my in-app inbox.")
class NotificationType:
    id: strawberry.ID
    category: NotificationCategoryType
    title_ja: str
    body_ja: str
    title_en: str | None
    body_en: str | None
    data: JSONValue = strawberry.field(
        description='Where the app goes when it is opened, e.g. {"alertId": "..."}'
    )
    created_at: datetime
    read_at: datetime | None

    @strawberry.field
    def is_read(self) -> bool:
        return self.read_at is not None

    @classmethod
    def from_model(cls, notification: Notification) -> NotificationType:
        return cls(
            id=strawberry.ID(encode_id("Notification", notification.id)),
            category=NotificationCategory(notification.category),
            title_ja=notification.title_ja,
            body_ja=notification.body_ja,
            title_en=notification.title_en,
            body_en=notification.body_en,
            data=JSONValue(dict(notification.data or {})),
            created_at=notification.created_at,
            read_at=notification.read_at,
        )


@strawberry.type(name="NotificationConnection")
class NotificationConnection:
    edges: list[Edge[NotificationType]]
    page_info: PageInfo
    resident_id: strawberry.Private[uuid.UUID]

    @strawberry.field(description="How many of my notifications are unread (not just this page)")
    async def unread_count(self, info: KInfo) -> int:
        async with info.context.db.session() as session:
            return await service.unread_count(session, self.resident_id)


@strawberry.type
class PushMeFields:
    """Push's fields of ``Me`` (composed with the other domains' at assembly)."""

    @strawberry.field(description="My in-app inbox, newest first.")
    async def notifications(
        self,
        info: KInfo,
        first: Annotated[int | None, strawberry.argument(description=FIRST_DESCRIPTION)] = 20,
        after: str | None = None,
        unread_only: bool = False,
    ) -> NotificationConnection:
        resident = await info.context.resident()
        try:
            limit = page_size(first)
            async with info.context.db.session() as session:
                rows = await service.list_notifications(
                    session,
                    resident.id,
                    after=decode_cursor(after),
                    limit=limit + 1,
                    unread_only=unread_only,
                )
        except DomainError as exc:
            raise top_level_error(exc) from exc
        page = build_connection(
            rows, limit=limit, key=lambda n: (n.created_at, n.id), node=NotificationType.from_model
        )
        return NotificationConnection(
            edges=page.edges, page_info=page.page_info, resident_id=resident.id
        )

    @strawberry.field(description="Which notifications I receive.")
    async def notification_preferences(self, info: KInfo) -> NotificationPreferencesType:
        resident = await info.context.resident()
        async with info.context.db.session() as session:
            preferences = await service.get_preferences(session, resident.id)
        return NotificationPreferencesType.from_view(preferences)

    @strawberry.field(description="My devices that receive pushes, most recently seen first.")
    async def devices(self, info: KInfo) -> list[DeviceType]:
        resident = await info.context.resident()
        async with info.context.db.session() as session:
            rows = await service.list_devices(session, resident.id)
        return [DeviceType.from_model(d) for d in rows]
