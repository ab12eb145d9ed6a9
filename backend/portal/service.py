"""The portal: managing the service catalog, building a caller's portal, recording usage.

Personalization is opt-in. The resident's ``portal_personalization`` consent is a grant to
the built-in system client ``kizuna-portal`` (registered at bootstrap); its items decide
which facts the "for me" section may use (``age``: age rules; ``household``: household
facts). Without it "for me" is empty and no household data is read at all. Places (home,
work, school) choose the municipal sections: the resident registered them to see their
towns' services.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ..auth import service as auth_service
from ..consent import enforcement
from ..consent import service as consent_service
from ..consent.catalog import RecipientKind
from ..consent.catalog_store import get_purpose
from ..db.base import utcnow
from ..errors import Checker, NotFound, NotPermitted
from ..family import service as family_service
from ..ingest.problems import Problems
from ..municipalities import service as municipality_service
from ..plans import service as plans_service
from ..principal import Principal, PrincipalKind, RequestMeta, ResidentRef, Role, Viewer
from ..residents import service as residents_service
from . import repository
from .catalog import ParsedEntry, ServiceCatalogRefused, ServiceSpec, check_service, parse_file
from .models import PortalService, ServiceUsage
from .rules import (
    ACR_LABELS,
    ACR_LEVELS,
    PREFECTURE_SCOPE,
    Audience,
    Entry,
    Facts,
    PortalIndex,
    Relation,
    Section,
    Shown,
    Situation,
)

PORTAL_CLIENT_ID = "kizuna-portal"
PORTAL_PURPOSE = "portal_personalization"
# Members' ages are read through the family's household-supplies consent, and logged.
HOUSEHOLD_PURPOSE = "household_supplies"
PREFECTURE_CODE = "07"
RECENT_USE_WINDOW = timedelta(days=30)
COMMUTE_KINDS = {r.value: r for r in (Relation.WORKPLACE, Relation.SCHOOL, Relation.CHILD_SCHOOL)}


@dataclass(frozen=True, slots=True)
class Card:
    """What the app shows of a service (copied from the row when the index is built)."""

    id: uuid.UUID
    code: str
    owner_code: str
    name_ja: str
    name_en: str
    description_ja: str
    description_en: str
    category: str
    provider_kind: str
    provider_client_id: str | None
    url: str
    consent_purpose: str | None
    min_acr: str | None


@dataclass(frozen=True, slots=True)
class _Catalog:
    stamp: tuple[int, Any]
    index: PortalIndex
    cards: dict[uuid.UUID, Card]


_cache: _Catalog | None = None
_cache_lock = threading.Lock()


def _entry(row: PortalService) -> Entry:
    return Entry(
        id=row.id,
        code=row.code,
        owner_code=row.owner_code,
        scope=row.scope,
        municipality_codes=tuple(row.municipality_codes),
        audience=Audience.from_json(row.audience),
        priority=row.priority,
        min_acr=row.min_acr,
        consent_purpose=row.consent_purpose,
        available_from=row.available_from,
        available_until=row.available_until,
    )


def _card(row: PortalService) -> Card:
    return Card(
        row.id,
        row.code,
        row.owner_code,
        row.name_ja,
        row.name_en,
        row.description_ja,
        row.description_en,
        row.category,
        row.provider_kind,
        row.provider_client_id,
        row.url,
        row.consent_purpose,
        row.min_acr,
    )


async def catalog(session: AsyncSession) -> tuple[PortalIndex, dict[uuid.UUID, Card]]:
    """The indexed catalog, rebuilt only when the catalog changed (any process's change)."""
    global _cache
    stamp = await repository.catalog_stamp(session)
    cached = _cache
    if cached is not None and cached.stamp == stamp:
        return cached.index, cached.cards
    rows = await repository.all_services(session)
    cards = {row.id: _card(row) for row in rows}
    entries = [_entry(row) for row in rows]
    index = await asyncio.to_thread(PortalIndex, entries)
    with _cache_lock:
        _cache = _Catalog(stamp, index, cards)
    return index, cards


# ---- managing the catalog -----------------------------------------------------------------


def may_manage(principal: Principal | None, spec_owner: str, codes: Sequence[str]) -> bool:
    """Municipal admins manage their own services; prefecture admins the prefecture-wide."""
    if principal is None:  # the operator at the CLI
        return True
    if len(spec_owner) == 2:
        return any(
            code.startswith(spec_owner)
            for code in principal.municipalities_for(Role.PREFECTURE_ADMIN)
        )
    return all(principal.has_role(code, Role.CITY_ADMIN) for code in {spec_owner, *codes})


async def _check_references(session: AsyncSession, spec: ServiceSpec, report: Any) -> None:
    codes = set(spec.municipality_codes) | (
        {spec.owner_code} if len(spec.owner_code) == 5 else set()
    )
    served = await municipality_service.served_among(session, codes) if codes else set()
    if codes - served:
        report(
            "municipalities",
            f"not served here: {sorted(codes - served)}",
            "この基盤で扱っていない市区町村です",
        )
    if spec.consent_purpose:
        try:
            await get_purpose(session, spec.consent_purpose)
        except NotFound:
            report("consent_purpose", "unknown purpose", "存在しない利用目的です")
    if spec.provider_client_id:
        clients = await consent_service.system_clients_by_ids(session, [spec.provider_client_id])
        if not clients:
            report("provider", "unknown system client", "未登録の連携サービスです")


def _apply(row: PortalService, spec: ServiceSpec, actor: str) -> None:
    row.owner_code = spec.owner_code
    row.name_ja, row.name_en = spec.name_ja, spec.name_en
    row.description_ja, row.description_en = spec.description_ja, spec.description_en
    row.category, row.url = spec.category, spec.url
    row.provider_kind, row.provider_client_id = spec.provider_kind, spec.provider_client_id
    row.scope, row.municipality_codes = spec.scope, list(spec.municipality_codes)
    row.audience = spec.audience.as_json()
    row.consent_purpose, row.min_acr = spec.consent_purpose, spec.min_acr
    row.available_from, row.available_until = spec.available_from, spec.available_until
    row.priority = spec.priority
    row.updated_by = actor
    row.updated_at = utcnow()


def _camel(field: str) -> str:
    head, *rest = field.split("_")
    return head + "".join(part.title() for part in rest)


async def save_service(
    session: AsyncSession, principal: Principal, raw: Mapping[str, Any]
) -> PortalService:
    """Create or update one service by code (the caller must manage its owner)."""
    checker = Checker()

    def report(field: str, message: str, message_ja: str) -> None:
        checker.add(".".join(_camel(p) for p in field.split(".")), message, message_ja)

    spec = check_service(raw, report)
    checker.raise_if_any()
    existing = await repository.services_by_codes(session, [spec.code])
    owners = [(spec.owner_code, spec.municipality_codes)]
    if existing:
        owners.append((existing[0].owner_code, tuple(existing[0].municipality_codes)))
    # Taking over another owner's code is as refused as editing its service.
    if not all(may_manage(principal, owner, codes) for owner, codes in owners):
        raise NotPermitted(
            "only the owner's admins manage this service",
            "このサービスを管理する権限がありません",
        )
    await _check_references(session, spec, report)
    checker.raise_if_any()
    row = existing[0] if existing else PortalService(id=uuid.uuid4(), code=spec.code)
    _apply(row, spec, principal.subject or "unknown")
    if not existing:
        session.add(row)
    await session.flush()
    return row


@dataclass(frozen=True, slots=True)
class ImportReport:
    created: int
    updated: int


async def import_services(session: AsyncSession, *, data: bytes, source_name: str) -> ImportReport:
    """Import a YAML catalog (operator at the CLI); a bad file is refused whole with lines."""
    entries: list[ParsedEntry] = await asyncio.to_thread(parse_file, data, source_name)
    problems = Problems(source_name, ServiceCatalogRefused)
    for n, entry in enumerate(entries):

        def report(
            field: str, message: str, message_ja: str, n: int = n, e: ParsedEntry = entry
        ) -> None:
            at = e.lines.get(field.split(".")[0], e.line)
            problems.add(
                at, f"services[{n}].{field}: {message}", f"services[{n}].{field}: {message_ja}"
            )

        await _check_references(session, entry.spec, report)
    problems.raise_if_any()
    existing = {
        r.code: r
        for r in await repository.services_by_codes(session, [e.spec.code for e in entries])
    }
    for entry in entries:
        row = existing.get(entry.spec.code) or PortalService(id=uuid.uuid4(), code=entry.spec.code)
        _apply(row, entry.spec, "cli")
        if entry.spec.code not in existing:
            session.add(row)
    await session.flush()
    return ImportReport(created=len(entries) - len(existing), updated=len(existing))


async def ensure_portal_client(session: AsyncSession) -> None:
    """Register the built-in ``kizuna-portal`` client that personalization consents name."""
    served = await municipality_service.list_municipalities(
        session, prefecture_code=PREFECTURE_CODE, served_only=True
    )
    if not served:
        return
    existing = await consent_service.system_clients_by_ids(session, [PORTAL_CLIENT_ID])
    await consent_service.register_system_client(
        session,
        None,
        client_id=PORTAL_CLIENT_ID,
        name_ja="きずなポータル",
        name_en="Kizuna portal",
        municipality_code=existing[0].municipality_code if existing else served[0].code,
        purposes=[PORTAL_PURPOSE],
    )


# ---- the portal ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PortalView:
    sections: dict[Section, list[Shown]]
    cards: dict[uuid.UUID, Card]
    personalized: bool
    acr: str | None
    consented_purposes: frozenset[str]


def acr_level(principal: Principal) -> int:
    """The caller's identity-assurance level (0: anonymous or unknown)."""
    return ACR_LEVELS.get(principal.acr or "", 0)


def _age(birth: date | None, today: date) -> int | None:
    if birth is None:
        return None
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


async def _portal_grant_items(
    session: AsyncSession, resident_id: uuid.UUID
) -> tuple[frozenset[str] | None, frozenset[str]]:
    """Items of the resident's active portal consent (None: none), and every purpose given."""
    items: set[str] | None = None
    purposes: set[str] = set()
    for view in await consent_service.list_grants(session, resident_id):
        grant = view.grant
        purposes.add(grant.purpose_code)
        if (
            grant.purpose_code == PORTAL_PURPOSE
            and grant.recipient_kind == RecipientKind.SYSTEM_CLIENT.value
            and grant.recipient_client_id == PORTAL_CLIENT_ID
        ):
            items = (items or set()) | set(grant.items)
    return (frozenset(items) if items is not None else None), frozenset(purposes)


async def _household(
    session: AsyncSession, viewer: Viewer, own_age: int | None, meta: RequestMeta, today: date
) -> frozenset[str]:
    """Household facts from family members' ages they share with the family (logged reads)."""
    assert viewer.resident_id is not None
    groups = await family_service.list_groups(session, viewer.resident_id)
    members = await family_service.members_of_groups(session, [g.id for g in groups])
    others = sorted({m.resident_id for m in members} - {viewer.resident_id})
    facts: set[str] = set()
    if not others:
        if own_age is not None and own_age >= 65:
            facts.add("lives_alone_65_plus")
        return frozenset(facts)
    shared = await enforcement.read_many(
        session,
        viewer,
        others,
        purpose_code=HOUSEHOLD_PURPOSE,
        items=["age"],
        meta=meta,
        today=today,
    )
    for data in shared.values():
        age = data.values.get("age")
        if isinstance(age, int) and age < 6:
            facts.add("child_under_6")
        if isinstance(age, int) and 6 <= age <= 15:
            facts.add("school_age_child")
    return frozenset(facts)


async def _places(
    session: AsyncSession, resident: Any
) -> tuple[str | None, tuple[tuple[Relation, str], ...]]:
    """Home municipality and commute/school municipalities from the resident's places."""
    places = await residents_service.list_places(session, resident)
    home = resident.home_municipality_code
    commutes: list[tuple[Relation, str]] = []
    by_name: list[tuple[str, str]] | None = None
    for place in places:
        code = place.municipality_code
        if code is None and place.address:
            # No imported boundary holds the point: the address names the town (福島県郡山市…).
            if by_name is None:
                towns = await municipality_service.list_municipalities(
                    session, prefecture_code=PREFECTURE_CODE
                )
                by_name = sorted(((m.name_ja, m.code) for m in towns), key=lambda t: -len(t[0]))
            code = next((c for name, c in by_name if name in place.address), None)
        if code is None:
            continue
        if place.kind == Relation.HOME.value:
            home = home or code
        elif place.kind in COMMUTE_KINDS:
            commutes.append((COMMUTE_KINDS[place.kind], code))
    return home, tuple(dict.fromkeys(commutes))


async def my_portal(
    session: AsyncSession,
    principal: Principal,
    resident: ResidentRef | None,
    *,
    selected_code: str | None,
    meta: RequestMeta,
) -> PortalView:
    """The caller's portal: prefecture-wide, where they live, commute, "for me", a chosen town."""
    index, cards = await catalog(session)
    now = utcnow()
    today = now.date()
    selected = None
    if selected_code is not None:
        selected = (await municipality_service.get_municipality(session, selected_code)).code
    home: str | None = None
    commutes: tuple[tuple[Relation, str], ...] = ()
    facts = Facts()
    uses: dict[uuid.UUID, int] = {}
    purposes: frozenset[str] = frozenset()
    if resident is not None:
        [record] = await residents_service.residents_by_ids(session, [resident.id])
        home, commutes = await _places(session, record)
        items, purposes = await _portal_grant_items(session, resident.id)
        if items is not None:
            age = _age(record.birth_date, today) if "age" in items else None
            household = (
                await _household(
                    session,
                    Viewer(principal, resident.id),
                    age if "age" in items else None,
                    meta,
                    today,
                )
                if "household" in items
                else frozenset()
            )
            if "support_needed" in items and await plans_service.needs_support(
                session, resident.id
            ):
                household = household | {"support_needed"}
            facts = Facts(
                items=items, age=age, household=household, language=record.preferred_language
            )
        uses = await repository.recent_uses(session, resident.id, now - RECENT_USE_WINDOW)
    codes = {c for c in (home, selected) if c} | {code for _, code in commutes}
    names = (
        {
            m.code: (m.name_ja, m.name_en or m.name_ja)
            for m in await municipality_service.municipalities_by_codes(session, codes)
        }
        if codes
        else {}
    )
    situation = Situation(
        prefecture_code=PREFECTURE_CODE,
        home_code=home,
        commutes=commutes,
        selected_code=selected,
        facts=facts,
        acr_level=acr_level(principal),
        now=now,
        recent_uses=uses,
        names=names,
    )
    return PortalView(
        sections=index.portal(situation),
        cards=cards,
        personalized=facts.items is not None,
        acr=principal.acr,
        consented_purposes=purposes,
    )


def lock_reason(min_acr: str | None) -> tuple[str, str] | None:
    """Why a service is locked for a caller below its assurance level."""
    if min_acr is None:
        return None
    ja, en = ACR_LABELS[min_acr]
    return f"{ja}が必要です", f"Needs {en}"


# ---- opening services and usage -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Opened:
    card: Card
    usage: ServiceUsage | None
    consent_purpose: str | None = None


async def _find(
    session: AsyncSession, service_id: uuid.UUID | None, code: str | None
) -> PortalService:
    rows = (
        await repository.services_by_ids(session, [service_id])
        if service_id is not None
        else await repository.services_by_codes(session, [code or ""])
    )
    if not rows:
        raise NotFound("service", "サービス", field="serviceId" if service_id else "serviceCode")
    return rows[0]


async def open_service(
    session: AsyncSession,
    principal: Principal,
    resident: ResidentRef,
    *,
    service_id: uuid.UUID | None,
    code: str | None,
) -> Opened:
    """Record that the resident opened a service, unless it needs a consent not given yet."""
    row = await _find(session, service_id, code)
    now = utcnow()
    if not _entry(row).available(now):
        raise NotFound("service", "サービス", field="serviceId" if service_id else "serviceCode")
    if ACR_LEVELS.get(row.min_acr or "", 0) > acr_level(principal):
        reason = lock_reason(row.min_acr)
        assert reason is not None
        raise NotPermitted(reason[1], reason[0])
    if row.consent_purpose:
        _, purposes = await _portal_grant_items(session, resident.id)
        if row.consent_purpose not in purposes:
            return Opened(_card(row), None, row.consent_purpose)
    usage = ServiceUsage(
        id=uuid.uuid4(),
        service_id=row.id,
        resident_id=resident.id,
        owner_code=row.owner_code,
        opened_at=now,
    )
    session.add(usage)
    await session.flush()
    return Opened(_card(row), usage)


async def usage_page(
    session: AsyncSession,
    resident: ResidentRef,
    *,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> tuple[list[ServiceUsage], dict[uuid.UUID, Card]]:
    """The resident's own opened services, newest first, with the services' cards."""
    rows = await repository.usage_page(session, resident.id, after=after, limit=limit)
    services = await repository.services_by_ids(session, list({r.service_id for r in rows}))
    return rows, {s.id: _card(s) for s in services}


@dataclass(frozen=True, slots=True)
class UsageCount:
    card: Card
    opens: int
    residents: int


async def usage_counts(
    session: AsyncSession, principal: Principal, *, owner_code: str, since: datetime
) -> list[UsageCount]:
    """Opens per service of one owner (aggregates only): that owner's staff and admins."""
    if principal.kind is PrincipalKind.ANONYMOUS:
        auth_service.require_role(principal, owner_code, Role.CITY_STAFF)
    if len(owner_code) == 2:
        allowed = any(
            c.startswith(owner_code) for c in principal.municipalities_for(Role.PREFECTURE_ADMIN)
        )
        if not allowed:
            raise NotPermitted("requires prefecture_admin", "県の管理者の権限が必要です")
    else:
        auth_service.require_role(principal, owner_code, Role.CITY_STAFF, Role.CITY_ADMIN)
    counts = await repository.usage_counts(session, owner_code, since)
    services = {s.id: s for s in await repository.services_by_ids(session, [c[0] for c in counts])}
    found = [UsageCount(_card(services[sid]), opens, people) for sid, opens, people in counts]
    return sorted(found, key=lambda c: (-c.opens, c.card.code))


def is_prefecture_wide(card: Card) -> bool:
    return len(card.owner_code) == 2


__all__ = ["PREFECTURE_SCOPE"]
