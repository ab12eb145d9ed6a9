"""Portal service catalog and residents' service usage."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..db.base import Base, UUIDPrimaryKey, utcnow


class PortalService(UUIDPrimaryKey, Base):
    """One service of the catalog: who provides it, where it applies, whom it is for."""

    __tablename__ = "portal_services"

    code: Mapped[str] = mapped_column(String(64), unique=True)
    # Who manages it: a municipality code (5 digits) or a prefecture code (2 digits).
    owner_code: Mapped[str] = mapped_column(String(5), index=True)
    name_ja: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    description_ja: Mapped[str] = mapped_column(Text)
    description_en: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(32))
    provider_kind: Mapped[str] = mapped_column(String(16))
    provider_client_id: Mapped[str | None] = mapped_column(String(255))
    url: Mapped[str] = mapped_column(String(500))
    # "prefecture" (everyone in it) or "municipalities" (those listed offer it).
    scope: Mapped[str] = mapped_column(String(16))
    municipality_codes: Mapped[list[str]] = mapped_column(JSON)
    # Audience rules (see rules.Audience): relations, age range, household facts, language.
    audience: Mapped[dict[str, Any]] = mapped_column(JSON)
    consent_purpose: Mapped[str | None] = mapped_column(String(64))
    min_acr: Mapped[str | None] = mapped_column(String(16))
    available_from: Mapped[datetime | None]
    available_until: Mapped[datetime | None]
    priority: Mapped[int] = mapped_column(Integer, default=0)
    updated_by: Mapped[str] = mapped_column(String(255))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class ServiceUsage(UUIDPrimaryKey, Base):
    """A resident opened a service (their own history; staff see counts only)."""

    __tablename__ = "portal_service_usage"

    service_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("portal_services.id", ondelete="CASCADE")
    )
    resident_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"))
    # The service's owner when opened, so counts per municipality need no join.
    owner_code: Mapped[str] = mapped_column(String(5))
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        Index("ix_portal_service_usage_resident_opened", "resident_id", "opened_at"),
        Index("ix_portal_service_usage_owner_opened", "owner_code", "opened_at"),
        Index("ix_portal_service_usage_service", "service_id"),
    )
