"""Consent from the resident's side: grant, revoke, list, history; services' requests.

Reading another person's data is ``enforcement``; the catalog is ``catalog_store``.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from ..auth import service as auth_service
from ..db.base import utcnow
from ..errors import Checker, Conflict, NotFound, NotPermitted
from ..live import changed, consent_topic
from ..municipalities import service as municipality_service
from ..principal import Principal, RequestMeta, ResidentRef, Role
from ..text import clean_text
from . import repository
from .catalog import LegalBasis, RecipientKind
from .catalog_store import check_items, get_purpose, recipient_available, unavailable_items
from .models import ConsentEvent, ConsentGrant, ConsentRequest, DataAccess, Purpose, SystemClient
from .providers import providers

MAX_VALIDITY = timedelta(days=5 * 365)
# The actor recorded when a grant ends because its relationship ended (not the resident).
SYSTEM_ACTOR = "system"


@dataclass(frozen=True, slots=True)
class Recipient:
    """Who receives the data: a relationship, a system client, or a named person."""

    kind: RecipientKind
    role: str | None = None
    client_id: str | None = None
    resident_id: uuid.UUID | None = None
    # For a named person: the relationship through which the resident named them.
    relationship: str | None = None


# ---- recipients ------------------------------------------------------------------------


async def named_person(
    session: AsyncSession,
    resident: ResidentRef,
    *,
    relationship: str,
    reference: str,
    field: str,
) -> Recipient:
    """A person the resident names through a relationship (e.g. one of their family members)."""
    person = await providers.person_id(session, relationship, resident.id, reference)
    if person is None or person == resident.id:
        raise NotFound("person", "指定された相手", field=field)
    return Recipient(RecipientKind.PERSON, resident_id=person, relationship=relationship)


async def _check_recipient(
    session: AsyncSession, checker: Checker, purpose: Purpose, recipient: Recipient
) -> None:
    allowed = set(purpose.recipients)
    label = purpose.label_ja
    if recipient.kind is RecipientKind.ROLE:
        role = recipient.role or ""
        if role not in allowed:
            checker.add(
                "recipient.role",
                f"purpose {purpose.code} cannot go to {role!r}",
                f"利用目的「{label}」ではこの提供先を選べません",
            )
        elif not recipient_available(role):
            checker.add(
                "recipient.role",
                f"nothing provides the relationship {role!r} yet",
                "この提供先との関係を確認できる機能がまだないため選べません",
            )
    elif recipient.kind is RecipientKind.SYSTEM_CLIENT:
        client = await repository.system_client(session, recipient.client_id or "")
        if "system_client" not in allowed:
            checker.add(
                "recipient.kind",
                f"purpose {purpose.code} cannot go to a system client",
                f"利用目的「{label}」ではサービスへの提供を選べません",
            )
        elif client is None or not client.active or purpose.code not in client.purposes:
            checker.add(
                "recipient.clientId",
                "unknown service, or not registered for this purpose",
                "未登録のサービス、またはこの利用目的に登録されていないサービスです",
            )
    elif recipient.kind is RecipientKind.PERSON and "person" not in allowed:
        checker.add(
            "recipient.kind",
            f"purpose {purpose.code} cannot go to a named person",
            f"利用目的「{label}」では個人を指定できません",
        )


def _check_available(checker: Checker, items: Sequence[str]) -> None:
    missing = unavailable_items(items)
    if missing:
        checker.add(
            "items",
            f"items {', '.join(missing)} cannot be shared yet: no service provides them",
            f"選んだ項目のうち{len(missing)}件は、まだ提供できる機能がないため選べません",
        )


def _check_validity(checker: Checker, valid_until: datetime | None, now: datetime) -> None:
    if valid_until is None:
        return
    if valid_until.tzinfo is None:
        checker.add(
            "validUntil", "validUntil needs a time zone", "有効期限にはタイムゾーンが必要です"
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


# ---- granting and revoking ---------------------------------------------------------------


async def grant_consent(
    session: AsyncSession,
    resident: ResidentRef,
    *,
    purpose_code: str,
    recipient: Recipient,
    items: Sequence[str],
    meta: RequestMeta,
    text_version: str,
    valid_until: datetime | None = None,
    proxy_role: str | None = None,
    legal_basis: LegalBasis = LegalBasis.CONSENT,
) -> ConsentGrant:
    """Record one flow the resident agrees to, after the consent text they were shown."""
    purpose = await get_purpose(session, purpose_code)
    checker = Checker()
    shown = clean_text(
        checker, "textVersion", text_version, label_ja="同意文の版", max_length=32, required=True
    )
    if shown is not None and shown != purpose.text_version:
        checker.add(
            "textVersion",
            f"the consent text has changed: version {purpose.text_version} is current",
            "同意文が更新されています。最新の同意文を確認してから同意してください",
        )
    return await _record_grant(
        session,
        checker,
        resident,
        purpose=purpose,
        recipient=recipient,
        items=items,
        meta=meta,
        text_version=purpose.text_version,
        valid_until=valid_until,
        proxy_role=proxy_role,
        legal_basis=legal_basis,
    )


async def _record_grant(
    session: AsyncSession,
    checker: Checker,
    resident: ResidentRef,
    *,
    purpose: Purpose,
    recipient: Recipient,
    items: Sequence[str],
    meta: RequestMeta,
    text_version: str,
    valid_until: datetime | None = None,
    proxy_role: str | None = None,
    legal_basis: LegalBasis = LegalBasis.CONSENT,
    request_id: uuid.UUID | None = None,
    acceptance_id: uuid.UUID | None = None,
    bundle_code: str | None = None,
) -> ConsentGrant:
    """Check a flow against the catalog and what can be provided now, then store it."""
    now = utcnow()
    clean_items = check_items(checker, purpose, items)
    _check_available(checker, clean_items)
    await _check_recipient(session, checker, purpose, recipient)
    _check_validity(checker, valid_until, now)
    proxy = clean_text(checker, "proxyRole", proxy_role, label_ja="代理人の役割", max_length=64)
    checker.raise_if_any()
    grant = ConsentGrant(
        id=uuid.uuid4(),
        resident_id=resident.id,
        purpose_code=purpose.code,
        recipient_kind=recipient.kind.value,
        recipient_role=recipient.role,
        recipient_client_id=recipient.client_id,
        recipient_resident_id=recipient.resident_id,
        recipient_relationship=recipient.relationship,
        items=clean_items,
        acceptance_id=acceptance_id or uuid.uuid4(),
        bundle_code=bundle_code,
        valid_from=now,
        valid_until=valid_until,
        proxy_role=proxy,
        legal_basis=legal_basis.value,
        text_version=text_version,
        recorded_by=resident.subject[:255],
        request_id=request_id,
        created_at=now,
    )
    session.add(grant)
    await session.flush()
    session.add(
        _event(resident.id, "granted", purpose.code, grant.recorded_by, meta, grant_id=grant.id)
    )
    await session.flush()
    # Live views showing this resident to others read again (now with what was granted).
    changed(session, consent_topic(resident.id))
    return grant


async def grant_bundle(
    session: AsyncSession, resident: ResidentRef, *, bundle_code: str, meta: RequestMeta
) -> list[ConsentGrant]:
    """Accept a bundled consent: one acceptance, stored as its individual flows."""
    bundle = await repository.bundle(session, bundle_code)
    if bundle is None:
        raise NotFound("consent bundle", "一括同意", field="bundle")
    purpose = await get_purpose(session, bundle.purpose_code, field_name="bundle")
    acceptance_id = uuid.uuid4()
    grants = []
    for flow in bundle.flows:
        grants.append(
            await _record_grant(
                session,
                Checker(),
                resident,
                purpose=purpose,
                recipient=Recipient(RecipientKind.ROLE, role=flow["recipient_role"]),
                items=flow["items"],
                meta=meta,
                text_version=bundle.text_version,
                acceptance_id=acceptance_id,
                bundle_code=bundle.code,
            )
        )
    return grants


async def revoke_consent(
    session: AsyncSession,
    resident: ResidentRef,
    *,
    grant_id: uuid.UUID,
    meta: RequestMeta,
    whole_acceptance: bool = True,
) -> list[ConsentGrant]:
    """Revoke a grant (and by default every flow accepted with it); effective immediately."""
    grant = await repository.grant_of(session, resident.id, grant_id)
    if grant is None:
        raise NotFound("consent", "同意", field="consentId")
    targets = (
        await repository.grants_of_acceptance(session, resident.id, grant.acceptance_id)
        if whole_acceptance
        else [grant]
    )
    revoked = await repository.revoked_grant_ids(session, [g.id for g in targets])
    pending = [g for g in targets if g.id not in revoked]
    if not pending:
        raise Conflict(
            "this consent is already revoked", "この同意はすでに撤回されています", field="consentId"
        )
    await repository.add_events(
        session,
        [
            _event(resident.id, "revoked", g.purpose_code, resident.subject, meta, grant_id=g.id)
            for g in pending
        ],
    )
    # Live views showing this resident to others read again, now without what was revoked.
    changed(session, consent_topic(resident.id))
    return pending


async def end_person_grants(
    session: AsyncSession,
    *,
    relationship: str,
    pairs: Sequence[tuple[uuid.UUID, uuid.UUID]],
    meta: RequestMeta,
) -> int:
    """End the grants naming a person through ``relationship`` once it no longer holds.

    ``pairs`` are (subject, person) pairs whose relationship ended (e.g. a member left the
    family); each ended grant gets a revocation event by the system in the subject's history.
    """
    grants = await repository.active_person_grants_between(session, relationship, pairs)
    await repository.add_events(
        session,
        [
            _event(g.resident_id, "revoked", g.purpose_code, SYSTEM_ACTOR, meta, grant_id=g.id)
            for g in grants
        ],
    )
    changed(session, *{consent_topic(g.resident_id) for g in grants})
    return len(grants)


@dataclass(slots=True)
class GrantView:
    grant: ConsentGrant
    active: bool
    revoked: bool


async def list_grants(
    session: AsyncSession, resident_id: uuid.UUID, *, include_inactive: bool = False
) -> list[GrantView]:
    """The resident's consents with their state (active, revoked, expired)."""
    now = utcnow()
    grants = await repository.grants_of(session, resident_id)
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
    resident_id: uuid.UUID,
    *,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[ConsentEvent]:
    """The resident's consent events, newest first."""
    return await repository.events_page(session, resident_id, after=after, limit=limit)


async def access_log(
    session: AsyncSession,
    resident_id: uuid.UUID,
    *,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[DataAccess]:
    """Who read the resident's data, newest first."""
    return await repository.access_page(session, resident_id, after=after, limit=limit)


async def grants_by_ids(
    session: AsyncSession, grant_ids: Sequence[uuid.UUID]
) -> list[ConsentGrant]:
    """Grants by id (loader batch)."""
    return await repository.grants_by_ids(session, grant_ids)


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
    municipality = await municipality_service.get_served_municipality(session, municipality_code)
    if actor is not None:
        auth_service.require_role(actor, municipality.code, Role.CITY_ADMIN)
    checker = Checker()
    clean_id = clean_text(
        checker, "clientId", client_id, label_ja="クライアントID", max_length=255, required=True
    )
    clean_ja = clean_text(
        checker, "nameJa", name_ja, label_ja="サービス名（日本語）", max_length=100, required=True
    )
    clean_en = clean_text(
        checker, "nameEn", name_en, label_ja="サービス名（英語）", max_length=100, required=True
    )
    known = {p.code for p in await repository.purposes(session)}
    unknown = [p for p in purposes if p not in known]
    if unknown or not purposes:
        checker.add(
            "purposes",
            f"unknown or missing purposes: {unknown}",
            "利用目的が指定されていないか、存在しない利用目的があります",
        )
    checker.raise_if_any()
    assert clean_id is not None and clean_ja is not None and clean_en is not None
    client = await repository.system_client(session, clean_id)
    if client is not None and client.municipality_code != municipality.code:
        raise Conflict(
            "client id taken by another municipality",
            "このクライアントIDは他の市区町村で使われています",
            field="clientId",
        )
    if client is None:
        client = SystemClient(
            client_id=clean_id,
            municipality_code=municipality.code,
            registered_by=actor.subject if actor and actor.subject else "cli",
        )
        session.add(client)
    client.name_ja, client.name_en = clean_ja, clean_en
    client.purposes = list(dict.fromkeys(purposes))
    client.active = True
    await session.flush()
    return client


async def deactivate_system_client(
    session: AsyncSession, actor: Principal | None, *, client_id: str
) -> SystemClient:
    """Stop a system client; its grants stop matching at once."""
    client = await repository.system_client(session, client_id)
    if client is None:
        raise NotFound("system client", "連携サービス", field="clientId")
    if actor is not None:
        auth_service.require_role(actor, client.municipality_code, Role.CITY_ADMIN)
    client.active = False
    await session.flush()
    return client


async def system_clients_by_ids(
    session: AsyncSession, client_ids: Sequence[str]
) -> list[SystemClient]:
    """Registered system clients by client id (loader batch: names shown to residents)."""
    return await repository.system_clients_by_ids(session, client_ids)


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
    """A system client asks a resident, known by regional-ID subject, for a purpose.

    A subject who has not signed in to Kizuna yet gets the request when they do; the client
    gets the same answer either way, so it cannot probe which regional IDs use Kizuna.
    """
    client = await _registered_client(session, principal)
    checker = Checker()
    purpose = await get_purpose(session, purpose_code)
    if purpose.code not in client.purposes or "system_client" not in purpose.recipients:
        raise NotPermitted(
            f"this client is not registered for purpose {purpose.code}",
            "このサービスはこの利用目的に登録されていません",
            field="purpose",
        )
    clean_subject = clean_text(
        checker, "subject", subject, label_ja="地域IDの利用者", max_length=255, required=True
    )
    clean_items = check_items(checker, purpose, items)
    _check_available(checker, clean_items)
    _check_validity(checker, valid_until, utcnow())
    clean_message = clean_text(
        checker, "message", message, label_ja="メッセージ", max_length=500, multiline=True
    )
    checker.raise_if_any()
    assert clean_subject is not None
    request = ConsentRequest(
        id=uuid.uuid4(),
        subject=clean_subject,
        resident_id=await providers.subject_id(session, clean_subject),
        purpose_code=purpose.code,
        requester_client_id=client.client_id,
        items=clean_items,
        message=clean_message,
        valid_until=valid_until,
    )
    session.add(request)
    await session.flush()
    return request


async def pending_requests(session: AsyncSession, resident: ResidentRef) -> list[ConsentRequest]:
    """Consent requests waiting for the resident's answer (made before sign-up included)."""
    return await repository.pending_requests(session, resident.id, resident.subject)


async def answer_request(
    session: AsyncSession,
    resident: ResidentRef,
    *,
    request_id: uuid.UUID,
    accept: bool,
    meta: RequestMeta,
) -> tuple[ConsentRequest, ConsentGrant | None]:
    """Accept (creating the grant the request describes) or decline a pending request."""
    request = await repository.request_of(session, resident.id, resident.subject, request_id)
    if request is None:
        raise NotFound("consent request", "同意の依頼", field="requestId")
    if request.status != "pending":
        raise Conflict(
            "this request has already been answered",
            "この依頼には回答済みです",
            field="requestId",
        )
    request.resident_id = resident.id
    request.decided_at = utcnow()
    grant = None
    if accept:
        purpose = await get_purpose(session, request.purpose_code)
        grant = await _record_grant(
            session,
            Checker(),
            resident,
            purpose=purpose,
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
        await repository.add_events(
            session,
            [
                _event(
                    resident.id,
                    "declined",
                    request.purpose_code,
                    resident.subject,
                    meta,
                    request_id=request.id,
                )
            ],
        )
    await session.flush()
    return request, grant
