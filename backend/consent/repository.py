"""SQL for the consent catalog, grants, events, requests, clients and the access log."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, insert, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from ..db.dialect import table_of, upsert
from .models import (
    Bundle,
    ConsentEvent,
    ConsentGrant,
    ConsentRequest,
    DataAccess,
    DataItem,
    Purpose,
    SystemClient,
)

REVOKED = "revoked"


async def upsert_catalog(
    session: AsyncSession,
    items: Sequence[dict[str, Any]],
    purposes: Sequence[dict[str, Any]],
    bundles: Sequence[dict[str, Any]],
) -> None:
    await upsert(
        session,
        table_of(DataItem),
        items,
        index_elements=["code"],
        update_columns=["label_ja", "label_en", "sensitive", "sort_order"],
    )
    await upsert(
        session,
        table_of(Purpose),
        purposes,
        index_elements=["code"],
        update_columns=[
            "label_ja",
            "label_en",
            "description_ja",
            "description_en",
            "items",
            "recipients",
            "text_version",
            "sort_order",
        ],
    )
    await upsert(
        session,
        table_of(Bundle),
        bundles,
        index_elements=["code"],
        update_columns=[
            "purpose_code",
            "label_ja",
            "label_en",
            "description_ja",
            "description_en",
            "flows",
            "text_version",
        ],
    )


async def data_items(session: AsyncSession) -> list[DataItem]:
    return list(await session.scalars(select(DataItem).order_by(DataItem.sort_order)))


async def purposes(session: AsyncSession) -> list[Purpose]:
    return list(await session.scalars(select(Purpose).order_by(Purpose.sort_order)))


async def purpose(session: AsyncSession, code: str) -> Purpose | None:
    return await session.get(Purpose, code)


async def bundles(session: AsyncSession) -> list[Bundle]:
    return list(await session.scalars(select(Bundle).order_by(Bundle.code)))


async def bundle(session: AsyncSession, code: str) -> Bundle | None:
    return await session.get(Bundle, code)


async def system_client(session: AsyncSession, client_id: str) -> SystemClient | None:
    return await session.get(SystemClient, client_id)


async def system_clients_by_ids(
    session: AsyncSession, client_ids: Sequence[str]
) -> list[SystemClient]:
    statement = select(SystemClient).where(SystemClient.client_id.in_(list(client_ids)))
    return list(await session.scalars(statement))


async def system_clients_of(session: AsyncSession, municipality_code: str) -> list[SystemClient]:
    statement = (
        select(SystemClient)
        .where(SystemClient.municipality_code == municipality_code)
        .order_by(SystemClient.client_id)
    )
    return list(await session.scalars(statement))


def _not_revoked() -> Any:
    return ~exists().where(ConsentEvent.grant_id == ConsentGrant.id, ConsentEvent.kind == REVOKED)


def _in_validity(now: datetime) -> Any:
    return and_(
        ConsentGrant.valid_from <= now,
        or_(ConsentGrant.valid_until.is_(None), ConsentGrant.valid_until > now),
    )


async def active_grants(
    session: AsyncSession, subject_ids: Sequence[uuid.UUID], purpose_code: str, now: datetime
) -> list[ConsentGrant]:
    """Grants of these subjects for a purpose that are in force now (not revoked, not expired)."""
    statement = select(ConsentGrant).where(
        ConsentGrant.resident_id.in_(subject_ids),
        ConsentGrant.purpose_code == purpose_code,
        _in_validity(now),
        _not_revoked(),
    )
    return list(await session.scalars(statement))


async def subjects_with_proxy_grants_to(
    session: AsyncSession,
    *,
    resident_id: uuid.UUID | None,
    client_id: str | None,
    purpose_code: str,
    now: datetime,
) -> list[uuid.UUID]:
    """Subjects whose grants in force name this person or client as a proxy (代理人)."""
    named = []
    if resident_id is not None:
        named.append(ConsentGrant.recipient_resident_id == resident_id)
    if client_id is not None:
        named.append(ConsentGrant.recipient_client_id == client_id)
    if not named:
        return []
    statement = (
        select(ConsentGrant.resident_id)
        .where(
            or_(*named),
            ConsentGrant.purpose_code == purpose_code,
            ConsentGrant.proxy_role.is_not(None),
            _in_validity(now),
            _not_revoked(),
        )
        .distinct()
    )
    return list(await session.scalars(statement))


async def grants_of(session: AsyncSession, resident_id: uuid.UUID) -> list[ConsentGrant]:
    statement = (
        select(ConsentGrant)
        .where(ConsentGrant.resident_id == resident_id)
        .order_by(ConsentGrant.created_at, ConsentGrant.id)
    )
    return list(await session.scalars(statement))


async def revoked_grant_ids(
    session: AsyncSession, grant_ids: Sequence[uuid.UUID]
) -> set[uuid.UUID]:
    if not grant_ids:
        return set()
    statement = select(ConsentEvent.grant_id).where(
        ConsentEvent.grant_id.in_(grant_ids), ConsentEvent.kind == REVOKED
    )
    return {row for row in await session.scalars(statement) if row is not None}


async def grant_of(
    session: AsyncSession, resident_id: uuid.UUID, grant_id: uuid.UUID
) -> ConsentGrant | None:
    return await session.scalar(
        select(ConsentGrant).where(
            ConsentGrant.id == grant_id, ConsentGrant.resident_id == resident_id
        )
    )


async def grants_of_acceptance(
    session: AsyncSession, resident_id: uuid.UUID, acceptance_id: uuid.UUID
) -> list[ConsentGrant]:
    statement = select(ConsentGrant).where(
        ConsentGrant.resident_id == resident_id, ConsentGrant.acceptance_id == acceptance_id
    )
    return list(await session.scalars(statement))


async def events_page(
    session: AsyncSession,
    resident_id: uuid.UUID,
    *,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[ConsentEvent]:
    """Newest first."""
    statement = (
        select(ConsentEvent)
        .where(ConsentEvent.resident_id == resident_id)
        .order_by(ConsentEvent.at.desc(), ConsentEvent.id.desc())
        .limit(limit)
    )
    if after is not None:
        statement = statement.where(tuple_(ConsentEvent.at, ConsentEvent.id) < tuple_(*after))
    return list(await session.scalars(statement))


async def access_page(
    session: AsyncSession,
    resident_id: uuid.UUID,
    *,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[DataAccess]:
    """Newest first."""
    statement = (
        select(DataAccess)
        .where(DataAccess.subject_resident_id == resident_id)
        .order_by(DataAccess.accessed_at.desc(), DataAccess.id.desc())
        .limit(limit)
    )
    if after is not None:
        statement = statement.where(tuple_(DataAccess.accessed_at, DataAccess.id) < tuple_(*after))
    return list(await session.scalars(statement))


async def log_accesses(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """One INSERT for all reads of a request (a leader's list reads many people at once)."""
    if rows:
        await session.execute(insert(DataAccess), list(rows))


def _addressed_to(resident_id: uuid.UUID, subject: str) -> Any:
    # Requests made before the resident's first sign-in carry only the subject.
    return or_(
        ConsentRequest.resident_id == resident_id,
        and_(ConsentRequest.resident_id.is_(None), ConsentRequest.subject == subject),
    )


async def pending_requests(
    session: AsyncSession, resident_id: uuid.UUID, subject: str
) -> list[ConsentRequest]:
    statement = (
        select(ConsentRequest)
        .where(_addressed_to(resident_id, subject), ConsentRequest.status == "pending")
        .order_by(ConsentRequest.created_at, ConsentRequest.id)
    )
    return list(await session.scalars(statement))


async def request_of(
    session: AsyncSession, resident_id: uuid.UUID, subject: str, request_id: uuid.UUID
) -> ConsentRequest | None:
    return await session.scalar(
        select(ConsentRequest)
        .where(ConsentRequest.id == request_id, _addressed_to(resident_id, subject))
        .with_for_update()
    )


async def active_person_grants_between(
    session: AsyncSession, relationship: str, pairs: Sequence[tuple[uuid.UUID, uuid.UUID]]
) -> list[ConsentGrant]:
    """Unrevoked grants naming a person through ``relationship``, for (subject, person) pairs."""
    if not pairs:
        return []
    statement = select(ConsentGrant).where(
        ConsentGrant.recipient_kind == "person",
        ConsentGrant.recipient_relationship == relationship,
        tuple_(ConsentGrant.resident_id, ConsentGrant.recipient_resident_id).in_(list(pairs)),
        _not_revoked(),
    )
    return list(await session.scalars(statement))


async def grants_by_ids(
    session: AsyncSession, grant_ids: Sequence[uuid.UUID]
) -> list[ConsentGrant]:
    return list(await session.scalars(select(ConsentGrant).where(ConsentGrant.id.in_(grant_ids))))


async def add_events(session: AsyncSession, events: Sequence[ConsentEvent]) -> None:
    session.add_all(events)
    await session.flush()
