"""Danger spots (危険箇所) residents report: where, what, who may see it, and its moderation."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..db.base import Base, UUIDPrimaryKey, utcnow


class SpotKind(StrEnum):
    FLOODED_ROAD = "flooded_road"
    LANDSLIDE = "landslide"
    COLLAPSED_BUILDING = "collapsed_building"
    FIRE = "fire"
    BLOCKED_ROAD = "blocked_road"
    OTHER = "other"


class SpotStatus(StrEnum):
    """Moderation state; a spot past its ``expires_at`` reads as expired whatever it says."""

    PENDING = "pending"
    PUBLISHED = "published"
    REJECTED = "rejected"
    RESOLVED = "resolved"
    MERGED = "merged"
    EXPIRED = "expired"


class SpotScope(StrEnum):
    """Who the reporter lets see the report (chosen when posting)."""

    EVERYONE = "everyone"
    COMMUNITY = "community"
    FAMILY = "family"
    STAFF = "staff"


class AudienceKind(StrEnum):
    COMMUNITY = "community"
    FAMILY = "family"


class DangerSpot(UUIDPrimaryKey, Base):
    __tablename__ = "danger_spots"

    municipality_code: Mapped[str] = mapped_column(
        ForeignKey("municipalities.code", ondelete="RESTRICT")
    )
    # Never shown to anyone but staff (and the author, as "mine"); kept when the spot
    # outlives its author's account only as long as the account exists.
    author_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("residents.id", ondelete="SET NULL")
    )
    kind: Mapped[str] = mapped_column(String(24))
    note: Mapped[str | None] = mapped_column(Text)
    # The geometry as the client sent it (validated): a GeoJSON Point or Polygon.
    geometry_geojson: Mapped[str] = mapped_column(Text)
    # A point's position, or a polygon's representative point (inside it).
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    # The area routes keep out of (a point's buffer included): map and route look-ups.
    min_lon: Mapped[float] = mapped_column(Float)
    min_lat: Mapped[float] = mapped_column(Float)
    max_lon: Mapped[float] = mapped_column(Float)
    max_lat: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(16), default=SpotStatus.PENDING.value)
    scope: Mapped[str] = mapped_column(String(16))
    # The open disaster event covering the spot when it was posted; a spot of an event
    # stops steering routes when the event closes.
    event_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("disaster_events.id", ondelete="SET NULL")
    )
    expires_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    moderated_by: Mapped[str | None] = mapped_column(String(255))
    moderated_at: Mapped[datetime | None]
    merged_into_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("danger_spots.id", ondelete="SET NULL")
    )
    # A photo under <data_dir>/danger-spots (its file name), its media type and size.
    photo_name: Mapped[str | None] = mapped_column(String(100))
    photo_type: Mapped[str | None] = mapped_column(String(32))
    photo_bytes: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (
        Index("ix_danger_spots_bbox", "min_lat", "max_lat", "min_lon", "max_lon"),
        Index("ix_danger_spots_author_created", "author_id", "created_at"),
        Index("ix_danger_spots_queue", "municipality_code", "status", "created_at"),
        Index("ix_danger_spots_status_expires", "status", "expires_at"),
    )


class DangerSpotAudience(Base):
    """The author's town associations (always: their leaders moderate) and, for a FAMILY
    report, family groups, as they were when the spot was posted."""

    __tablename__ = "danger_spot_audiences"

    spot_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("danger_spots.id", ondelete="CASCADE"), primary_key=True
    )
    group_id: Mapped[uuid.UUID] = mapped_column(primary_key=True, index=True)
    kind: Mapped[str] = mapped_column(String(16))
