"""SQL for residents and places."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..db.dialect import insert_ignoring_conflicts
from .models import Place, Resident


async def by_subject(session: AsyncSession, subject: str) -> Resident | None:
    return await session.scalar(select(Resident).where(Resident.subject == subject))


async def get_many(session: AsyncSession, ids: list[uuid.UUID]) -> list[Resident]:
    return list(await session.scalars(select(Resident).where(Resident.id.in_(ids))))


async def insert_if_absent(session: AsyncSession, values: dict[str, object]) -> None:
    await insert_ignoring_conflicts(
        session, Resident.__table__, [values], index_elements=["subject"]
    )


async def places_of(session: AsyncSession, resident_id: uuid.UUID) -> list[Place]:
    statement = (
        select(Place).where(Place.resident_id == resident_id).order_by(Place.created_at, Place.id)
    )
    return list(await session.scalars(statement))


async def places_of_many(session: AsyncSession, resident_ids: list[uuid.UUID]) -> list[Place]:
    statement = (
        select(Place)
        .where(Place.resident_id.in_(resident_ids))
        .order_by(Place.created_at, Place.id)
    )
    return list(await session.scalars(statement))


async def homes_of_many(session: AsyncSession, resident_ids: list[uuid.UUID]) -> list[Place]:
    statement = select(Place).where(Place.resident_id.in_(resident_ids), Place.kind == "home")
    return list(await session.scalars(statement))


async def ids_living_in(
    session: AsyncSession, resident_ids: list[uuid.UUID], municipality_codes: set[str]
) -> set[uuid.UUID]:
    statement = select(Resident.id).where(
        Resident.id.in_(resident_ids),
        Resident.home_municipality_code.in_(sorted(municipality_codes)),
    )
    return set(await session.scalars(statement))


async def place_locations(session: AsyncSession) -> list[tuple[str | None, float, float]]:
    """(municipality code, latitude, longitude) of every saved place."""
    statement = select(Place.municipality_code, Place.latitude, Place.longitude)
    return [(row[0], row[1], row[2]) for row in await session.execute(statement)]


async def place_of(
    session: AsyncSession, resident_id: uuid.UUID, place_id: uuid.UUID
) -> Place | None:
    return await session.scalar(
        select(Place).where(Place.id == place_id, Place.resident_id == resident_id)
    )


async def count_places(session: AsyncSession, resident_id: uuid.UUID) -> int:
    statement = select(func.count()).select_from(Place).where(Place.resident_id == resident_id)
    return int(await session.scalar(statement) or 0)


async def home_of(session: AsyncSession, resident_id: uuid.UUID) -> Place | None:
    return await session.scalar(
        select(Place).where(Place.resident_id == resident_id, Place.kind == "home")
    )


async def count_residents_in(session: AsyncSession, municipality_code: str) -> int:
    statement = (
        select(func.count())
        .select_from(Resident)
        .where(Resident.home_municipality_code == municipality_code)
    )
    return int(await session.scalar(statement) or 0)


async def count_places_in(session: AsyncSession, municipality_code: str) -> dict[str, int]:
    statement = (
        select(Place.kind, func.count())
        .where(Place.municipality_code == municipality_code)
        .group_by(Place.kind)
    )
    return {kind: int(n) for kind, n in (await session.execute(statement)).all()}
