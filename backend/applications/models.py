"""Application forms and bundles of a municipality, and the applications residents send."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..db.base import Base, Timestamps, UUIDPrimaryKey, utcnow


class ApplicationStatus(StrEnum):
    RECEIVED = "received"  # 受付
    UNDER_REVIEW = "under_review"  # 審査中
    RETURNED = "returned"  # 差戻し
    RESUBMITTED = "resubmitted"  # 再提出
    APPROVED = "approved"  # 承認
    REJECTED = "rejected"  # 却下


class ApplicationAction(StrEnum):
    SUBMITTED = "submitted"
    REVIEW_STARTED = "review_started"
    RETURNED = "returned"
    RESUBMITTED = "resubmitted"
    STEP_APPROVED = "step_approved"
    REJECTED = "rejected"


class ApplicationForm(UUIDPrimaryKey, Timestamps, Base):
    """One form a municipality accepts: its JSON Schema and its approval steps."""

    __tablename__ = "application_forms"

    municipality_code: Mapped[str] = mapped_column(
        ForeignKey("municipalities.code", ondelete="CASCADE")
    )
    code: Mapped[str] = mapped_column(String(64))
    title_ja: Mapped[str] = mapped_column(String(100))
    title_en: Mapped[str] = mapped_column(String(100))
    schema: Mapped[dict[str, Any]] = mapped_column(JSON)
    # [{"step": "clerk", "role": "city_staff"}, ...] in order; a different person each.
    steps: Mapped[list[dict[str, str]]] = mapped_column(JSON)

    __table_args__ = (UniqueConstraint("municipality_code", "code"),)


class ApplicationBundle(UUIDPrimaryKey, Timestamps, Base):
    """Forms sent together (e.g. 転入セット), in the order the resident fills them."""

    __tablename__ = "application_bundles"

    municipality_code: Mapped[str] = mapped_column(
        ForeignKey("municipalities.code", ondelete="CASCADE")
    )
    code: Mapped[str] = mapped_column(String(64))
    title_ja: Mapped[str] = mapped_column(String(100))
    title_en: Mapped[str] = mapped_column(String(100))
    form_codes: Mapped[list[str]] = mapped_column(JSON)

    __table_args__ = (UniqueConstraint("municipality_code", "code"),)


class Application(UUIDPrimaryKey, Timestamps, Base):
    """One form as a resident sent it, and where its review stands."""

    __tablename__ = "applications"

    # All the forms of one bundle sent at once share a submission id.
    submission_id: Mapped[uuid.UUID] = mapped_column(index=True)
    bundle_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("application_bundles.id", ondelete="RESTRICT")
    )
    form_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("application_forms.id", ondelete="RESTRICT")
    )
    resident_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("residents.id", ondelete="CASCADE"), index=True
    )
    municipality_code: Mapped[str] = mapped_column(
        ForeignKey("municipalities.code", ondelete="RESTRICT")
    )
    status: Mapped[str] = mapped_column(String(16))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Approval steps done in the current round (a resubmission starts a new round).
    steps_done: Mapped[int] = mapped_column(Integer, default=0)
    review_round: Mapped[int] = mapped_column(Integer, default=0)
    # The latest return's comments, [{"field": ..., "comment": ...}], and a rejection's reason.
    field_comments: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    reason: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        Index(
            "ix_applications_municipality_status_created",
            "municipality_code",
            "status",
            "created_at",
        ),
    )


class ApplicationEvent(UUIDPrimaryKey, Base):
    """Every step of an application: who, when, which approval step, comments; append-only."""

    __tablename__ = "application_events"

    application_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), index=True
    )
    action: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    step: Mapped[str | None] = mapped_column(String(64))
    review_round: Mapped[int] = mapped_column(Integer, default=0)
    actor: Mapped[str] = mapped_column(String(255))
    comments: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    reason: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class ApplicationAttachment(UUIDPrimaryKey, Base):
    """A photo or PDF of a document, kept outside the database; attached when submitted."""

    __tablename__ = "application_attachments"

    resident_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("residents.id", ondelete="CASCADE"), index=True
    )
    application_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), index=True
    )
    file_name: Mapped[str] = mapped_column(String(64))
    media_type: Mapped[str] = mapped_column(String(32))
    size: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
