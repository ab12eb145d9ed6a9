"""Supplies: the resident's supply profile, their checklist and their household's.

The household list counts the resident and everyone who shares a family group with them.
What it knows of another member comes through consent (purpose ``household_supplies``, read
with ``read_many`` and logged); a member who shares nothing still counts as one more person
(water, meals, toilets for an adult) but none of their age, gender or needs is used. The
family already sees who its members are, so counting them reveals nothing new, and leaving
them out would leave the household short of water.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ..consent import enforcement
from ..errors import Checker, NotFound, ValidationFailed
from ..family import service as family_service
from ..municipalities import service as municipalities_service
from ..principal import RequestMeta, ResidentRef, Viewer
from ..residents import service as residents_service
from . import catalog, repository
from .catalog import Catalog, CatalogMode, DietaryNeed, Item, PetKind, Rule
from .checklist import Line, Person, build
from .models import SupplyCatalog, SupplyProfile

PURPOSE = "household_supplies"
SUPPLY_NEEDS = "supply_needs"
MEMBER_ITEMS = ("age", "gender", SUPPLY_NEEDS)
MIN_DAYS, MAX_DAYS, DEFAULT_DAYS, RECOMMENDED_DAYS = 1, 14, 3, 7
MAX_PETS_PER_KIND = 20


class ListKind:
    SELF = "self"
    HOUSEHOLD = "household"


@dataclass(frozen=True, slots=True)
class Checklist:
    days: int
    lines: list[Line]
    ticked: set[str]
    source: str  # "default" or the municipality code whose catalog applies
    people: int
    members_sharing: int
    members_not_sharing: int

    @property
    def ticked_count(self) -> int:
        return sum(1 for line in self.lines if line.item.code in self.ticked)


@dataclass(frozen=True, slots=True)
class PetChange:
    kind: str
    count: int


@dataclass(frozen=True, slots=True)
class ProfileChanges:
    """A partial update: None leaves a fact as it is."""

    pets: Sequence[PetChange] | None = None
    regular_medication: bool | None = None
    dietary_needs: Sequence[str] | None = None


@dataclass(frozen=True, slots=True)
class CatalogImport:
    municipality_code: str
    items: int
    mode: str
    unchanged: bool


def check_days(days: int) -> int:
    """The number of days a checklist is for, or ValidationFailed."""
    if not MIN_DAYS <= days <= MAX_DAYS:
        raise ValidationFailed.at(
            "days",
            f"days must be between {MIN_DAYS} and {MAX_DAYS} (7 recommended)",
            f"日数は{MIN_DAYS}〜{MAX_DAYS}日で指定してください（推奨は7日）",
        )
    return days


# --- catalog ---------------------------------------------------------------------------------


def _item_from_row(row: Any) -> Item:
    return Item(
        code=row.code,
        name_ja=row.name_ja,
        name_en=row.name_en,
        unit_ja=row.unit_ja,
        unit_en=row.unit_en,
        category=catalog.Category(row.category),
        rules=tuple(Rule.from_json(rule) for rule in row.rules),
    )


async def catalog_for(
    session: AsyncSession, municipality_code: str | None
) -> tuple[str, tuple[Item, ...]]:
    """The items a municipality's residents get, and whose catalog it is."""
    default = catalog.default_catalog()
    stored = await repository.catalog_of(session, municipality_code) if municipality_code else None
    if stored is None or municipality_code is None:
        return catalog.DEFAULT_SOURCE, default.items
    rows = await repository.catalog_items(session, municipality_code)
    own = Catalog(items=tuple(_item_from_row(r) for r in rows), mode=CatalogMode(stored.mode))
    return municipality_code, catalog.combine(default, own)


async def import_catalog(
    session: AsyncSession, *, municipality_code: str, data: bytes, source_name: str
) -> CatalogImport:
    """Store a municipality's catalog, replacing its previous one; all or nothing.

    Importing the same file again changes nothing (the file's digest is kept).
    """
    municipality = await municipalities_service.get_municipality(
        session, municipality_code, field="municipality"
    )
    # YAML parsing is CPU work (bounded by the size cap): off the event loop.
    parsed = await asyncio.to_thread(catalog.parse_catalog, data, source_name)
    stored = await repository.catalog_of(session, municipality.code)
    if stored is not None and stored.digest == parsed.digest:
        return CatalogImport(municipality.code, len(parsed.items), parsed.mode.value, True)
    rows = [
        {
            "code": item.code,
            "position": position,
            "name_ja": item.name_ja,
            "name_en": item.name_en,
            "unit_ja": item.unit_ja,
            "unit_en": item.unit_en,
            "category": item.category.value,
            "rules": [rule.as_json() for rule in item.rules],
        }
        for position, item in enumerate(parsed.items)
    ]
    await repository.replace_catalog(
        session,
        SupplyCatalog(
            municipality_code=municipality.code,
            mode=parsed.mode.value,
            source_name=source_name[:255],
            digest=parsed.digest,
        ),
        rows,
    )
    return CatalogImport(municipality.code, len(parsed.items), parsed.mode.value, False)


# --- supply profile --------------------------------------------------------------------------


def _blank_profile(resident_id: uuid.UUID) -> SupplyProfile:
    return SupplyProfile(
        resident_id=resident_id, pets=[], regular_medication=False, dietary_needs=[]
    )


async def get_profile(session: AsyncSession, resident: ResidentRef) -> SupplyProfile:
    """The resident's supply profile (an empty one when never saved)."""
    found = await repository.profiles(session, [resident.id])
    return found[0] if found else _blank_profile(resident.id)


def _check_changes(changes: ProfileChanges) -> None:
    checker = Checker()
    kinds: set[str] = set()
    for n, pet in enumerate(changes.pets or ()):
        if pet.kind not in tuple(PetKind):
            checker.add(f"pets[{n}].kind", "unknown kind of pet", "ペットの種類が不明です")
        elif pet.kind in kinds:
            checker.add(
                f"pets[{n}].kind",
                "each kind once, with its count",
                "種類ごとに1行で頭数を指定してください",
            )
        kinds.add(pet.kind)
        if not 1 <= pet.count <= MAX_PETS_PER_KIND:
            checker.add(
                f"pets[{n}].count",
                f"count must be 1-{MAX_PETS_PER_KIND}",
                f"頭数は1〜{MAX_PETS_PER_KIND}で指定してください",
            )
    for n, need in enumerate(changes.dietary_needs or ()):
        if need not in tuple(DietaryNeed):
            checker.add(f"dietaryNeeds[{n}]", "unknown dietary need", "食事の配慮の種類が不明です")
    checker.raise_if_any()


async def update_profile(
    session: AsyncSession, resident: ResidentRef, changes: ProfileChanges
) -> SupplyProfile:
    """Save the resident's pets, regular medication and dietary needs (what is given)."""
    _check_changes(changes)
    found = await repository.profiles(session, [resident.id])
    profile = found[0] if found else _blank_profile(resident.id)
    if changes.pets is not None:
        profile.pets = [{"kind": p.kind, "count": p.count} for p in changes.pets]
    if changes.regular_medication is not None:
        profile.regular_medication = changes.regular_medication
    if changes.dietary_needs is not None:
        profile.dietary_needs = sorted(set(changes.dietary_needs))
    if not found:
        session.add(profile)
    await session.flush()
    return profile


def needs_value(profile: SupplyProfile | None) -> dict[str, Any] | None:
    """The ``supply_needs`` data item of a profile, as consent hands it on."""
    if profile is None:
        return None
    return {
        "pets": [dict(p) for p in profile.pets],
        "regularMedication": profile.regular_medication,
        "dietaryNeeds": list(profile.dietary_needs),
    }


async def needs_values(
    session: AsyncSession, resident_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, dict[str, Any] | None]:
    """The ``supply_needs`` of several residents (one query; None where never saved)."""
    found = {p.resident_id: p for p in await repository.profiles(session, resident_ids)}
    return {resident_id: needs_value(found.get(resident_id)) for resident_id in resident_ids}


# --- checklists ------------------------------------------------------------------------------


def _person(values: dict[str, Any]) -> Person:
    needs = values.get(SUPPLY_NEEDS) or {}
    gender = values.get("gender")
    return Person(
        age=values.get("age"),
        gender=gender if gender in catalog.GENDERS else None,
        pets=tuple((p["kind"], int(p["count"])) for p in needs.get("pets", [])),
        medication=needs.get("regularMedication") if needs else None,
        dietary=frozenset(needs.get("dietaryNeeds", [])),
    )


async def _home_municipality(session: AsyncSession, resident_id: uuid.UUID) -> str | None:
    found = await residents_service.residents_by_ids(session, [resident_id])
    return found[0].home_municipality_code if found else None


async def _family_of(session: AsyncSession, resident_id: uuid.UUID) -> list[uuid.UUID]:
    groups = await family_service.list_groups(session, resident_id)
    members = await family_service.members_of_groups(session, [g.id for g in groups])
    ids = dict.fromkeys(m.resident_id for m in members if m.resident_id != resident_id)
    return list(ids)


async def checklist(
    session: AsyncSession,
    viewer: Viewer,
    *,
    days: int,
    household: bool,
    meta: RequestMeta,
) -> Checklist:
    """The resident's own checklist, or their household's (members as consent allows)."""
    check_days(days)
    me = viewer.resident_id
    assert me is not None, "a resident's checklist needs a resident"
    members = await _family_of(session, me) if household else []
    # One consent read for everyone: the resident's own values are theirs (never logged),
    # each member's are what they granted the family for this purpose (logged).
    shared = await enforcement.read_many(
        session, viewer, [me, *members], purpose_code=PURPOSE, items=MEMBER_ITEMS, meta=meta
    )
    people = [_person(shared[me].values)]
    sharing = 0
    for member in members:
        data = shared.get(member)
        sharing += data is not None
        people.append(_person(data.values) if data is not None else Person())
    source, items = await catalog_for(session, await _home_municipality(session, me))
    kind = ListKind.HOUSEHOLD if household else ListKind.SELF
    return Checklist(
        days=days,
        lines=build(items, people, days),
        ticked=await repository.ticked_codes(session, me, kind),
        source=source,
        people=len(people),
        members_sharing=sharing,
        members_not_sharing=len(members) - sharing,
    )


async def tick(
    session: AsyncSession,
    viewer: Viewer,
    *,
    item_code: str,
    ticked: bool,
    household: bool,
    days: int,
    meta: RequestMeta,
) -> Checklist:
    """Mark an item of the resident's (or household's) list as ready, or not; the list after."""
    me = viewer.resident_id
    assert me is not None
    check_days(days)
    _, items = await catalog_for(session, await _home_municipality(session, me))
    if item_code not in {item.code for item in items}:
        raise NotFound("supply item", "備蓄品", field="item")
    kind = ListKind.HOUSEHOLD if household else ListKind.SELF
    await repository.set_tick(session, me, kind, item_code, ticked)
    return await checklist(session, viewer, days=days, household=household, meta=meta)
