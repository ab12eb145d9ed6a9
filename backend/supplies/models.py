"""Municipalities' own supplies catalogs, residents' supply profiles and ticked items."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..db.base import Base, utcnow


class SupplyCatalog(Base):
    """A municipality's imported catalog: how it combines with the default, and its file."""

    __tablename__ = "supply_catalogs"

    municipality_code: Mapped[str] = mapped_column(
        ForeignKey("municipalities.code", ondelete="CASCADE"), primary_key=True
    )
    mode: Mapped[str] = mapped_column(String(16))
    source_name: Mapped[str] = mapped_column(String(255))
    # SHA-256 of the imported file: re-importing the same file changes nothing.
    digest: Mapped[str] = mapped_column(String(64))
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)


class SupplyCatalogItem(Base):
    """One item of a municipality's catalog, with its validated rules."""

    __tablename__ = "supply_catalog_items"

    municipality_code: Mapped[str] = mapped_column(
        ForeignKey("supply_catalogs.municipality_code", ondelete="CASCADE"), primary_key=True
    )
    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    name_ja: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    unit_ja: Mapped[str] = mapped_column(String(20))
    unit_en: Mapped[str] = mapped_column(String(20))
    category: Mapped[str] = mapped_column(String(32))
    rules: Mapped[list[dict[str, Any]]] = mapped_column(JSON)


class SupplyProfile(Base):
    """The facts about a resident the supply rules need beyond birth date and gender."""

    __tablename__ = "supply_profiles"

    resident_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("residents.id", ondelete="CASCADE"), primary_key=True
    )
    pets: Mapped[list[dict[str, Any]]] = mapped_column(JSON)  # [{"kind": "dog", "count": 1}]
    regular_medication: Mapped[bool] = mapped_column(Boolean, default=False)
    dietary_needs: Mapped[list[str]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class SupplyTick(Base):
    """An item a resident has ready, on their own list or on their household's list."""

    __tablename__ = "supply_ticks"

    resident_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("residents.id", ondelete="CASCADE"), primary_key=True
    )
    list_kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    item_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    ticked_at: Mapped[datetime] = mapped_column(default=utcnow)
