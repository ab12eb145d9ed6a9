"""The worker's feed poller: JMA's Atom feed and a CAP index feed on a local HTTP server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI, Response

from backend.alerts.poller import FeedPoller
from backend.config import Settings
from tests.alerts.test_jma_feed import TELEGRAMS, JmaServer
from tests.conftest import RollbackDatabase
from tests.live_server import serving
from tests.shared_data import require_shared

EXAMPLES = Path(__file__).resolve().parents[2] / "backend" / "alerts" / "examples"


@pytest.fixture(scope="module")
def jma() -> Iterator[tuple[JmaServer, str]]:
    server = JmaServer(require_shared("jma-xml"))
    with serving(server.app) as base_url:  # type: ignore[arg-type]
        yield server, base_url


@pytest.fixture(scope="module")
def cap_feed() -> Iterator[str]:
    app = FastAPI()
    evacuation = (EXAMPLES / "aizu-demo-evacuation.cap.xml").read_text(encoding="utf-8")
    embedded = evacuation.split("?>", 1)[1].split("-->", 1)[1]  # no declaration, no comment

    @app.get("/alerts.atom")
    async def feed() -> Response:
        return Response(
            f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><id>urn:feed</id><title>CAP</title>
<updated>2026-11-30T00:00:00Z</updated>
<entry><id>urn:cap:1</id><title>a</title><updated>2026-11-30T00:00:00Z</updated>
<content type="application/cap+xml">{embedded}</content></entry>
<entry><id>urn:cap:2</id><title>b</title><updated>2026-11-30T00:01:00Z</updated>
<link type="application/cap+xml" href="http://169.254.169.254/latest/meta-data"/></entry>
</feed>""".encode(),
            media_type="application/atom+xml",
        )

    with serving(app) as base_url:
        yield f"{base_url}/alerts.atom"


async def test_the_poller_ingests_new_telegrams_once_and_skips_foreign_links(
    db: RollbackDatabase, settings: Settings, jma: tuple[JmaServer, str], cap_feed: str
) -> None:
    _server, base = jma
    configured = settings.model_copy(
        update={
            "jma_feed_url": f"{base}/developer/xml/feed/extra.xml",
            "cap_feed_urls": cap_feed,
        }
    )
    poller = FeedPoller(db, configured)  # type: ignore[arg-type]
    try:
        # when the feeds are polled for the first time: three telegrams and one CAP alert
        first = await poller.poll_once()
        assert (first.documents, first.refused, first.unavailable) == (len(TELEGRAMS) + 1, 0, [])
        # when nothing changed (JMA answers 304; the CAP entries were seen), nothing is read
        again = await poller.poll_once()
        assert (again.documents, again.refused) == (0, 0)
    finally:
        await poller.aclose()
    # when a restarted worker polls again, the documents are read but recognised as stored
    restarted = FeedPoller(db, configured)  # type: ignore[arg-type]
    try:
        report = await restarted.poll_once()
        assert report.documents == len(TELEGRAMS) + 1 and report.duplicates >= report.documents
    finally:
        await restarted.aclose()


async def test_an_unreachable_feed_is_reported_and_the_others_still_polled(
    db: RollbackDatabase, settings: Settings, cap_feed: str
) -> None:
    configured = settings.model_copy(
        update={"jma_feed_url": "http://127.0.0.1:9/feed.xml", "cap_feed_urls": cap_feed}
    )
    poller = FeedPoller(db, configured)  # type: ignore[arg-type]
    try:
        report = await poller.poll_once()
    finally:
        await poller.aclose()
    assert report.unavailable == ["http://127.0.0.1:9/feed.xml"]
    assert report.documents == 1
