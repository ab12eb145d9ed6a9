"""The active alerts as a CAP 1.2 Atom feed, for other apps and signage to re-publish.

Each entry embeds one CAP document written from the stored alert (its areas as they stand
now). Only ACTUAL, published, active alerts are listed: exercises, drafts and lifted alerts
never leave Kizuna this way. The feed is rebuilt only when an alert changed (the newest
``updated_at`` and the count are its version) and written in a worker thread.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections import defaultdict

from shapely.geometry import shape
from sqlalchemy.ext.asyncio import AsyncSession

from ..db.base import utcnow
from . import repository
from .cap_out import AtomEntry, atom_feed, cap_document
from .drafts import (
    AlertAction,
    AlertArea,
    AlertDraft,
    AlertKind,
    AlertSource,
    AlertStatus,
    AreaScheme,
    Severity,
)
from .models import Alert, AlertAreaRow, AlertState

MAX_FEED_ALERTS = 500
_cache_lock = threading.Lock()
# The last feed written and the alert versions it was written from. Nothing in the feed
# depends on the request, so a stranger can neither grow this nor force rebuilds.
_cache: list[tuple[tuple[object, ...], bytes]] = []
# Relative to wherever the feed is served (RFC 4287 links are IRI references).
FEED_PATH = "/cap/alerts.atom"


def _areas(
    rows: list[AlertAreaRow], links: dict[object, list[tuple[str, str]]]
) -> tuple[AlertArea, ...]:
    areas: list[AlertArea] = []
    for row in rows:
        if not row.active:
            continue
        if row.geometry_geojson:
            geometry = shape(json.loads(row.geometry_geojson))
            if geometry.geom_type in ("Polygon", "MultiPolygon"):
                areas.append(AlertArea(AreaScheme.GEOMETRY, row.name, geometry=geometry))
            continue
        for code, town in links.get(row.id, []):
            if town:
                areas.append(AlertArea(AreaScheme.TOWN, town, code=code))
            else:
                areas.append(AlertArea(AreaScheme.MUNICIPALITY, row.name, code=code))
    return tuple(areas)


def _draft(alert: Alert, areas: tuple[AlertArea, ...]) -> AlertDraft:
    return AlertDraft(
        source=AlertSource(alert.source),
        source_id=alert.last_source_id,
        event_key=alert.event_key,
        kind=AlertKind(alert.kind),
        action=AlertAction.UPDATE if alert.version > 1 else AlertAction.ISSUE,
        status=AlertStatus(alert.status),
        headline_ja=alert.headline_ja,
        issued_at=alert.issued_at,
        areas=areas,
        issuer=alert.issuer,
        type_code=alert.type_code,
        title_ja=alert.title_ja,
        title_en=alert.title_en,
        headline_en=alert.headline_en,
        headline_easy_ja=alert.headline_easy_ja,
        body_ja=alert.body_ja,
        body_en=alert.body_en,
        level=alert.level,
        severity=Severity(alert.severity),
        intensity=alert.intensity,
        effective_at=alert.effective_at,
        expires_at=alert.expires_at,
    )


async def active_alerts_feed(session: AsyncSession, sender: str) -> bytes:
    """The Atom feed of active actual alerts (newest first, at most MAX_FEED_ALERTS)."""
    alerts = await repository.list_alerts(
        session,
        states=[AlertState.ACTIVE.value],
        statuses=[AlertStatus.ACTUAL.value],
        municipality_codes=None,
        limit=MAX_FEED_ALERTS,
        before=None,
        unexpired=True,
    )
    version = (sender, len(alerts), *((a.id, a.version) for a in alerts))
    with _cache_lock:
        cached = _cache[0] if _cache else None
    if cached is not None and cached[0] == version:
        return cached[1]
    rows = await repository.areas_of(session, [a.id for a in alerts])
    links: dict[object, list[tuple[str, str]]] = defaultdict(list)
    for area_id, code, town in await repository.municipality_links(session, [r.id for r in rows]):
        links[area_id].append((code, town))
    rows_of: dict[object, list[AlertAreaRow]] = defaultdict(list)
    for row in rows:
        rows_of[row.alert_id].append(row)
    drafts = [(a, _draft(a, _areas(rows_of[a.id], links))) for a in alerts]
    updated = max((a.updated_at for a in alerts), default=utcnow())

    def build() -> bytes:
        entries = [
            AtomEntry(
                entry_id=f"urn:kizuna:alert:{alert.id}:{alert.version}",
                title=draft.title_ja or draft.headline_ja[:100],
                updated=alert.updated_at,
                cap=cap_document(draft, f"kizuna-{alert.id}-{alert.version}", sender,
                                 sent=alert.updated_at),
                summary=draft.headline_ja,
            )
            for alert, draft in drafts
            if draft.areas
        ]  # fmt: skip
        return atom_feed(entries, f"urn:kizuna:alerts:{sender}", FEED_PATH, updated)

    body = await asyncio.to_thread(build)
    with _cache_lock:
        _cache[:] = [(version, body)]
    return body
