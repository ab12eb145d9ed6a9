"""Devices, notification preferences, the in-app inbox, the push outbox and delivery records.

A notification is written once per resident (the inbox); the outbox holds one row per
(notification, device) that a worker claims with a lease and hands to the push gateway, and
every attempt leaves a delivery record. ``idempotency_key`` makes a second enqueue of the same
message to the same device a no-op.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from ..db.base import Base, Timestamps, UUIDPrimaryKey, utcnow
from ..db.constraints import describe_unique

# SQLite only auto-increments an INTEGER PRIMARY KEY (its rowid).
SerialId = BigInteger().with_variant(Integer(), "sqlite")


class Platform(StrEnum):
    IOS = "ios"
    ANDROID = "android"
    WEB = "web"


class NotificationCategory(StrEnum):
    """Residents may turn off ADVISORY, CITY_NOTICE and small earthquakes; never EMERGENCY."""

    EMERGENCY = "emergency"  # evacuation level 4+, 特別警報, tsunami warnings, city emergency
    WARNING = "warning"  # 警報, 高齢者等避難 (level 3), landslide and flood information
    ADVISORY = "advisory"  # 注意報 and other information
    EARTHQUAKE = "earthquake"  # seismic intensity information (filtered by the chosen 震度)
    CITY_NOTICE = "city_notice"  # the city's non-emergency notices


# Claim order of the outbox by category: emergencies, then warnings, then the rest.
PRIORITY = {
    NotificationCategory.EMERGENCY: 0,
    NotificationCategory.WARNING: 1,
}
OTHER_PRIORITY = 2


class OutboxState(StrEnum):
    PENDING = "pending"  # waiting for a worker (or for its next attempt)
    SENT = "sent"
    DEAD = "dead"  # given up: token invalid, or retries exhausted


class Device(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "devices"

    resident_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("residents.id", ondelete="CASCADE"), index=True
    )
    token: Mapped[str] = mapped_column(String(4096), unique=True)
    platform: Mapped[str] = mapped_column(String(16))
    locale: Mapped[str] = mapped_column(String(16), default="ja")
    app_version: Mapped[str | None] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Why it stopped receiving: "unregistered" (by FCM), "invalid", "stale", "signed_out".
    deactivated_reason: Mapped[str | None] = mapped_column(String(32))
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)


class NotificationPreference(Timestamps, Base):
    __tablename__ = "notification_preferences"

    resident_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("residents.id", ondelete="CASCADE"), primary_key=True
    )
    advisories: Mapped[bool] = mapped_column(Boolean, default=True)
    city_notices: Mapped[bool] = mapped_column(Boolean, default=True)
    # Earthquake information is received from this 震度 up ("1"…"7", "5-", "5+", "6-", "6+").
    earthquake_min_intensity: Mapped[str] = mapped_column(String(2), default="3")


class Notification(UUIDPrimaryKey, Base):
    """One entry of a resident's in-app inbox."""

    __tablename__ = "notifications"

    resident_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"))
    # What the notification is about, e.g. "alert:<id>:<version>": enqueued once per resident.
    dedupe_key: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(16))
    title_ja: Mapped[str] = mapped_column(String(200))
    body_ja: Mapped[str] = mapped_column(Text)
    title_en: Mapped[str | None] = mapped_column(String(200))
    body_en: Mapped[str | None] = mapped_column(Text)
    # Where the app goes when the notification is opened, e.g. {"alertId": "..."}.
    data: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column()

    __table_args__ = (
        UniqueConstraint("resident_id", "dedupe_key"),
        Index("ix_notifications_resident_created", "resident_id", "created_at"),
    )


class OutboxMessage(Base):
    """One push to one device, claimed by a worker with a lease."""

    __tablename__ = "push_outbox"

    id: Mapped[int] = mapped_column(SerialId, primary_key=True, autoincrement=True)
    notification_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("notifications.id", ondelete="CASCADE"), index=True
    )
    device_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("devices.id", ondelete="CASCADE"), index=True
    )
    # One push per (notification, device), however often it is enqueued.
    idempotency_key: Mapped[str] = mapped_column(String(250), unique=True)
    state: Mapped[str] = mapped_column(String(16), default=OutboxState.PENDING.value)
    # 0 first: when a disaster fills the outbox, evacuation orders overtake advisories.
    priority: Mapped[int] = mapped_column(SmallInteger, default=2)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column()

    __table_args__ = (Index("ix_push_outbox_claim", "state", "priority", "next_attempt_at"),)


class DeliveryRecord(Base):
    """Every attempt to hand one outbox message to the push gateway, and its outcome."""

    __tablename__ = "push_deliveries"

    id: Mapped[int] = mapped_column(SerialId, primary_key=True, autoincrement=True)
    outbox_id: Mapped[int] = mapped_column(
        ForeignKey("push_outbox.id", ondelete="CASCADE"), index=True
    )
    attempt: Mapped[int] = mapped_column(Integer)
    # "sent", "retry", "invalid_token", "failed"
    outcome: Mapped[str] = mapped_column(String(16))
    gateway: Mapped[str] = mapped_column(String(16))  # "fcm" or "log"
    message_id: Mapped[str | None] = mapped_column(String(255))
    error_code: Mapped[str | None] = mapped_column(String(64))
    worker: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(default=utcnow)


# Two accounts registering the same token at the same moment: one wins, the other retries.
describe_unique(
    "uq_devices_token",
    field="token",
    message="this device was registered at the same moment by another request; try again",
    message_ja="この端末は同時に行われた別の操作で登録されました。もう一度お試しください",
    columns="devices.token",
)
describe_unique(
    "pk_notification_preferences",
    field=None,
    message="the notification settings were changed at the same moment; try again",
    message_ja="通知の設定が同時に変更されました。もう一度お試しください",
    columns="notification_preferences.resident_id",
)
