"""Enforcement: the one place that decides who may read which items of whom, and logs it.

Every read of another person's data goes through ``read_many`` (or ``read_personal_data``
for one subject): it finds the subjects' active grants for the purpose, keeps those whose
recipient is the viewer right now (a relationship the domains' providers confirm, a named
person still related that way, or a registered active system client), returns only the
granted items and records the read in the same transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ..db.base import utcnow
from ..errors import Checker, NotPermitted
from ..principal import PrincipalKind, RequestMeta, Viewer
from . import repository
from .catalog import RecipientKind
from .catalog_store import check_items, get_purpose
from .models import ConsentGrant, Purpose
from .providers import providers

JST = timezone(timedelta(hours=9))


@dataclass(slots=True)
class PersonalData:
    """The items of one subject a viewer may read, and the requested items refused."""

    subject_id: uuid.UUID
    purpose: str
    values: dict[str, Any]
    refused: list[str] = field(default_factory=list)
    relationships: list[str] = field(default_factory=list)


@dataclass(slots=True)
class _Visible:
    items: set[str] = field(default_factory=set)
    reasons: set[str] = field(default_factory=set)
    # Proxy role (代理人) of each matching grant that names one -> the items it covers.
    proxies: dict[str, set[str]] = field(default_factory=dict)


async def _visible_items(
    session: AsyncSession, viewer: Viewer, subject_ids: Sequence[uuid.UUID], purpose: Purpose
) -> dict[uuid.UUID, _Visible]:
    """For each subject: the items this viewer may read for the purpose, and why."""
    result = {s: _Visible() for s in subject_ids}
    if viewer.principal.kind is PrincipalKind.ANONYMOUS or not subject_ids:
        return result
    grants = await repository.active_grants(session, list(subject_ids), purpose.code, utcnow())
    exceptions = providers.exceptions_for(purpose.code)
    if not grants and not exceptions:
        return result
    # Ask only the providers of relationships these grants (and exceptions) depend on.
    needed = {g.recipient_role or "" for g in grants if g.recipient_kind == RecipientKind.ROLE}
    needed |= {g.recipient_relationship or "" for g in grants if g.recipient_kind == "person"}
    holders = {g.resident_id for g in grants}
    for exception in exceptions:
        needed.update(exception.relationships)
        holders.update(subject_ids)
    links = await providers.links(session, viewer, list(holders), needed - {""})
    client_ok = await _client_may_receive(session, viewer, purpose) if grants else False
    for grant in grants:
        reason = _matching_recipient(grant, viewer, links.get(grant.resident_id, set()), client_ok)
        if reason is not None:
            visible = result[grant.resident_id]
            # A grant never widens beyond what its purpose covers today.
            visible.items.update(i for i in grant.items if i in purpose.items)
            visible.reasons.add(reason)
            if grant.proxy_role:
                covered = visible.proxies.setdefault(grant.proxy_role, set())
                covered.update(i for i in grant.items if i in purpose.items)
    for exception in exceptions:
        related = [s for s in subject_ids if links.get(s, set()) & set(exception.relationships)]
        if not related:
            continue
        for subject_id in await exception.applies_to(session, related):
            if subject_id in result:
                visible = result[subject_id]
                visible.items.update(i for i in exception.items if i in purpose.items)
                visible.reasons.add(exception.reason)
    return result


async def _client_may_receive(session: AsyncSession, viewer: Viewer, purpose: Purpose) -> bool:
    if not viewer.principal.is_system_client:
        return False
    client = await repository.system_client(session, viewer.principal.client_id or "")
    return client is not None and client.active and purpose.code in client.purposes


def _matching_recipient(
    grant: ConsentGrant, viewer: Viewer, links: set[str], client_ok: bool
) -> str | None:
    """Why this grant's recipient is the viewer (relationship, person, client), or None."""
    if grant.recipient_kind == RecipientKind.ROLE.value:
        return grant.recipient_role if grant.recipient_role in links else None
    if grant.recipient_kind == RecipientKind.PERSON.value:
        # A named person reads only while still related the way they were named.
        matches = (
            viewer.resident_id is not None
            and grant.recipient_resident_id == viewer.resident_id
            and (grant.recipient_relationship is None or grant.recipient_relationship in links)
        )
        return "person" if matches else None
    if grant.recipient_kind == RecipientKind.SYSTEM_CLIENT.value:
        matches = client_ok and grant.recipient_client_id == viewer.principal.client_id
        return "system_client" if matches else None
    return None


async def read_many(
    session: AsyncSession,
    viewer: Viewer,
    subject_ids: Sequence[uuid.UUID],
    *,
    purpose_code: str,
    items: Sequence[str] | None,
    meta: RequestMeta,
    today: date | None = None,
) -> dict[uuid.UUID, PersonalData]:
    """Read the permitted items of several subjects at once and log every read of others.

    Subjects of whom nothing may be read (or who do not exist) are absent from the result.
    """
    purpose = await get_purpose(session, purpose_code)
    checker = Checker()
    requested = list(purpose.items) if not items else check_items(checker, purpose, items)
    checker.raise_if_any()
    subject_ids = list(dict.fromkeys(subject_ids))
    others = [s for s in subject_ids if s != viewer.resident_id]
    visible = await _visible_items(session, viewer, others, purpose)
    permitted: dict[uuid.UUID, list[str]] = {}
    for subject_id in subject_ids:
        if subject_id == viewer.resident_id:
            permitted[subject_id] = requested
        else:
            allowed = visible[subject_id].items
            shown = [i for i in requested if i in allowed]
            if shown:
                permitted[subject_id] = shown
    values = await providers.values(session, permitted, today or datetime.now(JST).date())
    results: dict[uuid.UUID, PersonalData] = {}
    log_rows = []
    for subject_id, shown in permitted.items():
        is_self = subject_id == viewer.resident_id
        reasons = ["self"] if is_self else sorted(visible[subject_id].reasons)
        results[subject_id] = PersonalData(
            subject_id=subject_id,
            purpose=purpose.code,
            values=values[subject_id],
            refused=[i for i in requested if i not in shown],
            relationships=reasons,
        )
        if not is_self:
            log_rows.append(_access_row(viewer, subject_id, purpose.code, shown, reasons, meta))
    await repository.log_accesses(session, log_rows)
    return results


def _access_row(
    viewer: Viewer,
    subject_id: uuid.UUID,
    purpose_code: str,
    items: list[str],
    reasons: list[str],
    meta: RequestMeta,
) -> dict[str, Any]:
    principal = viewer.principal
    return {
        "id": uuid.uuid4(),
        "subject_resident_id": subject_id,
        "viewer_kind": principal.kind.value,
        "viewer_subject": principal.subject,
        "viewer_client_id": principal.client_id,
        "viewer_label": None,
        "relationship": ",".join(reasons)[:200],
        "purpose_code": purpose_code,
        "items": items,
        "via_client": meta.via_client,
        "request_id": meta.request_id,
        "accessed_at": utcnow(),
    }


async def subject_id_of(
    session: AsyncSession, *, subject_id: uuid.UUID | None = None, subject: str | None = None
) -> uuid.UUID | None:
    """The subject by id (kept as given) or by regional-ID subject (looked up)."""
    if subject_id is not None:
        return subject_id
    return await providers.subject_id(session, subject) if subject else None


async def read_personal_data(
    session: AsyncSession,
    viewer: Viewer,
    *,
    subject_id: uuid.UUID | None,
    purpose_code: str,
    items: Sequence[str] | None,
    meta: RequestMeta,
) -> PersonalData:
    """The permitted items of one subject; NotPermitted when nothing is (or no such person)."""
    # Unknown subjects and subjects who granted nothing look the same: existence never leaks.
    denied = NotPermitted(
        "no consent covers this data for you and this purpose",
        "この利用目的であなたに提供することへの同意がありません",
    )
    if subject_id is None:
        await get_purpose(session, purpose_code)
        raise denied
    results = await read_many(
        session, viewer, [subject_id], purpose_code=purpose_code, items=items, meta=meta
    )
    if subject_id not in results:
        raise denied
    return results[subject_id]


async def readable_items(
    session: AsyncSession, viewer: Viewer, subject_ids: Sequence[uuid.UUID], *, purpose_code: str
) -> dict[uuid.UUID, tuple[set[str], set[str]]]:
    """Per subject, the items of the purpose the viewer may read now and why (the
    relationships or "person"), without reading them: for deciding whether someone may act
    for a person (a proxy safety answer). Nothing is read, so nothing is logged."""
    purpose = await get_purpose(session, purpose_code)
    others = [s for s in dict.fromkeys(subject_ids) if s != viewer.resident_id]
    visible = await _visible_items(session, viewer, others, purpose)
    return {s: (v.items, v.reasons) for s, v in visible.items()}


async def proxy_candidates(
    session: AsyncSession, viewer: Viewer, *, purpose_code: str
) -> list[uuid.UUID]:
    """The subjects whose grants in force name the viewer (a person or a system client) as
    their proxy for the purpose: whom a care manager's screen lists. Whether the viewer may
    act now is still decided per subject (``proxy_roles``); nothing is read or logged."""
    return await repository.subjects_with_proxy_grants_to(
        session,
        resident_id=viewer.resident_id,
        client_id=viewer.principal.client_id if viewer.principal.is_system_client else None,
        purpose_code=purpose_code,
        now=utcnow(),
    )


async def proxy_roles(
    session: AsyncSession, viewer: Viewer, subject_id: uuid.UUID, *, purpose_code: str, item: str
) -> set[str]:
    """The proxy roles (代理人: care manager, family, ...) in which the subject's grants for
    the purpose let the viewer act for them on ``item`` now. Nothing is read or logged."""
    found = await proxy_roles_of(
        session, viewer, [subject_id], purpose_code=purpose_code, item=item
    )
    return found.get(subject_id, set())


async def proxy_roles_of(
    session: AsyncSession,
    viewer: Viewer,
    subject_ids: Sequence[uuid.UUID],
    *,
    purpose_code: str,
    item: str,
) -> dict[uuid.UUID, set[str]]:
    """``proxy_roles`` for several subjects at once (one look-up of grants and relationships)."""
    others = [s for s in dict.fromkeys(subject_ids) if s != viewer.resident_id]
    if not others:
        return {}
    purpose = await get_purpose(session, purpose_code)
    visible = await _visible_items(session, viewer, others, purpose)
    return {
        s: {role for role, items in v.proxies.items() if item in items} for s, v in visible.items()
    }


async def log_lawful_reads(
    session: AsyncSession,
    viewer: Viewer,
    subject_ids: Sequence[uuid.UUID],
    *,
    purpose_code: str,
    items: Sequence[str],
    basis: str,
    meta: RequestMeta,
) -> None:
    """Log reads of people's data that a law allows without their consent (a municipality
    reading the register it keeps): each person then sees them in their access log, with
    the relationship ``law:<basis>``. Nothing is checked here: the caller has decided."""
    reason = f"law:{basis}"[:200]
    rows = [
        _access_row(viewer, subject_id, purpose_code, list(items), [reason], meta)
        for subject_id in dict.fromkeys(subject_ids)
        if subject_id != viewer.resident_id
    ]
    await repository.log_accesses(session, rows)
