"""Consent catalog, grants, append-only events, requests, system clients and access log."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..db.base import Base, UUIDPrimaryKey, utcnow
from ..db.constraints import describe_unique


class DataItem(Base):
    __tablename__ = "consent_data_items"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    label_ja: Mapped[str] = mapped_column(String(100))
    label_en: Mapped[str] = mapped_column(String(100))
    sensitive: Mapped[bool] = mapped_column(Boolean, default=False)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)


class Purpose(Base):
    __tablename__ = "consent_purposes"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    label_ja: Mapped[str] = mapped_column(String(100))
    label_en: Mapped[str] = mapped_column(String(100))
    description_ja: Mapped[str] = mapped_column(Text)
    description_en: Mapped[str] = mapped_column(Text)
    # Item codes this purpose may cover, and the recipient kinds/roles it may name.
    items: Mapped[list[str]] = mapped_column(JSON)
    recipients: Mapped[list[str]] = mapped_column(JSON)
    # The consent text's current version: a grant must name it (a stale one is refused).
    text_version: Mapped[str] = mapped_column(String(32), server_default="1")
    sort_order: Mapped[int] = mapped_column(Integer, default=0)


class Bundle(Base):
    __tablename__ = "consent_bundles"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    purpose_code: Mapped[str] = mapped_column(ForeignKey("consent_purposes.code"))
    label_ja: Mapped[str] = mapped_column(String(100))
    label_en: Mapped[str] = mapped_column(String(100))
    description_ja: Mapped[str] = mapped_column(Text)
    description_en: Mapped[str] = mapped_column(Text)
    # [{"recipient_role": "family", "items": ["name", ...]}, ...]
    flows: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    text_version: Mapped[str] = mapped_column(String(32))


class SystemClient(Base):
    """Another city-OS service that calls with OAuth2 client credentials."""

    __tablename__ = "system_clients"

    client_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    name_ja: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    municipality_code: Mapped[str] = mapped_column(ForeignKey("municipalities.code"), index=True)
    purposes: Mapped[list[str]] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    registered_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ConsentGrant(UUIDPrimaryKey, Base):
    """One flow the resident agreed to: these items, to this recipient, for this purpose.

    Never updated: revocation is a ConsentEvent, so the history stays complete.
    """

    __tablename__ = "consent_grants"

    resident_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"))
    purpose_code: Mapped[str] = mapped_column(ForeignKey("consent_purposes.code"))
    recipient_kind: Mapped[str] = mapped_column(String(16))
    recipient_role: Mapped[str | None] = mapped_column(String(32))
    recipient_client_id: Mapped[str | None] = mapped_column(
        ForeignKey("system_clients.client_id"), index=True
    )
    recipient_resident_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("residents.id", ondelete="CASCADE"), index=True
    )
    # A named person is named through a relationship (e.g. family); the grant flows only
    # while that relationship holds, and ends when it does.
    recipient_relationship: Mapped[str | None] = mapped_column(String(32))
    items: Mapped[list[str]] = mapped_column(JSON)
    # Set when accepted as part of a bundle: all flows of one acceptance share it.
    bundle_code: Mapped[str | None] = mapped_column(ForeignKey("consent_bundles.code"))
    acceptance_id: Mapped[uuid.UUID] = mapped_column(index=True)
    valid_from: Mapped[datetime]
    valid_until: Mapped[datetime | None]
    proxy_role: Mapped[str | None] = mapped_column(String(64))
    legal_basis: Mapped[str] = mapped_column(String(32), default="consent")
    text_version: Mapped[str] = mapped_column(String(32))
    # Who recorded it: the resident, or staff recording a paper form on their behalf.
    recorded_by: Mapped[str] = mapped_column(String(255))
    request_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("consent_requests.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_consent_grants_resident_purpose", "resident_id", "purpose_code"),)


class ConsentEvent(UUIDPrimaryKey, Base):
    """Append-only history: granted, revoked, declined; with client, IP and user agent."""

    __tablename__ = "consent_events"

    resident_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    grant_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("consent_grants.id", ondelete="CASCADE"), index=True
    )
    request_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("consent_requests.id", ondelete="CASCADE")
    )
    purpose_code: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(255))
    via_client: Mapped[str | None] = mapped_column(String(255))
    ip_address: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(255))
    at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_consent_events_resident_at", "resident_id", "at", "id"),)


class ConsentRequest(UUIDPrimaryKey, Base):
    """A service asks a resident for a purpose; the resident accepts or declines.

    Addressed by regional-ID subject: a request to someone who has not signed in to Kizuna
    yet waits for them (and answers the service exactly as for a known resident).
    """

    __tablename__ = "consent_requests"

    subject: Mapped[str] = mapped_column(String(255), index=True)
    resident_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("residents.id", ondelete="CASCADE"), index=True
    )
    purpose_code: Mapped[str] = mapped_column(ForeignKey("consent_purposes.code"))
    requester_client_id: Mapped[str] = mapped_column(ForeignKey("system_clients.client_id"))
    items: Mapped[list[str]] = mapped_column(JSON)
    message: Mapped[str | None] = mapped_column(String(500))
    valid_until: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16), default="pending")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]


class DataAccess(UUIDPrimaryKey, Base):
    """One read of a person's data by someone else: who, whose, which items, why, when."""

    __tablename__ = "data_access_log"

    subject_resident_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("residents.id", ondelete="CASCADE")
    )
    viewer_kind: Mapped[str] = mapped_column(String(16))
    viewer_subject: Mapped[str | None] = mapped_column(String(255))
    viewer_client_id: Mapped[str | None] = mapped_column(String(255))
    viewer_label: Mapped[str | None] = mapped_column(String(100))
    # Why the viewer may read: relationships, "person", "system_client", "law:<basis>".
    relationship: Mapped[str] = mapped_column(String(200))
    purpose_code: Mapped[str] = mapped_column(String(64))
    items: Mapped[list[str]] = mapped_column(JSON)
    via_client: Mapped[str | None] = mapped_column(String(255))
    request_id: Mapped[str | None] = mapped_column(String(64))
    accessed_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        Index("ix_data_access_log_subject_at", "subject_resident_id", "accessed_at", "id"),
    )


describe_unique(
    "pk_system_clients",
    columns="system_clients.client_id",
    field="clientId",
    message="this client id is being registered by another request",
    message_ja="このクライアントIDは同時に別の操作で登録されています",
)
