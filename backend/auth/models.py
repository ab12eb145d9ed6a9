"""Staff roles granted per municipality (kizuna grant-role, or a city admin through the API)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..db.base import Base, UUIDPrimaryKey, utcnow
from ..db.constraints import describe_unique


class RoleGrantRecord(UUIDPrimaryKey, Base):
    __tablename__ = "role_grants"

    # The identity provider's subject: a role may be granted before the first sign-in.
    subject: Mapped[str] = mapped_column(String(255), index=True)
    role: Mapped[str] = mapped_column(String(32))
    municipality_code: Mapped[str] = mapped_column(
        ForeignKey("municipalities.code", ondelete="RESTRICT"), index=True
    )
    granted_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("subject", "role", "municipality_code"),)


describe_unique(
    "uq_role_grants_subject_role_municipality_code",
    columns="role_grants.subject, role_grants.role, role_grants.municipality_code",
    field="subject",
    message="this role is already granted",
    message_ja="この権限はすでに付与されています",
)
