"""Hazard zones (flood depth, landslide warning areas, ...) as GeoJSON plus an indexed bbox."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..db.base import Base, UUIDPrimaryKey, utcnow


class HazardZone(UUIDPrimaryKey, Base):
    __tablename__ = "hazard_zones"

    hazard_type: Mapped[str] = mapped_column(String(32), index=True)
    rank: Mapped[int | None] = mapped_column(Integer)
    depth_m: Mapped[float | None] = mapped_column(Float)
    name: Mapped[str | None] = mapped_column(String(255))
    # What the zone was imported from (file name or --source); --replace-source replaces by it.
    source: Mapped[str] = mapped_column(String(255), index=True)
    feature_id: Mapped[str | None] = mapped_column(String(255))
    municipality_code: Mapped[str | None] = mapped_column(
        ForeignKey("municipalities.code", ondelete="RESTRICT"), index=True
    )
    # GeoJSON (Multi)Polygon in lon/lat; exact tests run on it in process (HazardIndex).
    geometry_geojson: Mapped[str] = mapped_column(Text)
    min_lon: Mapped[float] = mapped_column(Float)
    min_lat: Mapped[float] = mapped_column(Float)
    max_lon: Mapped[float] = mapped_column(Float)
    max_lat: Mapped[float] = mapped_column(Float)
    # Indexed: max(created_at) with the row count is the cheap version of the zone set.
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    __table_args__ = (Index("ix_hazard_zones_bbox", "min_lon", "max_lon", "min_lat", "max_lat"),)
