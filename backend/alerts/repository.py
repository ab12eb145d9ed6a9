"""SQL for alerts, their areas, receipts and refusals."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ..db.base import utcnow
from ..db.dialect import chunked, insert_ignoring_conflicts, table_of
from .drafts import AlertStatus
from .models import (
    Alert,
    AlertAreaCell,
    AlertAreaMunicipality,
    AlertAreaRow,
    AlertReceipt,
    AlertRejection,
    AlertState,
)


async def receipt(session: AsyncSession, source_id: str) -> AlertReceipt | None:
    return await session.get(AlertReceipt, source_id)


async def add_receipt(
    session: AsyncSession, source_id: str, alert_id: uuid.UUID | None, via: str, sha256: str | None
) -> None:
    await insert_ignoring_conflicts(
        session,
        table_of(AlertReceipt),
        [{"source_id": source_id, "alert_id": alert_id, "via": via, "sha256": sha256}],
        index_elements=["source_id"],
    )


async def by_event(session: AsyncSession, source: str, event_key: str) -> Alert | None:
    return await session.scalar(
        select(Alert).where(Alert.source == source, Alert.event_key == event_key)
    )


async def by_last_source(
    session: AsyncSession, source: str, source_ids: Sequence[str]
) -> Alert | None:
    """The alert whose latest delivery is one of these (a CAP Update naming its predecessor)."""
    if not source_ids:
        return None
    return await session.scalar(
        select(Alert)
        .where(Alert.source == source, Alert.last_source_id.in_(list(source_ids)))
        .order_by(Alert.updated_at.desc())
        .limit(1)
    )


async def get(session: AsyncSession, alert_id: uuid.UUID) -> Alert | None:
    return await session.get(Alert, alert_id)


async def areas_of(session: AsyncSession, alert_ids: Sequence[uuid.UUID]) -> list[AlertAreaRow]:
    if not alert_ids:
        return []
    statement = (
        select(AlertAreaRow)
        .where(AlertAreaRow.alert_id.in_(list(alert_ids)))
        .order_by(AlertAreaRow.alert_id, AlertAreaRow.area_key)
    )
    return list(await session.scalars(statement))


async def replace_area_links(
    session: AsyncSession,
    links: Sequence[tuple[uuid.UUID, Sequence[tuple[str, str]], Sequence[tuple[int, bool]]]],
) -> None:
    """Set what areas cover: per area, (municipality, town) pairs and (cell, interior) pairs."""
    area_ids = [area_id for area_id, _, _ in links]
    for chunk in chunked(area_ids):
        await session.execute(
            delete(AlertAreaMunicipality).where(AlertAreaMunicipality.area_id.in_(chunk))
        )
        await session.execute(delete(AlertAreaCell).where(AlertAreaCell.area_id.in_(chunk)))
    municipalities = [
        {"area_id": area_id, "municipality_code": code, "town": town}
        for area_id, pairs, _ in links
        for code, town in sorted(set(pairs))
    ]
    cells = [
        {"area_id": area_id, "h3_res7": cell, "interior": inside}
        for area_id, _, area_cells in links
        for cell, inside in area_cells
    ]
    if municipalities:
        await session.execute(table_of(AlertAreaMunicipality).insert(), municipalities)
    if cells:
        await session.execute(table_of(AlertAreaCell).insert(), cells)


class AreaCover(NamedTuple):
    """What one area covers, loaded for targeting."""

    area_id: uuid.UUID
    alert_id: uuid.UUID
    level: int | None
    intensity: str | None
    geometry_geojson: str | None


async def municipality_links(
    session: AsyncSession, area_ids: Sequence[uuid.UUID]
) -> list[tuple[uuid.UUID, str, str]]:
    rows: list[tuple[uuid.UUID, str, str]] = []
    for chunk in chunked(area_ids):
        result = await session.execute(
            select(
                AlertAreaMunicipality.area_id,
                AlertAreaMunicipality.municipality_code,
                AlertAreaMunicipality.town,
            ).where(AlertAreaMunicipality.area_id.in_(chunk))
        )
        rows.extend((a, c, t) for a, c, t in result)
    return rows


async def cell_links(
    session: AsyncSession, area_ids: Sequence[uuid.UUID]
) -> list[tuple[uuid.UUID, int, bool]]:
    rows: list[tuple[uuid.UUID, int, bool]] = []
    for chunk in chunked(area_ids):
        result = await session.execute(
            select(AlertAreaCell.area_id, AlertAreaCell.h3_res7, AlertAreaCell.interior).where(
                AlertAreaCell.area_id.in_(chunk)
            )
        )
        rows.extend((a, c, i) for a, c, i in result)
    return rows


def _live_areas() -> Any:
    """Active areas of active, actual alerts: what concerns residents."""
    return (
        select(
            AlertAreaRow.id,
            AlertAreaRow.alert_id,
            AlertAreaRow.level,
            AlertAreaRow.intensity,
            AlertAreaRow.geometry_geojson,
        )
        .join(Alert, Alert.id == AlertAreaRow.alert_id)
        .where(
            AlertAreaRow.active.is_(True),
            Alert.state == AlertState.ACTIVE.value,
            Alert.status == AlertStatus.ACTUAL.value,
            _unexpired(),
        )
    )


def _unexpired() -> Any:
    # A CAP alert past its <expires> concerns nobody any more, though nobody lifted it.
    return or_(Alert.expires_at.is_(None), Alert.expires_at > utcnow())


async def live_areas_in_municipalities(
    session: AsyncSession, codes: Sequence[str]
) -> list[tuple[AreaCover, str, str]]:
    """(area, municipality, town) for live areas covering any of these municipalities."""
    if not codes:
        return []
    statement = (
        _live_areas()
        .add_columns(AlertAreaMunicipality.municipality_code, AlertAreaMunicipality.town)
        .join(AlertAreaMunicipality, AlertAreaMunicipality.area_id == AlertAreaRow.id)
        .where(AlertAreaMunicipality.municipality_code.in_(list(codes)))
    )
    result = await session.execute(statement)
    return [(AreaCover(*row[:5]), row[5], row[6]) for row in result]


async def live_areas_in_cells(
    session: AsyncSession, cells: Sequence[int]
) -> list[tuple[AreaCover, int, bool]]:
    """(area, cell, interior) for live polygon areas touching any of these cells."""
    if not cells:
        return []
    statement = (
        _live_areas()
        .add_columns(AlertAreaCell.h3_res7, AlertAreaCell.interior)
        .join(AlertAreaCell, AlertAreaCell.area_id == AlertAreaRow.id)
        .where(AlertAreaCell.h3_res7.in_(list(cells)))
    )
    result = await session.execute(statement)
    return [(AreaCover(*row[:5]), row[5], row[6]) for row in result]


async def alerts_by_ids(session: AsyncSession, ids: Sequence[uuid.UUID]) -> list[Alert]:
    if not ids:
        return []
    return list(await session.scalars(select(Alert).where(Alert.id.in_(list(ids)))))


async def list_alerts(
    session: AsyncSession,
    *,
    states: Sequence[str] | None,
    statuses: Sequence[str] | None,
    municipality_codes: Sequence[str] | None,
    limit: int,
    before: tuple[datetime, uuid.UUID] | None,
    unexpired: bool = False,
) -> list[Alert]:
    """Alerts newest first; ``municipality_codes`` keeps those owned by or covering them."""
    statement = select(Alert)
    if unexpired:
        statement = statement.where(_unexpired())
    if states:
        statement = statement.where(Alert.state.in_(list(states)))
    if statuses:
        statement = statement.where(Alert.status.in_(list(statuses)))
    if municipality_codes is not None:
        covering = (
            select(AlertAreaRow.alert_id)
            .join(AlertAreaMunicipality, AlertAreaMunicipality.area_id == AlertAreaRow.id)
            .where(AlertAreaMunicipality.municipality_code.in_(list(municipality_codes)))
        )
        statement = statement.where(
            Alert.municipality_code.in_(list(municipality_codes)) | Alert.id.in_(covering)
        )
    if before is not None:
        at, last_id = before
        statement = statement.where(
            (Alert.updated_at < at) | ((Alert.updated_at == at) & (Alert.id < last_id))
        )
    statement = statement.order_by(Alert.updated_at.desc(), Alert.id.desc()).limit(limit)
    return list(await session.scalars(statement))


async def deactivate_areas(
    session: AsyncSession, alert_id: uuid.UUID, area_keys: Sequence[str] | None, at: datetime
) -> None:
    statement = update(AlertAreaRow).where(AlertAreaRow.alert_id == alert_id)
    if area_keys is not None:
        statement = statement.where(AlertAreaRow.area_key.in_(list(area_keys)))
    await session.execute(statement.values(active=False, updated_at=at))


async def active_area_count(session: AsyncSession, alert_id: uuid.UUID) -> int:
    return int(
        await session.scalar(
            select(func.count())
            .select_from(AlertAreaRow)
            .where(AlertAreaRow.alert_id == alert_id, AlertAreaRow.active.is_(True))
        )
        or 0
    )


async def add_rejection(session: AsyncSession, values: dict[str, Any]) -> None:
    session.add(AlertRejection(**values))


async def rejections(
    session: AsyncSession, limit: int, before: datetime | None
) -> list[AlertRejection]:
    statement = select(AlertRejection)
    if before is not None:
        statement = statement.where(AlertRejection.received_at < before)
    statement = statement.order_by(AlertRejection.received_at.desc()).limit(limit)
    return list(await session.scalars(statement))
