"""Consent: the one place that decides who may read which items of whom, and logs it.

Every read of another person's data goes through ``read_personal_data`` (or its batch form
``read_many``): it finds the active grants of the subject for the purpose, keeps those whose
recipient matches the viewer, returns only the granted items and records the read.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ..auth.principal import Principal, PrincipalKind, Role
from ..db.base import utcnow
from ..errors import Checker, Conflict, NotFound, NotPermitted
from ..residents.models import Resident
from . import catalog, relationships, repository
from .catalog import LegalBasis, RecipientKind, RecipientRole
from .models import ConsentEvent, ConsentGrant, ConsentRequest, DataAccess, Purpose, SystemClient
from .values import item_values
from .viewer import RequestMeta, Viewer

MAX_VALIDITY = timedelta(days=5 * 365)


@dataclass(slots=True)
class PersonalData:
    """The items of one subject a viewer may read, and the requested items refused."""

    subject_id: uuid.UUID
    purpose: str
    values: dict[str, Any]
    refused: list[str] = field(default_factory=list)
    relationships: list[str] = field(default_factory=list)


async def sync_catalog(session: AsyncSession) -> None:
    """Insert or update the seeded items, purposes and bundles."""
    await _upsert_catalog(session, catalog.DATA_ITEMS, catalog.PURPOSES, catalog.BUNDLES)


async def _upsert_catalog(
    session: AsyncSession,
    items: Sequence[catalog.DataItemDef],
    purposes: Sequence[catalog.PurposeDef],
    bundles: Sequence[catalog.BundleDef],
    *,
    first_sort_order: int = 0,
) -> None:
    await repository.upsert_catalog(
        session,
        [
            {
                "code": item.code,
                "label_ja": item.label_ja,
                "label_en": item.label_en,
                "sensitive": item.sensitive,
                "sort_order": first_sort_order + index,
            }
            for index, item in enumerate(items)
        ],
        [
            {
                "code": p.code,
                "label_ja": p.label_ja,
                "label_en": p.label_en,
                "description_ja": p.description_ja,
                "description_en": p.description_en,
                "items": list(p.items),
                "recipients": list(p.recipients),
                "sort_order": first_sort_order + index,
            }
            for index, p in enumerate(purposes)
        ],
        [
            {
                "code": b.code,
                "purpose_code": b.purpose,
                "label_ja": b.label_ja,
                "label_en": b.label_en,
                "description_ja": b.description_ja,
                "description_en": b.description_en,
                "flows": [
                    {"recipient_role": f.recipient_role.value, "items": list(f.items)}
                    for f in b.flows
                ],
                "text_version": b.text_version,
            }
            for b in bundles
        ],
    )


async def import_catalog(session: AsyncSession, document: Any) -> tuple[int, int, int]:
    """Add admin-defined items, purposes and bundles (a JSON document); all or nothing."""
    existing_items = {i.code for i in await repository.data_items(session)}
    existing_purposes = {p.code: p for p in await repository.purposes(session)}
    items, purposes, bundles = catalog.parse_catalog_document(
        document,
        known_items=existing_items,
        known_purposes={
            code: (tuple(p.items), tuple(p.recipients)) for code, p in existing_purposes.items()
        },
    )
    await _upsert_catalog(session, items, purposes, bundles, first_sort_order=1000)
    return len(items), len(purposes), len(bundles)


async def get_purpose(session: AsyncSession, code: str, *, field_name: str = "purpose") -> Purpose:
    """A purpose of the catalog, or a validation error naming the field."""
    purpose = await repository.purpose(session, code)
    if purpose is None:
        checker = Checker()
        checker.add(field_name, f"unknown purpose {code!r}", f"不明な利用目的 {code!r}")
        checker.raise_if_any()
    assert purpose is not None
    return purpose


# ---- granting, revoking, requests -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Recipient:
    kind: RecipientKind
    role: RecipientRole | None = None
    client_id: str | None = None
    resident_id: uuid.UUID | None = None


def _check_items(checker: Checker, purpose: Purpose, items: Sequence[str]) -> list[str]:
    unique = list(dict.fromkeys(items))
    if not unique:
        checker.add("items", "choose at least one data item", "項目を1つ以上選んでください")
    outside = [i for i in unique if i not in purpose.items]
    if outside:
        checker.add(
            "items",
            f"items {', '.join(outside)} are not part of purpose {purpose.code}",
            f"項目 {', '.join(outside)} は利用目的 {purpose.label_ja} の対象外です",
        )
    return unique


async def _check_recipient(
    session: AsyncSession, checker: Checker, purpose: Purpose, recipient: Recipient
) -> None:
    allowed = set(purpose.recipients)
    if recipient.kind is RecipientKind.ROLE:
        if recipient.role is None or recipient.role.value not in allowed:
            checker.add(
                "recipient",
                f"purpose {purpose.code} cannot go to role {recipient.role}",
                f"利用目的 {purpose.label_ja} ではこの提供先を選べません",
            )
    elif recipient.kind is RecipientKind.SYSTEM_CLIENT:
        client = await repository.system_client(session, recipient.client_id or "")
        if "system_client" not in allowed:
            checker.add(
                "recipient",
                f"purpose {purpose.code} cannot go to a system client",
                f"利用目的 {purpose.label_ja} ではサービスへの提供を選べません",
            )
        elif client is None or not client.active or purpose.code not in client.purposes:
            checker.add(
                "recipient.clientId",
                "unknown service, or not registered for this purpose",
                "未登録のサービス、またはこの利用目的に登録されていないサービスです",
            )
    elif recipient.kind is RecipientKind.PERSON and "person" not in allowed:
        checker.add(
            "recipient",
            f"purpose {purpose.code} cannot go to a named person",
            f"利用目的 {purpose.label_ja} では個人を指定できません",
        )


def _check_validity(checker: Checker, valid_until: datetime | None, now: datetime) -> None:
    if valid_until is None:
        return
    if valid_until.tzinfo is None:
        checker.add(
            "validUntil", "validUntil needs a time zone", "有効期限にタイムゾーンが必要です"
        )
    elif not now < valid_until <= now + MAX_VALIDITY:
        checker.add(
            "validUntil",
            "validUntil must be in the future and within 5 years",
            "有効期限は現在から5年以内の日時にしてください",
        )


def _event(
    resident_id: uuid.UUID,
    kind: str,
    purpose_code: str,
    actor: str,
    meta: RequestMeta,
    *,
    grant_id: uuid.UUID | None = None,
    request_id: uuid.UUID | None = None,
) -> ConsentEvent:
    return ConsentEvent(
        resident_id=resident_id,
        kind=kind,
        grant_id=grant_id,
        request_id=request_id,
        purpose_code=purpose_code,
        actor=actor[:255],
        via_client=(meta.via_client or "")[:255] or None,
        ip_address=(meta.ip_address or "")[:64] or None,
        user_agent=(meta.user_agent or "")[:255] or None,
    )


async def grant_consent(
    session: AsyncSession,
    resident: Resident,
    *,
    purpose_code: str,
    recipient: Recipient,
    items: Sequence[str],
    meta: RequestMeta,
    text_version: str,
    valid_until: datetime | None = None,
    proxy_role: str | None = None,
    legal_basis: LegalBasis = LegalBasis.CONSENT,
    recorded_by: str | None = None,
    request_id: uuid.UUID | None = None,
) -> ConsentGrant:
    """Record one flow the resident agrees to, after checking it against the catalog."""
    now = utcnow()
    checker = Checker()
    purpose = await get_purpose(session, purpose_code)
    clean_items = _check_items(checker, purpose, items)
    await _check_recipient(session, checker, purpose, recipient)
    _check_validity(checker, valid_until, now)
    if not text_version.strip() or len(text_version) > 32:
        checker.add(
            "textVersion", "textVersion must be 1-32 characters", "同意文の版は1〜32文字です"
        )
    if proxy_role is not None and not 1 <= len(proxy_role.strip()) <= 64:
        checker.add("proxyRole", "proxyRole must be 1-64 characters", "代理人の役割は1〜64文字です")
    checker.raise_if_any()
    grant = ConsentGrant(
        id=uuid.uuid4(),
        resident_id=resident.id,
        purpose_code=purpose.code,
        recipient_kind=recipient.kind.value,
        recipient_role=recipient.role.value if recipient.role else None,
        recipient_client_id=recipient.client_id,
        recipient_resident_id=recipient.resident_id,
        items=clean_items,
        acceptance_id=uuid.uuid4(),
        valid_from=now,
        valid_until=valid_until,
        proxy_role=proxy_role.strip() if proxy_role else None,
        legal_basis=legal_basis.value,
        text_version=text_version.strip(),
        recorded_by=(recorded_by or resident.subject)[:255],
        request_id=request_id,
        created_at=now,
    )
    session.add(grant)
    await session.flush()
    session.add(
        _event(resident.id, "granted", purpose.code, grant.recorded_by, meta, grant_id=grant.id)
    )
    await session.flush()
    return grant


async def grant_bundle(
    session: AsyncSession, resident: Resident, *, bundle_code: str, meta: RequestMeta
) -> list[ConsentGrant]:
    """Accept a bundled consent: one acceptance, stored as its individual flows."""
    bundle = await repository.bundle(session, bundle_code)
    if bundle is None:
        raise NotFound("consent bundle", "一括同意", field="bundle")
    acceptance_id = uuid.uuid4()
    grants = []
    for flow in bundle.flows:
        grant = await grant_consent(
            session,
            resident,
            purpose_code=bundle.purpose_code,
            recipient=Recipient(RecipientKind.ROLE, role=RecipientRole(flow["recipient_role"])),
            items=flow["items"],
            meta=meta,
            text_version=bundle.text_version,
        )
        grant.acceptance_id = acceptance_id
        grant.bundle_code = bundle.code
        grants.append(grant)
    await session.flush()
    return grants


async def revoke_consent(
    session: AsyncSession,
    resident: Resident,
    *,
    grant_id: uuid.UUID,
    meta: RequestMeta,
    whole_acceptance: bool = True,
) -> list[ConsentGrant]:
    """Revoke a grant (and by default every flow accepted with it); effective immediately."""
    grant = await repository.grant_of(session, resident.id, grant_id)
    if grant is None:
        raise NotFound("consent", "同意", field="grantId")
    targets = (
        await repository.grants_of_acceptance(session, resident.id, grant.acceptance_id)
        if whole_acceptance
        else [grant]
    )
    revoked = await repository.revoked_grant_ids(session, [g.id for g in targets])
    pending = [g for g in targets if g.id not in revoked]
    if not pending:
        raise Conflict("this consent is already revoked", "この同意はすでに撤回されています")
    for target in pending:
        session.add(
            _event(
                resident.id,
                "revoked",
                target.purpose_code,
                resident.subject,
                meta,
                grant_id=target.id,
            )
        )
    await session.flush()
    return pending


@dataclass(slots=True)
class GrantView:
    grant: ConsentGrant
    active: bool
    revoked: bool


async def list_grants(
    session: AsyncSession, resident: Resident, *, include_inactive: bool = False
) -> list[GrantView]:
    """The resident's consents with their state (active, revoked, expired)."""
    now = utcnow()
    grants = await repository.grants_of(session, resident.id)
    revoked = await repository.revoked_grant_ids(session, [g.id for g in grants])
    views = []
    for grant in grants:
        expired = grant.valid_until is not None and grant.valid_until <= now
        active = grant.id not in revoked and not expired and grant.valid_from <= now
        if active or include_inactive:
            views.append(GrantView(grant, active, grant.id in revoked))
    return views


async def consent_history(
    session: AsyncSession,
    resident: Resident,
    *,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[ConsentEvent]:
    """The resident's consent events, newest first."""
    return await repository.events_page(session, resident.id, after=after, limit=limit)


async def access_log(
    session: AsyncSession,
    resident: Resident,
    *,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[DataAccess]:
    """Who read the resident's data, newest first."""
    return await repository.access_page(session, resident.id, after=after, limit=limit)


async def grants_by_ids(
    session: AsyncSession, grant_ids: Sequence[uuid.UUID]
) -> list[ConsentGrant]:
    """Grants by id (loader batch)."""
    from sqlalchemy import select

    return list(await session.scalars(select(ConsentGrant).where(ConsentGrant.id.in_(grant_ids))))


# ---- system clients and their consent requests -------------------------------------------


async def register_system_client(
    session: AsyncSession,
    actor: Principal | None,
    *,
    client_id: str,
    name_ja: str,
    name_en: str,
    municipality_code: str,
    purposes: Sequence[str],
) -> SystemClient:
    """Register (or update) a system client for a municipality; actor None is the CLI."""
    from ..auth import service as auth_service
    from ..municipalities import service as municipality_service

    municipality = await municipality_service.get_served_municipality(session, municipality_code)
    if actor is not None:
        auth_service.require_role(actor, municipality.code, Role.CITY_ADMIN)
    checker = Checker()
    if not 1 <= len(client_id.strip()) <= 255:
        checker.add("clientId", "clientId must be 1-255 characters", "clientIdは1〜255文字です")
    for field_name, value in (("nameJa", name_ja), ("nameEn", name_en)):
        if not 1 <= len(value.strip()) <= 100:
            checker.add(
                field_name, f"{field_name} must be 1-100 characters", "名称は1〜100文字です"
            )
    known = {p.code for p in await repository.purposes(session)}
    unknown = [p for p in purposes if p not in known]
    if unknown or not purposes:
        checker.add(
            "purposes", f"unknown or missing purposes: {unknown}", "利用目的が不明または未指定です"
        )
    checker.raise_if_any()
    client = await repository.system_client(session, client_id.strip())
    if client is not None and client.municipality_code != municipality.code:
        raise Conflict("client id taken by another municipality", "このclientIdは使用済みです")
    if client is None:
        client = SystemClient(
            client_id=client_id.strip(),
            municipality_code=municipality.code,
            registered_by=actor.subject if actor and actor.subject else "cli",
        )
        session.add(client)
    client.name_ja, client.name_en = name_ja.strip(), name_en.strip()
    client.purposes = list(dict.fromkeys(purposes))
    client.active = True
    await session.flush()
    return client


async def deactivate_system_client(
    session: AsyncSession, actor: Principal | None, *, client_id: str
) -> SystemClient:
    """Stop a system client; its grants stop matching at once."""
    from ..auth import service as auth_service

    client = await repository.system_client(session, client_id)
    if client is None:
        raise NotFound("system client", "連携サービス", field="clientId")
    if actor is not None:
        auth_service.require_role(actor, client.municipality_code, Role.CITY_ADMIN)
    client.active = False
    await session.flush()
    return client


async def _registered_client(session: AsyncSession, principal: Principal) -> SystemClient:
    client = (
        await repository.system_client(session, principal.client_id or "")
        if principal.is_system_client
        else None
    )
    if client is None or not client.active:
        raise NotPermitted(
            "only a registered, active system client may do this",
            "登録済みのサービスのみが行えます",
        )
    return client


async def request_consent(
    session: AsyncSession,
    principal: Principal,
    *,
    subject: str,
    purpose_code: str,
    items: Sequence[str],
    message: str | None,
    valid_until: datetime | None,
) -> ConsentRequest:
    """A system client asks a resident (by regional-ID subject) for a purpose."""
    client = await _registered_client(session, principal)
    checker = Checker()
    purpose = await get_purpose(session, purpose_code)
    if purpose.code not in client.purposes or "system_client" not in purpose.recipients:
        raise NotPermitted(
            f"this client is not registered for purpose {purpose.code}",
            "このサービスはこの利用目的に登録されていません",
            field="purpose",
        )
    clean_items = _check_items(checker, purpose, items)
    _check_validity(checker, valid_until, utcnow())
    if message is not None and len(message) > 500:
        checker.add(
            "message", "message must be at most 500 characters", "メッセージは500文字以内です"
        )
    checker.raise_if_any()
    resident = await relationships.resident_by_subject(session, subject)
    if resident is None:
        raise NotFound("resident", "住民", field="subject")
    request = ConsentRequest(
        id=uuid.uuid4(),
        resident_id=resident.id,
        purpose_code=purpose.code,
        requester_client_id=client.client_id,
        items=clean_items,
        message=message,
        valid_until=valid_until,
    )
    session.add(request)
    await session.flush()
    return request


async def pending_requests(session: AsyncSession, resident: Resident) -> list[ConsentRequest]:
    """Consent requests waiting for the resident's answer."""
    return await repository.pending_requests(session, resident.id)


async def answer_request(
    session: AsyncSession,
    resident: Resident,
    *,
    request_id: uuid.UUID,
    accept: bool,
    meta: RequestMeta,
) -> tuple[ConsentRequest, ConsentGrant | None]:
    """Accept (creating the grant the request describes) or decline a pending request."""
    request = await repository.request_of(session, resident.id, request_id)
    if request is None:
        raise NotFound("consent request", "同意の依頼", field="requestId")
    if request.status != "pending":
        raise Conflict("this request has already been answered", "この依頼には回答済みです")
    request.decided_at = utcnow()
    grant = None
    if accept:
        grant = await grant_consent(
            session,
            resident,
            purpose_code=request.purpose_code,
            recipient=Recipient(RecipientKind.SYSTEM_CLIENT, client_id=request.requester_client_id),
            items=request.items,
            meta=meta,
            text_version=f"request-{request.id.hex[:8]}",
            valid_until=request.valid_until,
            request_id=request.id,
        )
        request.status = "accepted"
    else:
        request.status = "declined"
        session.add(
            _event(
                resident.id,
                "declined",
                request.purpose_code,
                resident.subject,
                meta,
                request_id=request.id,
            )
        )
    await session.flush()
    return request, grant


# ---- enforcement ------------------------------------------------------------------------


async def _visible_items(
    session: AsyncSession,
    viewer: Viewer,
    subjects: Sequence[Resident],
    purpose: Purpose,
) -> dict[uuid.UUID, tuple[set[str], set[str]]]:
    """For each subject: the items this viewer may read for the purpose, and why."""
    now = utcnow()
    result: dict[uuid.UUID, tuple[set[str], set[str]]] = {s.id: (set(), set()) for s in subjects}
    if viewer.principal.kind is PrincipalKind.ANONYMOUS or not subjects:
        return result
    grants = await repository.active_grants(session, [s.id for s in subjects], purpose.code, now)
    if not grants:
        return result
    links = await relationships.links(session, viewer, subjects)
    client = (
        await repository.system_client(session, viewer.principal.client_id or "")
        if viewer.principal.is_system_client
        else None
    )
    client_ok = client is not None and client.active and purpose.code in client.purposes
    for grant in grants:
        reason = _matching_recipient(grant, viewer, links.get(grant.resident_id, set()), client_ok)
        if reason is not None:
            items, reasons = result[grant.resident_id]
            # A grant never widens beyond what its purpose covers today.
            items.update(i for i in grant.items if i in purpose.items)
            reasons.add(reason)
    return result


def _matching_recipient(
    grant: ConsentGrant, viewer: Viewer, roles: set[str], client_ok: bool
) -> str | None:
    """Why this grant's recipient is the viewer (role, person, client), or None."""
    if grant.recipient_kind == RecipientKind.ROLE.value:
        return grant.recipient_role if grant.recipient_role in roles else None
    if grant.recipient_kind == RecipientKind.PERSON.value:
        matches = (
            viewer.resident_id is not None and grant.recipient_resident_id == viewer.resident_id
        )
        return "person" if matches else None
    if grant.recipient_kind == RecipientKind.SYSTEM_CLIENT.value:
        matches = client_ok and grant.recipient_client_id == viewer.principal.client_id
        return "system_client" if matches else None
    return None


async def read_many(
    session: AsyncSession,
    viewer: Viewer,
    subjects: Sequence[Resident],
    *,
    purpose_code: str,
    items: Sequence[str] | None,
    meta: RequestMeta,
    today: date | None = None,
) -> dict[uuid.UUID, PersonalData]:
    """Read the permitted items of several subjects at once and log every read of others."""
    purpose = await get_purpose(session, purpose_code)
    checker = Checker()
    requested = list(purpose.items) if not items else _check_items(checker, purpose, items)
    checker.raise_if_any()
    others = [s for s in subjects if s.id != viewer.resident_id]
    visible = await _visible_items(session, viewer, others, purpose)
    permitted: dict[uuid.UUID, list[str]] = {}
    for subject in subjects:
        if subject.id == viewer.resident_id:
            permitted[subject.id] = requested
        else:
            allowed = visible[subject.id][0]
            permitted[subject.id] = [i for i in requested if i in allowed]
    readable = [s for s in subjects if permitted[s.id]]
    values = await item_values(session, readable, permitted, today=today)
    results: dict[uuid.UUID, PersonalData] = {}
    log_rows = []
    for subject in readable:
        shown = permitted[subject.id]
        is_self = subject.id == viewer.resident_id
        results[subject.id] = PersonalData(
            subject_id=subject.id,
            purpose=purpose.code,
            values=values[subject.id],
            refused=[i for i in requested if i not in shown],
            relationships=["self"] if is_self else sorted(visible[subject.id][1]),
        )
        if not is_self:
            log_rows.append(_access_row(viewer, subject, purpose.code, shown, visible, meta))
    await repository.log_accesses(session, log_rows)
    return results


def _access_row(
    viewer: Viewer,
    subject: Resident,
    purpose_code: str,
    items: list[str],
    visible: dict[uuid.UUID, tuple[set[str], set[str]]],
    meta: RequestMeta,
) -> dict[str, Any]:
    principal = viewer.principal
    return {
        "id": uuid.uuid4(),
        "subject_resident_id": subject.id,
        "viewer_kind": principal.kind.value,
        "viewer_subject": principal.subject,
        "viewer_client_id": principal.client_id,
        "viewer_label": None,
        "relationship": ",".join(sorted(visible[subject.id][1]))[:32],
        "purpose_code": purpose_code,
        "items": items,
        "via_client": meta.via_client,
        "request_id": meta.request_id,
        "accessed_at": utcnow(),
    }


async def read_personal_data(
    session: AsyncSession,
    viewer: Viewer,
    *,
    subject: Resident | None,
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
    if subject is None:
        await get_purpose(session, purpose_code)
        raise denied
    results = await read_many(
        session, viewer, [subject], purpose_code=purpose_code, items=items, meta=meta
    )
    if subject.id not in results:
        raise denied
    return results[subject.id]


async def consented_subjects(
    session: AsyncSession, viewer: Viewer, subjects: Sequence[Resident], *, purpose_code: str
) -> list[Resident]:
    """The subjects of whom the viewer may read at least one item (no values, no log)."""
    purpose = await get_purpose(session, purpose_code)
    visible = await _visible_items(session, viewer, subjects, purpose)
    return [s for s in subjects if visible[s.id][0]]
