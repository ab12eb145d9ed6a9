"""Alerts out as CAP 1.2 and an Atom feed of them, so other apps and signage can re-publish.

``cap_document`` writes one draft as a CAP 1.2 message that validates against the OASIS
schema: a Japanese info block and, when the draft has English text, an English one; polygons
back to "lat,lon" pairs (holes dropped: CAP has none, and a larger area errs on the side of
warning); municipalities as JIS X 0402 geocodes with check digit; towns and JMA areas as
geocodes that ``sources.cap`` reads back to the same scheme. Areas a draft lifts are left out.
``atom_feed`` lists CAP documents, each embedded in its entry (and linked when a URL is given).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from xml.etree.ElementTree import Element, SubElement, tostring

from lxml import etree
from shapely.geometry import MultiPolygon, Point, Polygon
from shapely.geometry.base import BaseGeometry

from ..municipalities.reference import with_check_digit
from .drafts import AlertAction, AlertArea, AlertDraft, AlertKind, AlertStatus, AreaScheme
from .sources.cap import CAP_NS, JMA_GEOCODE_NAMES, TOWN_GEOCODE_NAME
from .sources.common import hardened_parser

ATOM_NS = "http://www.w3.org/2005/Atom"
CAP_MIME = "application/cap+xml"
MUNICIPALITY_GEOCODE_NAME = "JIS X 0402"

_STATUS = {
    AlertStatus.ACTUAL: "Actual",
    AlertStatus.EXERCISE: "Exercise",
    AlertStatus.SYSTEM: "System",
    AlertStatus.TEST: "Test",
    AlertStatus.DRAFT: "Draft",
}
_MSG_TYPE = {
    AlertAction.ISSUE: "Alert",
    AlertAction.UPDATE: "Update",
    AlertAction.LIFT: "Update",
    AlertAction.CANCEL: "Cancel",
}
_CATEGORY = {
    AlertKind.EVACUATION: "Safety",
    AlertKind.EARTHQUAKE: "Geo",
    AlertKind.TSUNAMI_WARNING: "Geo",
    AlertKind.TSUNAMI_ADVISORY: "Geo",
    AlertKind.TSUNAMI_INFO: "Geo",
    AlertKind.NOTICE: "Other",
    AlertKind.EMERGENCY_NOTICE: "Safety",
}  # the weather kinds: "Met"
_URGENT = frozenset(
    {
        AlertKind.EVACUATION,
        AlertKind.EMERGENCY_WARNING,
        AlertKind.TSUNAMI_WARNING,
        AlertKind.EMERGENCY_NOTICE,
    }
)
_CAP_CATEGORIES = frozenset(
    [
        "Geo",
        "Met",
        "Safety",
        "Security",
        "Rescue",
        "Fire",
        "Health",
        "Env",
        "Transport",
        "Infra",
        "CBRNE",
        "Other",
    ]
)
_URGENCIES = frozenset({"Immediate", "Expected", "Future", "Past", "Unknown"})
_CERTAINTIES = frozenset({"Observed", "Likely", "Possible", "Unlikely", "Unknown"})
_FORBIDDEN = re.compile(r"[\s,<&]")


def cap_time(value: datetime) -> str:
    """A time as CAP writes it: seconds and a numeric UTC offset ("2025-07-01T10:00:00+09:00")."""
    if value.tzinfo is None:
        raise ValueError("CAP times need a timezone")
    return value.replace(microsecond=0).isoformat()


def cap_identity(sender: str, identifier: str, sent: datetime) -> str:
    """The "sender,identifier,sent" triple other messages use to reference this one."""
    return f"{sender},{identifier},{cap_time(sent)}"


def cap_document(
    draft: AlertDraft,
    identifier: str,
    sender: str,
    *,
    references: Sequence[str] = (),
    sent: datetime | None = None,
) -> bytes:
    """The draft as a CAP 1.2 message (UTF-8 bytes) valid against the OASIS schema.

    ``references``: "sender,identifier,sent" triples of earlier messages this one updates or
    cancels; ``sent`` defaults to the draft's ``issued_at``.
    """
    for value, what in ((identifier, "identifier"), (sender, "sender")):
        if not value or _FORBIDDEN.search(value):
            raise ValueError(f"CAP {what} must be non-empty without spaces, commas, < or &")
    for reference in references:
        if len(reference.split(",")) != 3 or any(c.isspace() for c in reference):
            raise ValueError(f"not a CAP reference (sender,identifier,sent): {reference!r}")
    alert = Element(f"{{{CAP_NS}}}alert")
    _text(alert, "identifier", identifier)
    _text(alert, "sender", sender)
    _text(alert, "sent", cap_time(sent or draft.issued_at))
    _text(alert, "status", _STATUS[draft.status])
    _text(alert, "msgType", _MSG_TYPE[draft.action])
    _text(alert, "scope", "Public")
    if references:
        _text(alert, "references", " ".join(references))
    _info(alert, draft, "ja-JP", draft.title_ja, draft.headline_ja, draft.body_ja)
    if draft.headline_en or draft.title_en:
        _info(alert, draft, "en-US", draft.title_en, draft.headline_en, draft.body_en)
    return tostring(alert, encoding="utf-8", xml_declaration=True, default_namespace=CAP_NS)


def _info(
    alert: Element,
    draft: AlertDraft,
    language: str,
    title: str | None,
    headline: str | None,
    body: str | None,
) -> None:
    info = _sub(alert, "info")
    _text(info, "language", language)
    stated = [c for c in draft.details.get("category", "").split(",") if c in _CAP_CATEGORIES]
    for category in stated or [_CATEGORY.get(draft.kind, "Met")]:
        _text(info, "category", category)
    _text(info, "event", title or headline or draft.headline_ja)
    if draft.action is AlertAction.LIFT:
        _text(info, "responseType", "AllClear")
    elif draft.kind is AlertKind.EVACUATION:
        _text(info, "responseType", "Evacuate")
    urgency = draft.details.get("urgency", "")
    if urgency not in _URGENCIES:
        urgency = "Immediate" if draft.kind in _URGENT else "Unknown"
    _text(info, "urgency", urgency)
    _text(info, "severity", draft.severity.value.capitalize())
    certainty = draft.details.get("certainty", "")
    _text(info, "certainty", certainty if certainty in _CERTAINTIES else "Unknown")
    if draft.type_code:
        _pair(info, "eventCode", draft.source.value, draft.type_code)
    if draft.effective_at is not None:
        _text(info, "effective", cap_time(draft.effective_at))
    if draft.expires_at is not None:
        _text(info, "expires", cap_time(draft.expires_at))
    _text(info, "senderName", draft.issuer)
    if headline:
        _text(info, "headline", headline)
    if body:
        _text(info, "description", body)
    if draft.level is not None:
        _pair(info, "parameter", "警戒レベル", str(draft.level))
    if draft.intensity is not None:
        _pair(info, "parameter", "震度", draft.intensity)
    for area in draft.areas:
        if area.action is not AlertAction.LIFT:
            _area(info, area)


def _area(info: Element, area: AlertArea) -> None:
    element = _sub(info, "area")
    _text(element, "areaDesc", area.name or "対象地域")
    for polygon in _polygons(area.geometry):
        ring = polygon.exterior.coords
        _text(element, "polygon", " ".join(f"{y!r},{x!r}" for x, y, *_ in ring))
    if isinstance(area.geometry, Point):
        _text(element, "circle", f"{area.geometry.y!r},{area.geometry.x!r} 0")
    if area.code is None:
        return
    if area.scheme is AreaScheme.MUNICIPALITY:
        _pair(element, "geocode", MUNICIPALITY_GEOCODE_NAME, with_check_digit(area.code))
    elif area.scheme is AreaScheme.TOWN:
        _pair(element, "geocode", TOWN_GEOCODE_NAME, with_check_digit(area.code))
    elif area.scheme.value in JMA_GEOCODE_NAMES:
        _pair(element, "geocode", area.scheme.value, area.code)
    else:  # JMA_OTHER "scheme:value" as the CAP reader keeps foreign geocodes
        name, _, value = area.code.partition(":")
        _pair(element, "geocode", name if value else "jma_other", value or name)


def _polygons(geometry: BaseGeometry | None) -> list[Polygon]:
    if isinstance(geometry, Polygon) and not geometry.is_empty:
        return [geometry]
    if isinstance(geometry, MultiPolygon):
        return [p for p in geometry.geoms if not p.is_empty]
    return []


def _sub(parent: Element, name: str) -> Element:
    return SubElement(parent, f"{{{CAP_NS}}}{name}")


def _text(parent: Element, name: str, text: str) -> None:
    _sub(parent, name).text = text


def _pair(parent: Element, name: str, value_name: str, value: str) -> None:
    pair = _sub(parent, name)
    _text(pair, "valueName", value_name)
    _text(pair, "value", value)


# --- Atom ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AtomEntry:
    """One entry of the alert feed: a CAP document (from ``cap_document``) and its facts."""

    entry_id: str  # a URI, e.g. "urn:kizuna:alert:42:3"
    title: str
    updated: datetime
    cap: bytes
    link: str | None = None  # where the CAP document is served on its own
    summary: str | None = None


def atom_feed(
    entries: Sequence[AtomEntry], feed_id: str, feed_url: str, updated: datetime
) -> bytes:
    """An Atom 1.0 feed (UTF-8 bytes) whose entries each embed (and link) a CAP message."""
    # lxml, unlike ElementTree, writes the Atom namespace as the default one while elements
    # carry unqualified attributes (rel, href).
    feed = etree.Element(f"{{{ATOM_NS}}}feed", nsmap={None: ATOM_NS, "cap": CAP_NS})
    _atom(feed, "id", feed_id)
    _atom(feed, "title", "Kizuna alerts (CAP 1.2)")
    _atom(feed, "updated", cap_time(updated))
    etree.SubElement(feed, f"{{{ATOM_NS}}}link", rel="self", href=feed_url)
    _atom(etree.SubElement(feed, f"{{{ATOM_NS}}}author"), "name", "Kizuna")
    for entry in entries:
        element = etree.SubElement(feed, f"{{{ATOM_NS}}}entry")
        _atom(element, "id", entry.entry_id)
        _atom(element, "title", entry.title)
        _atom(element, "updated", cap_time(entry.updated))
        if entry.link:
            etree.SubElement(
                element, f"{{{ATOM_NS}}}link", rel="alternate", type=CAP_MIME, href=entry.link
            )
        if entry.summary:
            _atom(element, "summary", entry.summary)
        content = etree.SubElement(element, f"{{{ATOM_NS}}}content", type=CAP_MIME)
        # Our own output, but read as any XML is: no DTD, no entity, no network.
        content.append(etree.fromstring(entry.cap, hardened_parser()))
    data: bytes = etree.tostring(feed, encoding="utf-8", xml_declaration=True)
    return data


def _atom(parent: Any, name: str, text: str) -> None:
    etree.SubElement(parent, f"{{{ATOM_NS}}}{name}").text = text
