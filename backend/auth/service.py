"""Role grants per municipality and the permission checks built on them."""

from __future__ import annotations

import logging
import uuid
from dataclasses import replace
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from ..errors import Checker, NotPermitted, Unauthenticated
from ..municipalities import service as municipality_service
from ..municipalities.reference import normalize_code
from ..principal import Principal, PrincipalKind, Role, RoleGrant
from . import repository
from .models import RoleGrantRecord

logger = logging.getLogger(__name__)

STAFF_ROLES = (Role.CITY_STAFF, Role.CITY_ADMIN)
CLI_OPERATOR = "cli"


async def with_granted_roles(session: AsyncSession, principal: Principal) -> Principal:
    """The principal with its roles: IdP role claims, plus database grants for residents only;
    roles in municipalities this installation does not serve confer nothing here.

    Role claims may name any code (or the 6-digit form). Database grants name a resident's
    subject: a system client whose subject happens to be the same string (client
    credentials, another namespace of the IdP) must not inherit them.
    """
    if principal.kind is PrincipalKind.ANONYMOUS or principal.subject is None:
        return principal
    records = (
        await repository.for_subject(session, principal.subject)
        if principal.kind is PrincipalKind.RESIDENT
        else []
    )
    grants = {
        RoleGrant(g.role, normalize_code(g.municipality_code) or g.municipality_code)
        for g in principal.roles
    } | {RoleGrant(Role(r.role), r.municipality_code) for r in records}
    served = await municipality_service.served_among(session, {g.municipality_code for g in grants})
    kept = frozenset(g for g in grants if g.municipality_code in served)
    if len(kept) < len(grants):
        logger.info(
            "ignored roles outside the served municipalities",
            extra={
                "ignored": sorted(f"{g.role.value}@{g.municipality_code}" for g in grants - kept)
            },
        )
    return replace(principal, roles=kept)


async def granted_role(
    session: AsyncSession, subject: str, role: Role, municipality_code: str
) -> bool:
    """Whether ``role`` in the municipality is granted here to the resident with ``subject``
    (a database grant: how a resident can name someone as, say, their care manager)."""
    return any(
        r.role == role.value and r.municipality_code == municipality_code
        for r in await repository.for_subject(session, subject)
    )


def require_role(principal: Principal, municipality_code: str, *roles: Role) -> None:
    """Refuse a principal acting outside the municipalities where it holds one of ``roles``."""
    if principal.kind is PrincipalKind.ANONYMOUS:
        raise Unauthenticated()
    if not principal.has_role(municipality_code, *roles):
        raise NotPermitted(
            f"requires role {' or '.join(r.value for r in roles)} in municipality "
            f"{municipality_code}",
            f"市区町村{municipality_code}の{'・'.join(r.label_ja for r in roles)}の権限が必要です",
        )


def _check_grant_input(subject: str, role: str) -> Role:
    checker = Checker()
    if not subject.strip() or len(subject) > 255:
        checker.add("subject", "subject must be 1-255 characters", "地域IDの利用者は1〜255文字です")
    try:
        parsed = Role(role)
    except ValueError:
        checker.add("role", f"unknown role {role!r}", "指定された権限はありません")
        parsed = Role.CITY_STAFF
    checker.raise_if_any()
    return parsed


async def grant_role(
    session: AsyncSession,
    actor: Principal | None,
    *,
    subject: str,
    role: str,
    municipality_code: str,
) -> RoleGrantRecord:
    """Grant ``role`` in a municipality; actor None is the operator at the CLI."""
    parsed = _check_grant_input(subject, role)
    # Staff exist only where this installation serves; revoking stays possible everywhere.
    municipality = await municipality_service.get_served_municipality(session, municipality_code)
    if actor is not None:
        require_role(actor, municipality.code, Role.CITY_ADMIN)
    existing = await repository.find(
        session, subject=subject, role=parsed.value, municipality_code=municipality.code
    )
    if existing is not None:
        return existing
    record = RoleGrantRecord(
        subject=subject,
        role=parsed.value,
        municipality_code=municipality.code,
        granted_by=actor.subject if actor and actor.subject else CLI_OPERATOR,
    )
    session.add(record)
    await session.flush()
    return record


async def revoke_role(
    session: AsyncSession,
    actor: Principal | None,
    *,
    subject: str,
    role: str,
    municipality_code: str,
) -> bool:
    """Remove a grant; returns whether one existed."""
    parsed = _check_grant_input(subject, role)
    municipality = await municipality_service.get_municipality(session, municipality_code)
    if actor is not None:
        require_role(actor, municipality.code, Role.CITY_ADMIN)
    existing = await repository.find(
        session, subject=subject, role=parsed.value, municipality_code=municipality.code
    )
    if existing is None:
        return False
    await repository.delete_grant(session, existing.id)
    return True


async def list_grants_for_subject(session: AsyncSession, subject: str) -> list[RoleGrantRecord]:
    """All grants of one subject (CLI)."""
    return await repository.for_subject(session, subject)


async def page_role_grants(
    session: AsyncSession,
    principal: Principal,
    *,
    municipality_code: str,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[RoleGrantRecord]:
    """Role grants of a municipality, for its city admins only."""
    municipality = await municipality_service.get_municipality(session, municipality_code)
    require_role(principal, municipality.code, Role.CITY_ADMIN)
    return await repository.page_for_municipality(
        session, municipality.code, after=after, limit=limit
    )
