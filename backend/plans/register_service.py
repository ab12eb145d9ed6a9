"""The support-needed register (避難行動要支援者名簿): imports, staff edits, linking entries to
residents, and the person's own view of their entry.

The register is the municipality's own record (災害対策基本法 49-10): only city staff and
admins of that municipality read or change it. Anyone else — residents, community leaders,
care managers, staff of another municipality — is refused, and entries they name look as if
they did not exist. Once an entry is linked to a resident, every staff read of it is a read
of that person's data under the law, and is logged where the person sees it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ..auth import service as auth_service
from ..consent import enforcement
from ..db.base import utcnow
from ..errors import Checker, Conflict, NotFound, ValidationFailed
from ..municipalities import service as municipality_service
from ..principal import Principal, RequestMeta, ResidentRef, Viewer
from ..residents import service as residents_service
from . import register
from . import register_repository as repository
from .models import RegisterConsent, SupportRegisterEntry
from .sharing import MUNICIPAL_RECORD, PURPOSE

STAFF_ROLES = auth_service.STAFF_ROLES
CLI_ACTOR = "cli"
# How staff reads of a linked entry appear in the person's access log: the same legal basis
# (the municipality's own records) under which staff read plans through consent.
LEGAL_BASIS = MUNICIPAL_RECORD
LOG_PURPOSE = PURPOSE
ENTRY_ITEMS = ("name", "kana", "birth_date", "gender", "address", "phone", "support_needed")
# Matching a profile to an entry reads these of the resident.
MATCH_ITEMS = ("name", "kana", "birth_date")
MAX_SEARCH_LENGTH = 100
# The import reports at most this many missing register numbers by name.
MAX_MISSING_LISTED = 20


def _not_found(field: str = "entryId") -> NotFound:
    return NotFound("support register entry", "避難行動要支援者名簿の記載", field=field)


async def staff_municipality(
    session: AsyncSession, principal: Principal, municipality_code: str
) -> str:
    """The municipality's code when the principal is its city staff or admin."""
    municipality = await municipality_service.get_municipality(session, municipality_code)
    auth_service.require_role(principal, municipality.code, *STAFF_ROLES)
    return municipality.code


async def staff_entry(
    session: AsyncSession, principal: Principal, entry_id: uuid.UUID
) -> SupportRegisterEntry:
    """An entry the principal keeps as staff of its municipality; NotFound for anyone else."""
    entry = await repository.get(session, entry_id)
    if entry is None or not principal.has_role(entry.municipality_code, *STAFF_ROLES):
        raise _not_found()
    return entry


async def _log_staff_reads(
    session: AsyncSession,
    viewer: Viewer,
    resident_ids: Sequence[uuid.UUID],
    meta: RequestMeta,
    items: Sequence[str] = ENTRY_ITEMS,
) -> None:
    await enforcement.log_lawful_reads(
        session,
        viewer,
        list(resident_ids),
        purpose_code=LOG_PURPOSE,
        items=items,
        basis=LEGAL_BASIS,
        meta=meta,
    )


@dataclass(frozen=True, slots=True)
class RegisterFilter:
    linked: bool | None = None
    consent_status: RegisterConsent | None = None
    search: str | None = None


@dataclass(frozen=True, slots=True)
class RegisterPage:
    """Entries of one page (limit + 1 rows) and, per unlinked entry, the one resident whose
    profile matches it, for staff to confirm."""

    entries: list[SupportRegisterEntry]
    suggestions: dict[uuid.UUID, uuid.UUID] = field(default_factory=dict)


def _search_terms(search: str | None) -> list[str]:
    if search is None:
        return []
    text = " ".join(search.split())
    if len(text) > MAX_SEARCH_LENGTH:
        raise ValidationFailed.at(
            "filter.search",
            f"search is longer than {MAX_SEARCH_LENGTH} characters",
            f"検索語は{MAX_SEARCH_LENGTH}文字までです",
        )
    kana = register.to_hiragana(text)
    return list(dict.fromkeys([text, kana])) if text else []


async def page_entries(
    session: AsyncSession,
    viewer: Viewer,
    *,
    municipality_code: str,
    filter: RegisterFilter,
    after: tuple[str, uuid.UUID] | None,
    limit: int,
    meta: RequestMeta,
) -> RegisterPage:
    """A page of the municipality's register for its staff (limit + 1 rows; the extra one
    only says that more follow). Reads of linked people and suggested matches are logged."""
    code = await staff_municipality(session, viewer.principal, municipality_code)
    rows = await repository.page(
        session,
        code,
        linked=filter.linked,
        consent_status=filter.consent_status.value if filter.consent_status else None,
        search_terms=_search_terms(filter.search),
        after=after,
        limit=limit + 1,
    )
    shown = rows[:limit]
    suggestions = await suggest_residents(session, code, [e for e in shown if not e.resident_id])
    await _log_staff_reads(session, viewer, [e.resident_id for e in shown if e.resident_id], meta)
    await _log_staff_reads(session, viewer, list(set(suggestions.values())), meta, MATCH_ITEMS)
    return RegisterPage(rows, suggestions)


async def suggest_residents(
    session: AsyncSession, municipality_code: str, entries: Sequence[SupportRegisterEntry]
) -> dict[uuid.UUID, uuid.UUID]:
    """Per entry, the resident of the municipality whose birth date and name (or kana) match
    it, when exactly one does and they are linked to no entry yet.

    Only a suggestion: linking someone's record to the wrong person would show it to them, so
    staff confirm each match (``link_entry``) instead of it being linked at sign-in."""
    dated = [e for e in entries if e.birth_date is not None]
    if not dated:
        return {}
    residents = await residents_service.residents_born_on(
        session, municipality_code, [e.birth_date for e in dated if e.birth_date]
    )
    taken = await repository.linked_resident_ids(session, [r.id for r in residents])
    suggestions: dict[uuid.UUID, uuid.UUID] = {}
    for entry in dated:
        names = {register.matching_name(entry.name), register.matching_name(entry.kana)} - {""}
        matches = [
            r.id
            for r in residents
            if r.birth_date == entry.birth_date
            and names
            & {
                register.matching_name(f"{r.family_name or ''}{r.given_name or ''}"),
                register.matching_name(f"{r.family_name_kana or ''}{r.given_name_kana or ''}"),
            }
        ]
        if len(matches) == 1 and matches[0] not in taken:
            suggestions[entry.id] = matches[0]
    return suggestions


async def read_entry(
    session: AsyncSession, viewer: Viewer, entry_id: uuid.UUID, meta: RequestMeta
) -> SupportRegisterEntry:
    """One entry for its municipality's staff (the read of a linked person is logged)."""
    entry = await staff_entry(session, viewer.principal, entry_id)
    if entry.resident_id is not None:
        await _log_staff_reads(session, viewer, [entry.resident_id], meta)
    return entry


# --- Edits: every field checked by the register module, as in an import ---------------


class _Keep:
    """A field the caller did not send: left as it is."""

    def __repr__(self) -> str:
        return "KEEP"


KEEP: Any = _Keep()


@dataclass(slots=True)
class EntryChanges:
    """Fields sent by staff (``KEEP`` when not sent; None clears an optional one)."""

    register_number: Any = KEEP
    name: Any = KEEP
    kana: Any = KEEP
    birth_date: Any = KEEP
    gender: Any = KEEP
    address: Any = KEEP
    phone: Any = KEEP
    care_level: Any = KEEP
    physical_disability_grade: Any = KEEP
    intellectual_disability: Any = KEEP
    mental_disability_grade: Any = KEEP
    intractable_disease: Any = KEEP
    intractable_disease_name: Any = KEEP
    elderly_alone: Any = KEEP
    elderly_household: Any = KEEP
    other_reason: Any = KEEP
    consent_status: Any = KEEP


# Input field -> (stored column, parser of the text the field carries).
_TEXT_FIELDS = {
    "registerNumber": ("register_number", register.parse_register_number),
    "name": ("name", register.parse_name),
    "kana": ("kana", register.parse_kana),
    "gender": ("gender", register.parse_gender),
    "address": ("address", register.parse_address),
    "phone": ("phone", register.parse_phone),
}
# Input field -> (reason kind, parser); numbers and flags are checked as their text.
_REASON_FIELDS = {
    "careLevel": ("care_level", register.parse_care_level),
    "physicalDisabilityGrade": ("physical_disability", register.parse_physical_disability),
    "intellectualDisability": ("intellectual_disability", register.parse_intellectual_disability),
    "mentalDisabilityGrade": ("mental_disability", register.parse_mental_disability),
    "elderlyAlone": ("elderly_alone", lambda raw: "" if register.parse_flag(raw) else None),
    "elderlyHousehold": ("elderly_household", lambda raw: "" if register.parse_flag(raw) else None),
    "otherReason": ("other", register.parse_other),
}


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


def _as_text(value: Any) -> str:
    if value is None or value is False:
        return ""
    if value is True:
        return "yes"
    return str(value)


def _parse(checker: Checker, field: str, parser: Any, value: Any) -> Any:
    try:
        return parser(_as_text(value))
    except register.Invalid as exc:
        checker.add(field, exc.message, exc.message_ja)
        return KEEP


def apply_changes(
    current: register.EntryData, changes: EntryChanges, *, today: date | None = None
) -> register.EntryData:
    """The entry with the changes applied, each field checked as an import checks it;
    every problem is reported at once (field named as the client sent it)."""
    checker = Checker()
    values = current.values()
    for field_name, (column, parser) in _TEXT_FIELDS.items():
        sent = getattr(changes, _snake(field_name))
        if sent is not KEEP and (parsed := _parse(checker, field_name, parser, sent)) is not KEEP:
            values[column] = parsed
    if changes.birth_date is not KEEP:
        values["birth_date"] = _parse(
            checker,
            "birthDate",
            lambda raw: register.parse_birth_date(raw, today=today),
            changes.birth_date.isoformat() if changes.birth_date else None,
        )
    if changes.consent_status is not KEEP:
        consent = _parse(
            checker, "consentStatus", register.parse_consent, changes.consent_status or ""
        )
        if consent is not KEEP:
            values["consent_status"] = consent.value
    reasons = {r.kind: r for r in current.reasons}
    for field_name, (kind, parser) in _REASON_FIELDS.items():
        sent = getattr(changes, _snake(field_name))
        if sent is KEEP:
            continue
        parsed = _parse(checker, field_name, parser, sent)
        if parsed is not KEEP:
            _set_reason(reasons, kind, parsed)
    _apply_disease(checker, reasons, changes)
    checker.raise_if_any()
    values["reasons"] = tuple(reasons.values())
    values["consent_status"] = RegisterConsent(values["consent_status"])
    return register.EntryData(**values)


def _set_reason(reasons: dict[str, register.Reason], kind: str, value: str | None) -> None:
    if (found := register.reason(kind, value)) is None:
        reasons.pop(kind, None)
    else:
        reasons[kind] = found


def _apply_disease(
    checker: Checker, reasons: dict[str, register.Reason], changes: EntryChanges
) -> None:
    """難病 is a yes/no with an optional name: the name alone says yes."""
    has, name = changes.intractable_disease, changes.intractable_disease_name
    if has is KEEP and name is KEEP:
        return
    current = reasons.get("intractable_disease")
    if name is not KEEP:
        name = _parse(checker, "intractableDiseaseName", register.parse_other, name)
        if name is KEEP:
            return
    else:
        name = current.value if current else None
    if has is KEEP:
        has = current is not None or bool(name)
    _set_reason(reasons, "intractable_disease", (name or "") if has else None)


def entry_data(entry: SupportRegisterEntry) -> register.EntryData:
    """The stored entry as the register module's typed record."""
    return register.EntryData(
        register_number=entry.register_number,
        name=entry.name,
        kana=entry.kana,
        birth_date=entry.birth_date,
        gender=entry.gender,
        address=entry.address,
        phone=entry.phone,
        reasons=register.reasons_from_json(entry.reasons),
        consent_status=RegisterConsent(entry.consent_status),
    )


def _blank(register_number: str, name: str) -> register.EntryData:
    return register.EntryData(register_number=register_number, name=name)


async def create_entry(
    session: AsyncSession,
    viewer: Viewer,
    *,
    municipality_code: str,
    changes: EntryChanges,
) -> SupportRegisterEntry:
    """Add one person to the register (city staff of the municipality)."""
    code = await staff_municipality(session, viewer.principal, municipality_code)
    checker = Checker()
    for field_name in ("registerNumber", "name"):
        if getattr(changes, _snake(field_name)) in (KEEP, None):
            checker.add(field_name, f"{field_name} is required", "必須の項目です")
    checker.raise_if_any()
    data = apply_changes(_blank("-", "-"), changes)
    await _refuse_used_number(session, code, data.register_number)
    entry_id = uuid.uuid4()
    row = {"id": entry_id, "municipality_code": code, "updated_by": viewer.actor}
    await repository.insert_many(session, [{**row, **data.values()}])
    created = await repository.get(session, entry_id)
    assert created is not None
    return created


def entry_values(entry: SupportRegisterEntry) -> dict[str, Any]:
    return entry_data(entry).values()


async def _refuse_used_number(
    session: AsyncSession, code: str, number: str, *, besides: uuid.UUID | None = None
) -> None:
    found = await repository.by_number(session, code, number)
    if found is not None and found.id != besides:
        raise Conflict(
            "this register number is already used in the municipality",
            "この名簿番号はすでに使われています",
            field="registerNumber",
        )


async def update_entry(
    session: AsyncSession,
    viewer: Viewer,
    *,
    entry_id: uuid.UUID,
    changes: EntryChanges,
    meta: RequestMeta,
) -> SupportRegisterEntry:
    """Change an entry's fields (city staff of its municipality), checked as an import is."""
    entry = await staff_entry(session, viewer.principal, entry_id)
    data = apply_changes(entry_data(entry), changes)
    await _refuse_used_number(
        session, entry.municipality_code, data.register_number, besides=entry.id
    )
    values = data.values()
    if values != entry_values(entry):
        await repository.update_one(
            session, entry.id, {**values, "updated_by": viewer.actor, "updated_at": utcnow()}
        )
        await session.refresh(entry)
    return await read_entry(session, viewer, entry.id, meta)


async def link_entry(
    session: AsyncSession,
    viewer: Viewer,
    *,
    entry_id: uuid.UUID,
    resident_id: uuid.UUID | None = None,
    resident_subject: str | None = None,
    meta: RequestMeta,
) -> SupportRegisterEntry:
    """Tie an entry to the resident it describes (staff matching): the resident must live in
    the entry's municipality, and have no other entry."""
    entry = await staff_entry(session, viewer.principal, entry_id)
    field = "residentSubject" if resident_subject is not None else "residentId"
    if (resident_id is None) == (resident_subject is None):
        raise ValidationFailed.at(
            "residentId",
            "give either residentId or residentSubject",
            "住民のIDか地域IDのどちらか一方を指定してください",
        )
    if resident_subject is not None:
        resident_id = await residents_service.resident_id_by_subject(session, resident_subject)
    found = await residents_service.residents_by_ids(session, [resident_id]) if resident_id else []
    # A resident of another municipality looks like no resident at all.
    if not found or found[0].home_municipality_code != entry.municipality_code:
        raise NotFound("resident of this municipality", "この市区町村の住民", field=field)
    resident = found[0]
    if entry.resident_id == resident.id:
        return await read_entry(session, viewer, entry.id, meta)
    if entry.resident_id is not None:
        raise Conflict(
            "the entry is linked to another resident: unlink it first",
            "この記載は別の住民と結び付いています。先に解除してください",
            field="entryId",
        )
    other = await repository.of_resident(session, resident.id)
    if other is not None:
        raise Conflict(
            "this resident is already linked to another register entry",
            "この住民はすでに別の名簿の記載と結び付いています",
            field=field,
        )
    await repository.update_one(
        session,
        entry.id,
        {"resident_id": resident.id, "linked_by": viewer.actor, "linked_at": utcnow()},
    )
    await session.refresh(entry)
    return await read_entry(session, viewer, entry.id, meta)


async def unlink_entry(
    session: AsyncSession, viewer: Viewer, *, entry_id: uuid.UUID
) -> SupportRegisterEntry:
    """Undo a link (a wrong match): the entry is again nobody's."""
    entry = await staff_entry(session, viewer.principal, entry_id)
    if entry.resident_id is not None:
        await repository.update_one(
            session, entry.id, {"resident_id": None, "linked_by": None, "linked_at": None}
        )
        await session.refresh(entry)
    return entry


async def my_entry(session: AsyncSession, resident: ResidentRef) -> SupportRegisterEntry | None:
    """The signed-in resident's own entry, once staff linked it (their own data)."""
    return await repository.of_resident(session, resident.id)


async def entries_of(session: AsyncSession, municipality_code: str) -> list[SupportRegisterEntry]:
    """Every entry of a municipality (for seeding and the plans workflow; no permission check)."""
    return await repository.all_of(session, municipality_code)


async def entry_of_resident(
    session: AsyncSession, resident_id: uuid.UUID
) -> SupportRegisterEntry | None:
    """The entry linked to a resident (for the plans workflow; callers check who may see it)."""
    return await repository.of_resident(session, resident_id)


# --- Import ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RegisterImport:
    """What an import did: entries created, updated, unchanged; those not in the file."""

    municipality_code: str
    created: int
    updated: int
    unchanged: int
    missing: list[str]
    removed: int
    linked_removed: int


async def import_register(
    session: AsyncSession,
    *,
    municipality_code: str,
    entries: Sequence[register.EntryData],
    remove_missing: bool = False,
    actor: str = CLI_ACTOR,
) -> RegisterImport:
    """Store a municipality's register file: new numbers are added, changed entries updated,
    the same file twice changes nothing. Entries not in the file are kept and reported, or
    removed with ``remove_missing`` (their links to residents go with them)."""
    municipality = await municipality_service.get_municipality(session, municipality_code)
    code = municipality.code
    stored = {e.register_number: e for e in await repository.all_of(session, code)}
    now = utcnow()
    fresh: list[dict[str, Any]] = []
    updated = unchanged = 0
    for data in entries:
        values = data.values()
        current = stored.get(data.register_number)
        if current is None:
            fresh.append(
                {"id": uuid.uuid4(), "municipality_code": code, "updated_by": actor, **values}
            )
        elif values != entry_values(current):
            await repository.update_one(
                session, current.id, {**values, "updated_by": actor, "updated_at": now}
            )
            updated += 1
        else:
            unchanged += 1
    await repository.insert_many(session, fresh)
    in_file = {e.register_number for e in entries}
    missing = sorted(n for n in stored if n not in in_file)
    linked_removed = 0
    if remove_missing and missing:
        linked_removed = sum(1 for n in missing if stored[n].resident_id is not None)
        await repository.delete_many(session, [stored[n].id for n in missing])
    return RegisterImport(
        municipality_code=code,
        created=len(fresh),
        updated=updated,
        unchanged=unchanged,
        missing=missing,
        removed=len(missing) if remove_missing else 0,
        linked_removed=linked_removed,
    )
