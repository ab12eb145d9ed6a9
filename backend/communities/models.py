"""Communities of a municipality and their members and leaders."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..db.base import Base, UUIDPrimaryKey, utcnow
from ..db.constraints import describe_unique


class CommunityKind(StrEnum):
    TOWN_ASSOCIATION = "town_association"  # 町内会・自治会
    DISASTER_ORG = "disaster_org"  # 自主防災組織


class CommunityRole(StrEnum):
    MEMBER = "member"
    LEADER = "leader"


class Community(UUIDPrimaryKey, Base):
    __tablename__ = "communities"

    municipality_code: Mapped[str] = mapped_column(ForeignKey("municipalities.code"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("municipality_code", "name"),)


class CommunityMembership(UUIDPrimaryKey, Base):
    __tablename__ = "community_memberships"

    community_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("communities.id", ondelete="CASCADE"), index=True
    )
    resident_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("residents.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(16), default=CommunityRole.MEMBER.value)
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("community_id", "resident_id"),)


describe_unique(
    "uq_communities_municipality_code_name",
    columns="communities.municipality_code, communities.name",
    field="name",
    message="a community with this name exists",
    message_ja="同じ名称の団体があります",
)
describe_unique(
    "uq_community_memberships_community_id_resident_id",
    columns="community_memberships.community_id, community_memberships.resident_id",
    field="communityId",
    message="already a member",
    message_ja="すでにメンバーです",
)
