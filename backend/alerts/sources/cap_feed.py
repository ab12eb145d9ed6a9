"""Atom and RSS index feeds of CAP alerts: the entries to fetch (or read in place).

A feed is hostile input like any document: size-capped, parsed by ``load_xml`` (no DTD, no
entity), entries counted before they are read, and only http(s) links kept (a relative one
is resolved against the feed's URL). The CAP link of an entry is, in order of preference: a
link (Atom) or enclosure (RSS) typed ``application/cap+xml``, the Atom ``alternate`` link,
the RSS ``link``, a permalink ``guid``. An entry that embeds its CAP message in ``content``
(as ``alerts.cap_out.atom_feed`` writes) carries it as bytes too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit
from xml.etree.ElementTree import Element, tostring

from ...ingest.files import check_size
from ...ingest.problems import Problems
from ...ingest.xml_doc import XmlDocument, load_xml
from .cap import CAP_ALERT
from .common import (
    MAX_DOCUMENT_BYTES,
    AlertDocumentRefused,
    child,
    child_text,
    children,
    local_name,
)

ATOM_NS = "http://www.w3.org/2005/Atom"
CAP_MIME = "application/cap+xml"
# An index feed lists recent alerts; a feed longer than this is refused, not cut short.
MAX_ENTRIES = 2_000
MAX_FEED_BYTES = 8 * MAX_DOCUMENT_BYTES
MAX_URL_CHARS = 2_000


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """One entry of a CAP index feed."""

    url: str | None  # absolute http(s) URL of the CAP message; None when only embedded
    entry_id: str | None  # Atom id / RSS guid, for remembering what was seen
    updated: datetime | None
    cap: bytes | None = None  # the CAP message embedded in the entry, serialised


def cap_feed_entries(
    data: bytes,
    name: str = "<feed>",
    *,
    feed_url: str | None = None,
    max_bytes: int = MAX_FEED_BYTES,
) -> list[FeedEntry]:
    """The entries of an Atom or RSS 2.0 feed of CAP alerts; raises AlertDocumentRefused."""
    problems = Problems(name, AlertDocumentRefused)
    check_size(data, max_bytes, problems)
    doc = load_xml(data, problems)
    root = doc.root
    if root.tag == f"{{{ATOM_NS}}}feed":
        items = children(root, "entry")
    elif local_name(root) == "rss" and child(root, "channel") is not None:
        items = children(child(root, "channel"), "item")  # type: ignore[arg-type]
    else:
        problems.fail(
            doc.line(root),
            f"not an Atom or RSS feed: the root element is {root.tag!r}"[:300],
            f"配信フィードではありません（最上位の要素が '{local_name(root)}' です）",
        )
    if len(items) > MAX_ENTRIES:
        problems.fail(
            doc.line(root),
            f"{len(items):,} entries, the limit is {MAX_ENTRIES:,}",
            f"項目が {len(items):,} 件あり、上限の {MAX_ENTRIES:,} 件を超えています",
        )
    reader = _atom_entry if root.tag == f"{{{ATOM_NS}}}feed" else _rss_item
    entries = [reader(doc, item, feed_url, problems) for item in items]
    problems.raise_if_any()
    return [entry for entry in entries if entry is not None]


def _atom_entry(
    doc: XmlDocument, entry: Element, feed_url: str | None, problems: Problems
) -> FeedEntry | None:
    links = [link for link in children(entry, "link") if link.tag == f"{{{ATOM_NS}}}link"]
    typed = [link for link in links if link.get("type") == CAP_MIME]
    alternate = [link for link in links if link.get("rel", "alternate") == "alternate"]
    chosen = next(iter(typed or alternate), None)
    content = child(entry, "content")
    embedded = _embedded(content)
    url = None
    if chosen is not None:
        url = _url(doc, chosen, chosen.get("href", ""), feed_url, problems)
        if url is None:
            return None
    elif embedded is None:
        problems.add(doc.line(entry), "feed entry has no link to a CAP message",
                     "項目に警報へのリンクがありません")  # fmt: skip
        return None
    updated_text = child_text(entry, "updated") or child_text(entry, "published")
    return FeedEntry(url, child_text(entry, "id"), _iso_time(updated_text), embedded)


def _rss_item(
    doc: XmlDocument, item: Element, feed_url: str | None, problems: Problems
) -> FeedEntry | None:
    enclosures = [e for e in children(item, "enclosure") if e.get("type") == CAP_MIME]
    guid = child(item, "guid")
    candidates: list[tuple[Element, str]] = [(e, e.get("url", "")) for e in enclosures]
    link = child(item, "link")
    if link is not None and link.text:
        candidates.append((link, link.text.strip()))
    if guid is not None and guid.text and guid.get("isPermaLink", "true") != "false":
        candidates.append((guid, guid.text.strip()))
    if not candidates:
        problems.add(doc.line(item), "feed item has no link to a CAP message",
                     "項目に警報へのリンクがありません")  # fmt: skip
        return None
    element, raw = candidates[0]
    url = _url(doc, element, raw, feed_url, problems)
    if url is None:
        return None
    published = child_text(item, "pubDate")
    updated = None
    if published is not None:
        try:
            updated = parsedate_to_datetime(published)
        except (TypeError, ValueError):
            updated = None
    entry_id = child_text(item, "guid")
    return FeedEntry(url, entry_id, updated)


def _url(
    doc: XmlDocument, element: Element, raw: str, feed_url: str | None, problems: Problems
) -> str | None:
    raw = raw.strip()
    url = urljoin(feed_url, raw) if feed_url else raw
    parts = urlsplit(url) if len(url) <= MAX_URL_CHARS else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
        problems.add(
            doc.line(element),
            f"link {raw[:200]!r} is not an http(s) URL",
            f"リンク '{raw[:100]}' がウェブのアドレスではありません",
        )
        return None
    return url


def _embedded(content: Element | None) -> bytes | None:
    if content is None:
        return None
    alert = next((e for e in content if e.tag == CAP_ALERT), None)
    return None if alert is None else tostring(alert, encoding="utf-8", xml_declaration=True)


def _iso_time(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
