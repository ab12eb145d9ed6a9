"""Stored alerts, their areas (resolved to municipalities and H3 cells), deliveries, refusals.

One ``Alert`` per (source, event_key): a later telegram for the same event updates it and
its areas; ``alert_receipts`` remembers every delivery by its ``source_id`` so a duplicate is
ignored. Areas are resolved when stored: to municipality codes (JMA areas, geocodes, whole
municipality, 町丁目) and, for polygons, to the H3 res-7 cells they touch, each marked
interior (every place in it is inside) or edge (an exact test decides).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from ..db.base import Base, UUIDPrimaryKey, utcnow
from ..db.constraints import describe_unique


class AlertState(StrEnum):
    ACTIVE = "active"
    LIFTED = "lifted"  # 解除: over
    CANCELLED = "cancelled"  # 取消: withdrawn
    PENDING_APPROVAL = "pending_approval"  # drafted by staff, waiting for a second person


class Alert(UUIDPrimaryKey, Base):
    __tablename__ = "alerts"

    source: Mapped[str] = mapped_column(String(16))
    event_key: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(32))
    type_code: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))  # AlertStatus: only ACTUAL is pushed
    state: Mapped[str] = mapped_column(String(20), default=AlertState.ACTIVE.value)
    level: Mapped[int | None] = mapped_column(Integer)
    severity: Mapped[str] = mapped_column(String(16))
    intensity: Mapped[str | None] = mapped_column(String(2))
    title_ja: Mapped[str | None] = mapped_column(String(200))
    title_en: Mapped[str | None] = mapped_column(String(200))
    headline_ja: Mapped[str] = mapped_column(Text)
    headline_en: Mapped[str | None] = mapped_column(Text)
    headline_easy_ja: Mapped[str | None] = mapped_column(Text)
    body_ja: Mapped[str | None] = mapped_column(Text)
    body_en: Mapped[str | None] = mapped_column(Text)
    issuer: Mapped[str] = mapped_column(String(200))
    # The municipality that owns a staff-authored alert (None for JMA/CAP/L-Alert).
    municipality_code: Mapped[str | None] = mapped_column(
        ForeignKey("municipalities.code", ondelete="RESTRICT"), index=True
    )
    issued_at: Mapped[datetime] = mapped_column()
    effective_at: Mapped[datetime | None] = mapped_column()
    expires_at: Mapped[datetime | None] = mapped_column()
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # Moves with every stored change; the CAP feed and caches follow it.
    version: Mapped[int] = mapped_column(Integer, default=1)
    # Counts issues after a lift or cancel: residents hear of a re-issued alert again.
    generation: Mapped[int] = mapped_column(Integer, default=1)
    last_source_id: Mapped[str] = mapped_column(String(300), index=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    drafted_by: Mapped[str | None] = mapped_column(String(255))
    approved_by: Mapped[str | None] = mapped_column(String(255))

    __table_args__ = (
        UniqueConstraint("source", "event_key"),
        Index("ix_alerts_state_status", "state", "status"),
    )


class AlertAreaRow(UUIDPrimaryKey, Base):
    __tablename__ = "alert_areas"

    alert_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("alerts.id", ondelete="CASCADE"), index=True
    )
    # scheme:code, scheme:name or geometry:<hash>: how a later telegram names the same area.
    area_key: Mapped[str] = mapped_column(String(300))
    scheme: Mapped[str] = mapped_column(String(16))
    code: Mapped[str | None] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    geometry_geojson: Mapped[str | None] = mapped_column(Text)
    level: Mapped[int | None] = mapped_column(Integer)
    intensity: Mapped[str | None] = mapped_column(String(2))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("alert_id", "area_key"),)


class AlertAreaMunicipality(Base):
    """A municipality an area covers whole (or, with ``town``, one 町丁目 of it)."""

    __tablename__ = "alert_area_municipalities"

    area_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("alert_areas.id", ondelete="CASCADE"), primary_key=True
    )
    municipality_code: Mapped[str] = mapped_column(String(5), primary_key=True, index=True)
    # A 町丁目 name: only places whose address names it are in the area.
    town: Mapped[str] = mapped_column(String(100), primary_key=True, default="")


class AlertAreaCell(Base):
    """An H3 res-7 cell a polygon area touches; interior cells need no exact test."""

    __tablename__ = "alert_area_cells"

    area_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("alert_areas.id", ondelete="CASCADE"), primary_key=True
    )
    h3_res7: Mapped[int] = mapped_column(BigInteger, primary_key=True, index=True)
    interior: Mapped[bool] = mapped_column(Boolean)


class AlertReceipt(Base):
    """Every delivery received, by its source identity: a second delivery is ignored."""

    __tablename__ = "alert_receipts"

    source_id: Mapped[str] = mapped_column(String(300), primary_key=True)
    alert_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("alerts.id", ondelete="CASCADE"), index=True
    )
    via: Mapped[str] = mapped_column(String(32))
    sha256: Mapped[str | None] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class AlertRejection(UUIDPrimaryKey, Base):
    """A refused document: only its name, size, hash and the reason are kept, never its text."""

    __tablename__ = "alert_rejections"

    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    via: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    reason_ja: Mapped[str] = mapped_column(Text)
    client: Mapped[str | None] = mapped_column(String(255))


# Two deliveries of one new alert stored at the same moment (two relays, a relay and the
# feed): the loser's transaction fails here, and ingest retries it, finding the receipt.
describe_unique(
    "uq_alerts_source_event_key",
    field=None,
    message="the same alert was being stored at the same moment; try again",
    message_ja="同じ警報が同時に登録されていました。もう一度お試しください",
    columns="alerts.source, alerts.event_key",
)
