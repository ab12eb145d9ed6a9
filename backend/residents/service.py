"""Resident sign-in, profile and places: the rules, over the repository's SQL."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ..auth import service as auth_service
from ..config import Settings
from ..db.base import utcnow
from ..errors import Checker, Conflict, LimitExceeded, NotFound, Unauthenticated
from ..geo import check_point, h3_cells
from ..municipalities import service as municipality_service
from ..principal import Principal, PrincipalKind, ResidentRef
from ..text import clean_kana, clean_phone, clean_text
from . import repository
from .models import Gender, Language, Place, PlaceKind, Resident
from .repository import PlacePoints, PlaceSpot

JST = timezone(timedelta(hours=9))
NAME_MAX = 100
ADDRESS_MAX = 255


class _Unset:
    """Marks a profile field the caller did not send (distinct from None = clear it)."""


UNSET: Any = _Unset()


@dataclass(slots=True)
class ProfileChanges:
    display_name: Any = UNSET
    family_name: Any = UNSET
    given_name: Any = UNSET
    family_name_kana: Any = UNSET
    given_name_kana: Any = UNSET
    birth_date: Any = UNSET
    gender: Any = UNSET
    phone: Any = UNSET
    address: Any = UNSET
    preferred_language: Any = UNSET
    municipality_code: Any = UNSET


@dataclass(slots=True)
class PlaceChanges:
    kind: Any = UNSET
    label: Any = UNSET
    latitude: Any = UNSET
    longitude: Any = UNSET
    address: Any = UNSET


async def find_resident(session: AsyncSession, principal: Principal) -> Resident | None:
    """The signed-in resident's record, or None before their first sign-in."""
    if not principal.is_resident or principal.subject is None:
        raise Unauthenticated("a resident sign-in is required", "住民としてのログインが必要です")
    return await repository.by_subject(session, principal.subject)


async def get_or_create_resident(session: AsyncSession, principal: Principal) -> Resident:
    """The signed-in resident's record, created on first sign-in."""
    resident = await find_resident(session, principal)
    if resident is not None:
        return resident
    assert principal.subject is not None  # find_resident refused anything else
    # The IdP's name claim seeds the display name, under the same text rule as the profile.
    claimed = principal.claims.get("name") or principal.claims.get("nickname")
    display_name = (
        clean_text(
            Checker(), "name", str(claimed)[:NAME_MAX], label_ja="表示名", max_length=NAME_MAX
        )
        if claimed
        else None
    )
    # ON CONFLICT DO NOTHING: the app fires several requests at once on first launch.
    await repository.insert_if_absent(
        session,
        {
            "id": uuid.uuid4(),
            "subject": principal.subject,
            "issuer": principal.issuer,
            "display_name": display_name,
            "gender": Gender.UNSPECIFIED.value,
            "preferred_language": Language.JA.value,
            "municipality_chosen": False,
            "created_at": utcnow(),
            "updated_at": utcnow(),
        },
    )
    resident = await repository.by_subject(session, principal.subject)
    assert resident is not None
    return resident


async def update_profile(
    session: AsyncSession, resident: Resident, *, changes: ProfileChanges
) -> Resident:
    """Apply the sent profile fields after validating all of them."""
    checker = Checker()
    updates: dict[str, Any] = {}
    if changes.display_name is not UNSET:
        # Family members and leaders see residents by this name: it can change, not vanish.
        updates["display_name"] = clean_text(
            checker,
            "displayName",
            changes.display_name,
            label_ja="表示名",
            max_length=NAME_MAX,
            required=True,
        )
    for field, camel, label in (
        ("family_name", "familyName", "姓"),
        ("given_name", "givenName", "名"),
    ):
        value = getattr(changes, field)
        if value is not UNSET:
            updates[field] = clean_text(checker, camel, value, label_ja=label, max_length=NAME_MAX)
    for field, camel, label in (
        ("family_name_kana", "familyNameKana", "姓のフリガナ"),
        ("given_name_kana", "givenNameKana", "名のフリガナ"),
    ):
        value = getattr(changes, field)
        if value is not UNSET:
            updates[field] = clean_kana(checker, camel, value, label_ja=label, max_length=NAME_MAX)
    if changes.birth_date is not UNSET:
        birth_date: date | None = changes.birth_date
        today = datetime.now(JST).date()
        if birth_date is not None and not (date(1900, 1, 1) <= birth_date <= today):
            checker.add(
                "birthDate",
                "birthDate must be between 1900-01-01 and today",
                "生年月日は1900年1月1日から今日までの日付です",
            )
        updates["birth_date"] = birth_date
    if changes.gender is not UNSET:
        updates["gender"] = Gender(changes.gender or Gender.UNSPECIFIED).value
    if changes.preferred_language is not UNSET:
        updates["preferred_language"] = Language(changes.preferred_language or Language.JA).value
    if changes.phone is not UNSET:
        updates["phone"] = clean_phone(checker, "phone", changes.phone)
    if changes.address is not UNSET:
        updates["address"] = clean_text(
            checker, "address", changes.address, label_ja="住所", max_length=ADDRESS_MAX
        )
    municipality_code = changes.municipality_code
    checker.raise_if_any()
    if municipality_code is not UNSET:
        if municipality_code is None:
            # Back to the municipality derived from the home place.
            home = await repository.home_of(session, resident.id)
            updates["home_municipality_code"] = home.municipality_code if home else None
            updates["municipality_chosen"] = False
        else:
            municipality = await municipality_service.get_municipality(session, municipality_code)
            updates["home_municipality_code"] = municipality.code
            updates["municipality_chosen"] = True
    for field, value in updates.items():
        setattr(resident, field, value)
    await session.flush()
    return resident


async def list_places(session: AsyncSession, resident: ResidentRef) -> list[Place]:
    """The resident's saved places, oldest first."""
    return await repository.places_of(session, resident.id)


def _validate_place(checker: Checker, *, label: Any, address: Any) -> tuple[str | None, str | None]:
    clean_label = clean_text(
        checker, "label", label, label_ja="場所の名前", max_length=NAME_MAX, required=True
    )
    clean_address = clean_text(checker, "address", address, label_ja="住所", max_length=ADDRESS_MAX)
    return clean_label, clean_address


async def _locate_place(
    session: AsyncSession, settings: Settings, place: Place, resident: Resident
) -> None:
    """Fill H3 cells and the municipality; a home also sets the resident's municipality."""
    res7, res9, res11 = h3_cells(place.latitude, place.longitude, settings.place_h3_resolutions)
    place.h3_res7, place.h3_res9, place.h3_res11 = res7, res9, res11
    place.municipality_code = await municipality_service.locate(
        session, lat=place.latitude, lon=place.longitude
    )
    if place.kind == PlaceKind.HOME.value and not resident.municipality_chosen:
        resident.home_municipality_code = place.municipality_code


async def add_place(
    session: AsyncSession,
    settings: Settings,
    resident: Resident,
    *,
    kind: PlaceKind,
    label: str,
    latitude: float,
    longitude: float,
    address: str | None = None,
) -> Place:
    """Save a new place (home, workplace, school, child's school) for the resident."""
    checker = Checker()
    clean_label, clean_address = _validate_place(checker, label=label, address=address)
    check_point(checker, "", latitude, longitude)
    checker.raise_if_any()
    if await repository.count_places(session, resident.id) >= settings.max_places_per_resident:
        raise LimitExceeded(
            f"at most {settings.max_places_per_resident} places per resident",
            f"登録できる場所は{settings.max_places_per_resident}件までです",
        )
    if kind is PlaceKind.HOME and await repository.home_of(session, resident.id) is not None:
        raise Conflict(
            "a home place exists already; update it instead",
            "自宅はすでに登録されています。変更してください",
            field="kind",
        )
    place = Place(
        id=uuid.uuid4(),
        resident_id=resident.id,
        kind=kind.value,
        label=clean_label,
        address=clean_address,
        latitude=float(latitude),
        longitude=float(longitude),
    )
    await _locate_place(session, settings, place, resident)
    session.add(place)
    await session.flush()
    return place


async def get_place(session: AsyncSession, resident: ResidentRef, place_id: uuid.UUID) -> Place:
    """One of the resident's own places; anyone else's is NotFound."""
    place = await repository.place_of(session, resident.id, place_id)
    if place is None:
        raise NotFound("place", "場所", field="id")
    return place


async def update_place(
    session: AsyncSession,
    settings: Settings,
    resident: Resident,
    place_id: uuid.UUID,
    *,
    changes: PlaceChanges,
) -> Place:
    """Change a saved place; moving it recomputes its cells and municipality."""
    place = await get_place(session, resident, place_id)
    checker = Checker()
    label = place.label if changes.label is UNSET else changes.label
    address = place.address if changes.address is UNSET else changes.address
    clean_label, clean_address = _validate_place(checker, label=label, address=address)
    latitude = place.latitude if changes.latitude is UNSET else changes.latitude
    longitude = place.longitude if changes.longitude is UNSET else changes.longitude
    check_point(checker, "", latitude, longitude)
    if changes.kind is None:
        checker.add("kind", "kind must not be null", "種類を指定してください")
    checker.raise_if_any()
    kind = place.kind if changes.kind is UNSET else PlaceKind(changes.kind).value
    if kind == PlaceKind.HOME.value and place.kind != kind:
        existing = await repository.home_of(session, resident.id)
        if existing is not None:
            raise Conflict(
                "a home place exists already", "自宅はすでに登録されています", field="kind"
            )
    was_home = place.kind == PlaceKind.HOME.value
    place.kind, place.label, place.address = kind, clean_label or place.label, clean_address
    place.latitude, place.longitude = float(latitude), float(longitude)
    await _locate_place(session, settings, place, resident)
    if was_home and kind != PlaceKind.HOME.value and not resident.municipality_chosen:
        resident.home_municipality_code = None
    await session.flush()
    return place


async def remove_place(session: AsyncSession, resident: Resident, place_id: uuid.UUID) -> None:
    """Delete one of the resident's places."""
    place = await get_place(session, resident, place_id)
    if place.kind == PlaceKind.HOME.value and not resident.municipality_chosen:
        resident.home_municipality_code = None
    await session.delete(place)
    await session.flush()


async def resident_id_by_subject(session: AsyncSession, subject: str) -> uuid.UUID | None:
    """The id of the resident with this regional-ID subject, if they have signed in."""
    resident = await repository.by_subject(session, subject)
    return resident.id if resident else None


async def resident_ids_by_subjects(
    session: AsyncSession, subjects: list[str]
) -> dict[str, uuid.UUID]:
    """Ids of the residents with these regional-ID subjects (those who have signed in)."""
    return await repository.ids_by_subjects(session, subjects)


async def place_locations(session: AsyncSession) -> list[tuple[str | None, float, float]]:
    """(municipality code, latitude, longitude) of every saved place (road coverage checks)."""
    return await repository.place_locations(session)


async def residents_by_ids(session: AsyncSession, ids: list[uuid.UUID]) -> list[Resident]:
    """Residents by id (for loaders; callers decide what of them may be shown)."""
    return await repository.get_many(session, ids)


async def residents_born_on(
    session: AsyncSession, municipality_code: str, birth_dates: list[date]
) -> list[Resident]:
    """Residents of a municipality born on one of these dates (matching a municipal record
    to the person it describes; callers decide what of them may be shown)."""
    return await repository.born_on_in(session, municipality_code, birth_dates)


@dataclass(frozen=True, slots=True)
class MunicipalityCounts:
    municipality: municipality_service.Municipality
    registered_residents: int
    saved_places: int
    homes: int


async def municipality_dashboard(
    session: AsyncSession, principal: Principal, *, code: str
) -> MunicipalityCounts:
    """Registered residents and saved places of a served municipality, for its city staff."""
    if principal.kind is PrincipalKind.ANONYMOUS:
        raise Unauthenticated()
    municipality = await municipality_service.get_served_municipality(session, code, field="code")
    auth_service.require_role(principal, municipality.code, *auth_service.STAFF_ROLES)
    residents = await repository.count_residents_in(session, municipality.code)
    places = await repository.count_places_in(session, municipality.code)
    return MunicipalityCounts(
        municipality=municipality,
        registered_residents=residents,
        saved_places=sum(places.values()),
        homes=places.get(PlaceKind.HOME.value, 0),
    )


@dataclass(frozen=True, slots=True)
class RelocationReport:
    examined: int  # places inside the new boundaries' boxes or located in them before
    moved: int  # places whose municipality changed
    residents_updated: int  # residents whose home municipality follows their home place


async def relocate_places(
    session: AsyncSession, municipalities: Sequence[municipality_service.Municipality]
) -> RelocationReport:
    """Locate saved places again after these municipalities' boundaries were (re)imported.

    Candidates come from SQL (inside a new boundary's box, or located in one of these
    municipalities before); the exact test runs in bulk in a worker thread. Residents whose
    home municipality is derived from their home place follow it.
    """
    boxes = [
        (m.min_lon, m.min_lat, m.max_lon, m.max_lat)
        for m in municipalities
        if m.min_lon is not None and m.min_lat is not None
        if m.max_lon is not None and m.max_lat is not None
    ]
    candidates = await repository.places_for_relocation(
        session, boxes=boxes, municipality_codes=[m.code for m in municipalities]
    )
    located = await municipality_service.locate_many(
        session, [(c.latitude, c.longitude) for c in candidates]
    )
    moved: dict[str | None, list[uuid.UUID]] = defaultdict(list)
    homes: dict[str | None, list[uuid.UUID]] = defaultdict(list)
    for candidate, code in zip(candidates, located, strict=True):
        if code != candidate.municipality_code:
            moved[code].append(candidate.id)
            if candidate.kind == PlaceKind.HOME.value:
                homes[code].append(candidate.resident_id)
    await repository.set_place_municipalities(session, moved)
    residents_updated = await repository.set_derived_home_municipalities(session, homes)
    return RelocationReport(
        examined=len(candidates),
        moved=sum(len(ids) for ids in moved.values()),
        residents_updated=residents_updated,
    )


async def place_kinds_in_cells(
    session: AsyncSession, cells7: list[int], cells9: list[int], *, within7: list[int]
) -> dict[uuid.UUID, list[str]]:
    """Per resident, the kinds of their places in these res-7 cells, or in these res-9 cells
    inside ``within7`` (polygon alert targeting: the places known to be inside)."""
    return await repository.kinds_in_cells(session, cells7, cells9, within7)


async def place_points_in_cells(
    session: AsyncSession, cells7: list[int], *, except9: list[int]
) -> PlacePoints:
    """Places in these res-7 cells but in none of ``except9``, with their position (polygon
    alert targeting: the places left for the exact test)."""
    return await repository.points_in_cells(session, cells7, except9)


async def place_spots_in_municipalities(session: AsyncSession, codes: list[str]) -> list[PlaceSpot]:
    """Every place located in one of these municipalities (municipality-wide alerts)."""
    return await repository.spots_in_municipalities(session, codes)


async def place_spots_concerning(session: AsyncSession, codes: list[str]) -> list[PlaceSpot]:
    """Places located in these municipalities, and every place of residents who live there
    (a place saved before the boundaries were imported knows no municipality)."""
    located = await repository.spots_in_municipalities(session, codes)
    homed = await repository.spots_of_residents_homed_in(session, codes)
    return list({s.id: s for s in [*located, *homed]}.values())


async def place_spots_of(
    session: AsyncSession, resident_ids: list[uuid.UUID], kinds: list[str] | None = None
) -> list[PlaceSpot]:
    """The places of these residents (optionally of some kinds only), for area checks."""
    return await repository.spots_of_residents(session, resident_ids, kinds)


async def resident_counts_by_home(session: AsyncSession, codes: list[str]) -> dict[str, int]:
    """Registered residents whose home is in each of these municipalities."""
    return {code: await repository.count_residents_in(session, code) for code in codes}
