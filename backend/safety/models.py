"""Disaster events (発災), the safety answers (安否) given in them, and shared positions."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Float, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from ..db.base import Base, UUIDPrimaryKey, utcnow


class EventState(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class SafetyStatus(StrEnum):
    SAFE = "safe"
    INJURED = "injured"
    NEEDS_HELP = "needs_help"
    EVACUATED_TO_SHELTER = "evacuated_to_shelter"


class AnsweredBy(StrEnum):
    """Who gave an answer: the person, or a proxy and in which capacity."""

    SELF = "self"
    FAMILY = "family"
    SUPPORTER = "supporter"
    COMMUNITY = "community"
    STAFF = "staff"


class AnswerSource(StrEnum):
    APP = "app"
    PAPER = "paper"
    SHELTER = "shelter"


class DisasterEvent(UUIDPrimaryKey, Base):
    __tablename__ = "disaster_events"

    name: Mapped[str] = mapped_column(String(200))
    hazard_type: Mapped[str | None] = mapped_column(String(32))
    # Optional polygon(s) within the municipalities: only residents with a place inside are
    # asked to check in. Kept as the client sent it (validated), for the map.
    area_geojson: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default=EventState.OPEN.value, index=True)
    started_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    opened_by: Mapped[str] = mapped_column(String(255))
    closed_by: Mapped[str | None] = mapped_column(String(255))
    # Set when an alert opened the event: the same alert never opens a second one.
    source_alert_id: Mapped[uuid.UUID | None] = mapped_column(unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DisasterEventMunicipality(Base):
    __tablename__ = "disaster_event_municipalities"

    event_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("disaster_events.id", ondelete="CASCADE"), primary_key=True
    )
    municipality_code: Mapped[str] = mapped_column(
        ForeignKey("municipalities.code", ondelete="RESTRICT"), primary_key=True, index=True
    )


class SafetyAnswer(UUIDPrimaryKey, Base):
    """One answer as given (the history); ``SafetyLatest`` says which one counts."""

    __tablename__ = "safety_answers"

    event_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("disaster_events.id", ondelete="CASCADE")
    )
    resident_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(24))
    note: Mapped[str | None] = mapped_column(Text)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    shelter_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("shelters.id", ondelete="SET NULL")
    )
    answered_by: Mapped[str] = mapped_column(String(16))
    # The regional-ID subject (or "cli") of whoever recorded it.
    recorded_by: Mapped[str] = mapped_column(String(255))
    # Why a proxy without the person's consent may record it (paper forms by staff).
    legal_basis: Mapped[str | None] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(16), default=AnswerSource.APP.value)
    # Client-chosen; a retried request with the same key from the same recorder is one answer.
    idempotency_key: Mapped[str | None] = mapped_column(String(100))
    answered_at: Mapped[datetime]
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        UniqueConstraint("recorded_by", "idempotency_key"),
        Index("ix_safety_answers_event_resident", "event_id", "resident_id", "answered_at"),
        Index("ix_safety_answers_resident", "resident_id"),
    )


class SafetyLatest(Base):
    """The answer that counts for each person in each event (newest answered_at wins).

    Tallies read only this table: one row per person and event, with what the counts group
    by, so a community's tally is an index look-up per member rather than a scan of history.
    """

    __tablename__ = "safety_latest"

    event_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("disaster_events.id", ondelete="CASCADE"), primary_key=True
    )
    resident_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("residents.id", ondelete="CASCADE"), primary_key=True
    )
    answer_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("safety_answers.id", ondelete="CASCADE")
    )
    status: Mapped[str] = mapped_column(String(24))
    answered_at: Mapped[datetime]
    # Where the answer was given, else the person's home: for the staff map and tallies.
    municipality_code: Mapped[str | None] = mapped_column(String(5))
    h3_res9: Mapped[int | None] = mapped_column(BigInteger)
    # Reported position kept apart from h3 so "evacuated, but not at a shelter" can be found.
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    shelter_id: Mapped[uuid.UUID | None] = mapped_column()

    # No (event_id, status) index: no query needs one, and without statistics SQLite took it
    # for a community's counts (to group without sorting) and tested every answer of the
    # event against the member list: 15x slower than the primary key at 100,000 answers.
    __table_args__ = (
        Index("ix_safety_latest_event_municipality", "event_id", "municipality_code", "status"),
        # Routes count who is at their candidate shelters: only answers naming one are indexed.
        Index(
            "ix_safety_latest_shelter",
            "shelter_id",
            "status",
            "event_id",
            sqlite_where=text("shelter_id IS NOT NULL"),
            postgresql_where=text("shelter_id IS NOT NULL"),
        ),
    )


class LocationShare(Base):
    """A resident's current position, shared (through consent) until it expires."""

    __tablename__ = "location_shares"

    resident_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("residents.id", ondelete="CASCADE"), primary_key=True
    )
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    shared_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
