"""What safety provides to consent: the values of safety_status and current_location."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ..consent.providers import ConsentProviders
from . import service


async def safety_and_location_values(
    session: AsyncSession, wanted: Mapping[uuid.UUID, frozenset[str]], _today: date
) -> dict[uuid.UUID, dict[str, Any]]:
    """Counting answers in open (and recently closed) events; an unexpired shared position."""
    status_of = [s for s, items in wanted.items() if "safety_status" in items]
    location_of = [s for s, items in wanted.items() if "current_location" in items]
    answers = await service.safety_values(session, status_of) if status_of else {}
    places = await service.location_values(session, location_of) if location_of else {}
    result: dict[uuid.UUID, dict[str, Any]] = {}
    for subject_id, items in wanted.items():
        values: dict[str, Any] = {}
        if "safety_status" in items:
            values["safety_status"] = answers.get(subject_id, [])
        if "current_location" in items:
            values["current_location"] = places.get(subject_id)
        result[subject_id] = values
    return result


def register(providers: ConsentProviders) -> None:
    """Tell consent what safety provides."""
    providers.add_values(("safety_status", "current_location"), safety_and_location_values)
