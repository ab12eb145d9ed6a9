"""The values of data items for a batch of subjects (read only after consent is checked)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime, timedelta, timezone
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ..family import service as family_service
from ..residents import repository as residents_repository
from ..residents.models import PlaceKind, Resident

JST = timezone(timedelta(hours=9))


def age_on(birth_date: date | None, today: date) -> int | None:
    """Completed years on ``today``."""
    if birth_date is None:
        return None
    before_birthday = (today.month, today.day) < (birth_date.month, birth_date.day)
    return today.year - birth_date.year - int(before_birthday)


def _name(resident: Resident) -> str | None:
    full = " ".join(p for p in (resident.family_name, resident.given_name) if p)
    return full or resident.display_name


def _kana(resident: Resident) -> str | None:
    full = " ".join(p for p in (resident.family_name_kana, resident.given_name_kana) if p)
    return full or None


async def item_values(
    session: AsyncSession,
    subjects: Sequence[Resident],
    permitted: dict[uuid.UUID, list[str]],
    *,
    today: date | None = None,
) -> dict[uuid.UUID, dict[str, Any]]:
    """Each subject's values for exactly the permitted items (one query per item family)."""
    today = today or datetime.now(JST).date()
    wanted = {item for s in subjects for item in permitted[s.id]}
    ids = [s.id for s in subjects]
    homes: dict[uuid.UUID, Any] = {}
    if "home_place" in wanted:
        for place in await residents_repository.places_of_many(session, ids):
            if place.kind == PlaceKind.HOME.value:
                homes[place.resident_id] = place
    households = (
        await family_service.household_counts(session, ids) if "household" in wanted else {}
    )
    values: dict[uuid.UUID, dict[str, Any]] = {}
    for subject in subjects:
        home = homes.get(subject.id)
        available: dict[str, Any] = {
            "name": _name(subject),
            "kana": _kana(subject),
            "birth_date": subject.birth_date.isoformat() if subject.birth_date else None,
            "age": age_on(subject.birth_date, today),
            "gender": subject.gender,
            "address": subject.address,
            "phone": subject.phone,
            "household": [
                {"group": name, "members": count} for name, count in households.get(subject.id, [])
            ],
            "home_place": (
                {"type": "Point", "coordinates": [home.longitude, home.latitude]} if home else None
            ),
            # Filled by later capabilities (safety check-ins, evacuation plans); the consent
            # rules already apply to them, so nothing changes for readers when they arrive.
            "current_location": None,
            "safety_status": None,
            "support_needed": None,
            "health_notes": None,
            "supporters": None,
            "evacuation_plan": None,
        }
        values[subject.id] = {item: available.get(item) for item in permitted[subject.id]}
    return values
