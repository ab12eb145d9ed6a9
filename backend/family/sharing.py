"""What family groups provide to consent: the family relationship, household, named members."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ..api.ids import decode_id
from ..consent.providers import ConsentProviders
from ..errors import NotFound
from ..principal import Viewer
from . import repository

FAMILY = "family"


async def family_of(
    session: AsyncSession, viewer: Viewer, subject_ids: Sequence[uuid.UUID]
) -> set[uuid.UUID]:
    """Subjects who share a family group with the viewer."""
    if viewer.resident_id is None:
        return set()
    return await repository.co_member_ids(session, viewer.resident_id, list(subject_ids))


async def household_values(
    session: AsyncSession, wanted: Mapping[uuid.UUID, frozenset[str]], _today: date
) -> dict[uuid.UUID, dict[str, Any]]:
    """The household composition: each family group's name and size."""
    counts = await repository.household_counts(session, list(wanted))
    return {
        subject_id: {
            "household": [
                {"group": name, "members": count} for name, count in counts.get(subject_id, [])
            ]
        }
        for subject_id in wanted
    }


async def family_member(
    session: AsyncSession, resident_id: uuid.UUID, member_id: str
) -> uuid.UUID | None:
    """The resident behind a FamilyMember id of a group the naming resident belongs to."""
    try:
        membership_id = decode_id("FamilyMember", member_id)
    except NotFound:
        return None
    return await repository.member_resident_id(session, membership_id, resident_id)


def register(providers: ConsentProviders) -> None:
    """Tell consent what family groups provide."""
    providers.add_relationship(FAMILY, family_of, label_ja="家族", label_en="Family")
    providers.add_values(("household",), household_values)
    providers.add_person_resolver(FAMILY, family_member)
