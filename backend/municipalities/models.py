"""Municipality records; boundaries are optional and imported from N03-derived GeoJSON."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..db.base import Base, utcnow


class Municipality(Base):
    __tablename__ = "municipalities"

    code: Mapped[str] = mapped_column(String(5), primary_key=True)
    prefecture_code: Mapped[str] = mapped_column(String(2), index=True)
    name_ja: Mapped[str] = mapped_column(String(64))
    name_kana: Mapped[str] = mapped_column(String(64))
    name_en: Mapped[str] = mapped_column(String(64))
    # GeoJSON (Multi)Polygon in lon/lat plus its bounding box, indexed to find candidates.
    boundary_geojson: Mapped[str | None] = mapped_column(Text)
    boundary_source: Mapped[str | None] = mapped_column(String(255))
    min_lon: Mapped[float | None] = mapped_column(Float)
    min_lat: Mapped[float | None] = mapped_column(Float)
    max_lon: Mapped[float | None] = mapped_column(Float)
    max_lat: Mapped[float | None] = mapped_column(Float)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (Index("ix_municipalities_bbox", "min_lon", "max_lon", "min_lat", "max_lat"),)
