"""Family groups, memberships and single-use invitations."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..db.base import Base, UUIDPrimaryKey, utcnow
from ..db.constraints import describe_unique


class MemberRole(StrEnum):
    OWNER = "owner"
    MEMBER = "member"


class FamilyGroup(UUIDPrimaryKey, Base):
    __tablename__ = "family_groups"

    name: Mapped[str] = mapped_column(String(100))
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("residents.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class FamilyMembership(UUIDPrimaryKey, Base):
    __tablename__ = "family_memberships"

    group_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("family_groups.id", ondelete="CASCADE"), index=True
    )
    resident_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("residents.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(16), default=MemberRole.MEMBER.value)
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("group_id", "resident_id"),)


class FamilyInvitation(UUIDPrimaryKey, Base):
    __tablename__ = "family_invitations"

    group_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("family_groups.id", ondelete="CASCADE"), index=True
    )
    # Short code for a QR code or reading aloud; unique while it exists.
    code: Mapped[str] = mapped_column(String(16), unique=True)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("residents.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    accepted_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("residents.id", ondelete="SET NULL")
    )
    accepted_at: Mapped[datetime | None]


describe_unique(
    "uq_family_memberships_group_id_resident_id",
    columns="family_memberships.group_id, family_memberships.resident_id",
    field="code",
    message="you are already a member of this family group",
    message_ja="すでにこの家族グループのメンバーです",
)
