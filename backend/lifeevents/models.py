"""Municipalities' imported life events: the file they came from, and each event's definition."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..db.base import Base, utcnow


class LifeEventSet(Base):
    """A municipality's imported life-events file (the whole set is replaced on import)."""

    __tablename__ = "life_event_sets"

    municipality_code: Mapped[str] = mapped_column(
        ForeignKey("municipalities.code", ondelete="CASCADE"), primary_key=True
    )
    source_name: Mapped[str] = mapped_column(String(255))
    # SHA-256 of the imported file: re-importing the same file changes nothing.
    digest: Mapped[str] = mapped_column(String(64))
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)


class LifeEventRow(Base):
    """One life event: names, description, and its validated questionnaire and procedures."""

    __tablename__ = "life_events"

    municipality_code: Mapped[str] = mapped_column(
        ForeignKey("life_event_sets.municipality_code", ondelete="CASCADE"), primary_key=True
    )
    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    name_ja: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    description_ja: Mapped[str] = mapped_column(Text)
    description_en: Mapped[str] = mapped_column(Text)
    # {"questions": [...], "procedures": [...]} as validated on import (definition.py).
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
