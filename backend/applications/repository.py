"""SQL of the applications domain."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from .models import (
    Application,
    ApplicationAttachment,
    ApplicationBundle,
    ApplicationEvent,
    ApplicationForm,
)


async def forms_of(session: AsyncSession, municipality_code: str) -> list[ApplicationForm]:
    rows = await session.scalars(
        select(ApplicationForm)
        .where(ApplicationForm.municipality_code == municipality_code)
        .order_by(ApplicationForm.code)
    )
    return list(rows)


async def forms_by_ids(
    session: AsyncSession, form_ids: Sequence[uuid.UUID]
) -> list[ApplicationForm]:
    if not form_ids:
        return []
    rows = await session.scalars(
        select(ApplicationForm).where(ApplicationForm.id.in_(list(set(form_ids))))
    )
    return list(rows)


async def bundles_of(session: AsyncSession, municipality_code: str) -> list[ApplicationBundle]:
    rows = await session.scalars(
        select(ApplicationBundle)
        .where(ApplicationBundle.municipality_code == municipality_code)
        .order_by(ApplicationBundle.code)
    )
    return list(rows)


async def bundles_by_ids(
    session: AsyncSession, bundle_ids: Sequence[uuid.UUID]
) -> list[ApplicationBundle]:
    if not bundle_ids:
        return []
    rows = await session.scalars(
        select(ApplicationBundle).where(ApplicationBundle.id.in_(list(set(bundle_ids))))
    )
    return list(rows)


async def get_bundle(session: AsyncSession, bundle_id: uuid.UUID) -> ApplicationBundle | None:
    return await session.get(ApplicationBundle, bundle_id)


async def get_application(
    session: AsyncSession, application_id: uuid.UUID, *, for_update: bool = False
) -> Application | None:
    statement = select(Application).where(Application.id == application_id)
    if for_update:
        statement = statement.with_for_update()
    return (await session.scalars(statement)).first()


async def upsert_form(
    session: AsyncSession, municipality_code: str, code: str, values: dict[str, object]
) -> ApplicationForm:
    """The municipality's form of that code, created or updated (ids stay stable)."""
    found = (
        await session.scalars(
            select(ApplicationForm).where(
                ApplicationForm.municipality_code == municipality_code,
                ApplicationForm.code == code,
            )
        )
    ).first()
    if found is None:
        found = ApplicationForm(municipality_code=municipality_code, code=code)
        session.add(found)
    for key, value in values.items():
        setattr(found, key, value)
    await session.flush()
    return found


async def upsert_bundle(
    session: AsyncSession, municipality_code: str, code: str, values: dict[str, object]
) -> ApplicationBundle:
    found = (
        await session.scalars(
            select(ApplicationBundle).where(
                ApplicationBundle.municipality_code == municipality_code,
                ApplicationBundle.code == code,
            )
        )
    ).first()
    if found is None:
        found = ApplicationBundle(municipality_code=municipality_code, code=code)
        session.add(found)
    for key, value in values.items():
        setattr(found, key, value)
    await session.flush()
    return found


async def delete_bundles_except(
    session: AsyncSession, municipality_code: str, codes: Sequence[str]
) -> None:
    """Bundles no longer offered go; forms stay (applications refer to them)."""
    await session.execute(
        delete(ApplicationBundle).where(
            ApplicationBundle.municipality_code == municipality_code,
            ApplicationBundle.code.not_in(list(codes)),
            ~ApplicationBundle.id.in_(select(Application.bundle_id)),
        )
    )


async def add(session: AsyncSession, *rows: object) -> None:
    session.add_all(rows)
    await session.flush()


def _after(cursor: tuple[datetime, uuid.UUID] | None) -> Any:
    if cursor is None:
        return True
    at, last = cursor
    return or_(
        Application.created_at < at, and_(Application.created_at == at, Application.id < last)
    )


async def applications_page(
    session: AsyncSession,
    *,
    municipality_code: str | None = None,
    form_ids: Sequence[uuid.UUID] | None = None,
    resident_id: uuid.UUID | None = None,
    status: str | None = None,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[Application]:
    """Newest first, ``limit`` + 1 rows (the extra one says there is a next page)."""
    statement = select(Application).where(_after(after))
    if municipality_code is not None:
        statement = statement.where(Application.municipality_code == municipality_code)
    if form_ids is not None:
        statement = statement.where(Application.form_id.in_(list(form_ids)))
    if resident_id is not None:
        statement = statement.where(Application.resident_id == resident_id)
    if status is not None:
        statement = statement.where(Application.status == status)
    statement = statement.order_by(Application.created_at.desc(), Application.id.desc())
    return list(await session.scalars(statement.limit(limit + 1)))


async def events_of(
    session: AsyncSession, application_ids: Sequence[uuid.UUID]
) -> list[ApplicationEvent]:
    if not application_ids:
        return []
    rows = await session.scalars(
        select(ApplicationEvent)
        .where(ApplicationEvent.application_id.in_(list(application_ids)))
        .order_by(ApplicationEvent.at, ApplicationEvent.id)
    )
    return list(rows)


async def attachments_by_ids(
    session: AsyncSession, attachment_ids: Sequence[uuid.UUID]
) -> list[ApplicationAttachment]:
    if not attachment_ids:
        return []
    rows = await session.scalars(
        select(ApplicationAttachment).where(ApplicationAttachment.id.in_(list(attachment_ids)))
    )
    return list(rows)


async def attachments_of(
    session: AsyncSession, application_ids: Sequence[uuid.UUID]
) -> list[ApplicationAttachment]:
    if not application_ids:
        return []
    rows = await session.scalars(
        select(ApplicationAttachment)
        .where(ApplicationAttachment.application_id.in_(list(application_ids)))
        .order_by(ApplicationAttachment.created_at)
    )
    return list(rows)


async def count_unattached(session: AsyncSession, resident_id: uuid.UUID) -> int:
    """A resident's uploads not yet sent with an application."""
    count = await session.scalar(
        select(func.count())
        .select_from(ApplicationAttachment)
        .where(
            ApplicationAttachment.resident_id == resident_id,
            ApplicationAttachment.application_id.is_(None),
        )
    )
    return int(count or 0)
