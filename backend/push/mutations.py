"""Push mutations: register and unregister devices, preferences, mark notifications read."""

from __future__ import annotations

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from ..api.context import KInfo
from ..api.errors import UserError
from ..api.ids import decode_id, encode_id
from ..api.mutations import as_resident, sent
from ..principal import ResidentRef
from . import service
from .types import DevicePlatformType, DeviceType, NotificationPreferencesType, NotificationType


@strawberry.input
class RegisterDeviceInput:
    token: str = strawberry.field(description="The FCM registration token of this install")
    platform: DevicePlatformType
    locale: str = strawberry.field(
        description="The phone's language, e.g. ja, en or ja-JP: pushes come in it"
    )
    app_version: str | None = None


@strawberry.input
class UnregisterDeviceInput:
    token: str


@strawberry.input(description="Settings to change; omitted ones stay as they are.")
class UpdateNotificationPreferencesInput:
    advisories: bool | None = strawberry.UNSET
    city_notices: bool | None = strawberry.UNSET
    earthquake_min_intensity: str | None = strawberry.field(
        default=strawberry.UNSET, description="1, 2, 3, 4, 5-, 5+, 6-, 6+ or 7 (5弱 etc. too)"
    )


@strawberry.input(description="Either ids or all: true.")
class MarkNotificationsReadInput:
    ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description=f"At most {service.MAX_MARK_IDS} of my notifications"
    )
    all: bool | None = strawberry.field(default=None, description="Mark every notification read")


@strawberry.type
class RegisterDevicePayload:
    device: DeviceType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class UnregisterDevicePayload:
    device_id: strawberry.ID | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class NotificationPreferencesPayload:
    preferences: NotificationPreferencesType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class MarkNotificationsReadPayload:
    marked_count: int | None = strawberry.field(
        default=None, description="How many were unread until now"
    )
    unread_count: int | None = None
    notifications: list[NotificationType] | None = strawberry.field(
        default=None, description="The notifications named by ids, as they are now"
    )
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class PushMutations:
    @strawberry.mutation(
        description="Register this device for pushes, or refresh it (call on every app start); "
        "a token registered under another account moves to mine."
    )
    async def register_device(
        self, info: KInfo, input: RegisterDeviceInput
    ) -> RegisterDevicePayload:
        async def work(session: AsyncSession, resident: ResidentRef) -> RegisterDevicePayload:
            device = await service.register_device(
                session,
                resident.id,
                input.token,
                input.platform.value,
                input.locale,
                input.app_version,
            )
            return RegisterDevicePayload(device=DeviceType.from_model(device))

        return await as_resident(info, RegisterDevicePayload, work)

    @strawberry.mutation(description="Stop pushes to one of my devices (on sign-out).")
    async def unregister_device(
        self, info: KInfo, input: UnregisterDeviceInput
    ) -> UnregisterDevicePayload:
        async def work(session: AsyncSession, resident: ResidentRef) -> UnregisterDevicePayload:
            device = await service.unregister_device(session, resident.id, input.token)
            return UnregisterDevicePayload(device_id=strawberry.ID(encode_id("Device", device.id)))

        return await as_resident(info, UnregisterDevicePayload, work)

    @strawberry.mutation(description="Choose which non-emergency notifications I receive.")
    async def update_notification_preferences(
        self, info: KInfo, input: UpdateNotificationPreferencesInput
    ) -> NotificationPreferencesPayload:
        async def work(
            session: AsyncSession, resident: ResidentRef
        ) -> NotificationPreferencesPayload:
            preferences = await service.update_preferences(
                session,
                resident.id,
                advisories=sent(input.advisories, None),
                city_notices=sent(input.city_notices, None),
                earthquake_min_intensity=sent(input.earthquake_min_intensity, None),
            )
            return NotificationPreferencesPayload(
                preferences=NotificationPreferencesType.from_view(preferences)
            )

        return await as_resident(info, NotificationPreferencesPayload, work)

    @strawberry.mutation(
        description="Mark notifications read: those named, or all; an id that is not one of "
        "mine marks nothing."
    )
    async def mark_notifications_read(
        self, info: KInfo, input: MarkNotificationsReadInput
    ) -> MarkNotificationsReadPayload:
        async def work(
            session: AsyncSession, resident: ResidentRef
        ) -> MarkNotificationsReadPayload:
            ids = None
            if input.ids is not None:
                # Counted before decoding: the cap bounds the work, not only the write.
                service.check_mark_size(len(input.ids))
                ids = [
                    decode_id("Notification", value, field=f"ids[{index}]")
                    for index, value in enumerate(input.ids)
                ]
            result = await service.mark_notifications_read(
                session, resident.id, ids=ids, all=bool(input.all)
            )
            return MarkNotificationsReadPayload(
                marked_count=result.marked,
                unread_count=await service.unread_count(session, resident.id),
                notifications=[NotificationType.from_model(n) for n in result.notifications],
            )

        return await as_resident(info, MarkNotificationsReadPayload, work)
