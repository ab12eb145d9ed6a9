"""What residents provide to consent: profile items, the city-staff relationship, subjects."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ..auth.service import STAFF_ROLES
from ..consent.providers import ConsentProviders
from ..principal import Viewer
from . import repository
from .models import Resident

PROFILE_ITEMS = (
    "name",
    "kana",
    "birth_date",
    "age",
    "gender",
    "address",
    "phone",
    "home_place",
)


def age_on(birth_date: date | None, today: date) -> int | None:
    """Completed years on ``today``."""
    if birth_date is None:
        return None
    before_birthday = (today.month, today.day) < (birth_date.month, birth_date.day)
    return today.year - birth_date.year - int(before_birthday)


def _joined(*parts: str | None) -> str | None:
    return " ".join(p for p in parts if p) or None


def _profile(resident: Resident, today: date) -> dict[str, Any]:
    return {
        "name": _joined(resident.family_name, resident.given_name) or resident.display_name,
        "kana": _joined(resident.family_name_kana, resident.given_name_kana),
        "birth_date": resident.birth_date.isoformat() if resident.birth_date else None,
        "age": age_on(resident.birth_date, today),
        "gender": resident.gender,
        "address": resident.address,
        "phone": resident.phone,
    }


async def profile_values(
    session: AsyncSession, wanted: Mapping[uuid.UUID, frozenset[str]], today: date
) -> dict[uuid.UUID, dict[str, Any]]:
    """Profile items and the home point of many residents (two queries at most)."""
    ids = list(wanted)
    residents = {r.id: r for r in await repository.get_many(session, ids)}
    homes = {}
    if any("home_place" in items for items in wanted.values()):
        homes = {p.resident_id: p for p in await repository.homes_of_many(session, ids)}
    values: dict[uuid.UUID, dict[str, Any]] = {}
    for subject_id, items in wanted.items():
        resident = residents.get(subject_id)
        if resident is None:
            continue
        available = _profile(resident, today)
        home = homes.get(subject_id)
        available["home_place"] = (
            {"type": "Point", "coordinates": [home.longitude, home.latitude]} if home else None
        )
        values[subject_id] = {item: available[item] for item in items}
    return values


async def city_staff_of(
    session: AsyncSession, viewer: Viewer, subject_ids: Sequence[uuid.UUID]
) -> set[uuid.UUID]:
    """Subjects living in a municipality where the viewer is city staff."""
    municipalities = viewer.principal.municipalities_for(*STAFF_ROLES)
    if not municipalities:
        return set()
    return await repository.ids_living_in(session, list(subject_ids), municipalities)


async def subject_id(session: AsyncSession, subject: str) -> uuid.UUID | None:
    """The resident id of a regional-ID subject."""
    resident = await repository.by_subject(session, subject)
    return resident.id if resident else None


def register(providers: ConsentProviders) -> None:
    """Tell consent what residents provide."""
    providers.add_values(PROFILE_ITEMS, profile_values)
    providers.add_relationship(
        "city_staff", city_staff_of, label_ja="市職員", label_en="City staff"
    )
    providers.set_subject_resolver(subject_id)
