"""Shelters (GSI 指定緊急避難場所 / 指定避難所) and the GSI 共通IDs each one stands for."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from ..db.base import Base, Timestamps, UUIDPrimaryKey, utcnow
from ..db.constraints import describe_unique
from ..hazards.types import HazardType
from .records import ShelterKind


class ShelterStatus(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    FULL = "full"


class StayMethod(StrEnum):
    """How a stay was recorded."""

    SELF = "self"  # the resident, in the app
    QR = "qr"  # the resident, by scanning the shelter's code
    PROXY = "proxy"  # a family member, for the resident
    MANAGER = "manager"  # the shelter's reception, by hand


class NeedKind(StrEnum):
    SUPPLIES = "supplies"  # 物資
    VOLUNTEERS = "volunteers"  # ボランティア
    OTHER = "other"


class NeedState(StrEnum):
    OPEN = "open"
    FULFILLED = "fulfilled"
    WITHDRAWN = "withdrawn"


# Kinds and hazard designations are boolean columns rather than link tables: both are small
# closed sets fixed by 災害対策基本法 (and GSI's columns), the nearest-shelter search filters on
# them in the same SQL as its bounding box without a join, and one row carries everything the
# API shows, so listing shelters never needs a second query per shelter.
KIND_COLUMNS: Mapping[ShelterKind, str] = MappingProxyType(
    {
        ShelterKind.EMERGENCY_SITE: "is_emergency_site",
        ShelterKind.EVACUATION_SHELTER: "is_evacuation_shelter",
        ShelterKind.WELFARE_SHELTER: "is_welfare_shelter",
    }
)
HAZARD_COLUMNS: Mapping[HazardType, str] = MappingProxyType(
    {hazard: f"for_{hazard.value}" for hazard in HazardType}
)


class Shelter(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "shelters"

    # The primary 共通ID (the emergency site's when two designations were merged).
    common_id: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(255))
    address: Mapped[str | None] = mapped_column(String(255))
    municipality_code: Mapped[str] = mapped_column(
        ForeignKey("municipalities.code", ondelete="RESTRICT"), index=True
    )
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    h3_res7: Mapped[int] = mapped_column(BigInteger, index=True)
    h3_res9: Mapped[int] = mapped_column(BigInteger, index=True)

    is_emergency_site: Mapped[bool] = mapped_column(Boolean, default=False)
    is_evacuation_shelter: Mapped[bool] = mapped_column(Boolean, default=False)
    # Set by the municipality, never by the GSI import.
    is_welfare_shelter: Mapped[bool] = mapped_column(Boolean, default=False)

    for_flood: Mapped[bool] = mapped_column(Boolean, default=False)
    for_landslide: Mapped[bool] = mapped_column(Boolean, default=False)
    for_storm_surge: Mapped[bool] = mapped_column(Boolean, default=False)
    for_earthquake: Mapped[bool] = mapped_column(Boolean, default=False)
    for_tsunami: Mapped[bool] = mapped_column(Boolean, default=False)
    for_large_fire: Mapped[bool] = mapped_column(Boolean, default=False)
    for_inland_flood: Mapped[bool] = mapped_column(Boolean, default=False)
    for_volcano: Mapped[bool] = mapped_column(Boolean, default=False)

    target_group: Mapped[str | None] = mapped_column(Text)  # 受入対象者
    other_matters: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    elevation_m: Mapped[float | None] = mapped_column(Float)

    # Operated by the municipality's shelter managers and staff; an import never touches them.
    capacity: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default=ShelterStatus.CLOSED.value)
    occupancy: Mapped[int | None] = mapped_column(Integer)
    status_updated_at: Mapped[datetime | None]
    status_updated_by: Mapped[str | None] = mapped_column(String(255))

    __table_args__ = (Index("ix_shelters_lat_lon", "latitude", "longitude"),)

    @property
    def kinds(self) -> list[ShelterKind]:
        """Designations of the place, in declaration order."""
        return [kind for kind, column in KIND_COLUMNS.items() if getattr(self, column)]

    @property
    def hazard_types(self) -> list[HazardType]:
        """Hazards the place is designated for, in GSI column order."""
        return [hazard for hazard, column in HAZARD_COLUMNS.items() if getattr(self, column)]


class ShelterSourceId(Base):
    """One GSI row (共通ID + designation) and the shelter it was imported into.

    A re-import finds its shelter through these, so merged designations, manager-set status
    and capacity survive; a 共通ID listed in both files gets two rows.
    """

    __tablename__ = "shelter_source_ids"

    common_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    shelter_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("shelters.id", ondelete="CASCADE"), index=True
    )
    # First 11 characters of a GSI-form 共通ID: designations of one facility share it.
    facility_key: Mapped[str] = mapped_column(String(64), index=True)


# A stay is current while checked_out_at is NULL; both indexes below cover only those rows.
_CURRENT = "checked_out_at IS NULL"


class ShelterStay(UUIDPrimaryKey, Base):
    """Someone (a resident, or a party recorded by hand) staying at a shelter."""

    __tablename__ = "shelter_stays"

    shelter_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("shelters.id", ondelete="CASCADE"), index=True
    )
    # NULL for a party without the app, recorded by the reception with a label.
    resident_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("residents.id", ondelete="CASCADE"), index=True
    )
    label: Mapped[str | None] = mapped_column(String(100))
    # People the stay counts in the shelter's occupancy (a resident with children without
    # the app, or an unnamed party).
    party_size: Mapped[int] = mapped_column(Integer, default=1)
    how: Mapped[str] = mapped_column(String(16))
    checked_in_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Regional-ID subject (or client:<id>) of whoever recorded the arrival / departure.
    recorded_by: Mapped[str] = mapped_column(String(255))
    checked_out_at: Mapped[datetime | None]
    checked_out_by: Mapped[str | None] = mapped_column(String(255))

    __table_args__ = (
        # The reception's list: current stays of a shelter, newest first.
        Index(
            "ix_shelter_stays_current",
            "shelter_id",
            "checked_in_at",
            "id",
            sqlite_where=text(_CURRENT),
            postgresql_where=text(_CURRENT),
        ),
        # A resident is in one shelter at a time: a move closes the old stay first.
        Index(
            "uq_shelter_stays_one_current",
            "resident_id",
            unique=True,
            sqlite_where=text(_CURRENT),
            postgresql_where=text(_CURRENT),
        ),
    )


describe_unique(
    "uq_shelter_stays_one_current",
    columns="shelter_stays.resident_id",
    field="shelterId",
    message="this person was checked in at the same moment by another request; try again",
    message_ja="同時に別の受付が行われました。もう一度お試しください",
)


class ShelterNeed(UUIDPrimaryKey, Timestamps, Base):
    """What a shelter asks for (supplies, volunteers ...), posted by its managers; public."""

    __tablename__ = "shelter_needs"

    shelter_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("shelters.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    text_ja: Mapped[str] = mapped_column(String(500))
    text_en: Mapped[str | None] = mapped_column(String(500))
    quantity: Mapped[int | None] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16), default=NeedState.OPEN.value)
    posted_by: Mapped[str] = mapped_column(String(255))
    updated_by: Mapped[str | None] = mapped_column(String(255))

    __table_args__ = (Index("ix_shelter_needs_shelter_state", "shelter_id", "state"),)
