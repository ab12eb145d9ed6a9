"""The support-needed register (避難行動要支援者名簿) and individual evacuation plans
(個別避難計画): their versions, named supporters and every workflow transition."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..db.base import Base, Timestamps, UUIDPrimaryKey, utcnow
from ..db.constraints import describe_unique


class RegisterConsent(StrEnum):
    """Whether the person agreed to their register entry going to supporters (平常時の提供)."""

    AGREED = "agreed"  # 同意
    REFUSED = "refused"  # 不同意
    UNANSWERED = "unanswered"  # 未回答


class SupportRegisterEntry(UUIDPrimaryKey, Timestamps, Base):
    """One person on a municipality's register, as the municipality keeps it.

    The register is the municipality's own record (災害対策基本法 49-10): staff of that
    municipality keep it; it reaches anyone else only under consent or, while a disaster is
    declared, the disaster-time exception.
    """

    __tablename__ = "support_register_entries"

    municipality_code: Mapped[str] = mapped_column(
        ForeignKey("municipalities.code", ondelete="RESTRICT"), index=True
    )
    # The municipality's own number for the entry: re-importing a file updates, never doubles.
    register_number: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(100))
    kana: Mapped[str | None] = mapped_column(String(100))
    birth_date: Mapped[date | None] = mapped_column(Date)
    gender: Mapped[str | None] = mapped_column(String(16))
    address: Mapped[str | None] = mapped_column(String(300))
    phone: Mapped[str | None] = mapped_column(String(32))
    # Typed reasons for support: care level (要介護度), disability grades, living alone, ...
    # [{"kind": "care_level", "value": "要介護3"}, ...] validated by the register module.
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    consent_status: Mapped[str] = mapped_column(
        String(16), default=RegisterConsent.UNANSWERED.value
    )
    # The resident behind the entry once linked (by staff matching or at sign-in).
    resident_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("residents.id", ondelete="SET NULL"), unique=True
    )
    linked_by: Mapped[str | None] = mapped_column(String(255))
    linked_at: Mapped[datetime | None]
    updated_by: Mapped[str] = mapped_column(String(255))

    __table_args__ = (UniqueConstraint("municipality_code", "register_number"),)


describe_unique(
    "uq_support_register_entries_municipality_code_register_number",
    columns="support_register_entries.municipality_code, support_register_entries.register_number",
    field="registerNumber",
    message="this register number is already used in the municipality",
    message_ja="この名簿番号はすでに使われています",
)
describe_unique(
    "uq_support_register_entries_resident_id",
    columns="support_register_entries.resident_id",
    field="residentId",
    message="this resident is already linked to another register entry",
    message_ja="この住民はすでに別の名簿の記載と結び付いています",
)


class PlanStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    RETURNED = "returned"  # 差戻し
    APPROVED = "approved"
    ACKNOWLEDGED = "acknowledged"  # signed by the person or their proxy


class EvacuationPlan(UUIDPrimaryKey, Timestamps, Base):
    """One person's individual evacuation plan; its content lives in versions."""

    __tablename__ = "evacuation_plans"

    resident_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("residents.id", ondelete="CASCADE"), unique=True
    )
    municipality_code: Mapped[str] = mapped_column(
        ForeignKey("municipalities.code", ondelete="RESTRICT"), index=True
    )
    register_entry_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("support_register_entries.id", ondelete="SET NULL")
    )
    status: Mapped[str] = mapped_column(String(16), default=PlanStatus.DRAFT.value)
    version: Mapped[int] = mapped_column(Integer, default=1)
    # The alert level at which the plan says to leave (3 = 高齢者等避難).
    trigger_level: Mapped[int] = mapped_column(Integer, default=3)
    created_by: Mapped[str] = mapped_column(String(255))
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by: Mapped[str | None] = mapped_column(String(255))
    acknowledged_text_version: Mapped[str | None] = mapped_column(String(32))
    acknowledged_how: Mapped[str | None] = mapped_column(String(16))
    # Set when an alert activated the plan (supporters told, route recomputed).
    activated_at: Mapped[datetime | None]
    activated_by_alert_id: Mapped[uuid.UUID | None]

    __table_args__ = (
        Index("ix_evacuation_plans_municipality_status", "municipality_code", "status"),
    )


describe_unique(
    "uq_evacuation_plans_resident_id",
    columns="evacuation_plans.resident_id",
    field="personId",
    message="this person already has a plan: update it instead",
    message_ja="この方の計画はすでにあります。更新してください",
)


class EvacuationPlanVersion(UUIDPrimaryKey, Base):
    """The plan's content as one author saved it; never changed afterwards."""

    __tablename__ = "evacuation_plan_versions"

    plan_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("evacuation_plans.id", ondelete="CASCADE")
    )
    version: Mapped[int] = mapped_column(Integer)
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    author: Mapped[str] = mapped_column(String(255))
    # self / proxy role (care_manager, family, ...) / staff / a system client.
    capacity: Mapped[str] = mapped_column(String(32))
    legal_basis: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("plan_id", "version"),)


class PlanSupporter(UUIDPrimaryKey, Base):
    """A supporter named in the plan's current version (for the supporter relationship)."""

    __tablename__ = "plan_supporters"

    plan_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("evacuation_plans.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    resident_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("residents.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(32))
    relation: Mapped[str | None] = mapped_column(String(50))


class PlanTransition(UUIDPrimaryKey, Base):
    """One step of the workflow: who moved the plan from which status to which, and why."""

    __tablename__ = "plan_transitions"

    plan_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("evacuation_plans.id", ondelete="CASCADE"), index=True
    )
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(String(255))
    capacity: Mapped[str] = mapped_column(String(32))
    comment: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(default=utcnow)
