"""SQL for the support-needed register (避難行動要支援者名簿)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ..db.dialect import chunked
from .models import SupportRegisterEntry


async def get(session: AsyncSession, entry_id: uuid.UUID) -> SupportRegisterEntry | None:
    return await session.get(SupportRegisterEntry, entry_id)


async def of_resident(session: AsyncSession, resident_id: uuid.UUID) -> SupportRegisterEntry | None:
    return await session.scalar(
        select(SupportRegisterEntry).where(SupportRegisterEntry.resident_id == resident_id)
    )


async def by_number(
    session: AsyncSession, municipality_code: str, register_number: str
) -> SupportRegisterEntry | None:
    return await session.scalar(
        select(SupportRegisterEntry).where(
            SupportRegisterEntry.municipality_code == municipality_code,
            SupportRegisterEntry.register_number == register_number,
        )
    )


async def all_of(session: AsyncSession, municipality_code: str) -> list[SupportRegisterEntry]:
    statement = select(SupportRegisterEntry).where(
        SupportRegisterEntry.municipality_code == municipality_code
    )
    return list(await session.scalars(statement))


async def insert_many(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    session.add_all(SupportRegisterEntry(**row) for row in rows)
    await session.flush()


async def update_one(session: AsyncSession, entry_id: uuid.UUID, values: dict[str, Any]) -> None:
    await session.execute(
        update(SupportRegisterEntry).where(SupportRegisterEntry.id == entry_id).values(**values)
    )


async def delete_many(session: AsyncSession, entry_ids: Sequence[uuid.UUID]) -> None:
    for batch in chunked(list(entry_ids)):
        await session.execute(
            delete(SupportRegisterEntry).where(SupportRegisterEntry.id.in_(batch))
        )


def _contains(column: Any, term: str) -> Any:
    # Case-insensitive on both databases; % and _ in the term match themselves.
    return column.ilike(f"%{term}%", escape="\\") if term else None


def _escaped(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def page(
    session: AsyncSession,
    municipality_code: str,
    *,
    linked: bool | None,
    consent_status: str | None,
    search_terms: Sequence[str],
    after: tuple[str, uuid.UUID] | None,
    limit: int,
) -> list[SupportRegisterEntry]:
    """Entries of a municipality in register-number order, filtered, after a cursor."""
    entry = SupportRegisterEntry
    statement = select(entry).where(entry.municipality_code == municipality_code)
    if linked is not None:
        statement = statement.where(
            entry.resident_id.is_not(None) if linked else entry.resident_id.is_(None)
        )
    if consent_status is not None:
        statement = statement.where(entry.consent_status == consent_status)
    terms = [_escaped(t) for t in search_terms if t]
    if terms:
        statement = statement.where(
            or_(
                *(
                    _contains(column, term)
                    for term in terms
                    for column in (entry.name, entry.kana, entry.register_number, entry.address)
                )
            )
        )
    if after is not None:
        number, item = after
        statement = statement.where(
            or_(
                entry.register_number > number,
                and_(entry.register_number == number, entry.id > item),
            )
        )
    statement = statement.order_by(entry.register_number, entry.id).limit(limit)
    return list(await session.scalars(statement))


async def linked_resident_ids(
    session: AsyncSession, resident_ids: Sequence[uuid.UUID]
) -> set[uuid.UUID]:
    """Which of these residents are linked to an entry already (of any municipality)."""
    found: set[uuid.UUID] = set()
    for batch in chunked(list(resident_ids)):
        found.update(
            r
            for r in await session.scalars(
                select(SupportRegisterEntry.resident_id).where(
                    SupportRegisterEntry.resident_id.in_(batch)
                )
            )
            if r is not None
        )
    return found
