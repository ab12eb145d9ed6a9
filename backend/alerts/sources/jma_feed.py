"""JMA's Atom feeds of disaster XML (気象庁防災情報XML 高頻度フィード), read step by step.

The worker loop (wired elsewhere) calls ``poll_feed`` with the validators of its previous
poll: JMA answers 304 when nothing changed, else the feed; the entries whose telegram link the
caller has not seen yet come back oldest first, and ``fetch_telegram`` gets each telegram's
bytes for ``jma.read_jma_telegram``. Both are size-capped while reading (a feed or telegram
that lies about its length cannot exhaust memory); the feed is parsed with defusedxml in a
worker thread; links may only point to the feed's own host unless others are allowed, so a
tampered feed cannot make the worker fetch internal addresses.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Container
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urljoin, urlsplit

import httpx

from ...errors import DomainError
from ...ingest.problems import FileRefused, Problems
from ...ingest.xml_doc import load_xml
from .jma import MAX_TELEGRAM_BYTES

ATOM = "{http://www.w3.org/2005/Atom}"
# JMA's feeds hold the last few hundred entries, ~100-500 KB.
MAX_FEED_BYTES = 4 * 1024 * 1024


class FeedUnavailable(DomainError):
    """A feed or telegram could not be fetched; ``retryable`` when trying later may help."""

    def __init__(self, message: str, message_ja: str, *, retryable: bool) -> None:
        super().__init__(message, message_ja)
        self.retryable = retryable


class FeedRefused(FileRefused):
    what = "JMA Atom feed"
    what_ja = "気象庁のフィード"


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """One telegram announced by the feed."""

    url: str  # the telegram's absolute URL: what the caller remembers as seen
    entry_id: str
    title: str
    updated: datetime | None


@dataclass(frozen=True, slots=True)
class FeedPoll:
    """What one poll found: the new entries and the validators for the next poll."""

    modified: bool  # False: 304, nothing new
    entries: tuple[FeedEntry, ...]
    last_modified: str | None
    etag: str | None
    skipped: tuple[str, ...] = ()  # links refused (another host, not http)


async def poll_feed(
    client: httpx.AsyncClient,
    url: str,
    *,
    last_modified: str | None = None,
    etag: str | None = None,
    seen: Container[str] = frozenset(),
    allowed_hosts: Collection[str] | None = None,
    max_bytes: int = MAX_FEED_BYTES,
) -> FeedPoll:
    """GET the feed (conditional on the previous poll) and return the entries not yet seen."""
    headers = {"Accept": "application/atom+xml, application/xml;q=0.9"}
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    if etag:
        headers["If-None-Match"] = etag
    status, data, response_headers = await _get_capped(client, url, headers, max_bytes)
    if status == 304:
        return FeedPoll(False, (), last_modified, etag)
    entries = await asyncio.to_thread(parse_feed, data, url)
    hosts = {urlsplit(url).hostname} if allowed_hosts is None else set(allowed_hosts)
    fresh: list[FeedEntry] = []
    skipped: list[str] = []
    for entry in entries:
        parts = urlsplit(entry.url)
        if parts.scheme not in ("http", "https") or parts.hostname not in hosts:
            skipped.append(entry.url)
        elif entry.url not in seen:
            fresh.append(entry)
    return FeedPoll(
        True,
        tuple(_oldest_first(fresh)),
        response_headers.get("last-modified") or last_modified,
        response_headers.get("etag") or etag,
        tuple(skipped),
    )


async def fetch_telegram(
    client: httpx.AsyncClient, url: str, *, max_bytes: int = MAX_TELEGRAM_BYTES
) -> bytes:
    """The bytes of one telegram, refused (never read whole) when over ``max_bytes``."""
    _status, data, _headers = await _get_capped(client, url, {}, max_bytes)
    return data


def parse_feed(data: bytes, url: str) -> list[FeedEntry]:
    """The entries of an Atom feed, in feed order, links made absolute (pure, CPU-bound)."""
    problems = Problems(url, FeedRefused)
    root = load_xml(data, problems).root
    if root.tag != f"{ATOM}feed":
        problems.fail(
            None,
            f"not an Atom feed: the root element is {root.tag.rsplit('}', 1)[-1]!r}",
            "アトム形式のフィードではありません（最上位の要素がフィードの要素ではありません）",
        )
    entries: list[FeedEntry] = []
    for element in root.findall(f"{ATOM}entry"):
        link = next(
            (
                link
                for link in element.findall(f"{ATOM}link")
                if link.get("rel", "alternate") in ("alternate", "related") and link.get("href")
            ),
            None,
        )
        if link is None:
            continue
        entries.append(
            FeedEntry(
                url=urljoin(url, (link.get("href") or "").strip()),
                entry_id=(element.findtext(f"{ATOM}id") or "").strip(),
                title=(element.findtext(f"{ATOM}title") or "").strip(),
                updated=_time(element.findtext(f"{ATOM}updated")),
            )
        )
    return entries


def _time(raw: str | None) -> datetime | None:
    try:
        value = datetime.fromisoformat((raw or "").strip())
    except ValueError:
        return None
    return value if value.tzinfo is not None else None


def _oldest_first(entries: list[FeedEntry]) -> list[FeedEntry]:
    # JMA lists the newest first; entries without a time keep their place relative to others.
    ordered = list(reversed(entries))
    if all(e.updated is not None for e in ordered):
        ordered.sort(key=lambda e: e.updated)  # type: ignore[arg-type, return-value]
    return ordered


async def _get_capped(
    client: httpx.AsyncClient, url: str, headers: dict[str, str], max_bytes: int
) -> tuple[int, bytes, httpx.Headers]:
    try:
        async with client.stream("GET", url, headers=headers) as response:
            if response.status_code == 304:
                return 304, b"", response.headers
            if response.status_code != 200:
                retryable = response.status_code in (408, 425, 429) or response.status_code >= 500
                raise FeedUnavailable(
                    f"{url} answered HTTP {response.status_code}",
                    f"{url} が状態コード {response.status_code} を返しました",
                    retryable=retryable,
                )
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise _too_large(url, max_bytes)
            chunks: list[bytes] = []
            received = 0
            async for chunk in response.aiter_bytes():
                received += len(chunk)
                if received > max_bytes:
                    raise _too_large(url, max_bytes)
                chunks.append(chunk)
            return response.status_code, b"".join(chunks), response.headers
    except httpx.HTTPError as exc:
        raise FeedUnavailable(
            f"{url} could not be fetched: {type(exc).__name__}",
            f"{url} を取得できませんでした（通信の失敗）",
            retryable=True,
        ) from exc


def _too_large(url: str, max_bytes: int) -> FeedUnavailable:
    return FeedUnavailable(
        f"{url} is larger than the limit of {max_bytes:,} bytes",
        f"{url} が上限の {max_bytes:,} バイトを超えています",
        retryable=False,
    )
