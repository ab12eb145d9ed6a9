"""Shelters (GSI 指定緊急避難場所 / 指定避難所) and the GSI 共通IDs each one stands for."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType

from sqlalchemy import BigInteger, Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..db.base import Base, Timestamps, UUIDPrimaryKey
from ..hazards.types import HazardType
from .records import ShelterKind


class ShelterStatus(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    FULL = "full"


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
