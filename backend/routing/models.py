"""What routing keeps: the shelters routes send people to (load spreading), and the areas
where the city had station ticket gates opened in a disaster."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from ..db.base import Base, UUIDPrimaryKey, utcnow


class RouteAssignment(UUIDPrimaryKey, Base):
    """A party a route sent to a shelter: counted against its capacity for a while.

    A signed-in resident's rows carry ``requester_key``, an HMAC of their sign-in under a
    server secret (never the id itself): asking again replaces their row. Anonymous callers
    have none, and each of their routes counts.
    """

    __tablename__ = "route_assignments"

    shelter_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("shelters.id", ondelete="CASCADE"))
    party_size: Mapped[int] = mapped_column(Integer)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    requester_key: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        # The load read: this shelter's rows of the window (and the prune of older ones).
        Index("ix_route_assignments_shelter_issued", "shelter_id", "issued_at"),
        # One row per signed-in requester (NULLs, the anonymous, never conflict).
        Index("uq_route_assignments_requester_key", "requester_key", unique=True),
    )


# An opening counts while closed_at is NULL (and its event is open).
_OPEN = "closed_at IS NULL"


class TicketGateOpening(UUIDPrimaryKey, Base):
    """An area where station ticket gates (改札) and fee gates stand open during a disaster
    event, as the city marked it: routes may walk through gates there while both last."""

    __tablename__ = "ticket_gate_openings"

    # The safety domain's event, by table: routing imports no other domain's models.
    event_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("disaster_events.id", ondelete="CASCADE"), index=True
    )
    # The area as the client sent it (validated): a GeoJSON Polygon or MultiPolygon.
    area_geojson: Mapped[str] = mapped_column(Text)
    # Its bounding box, for the route's box look-up.
    min_lon: Mapped[float] = mapped_column(Float)
    min_lat: Mapped[float] = mapped_column(Float)
    max_lon: Mapped[float] = mapped_column(Float)
    max_lat: Mapped[float] = mapped_column(Float)
    note: Mapped[str | None] = mapped_column(Text)
    # Regional-ID subjects of the staff members who opened and closed it.
    opened_by: Mapped[str] = mapped_column(String(255))
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]
    closed_by: Mapped[str | None] = mapped_column(String(255))

    __table_args__ = (
        # Every route looks up the open areas meeting its box: only open rows are indexed.
        Index(
            "ix_ticket_gate_openings_open_bbox",
            "min_lat",
            "max_lat",
            "min_lon",
            "max_lon",
            sqlite_where=text(_OPEN),
            postgresql_where=text(_OPEN),
        ),
    )
