"""Municipality records of all Japan; boundaries are optional, imported from N03-derived GeoJSON."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, Index, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from ..db.base import Base, utcnow


class Municipality(Base):
    __tablename__ = "municipalities"

    code: Mapped[str] = mapped_column(String(5), primary_key=True)
    prefecture_code: Mapped[str] = mapped_column(String(2), index=True)
    prefecture_name_ja: Mapped[str] = mapped_column(String(16), server_default="")
    name_ja: Mapped[str] = mapped_column(String(64))
    # Null where no source gives them (see scripts/generate_municipalities.py).
    name_kana: Mapped[str | None] = mapped_column(String(64))
    name_en: Mapped[str | None] = mapped_column(String(64))
    designated_city_code: Mapped[str | None] = mapped_column(String(5))
    # Served municipalities have staff, system clients and services here; the others are
    # known so that places, shelters and boundaries anywhere in Japan can refer to them.
    # Kept in step with Settings.served_municipalities at every start.
    served: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # GeoJSON (Multi)Polygon in lon/lat plus its bounding box, indexed to find candidates.
    # Megabytes for some municipalities: loaded only where asked for (lists never need it).
    boundary_geojson: Mapped[str | None] = mapped_column(
        Text, deferred=True, deferred_raiseload=True
    )
    boundary_source: Mapped[str | None] = mapped_column(String(255))
    min_lon: Mapped[float | None] = mapped_column(Float)
    min_lat: Mapped[float | None] = mapped_column(Float)
    max_lon: Mapped[float | None] = mapped_column(Float)
    max_lat: Mapped[float | None] = mapped_column(Float)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (Index("ix_municipalities_bbox", "min_lon", "max_lon", "min_lat", "max_lat"),)
