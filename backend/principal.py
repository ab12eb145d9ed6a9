"""Who is calling: a resident, a system client, or nobody; and the roles they hold."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol


class Role(StrEnum):
    CITY_STAFF = "city_staff"
    CITY_ADMIN = "city_admin"
    SHELTER_MANAGER = "shelter_manager"
    COMMUNITY_LEADER = "community_leader"
    # ケアマネジャー (介護支援専門員): drafts evacuation plans for the people who name them.
    CARE_MANAGER = "care_manager"
    # Manages the prefecture's own (prefecture-wide) portal services; granted on any
    # municipality code of the prefecture (its first two digits name the prefecture).
    PREFECTURE_ADMIN = "prefecture_admin"

    @property
    def label_ja(self) -> str:
        """The role as staff call it."""
        return _ROLE_LABELS_JA[self]


_ROLE_LABELS_JA = {
    Role.CITY_STAFF: "市職員",
    Role.CITY_ADMIN: "市の管理者",
    Role.SHELTER_MANAGER: "避難所管理者",
    Role.COMMUNITY_LEADER: "町内会・自主防災組織の役員",
    Role.CARE_MANAGER: "ケアマネジャー",
    Role.PREFECTURE_ADMIN: "県の管理者",
}


class PrincipalKind(StrEnum):
    ANONYMOUS = "anonymous"
    RESIDENT = "resident"
    SYSTEM_CLIENT = "system_client"


@dataclass(frozen=True, slots=True)
class RoleGrant:
    role: Role
    municipality_code: str


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller of one request."""

    kind: PrincipalKind
    subject: str | None = None
    client_id: str | None = None
    issuer: str | None = None
    roles: frozenset[RoleGrant] = field(default_factory=frozenset)
    claims: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    # Identity assurance from the token's ``acr`` claim (e.g. email, password, mynumber).
    acr: str | None = None

    @classmethod
    def anonymous(cls) -> Principal:
        return cls(kind=PrincipalKind.ANONYMOUS)

    @property
    def is_resident(self) -> bool:
        return self.kind is PrincipalKind.RESIDENT

    @property
    def is_system_client(self) -> bool:
        return self.kind is PrincipalKind.SYSTEM_CLIENT

    def has_role(self, municipality_code: str, *roles: Role) -> bool:
        """True when the principal holds one of ``roles`` in that municipality."""
        return any(
            grant.municipality_code == municipality_code and grant.role in roles
            for grant in self.roles
        )

    def municipalities_for(self, *roles: Role) -> set[str]:
        """Municipality codes where the principal holds one of ``roles``."""
        return {grant.municipality_code for grant in self.roles if grant.role in roles}

    def with_roles(self, grants: set[RoleGrant]) -> Principal:
        return Principal(
            kind=self.kind,
            subject=self.subject,
            client_id=self.client_id,
            issuer=self.issuer,
            roles=self.roles | frozenset(grants),
            claims=self.claims,
            acr=self.acr,
        )


class ResidentRef(Protocol):
    """The signed-in resident as other domains see it: an id and the regional-ID subject."""

    @property
    def id(self) -> uuid.UUID: ...

    @property
    def subject(self) -> str: ...


@dataclass(frozen=True, slots=True)
class RequestMeta:
    """Where a consent action or a read came from (kept in the append-only records)."""

    via_client: str | None = None
    ip_address: str | None = None
    user_agent: str | None = None
    request_id: str | None = None


@dataclass(frozen=True, slots=True)
class Viewer:
    """The reader of personal data: a principal with its roles, and its resident id if any."""

    principal: Principal
    resident_id: uuid.UUID | None = None

    @property
    def actor(self) -> str:
        """How the reader is named in records: the subject, or ``client:<id>``."""
        if self.principal.is_system_client:
            return f"client:{self.principal.client_id}"
        return self.principal.subject or "anonymous"
