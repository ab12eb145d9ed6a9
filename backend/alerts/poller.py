"""Alert feeds polled by ``kizuna worker``: JMA's Atom feed and CAP index feeds.

Each poll is conditional (If-Modified-Since / ETag for JMA), fetches only entries not seen
before, and hands every document to the one ingest path (size cap, safe parsing off the loop,
duplicates ignored by receipt). A refused document goes to the rejection log and the poll goes
on; an unreachable feed is retried at the next interval. Seen entries are remembered in memory
(bounded); after a restart the receipts recognise what was already stored.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx

from ..config import Settings
from ..db.session import Database, RequestDatabase
from ..errors import DomainError
from .drafts import AlertSource
from .ingest import IngestReport, ingest_document
from .sources.cap_feed import MAX_FEED_BYTES as MAX_CAP_FEED_BYTES
from .sources.cap_feed import cap_feed_entries
from .sources.jma_feed import fetch_telegram, poll_feed

log = logging.getLogger("kizuna.alerts.feeds")
MAX_REMEMBERED = 10_000


class _Seen:
    """The last MAX_REMEMBERED entry keys, oldest forgotten first."""

    def __init__(self) -> None:
        self._keys: OrderedDict[str, None] = OrderedDict()

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def add(self, key: str) -> None:
        self._keys[key] = None
        self._keys.move_to_end(key)
        while len(self._keys) > MAX_REMEMBERED:
            self._keys.popitem(last=False)


@dataclass(slots=True)
class PollReport:
    documents: int = 0
    refused: int = 0
    duplicates: int = 0
    unavailable: list[str] = field(default_factory=list)


@dataclass(slots=True)
class _FeedState:
    last_modified: str | None = None
    etag: str | None = None
    seen: _Seen = field(default_factory=_Seen)


class FeedPoller:
    """Polls the configured feeds; ``poll_once`` for one round, ``run`` until stopped."""

    def __init__(
        self, database: Database, settings: Settings, client: httpx.AsyncClient | None = None
    ) -> None:
        self.database = database
        self.settings = settings
        self.client = client or httpx.AsyncClient(
            timeout=settings.http_timeout_seconds, follow_redirects=False
        )
        self._states: dict[str, _FeedState] = {}

    @property
    def configured(self) -> bool:
        return bool(self.settings.jma_feed_url or self.settings.cap_feed_url_list)

    async def _ingest(
        self, data: bytes, name: str, via: str, expect: AlertSource | None, report: PollReport
    ) -> None:
        db = RequestDatabase(self.database.new_session())
        try:
            result: IngestReport = await ingest_document(
                db, self.settings, data, name, via=via, expect=expect
            )
        except DomainError as exc:
            report.refused += 1
            log.warning("feed document refused", extra={"document": name, "reason": exc.message})
            return
        finally:
            await db.close()
        report.documents += 1
        report.duplicates += result.duplicates

    async def _poll_jma(self, url: str, report: PollReport) -> None:
        state = self._states.setdefault(url, _FeedState())
        poll = await poll_feed(
            self.client, url, last_modified=state.last_modified, etag=state.etag, seen=state.seen
        )
        state.last_modified, state.etag = poll.last_modified, poll.etag
        for entry in poll.entries:
            data = await fetch_telegram(self.client, entry.url)
            await self._ingest(data, entry.url, "jma-feed", AlertSource.JMA, report)
            state.seen.add(entry.url)

    async def _poll_cap(self, url: str, report: PollReport) -> None:
        state = self._states.setdefault(url, _FeedState())
        data = await fetch_telegram(self.client, url, max_bytes=MAX_CAP_FEED_BYTES)
        entries = await asyncio.to_thread(cap_feed_entries, data, url, feed_url=url)
        host = urlsplit(url).hostname
        for entry in reversed(entries):  # feeds list the newest first
            key = entry.entry_id or entry.url or ""
            if not key or key in state.seen:
                continue
            if entry.cap is not None:
                document = entry.cap
            elif entry.url and urlsplit(entry.url).hostname == host:
                document = await fetch_telegram(self.client, entry.url)
            else:
                # A link to another host could make the worker fetch internal addresses.
                log.warning("CAP feed entry on another host skipped", extra={"url": entry.url})
                state.seen.add(key)
                continue
            await self._ingest(document, entry.url or key, "cap-feed", None, report)
            state.seen.add(key)

    async def poll_once(self) -> PollReport:
        """One round over every configured feed; a failing feed does not stop the others."""
        report = PollReport()
        feeds = [(self.settings.jma_feed_url, self._poll_jma)] if self.settings.jma_feed_url else []
        feeds += [(url, self._poll_cap) for url in self.settings.cap_feed_url_list]
        for url, poll in feeds:
            try:
                await poll(url, report)
            except DomainError as exc:
                report.unavailable.append(url)
                log.warning("alert feed unavailable", extra={"feed": url, "reason": exc.message})
        return report

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                report = await self.poll_once()
                if report.documents or report.refused:
                    log.info(
                        "alert feeds polled",
                        extra={"documents": report.documents, "refused": report.refused},
                    )
            except Exception:  # the database went away: log, wait, try again
                log.exception("alert feed poll failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.settings.jma_feed_interval_seconds)

    async def aclose(self) -> None:
        await self.client.aclose()
