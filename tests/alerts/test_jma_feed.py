"""The JMA Atom feed poller's steps against a real HTTP server on 127.0.0.1, never the internet."""

from __future__ import annotations

import re
from collections.abc import Iterator
from email.utils import formatdate
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI, Request, Response
from fastapi.responses import StreamingResponse

from backend.alerts.drafts import AlertKind
from backend.alerts.sources.jma import read_jma_telegram
from backend.alerts.sources.jma_feed import (
    FeedRefused,
    FeedUnavailable,
    fetch_telegram,
    poll_feed,
)
from tests.ingest.wording import english_words
from tests.live_server import serving
from tests.shared_data import require_shared

TELEGRAMS = [  # oldest first
    ("2024-11-02T09:50:16Z", "17_04_01_250630_VXWW50.xml"),
    ("2024-11-02T10:19:00Z", "15_17_01_250630_VPWW55.xml"),
    ("2024-11-02T14:27:00Z", "17_04_03_250630_VXWW50.xml"),
]
LATE = ("2024-11-02T15:00:00Z", "32-35_08_07_240613_VXSE53.xml")


class JmaServer:
    """A stand-in for www.data.jma.go.jp: one feed, the telegrams, and some misbehaviour."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.published = list(TELEGRAMS)
        self.version = 1
        self.requests: list[dict[str, str]] = []
        self.app = FastAPI()
        self.app.get("/developer/xml/feed/extra.xml")(self.feed)
        self.app.get("/developer/xml/data/{name}")(self.telegram)
        self.app.get("/endless.xml")(self.endless)
        self.app.get("/busy.xml")(self.busy)
        self.app.get("/hostile.xml")(self.hostile)

    def last_modified(self) -> str:
        return formatdate(1_730_000_000 + self.version * 60, usegmt=True)

    async def feed(self, request: Request) -> Response:
        self.requests.append(dict(request.headers))
        etag = f'"v{self.version}"'
        if (
            request.headers.get("if-modified-since") == self.last_modified()
            or request.headers.get("if-none-match") == etag
        ):
            return Response(status_code=304)
        base = str(request.base_url)
        entries = "".join(
            f"""<entry><title>{name}</title><id>urn:uuid:{i:08d}-0000-0000-0000-000000000000</id>
<updated>{updated}</updated><author><name>気象庁</name></author>
<link type="application/xml" href="{base}developer/xml/data/{name}"/></entry>"""
            for i, (updated, name) in enumerate(reversed(self.published))  # newest first
        )
        foreign = """<entry><title>elsewhere</title><id>urn:uuid:x</id>
<updated>2024-11-02T10:00:00Z</updated>
<link type="application/xml" href="http://169.254.169.254/latest/meta-data"/></entry>"""
        feed = f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" lang="ja"><title>高頻度（随時）</title>
<id>urn:uuid:feed</id><updated>{self.published[-1][0]}</updated>{entries}{foreign}</feed>"""
        return Response(
            feed.encode(),
            media_type="application/atom+xml",
            headers={"Last-Modified": self.last_modified(), "ETag": etag},
        )

    async def telegram(self, name: str) -> Response:
        return Response((self.folder / name).read_bytes(), media_type="application/xml")

    async def endless(self) -> StreamingResponse:
        async def chunks() -> Iterator[bytes]:  # type: ignore[misc]
            for _ in range(100):
                yield b"<x>" + b" " * 10_000 + b"</x>"

        return StreamingResponse(chunks(), media_type="application/xml")  # no Content-Length

    async def busy(self) -> Response:
        return Response(status_code=503)

    async def hostile(self) -> Response:
        return Response(
            b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;">]>
<feed xmlns="http://www.w3.org/2005/Atom">&lol2;</feed>""",
            media_type="application/atom+xml",
        )


@pytest.fixture(scope="module")
def jma() -> Iterator[tuple[JmaServer, str]]:
    server = JmaServer(require_shared("jma-xml"))
    with serving(server.app) as base_url:  # type: ignore[arg-type]
        yield server, base_url


async def test_new_telegrams_are_found_fetched_and_read_once(jma: tuple[JmaServer, str]) -> None:
    server, base = jma
    feed_url = f"{base}/developer/xml/feed/extra.xml"
    async with httpx.AsyncClient(timeout=10) as client:
        # given a feed announcing three telegrams (and one link to another host)
        # when it is polled for the first time
        first = await poll_feed(client, feed_url)

        # then the three come oldest first, the foreign link is refused, validators are kept
        assert first.modified
        assert [e.url.rsplit("/", 1)[1] for e in first.entries] == [n for _, n in TELEGRAMS]
        assert first.skipped == ("http://169.254.169.254/latest/meta-data",)
        assert first.last_modified == server.last_modified()
        assert first.etag == '"v1"'
        assert first.entries[0].title == TELEGRAMS[0][1]
        kinds = []
        for entry in first.entries:
            data = await fetch_telegram(client, entry.url)
            kinds.append({d.kind for d in read_jma_telegram(data, entry.url)})
        assert kinds == [
            {AlertKind.LANDSLIDE_ALERT},
            {AlertKind.WARNING, AlertKind.ADVISORY},
            {AlertKind.LANDSLIDE_ALERT},
        ]

        # polling again with the validators sends If-Modified-Since and gets 304: nothing new
        again = await poll_feed(client, feed_url, last_modified=first.last_modified)
        assert server.requests[-1]["if-modified-since"] == first.last_modified
        assert (again.modified, again.entries) == (False, ())
        assert again.last_modified == first.last_modified
        by_etag = await poll_feed(client, feed_url, etag=first.etag)
        assert (by_etag.modified, by_etag.entries) == (False, ())

        # when JMA publishes one more telegram, only it is new to a caller that saw the others
        server.published.append(LATE)
        server.version += 1
        seen = {e.url for e in first.entries}
        later = await poll_feed(
            client, feed_url, last_modified=first.last_modified, etag=first.etag, seen=seen
        )
        assert later.modified and later.last_modified == server.last_modified()
        assert [e.url.rsplit("/", 1)[1] for e in later.entries] == [LATE[1]]
        [quake] = read_jma_telegram(await fetch_telegram(client, later.entries[0].url), "q")
        assert quake.kind is AlertKind.EARTHQUAKE


async def test_oversized_failing_and_hostile_answers_are_refused(
    jma: tuple[JmaServer, str],
) -> None:
    _server, base = jma
    async with httpx.AsyncClient(timeout=10) as client:
        # a telegram over the cap, announced by Content-Length or not, is never read whole
        name = TELEGRAMS[0][1]
        with pytest.raises(FeedUnavailable) as too_big:
            await fetch_telegram(client, f"{base}/developer/xml/data/{name}", max_bytes=1000)
        assert not too_big.value.retryable
        with pytest.raises(FeedUnavailable) as endless:
            await fetch_telegram(client, f"{base}/endless.xml", max_bytes=50_000)
        assert "larger than the limit of 50,000 bytes" in endless.value.message

        # a busy server, and one that does not answer, are worth trying again later
        with pytest.raises(FeedUnavailable) as busy:
            await poll_feed(client, f"{base}/busy.xml")
        assert busy.value.retryable and "HTTP 503" in busy.value.message
        with pytest.raises(FeedUnavailable) as down:
            await poll_feed(client, "http://127.0.0.1:9/feed.xml")
        assert down.value.retryable

        # entity expansion in a feed is refused before anything is expanded
        with pytest.raises(FeedRefused) as hostile:
            await poll_feed(client, f"{base}/hostile.xml")
        [problem] = hostile.value.problems
        assert "DTD" in problem.message
    for error in (too_big.value, endless.value, busy.value, down.value):
        without_urls = re.sub(r"https?://\S+", "", error.message_ja)
        assert english_words(without_urls) == [], error.message_ja
