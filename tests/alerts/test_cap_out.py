"""CAP 1.2 and Atom out: every document written validates against the OASIS schema and reads
back (``parse_cap``, ``cap_feed_entries``) to the same alert; index feeds in are parsed safely."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
from lxml import etree
from shapely.geometry import MultiPolygon, Point, Polygon

from backend.alerts.cap_out import AtomEntry, atom_feed, cap_document, cap_identity
from backend.alerts.drafts import (
    AlertAction,
    AlertArea,
    AlertDraft,
    AlertKind,
    AlertSource,
    AlertStatus,
    AreaScheme,
    Severity,
)
from backend.alerts.sources import cap_feed
from backend.alerts.sources.cap import cap_schema, parse_cap
from backend.alerts.sources.cap_feed import FeedEntry, cap_feed_entries
from backend.ingest.problems import ImportRefused
from tests.ingest.wording import english_words
from tests.shared_data import require_shared

JST = timezone(timedelta(hours=9))
SENDER = "alerts@kizuna.city.aizuwakamatsu.example"
AREA = Polygon([(139.90, 37.50), (139.95, 37.50), (139.95, 37.52), (139.90, 37.50)])


def valid(data: bytes) -> bool:
    schema = cap_schema()
    ok = bool(schema.validate(etree.fromstring(data)))
    assert ok, schema.error_log
    return ok


def evacuation_order(**changes: object) -> AlertDraft:
    draft = AlertDraft(
        source=AlertSource.L_ALERT,
        source_id="5d0c2f4e",
        event_key="l-alert:doc-1",
        kind=AlertKind.EVACUATION,
        action=AlertAction.ISSUE,
        status=AlertStatus.ACTUAL,
        headline_ja="警戒レベル4 避難指示を発令しました",
        issued_at=datetime(2025, 7, 1, 10, 0, 0, 123456, tzinfo=JST),
        areas=(
            AlertArea(AreaScheme.TOWN, "一箕町大字八幡", code="07202", level=4),
            AlertArea(AreaScheme.MUNICIPALITY, "喜多方市", code="07208"),
            AlertArea(AreaScheme.GEOMETRY, "描いた区域", geometry=AREA),
            AlertArea(AreaScheme.JMA_CITY, "会津若松市", code="0720200"),
            AlertArea(AreaScheme.JMA_OTHER, "SAME county", code="SAME:006109"),
        ),
        issuer="会津若松市",
        title_ja="避難指示",
        title_en="Evacuation order",
        headline_en="Level 4: evacuation order",
        body_ja="土砂災害の危険が高まっています。",
        body_en="Risk of landslides is high.",
        level=4,
        severity=Severity.SEVERE,
        expires_at=datetime(2025, 7, 3, 10, 0, tzinfo=JST),
    )
    return replace(draft, **changes)  # type: ignore[arg-type]


def test_an_evacuation_order_round_trips_through_cap() -> None:
    # given an L-Alert evacuation order with towns, a municipality, a polygon and JMA areas
    draft = evacuation_order()

    # when it is written as CAP and read back
    data = cap_document(draft, "kizuna-42-1", SENDER)
    [back] = parse_cap(data, "out.xml")

    # then the document is valid CAP 1.2 and says what the draft said
    assert valid(data)
    identity = cap_identity(SENDER, "kizuna-42-1", draft.issued_at)
    assert identity == f"{SENDER},kizuna-42-1,2025-07-01T10:00:00+09:00"
    assert (back.source_id, back.event_key) == (identity, identity)
    assert (back.kind, back.level, back.action, back.status, back.severity) == (
        AlertKind.EVACUATION,
        4,
        AlertAction.ISSUE,
        AlertStatus.ACTUAL,
        Severity.SEVERE,
    )
    assert (back.headline_ja, back.headline_en) == (draft.headline_ja, draft.headline_en)
    assert (back.title_ja, back.title_en) == ("避難指示", "Evacuation order")
    assert (back.body_ja, back.body_en) == (draft.body_ja, draft.body_en)
    assert (back.issuer, back.expires_at) == ("会津若松市", draft.expires_at)
    assert back.areas == tuple(replace(area, level=None) for area in draft.areas)
    assert back.details["parameter.警戒レベル"] == "4"
    assert back.details["responseType"] == "Evacuate"


@pytest.mark.parametrize("number", [1, 2, 3, 4])
def test_the_specification_examples_round_trip(number: int) -> None:
    # given each official example read into a draft
    [draft] = parse_cap(require_shared("cap", f"example{number}.xml").read_bytes())

    # when it is written again under Kizuna's identity and read back
    data = cap_document(draft, f"kizuna-example-{number}", SENDER)
    [back] = parse_cap(data, "again.xml")

    # then it is valid and keeps headline, kind, areas, times, severity and category
    assert valid(data)
    for name in ("headline_ja", "headline_en", "kind", "areas", "severity", "issued_at"):
        assert getattr(back, name) == getattr(draft, name), name
    assert (back.expires_at, back.type_code) == (draft.expires_at, draft.type_code)
    assert back.details["category"] == draft.details["category"]
    assert back.details["urgency"] == draft.details["urgency"]


def test_lifted_areas_are_left_out_and_the_update_says_all_clear() -> None:
    first = f"{SENDER},kizuna-42-1,2025-07-01T10:00:00+09:00"
    draft = evacuation_order(
        action=AlertAction.LIFT,
        areas=(
            AlertArea(AreaScheme.TOWN, "一箕町大字八幡", code="07202", action=AlertAction.LIFT),
            AlertArea(AreaScheme.TOWN, "門田町大字黒岩", code="07202"),
        ),
    )
    data = cap_document(draft, "kizuna-42-2", SENDER, references=[first])
    [back] = parse_cap(data)
    assert valid(data)
    assert (back.action, back.event_key, back.references) == (AlertAction.LIFT, first, (first,))
    assert back.areas == (AlertArea(AreaScheme.TOWN, "門田町大字黒岩", code="07202"),)


def test_multipolygons_points_and_exercises_are_written() -> None:
    other = Polygon([(140.0, 37.0), (140.1, 37.0), (140.1, 37.1), (140.0, 37.0)])
    draft = evacuation_order(
        status=AlertStatus.EXERCISE,
        kind=AlertKind.EARTHQUAKE,
        title_ja="震度速報",
        title_en=None,
        headline_en=None,
        areas=(
            AlertArea(AreaScheme.GEOMETRY, "二つの区域", geometry=MultiPolygon([AREA, other])),
            AlertArea(AreaScheme.GEOMETRY, "震央", geometry=Point(139.93, 37.49)),
        ),
    )
    data = cap_document(draft, "kizuna-7", SENDER)
    [back] = parse_cap(data)
    assert valid(data)
    assert back.status is AlertStatus.EXERCISE
    assert back.headline_en is None
    assert [a.geometry for a in back.areas] == [AREA, other, Point(139.93, 37.49)]


def test_identifiers_and_times_cap_forbids_are_refused() -> None:
    with pytest.raises(ValueError, match="identifier"):
        cap_document(evacuation_order(), "two words", SENDER)
    with pytest.raises(ValueError, match="timezone"):
        cap_document(evacuation_order(issued_at=datetime(2025, 7, 1, 10, 0)), "k-1", SENDER)
    with pytest.raises(ValueError, match="reference"):
        cap_document(evacuation_order(), "k-1", SENDER, references=["not-a-triple"])


def test_the_atom_feed_embeds_valid_cap_that_reads_back() -> None:
    # given two alerts written as CAP and listed in a feed
    documents = [
        cap_document(evacuation_order(), "kizuna-42-1", SENDER),
        cap_document(evacuation_order(level=5, title_ja="緊急安全確保"), "kizuna-43-1", SENDER),
    ]
    updated = datetime(2025, 7, 1, 10, 5, tzinfo=JST)
    feed = atom_feed(
        [
            AtomEntry(
                entry_id=f"urn:kizuna:alert:{n}",
                title=f"避難情報 {n}",
                updated=updated,
                cap=document,
                link=f"https://kizuna.example/cap/alerts/{n}.xml",
            )
            for n, document in enumerate(documents, 42)
        ],
        feed_id="urn:kizuna:alerts",
        feed_url="https://kizuna.example/cap/alerts.atom",
        updated=updated,
    )

    # when the feed is read as an index feed
    entries = cap_feed_entries(feed, "alerts.atom")

    # then each entry links and embeds its CAP message, valid and the same as written
    assert [(e.url, e.entry_id, e.updated) for e in entries] == [
        (f"https://kizuna.example/cap/alerts/{n}.xml", f"urn:kizuna:alert:{n}", updated)
        for n in (42, 43)
    ]
    for entry, document in zip(entries, documents, strict=True):
        assert entry.cap is not None and valid(entry.cap)
        assert parse_cap(entry.cap) == parse_cap(document)
    root = etree.fromstring(feed)
    assert root.tag == "{http://www.w3.org/2005/Atom}feed"
    assert root.find("{http://www.w3.org/2005/Atom}updated").text == "2025-07-01T10:05:00+09:00"


RSS = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>alerts</title>
  <item><title>a</title><link>https://example.org/page/1</link>
    <enclosure url="/cap/1.xml" type="application/cap+xml" length="100"/>
    <guid isPermaLink="false">alert-1</guid><pubDate>Tue, 01 Jul 2025 01:00:00 GMT</pubDate></item>
  <item><title>b</title><link>cap/2.xml</link><guid>https://example.org/cap/2.xml</guid></item>
</channel></rss>"""


def test_rss_items_give_the_cap_enclosure_or_link_resolved_against_the_feed() -> None:
    entries = cap_feed_entries(RSS, "rss.xml", feed_url="https://example.org/feeds/rss.xml")
    assert entries == [
        FeedEntry(
            "https://example.org/cap/1.xml",
            "alert-1",
            datetime(2025, 7, 1, 1, 0, tzinfo=UTC),
        ),
        FeedEntry("https://example.org/feeds/cap/2.xml", "https://example.org/cap/2.xml", None),
    ]


def feed_refused(data: bytes) -> ImportRefused:
    with pytest.raises(ImportRefused) as caught:
        cap_feed_entries(data, "feed.xml")
    for problem in caught.value.problems:
        assert english_words(problem.message_ja) == [], problem.message_ja
    return caught.value


def test_links_that_are_no_web_address_are_refused() -> None:
    data = b"""<feed xmlns="http://www.w3.org/2005/Atom">
<entry><id>x</id><link href="file:///etc/passwd"/></entry>
<entry><id>y</id><link href="javascript:alert(1)"/></entry></feed>"""
    assert [(p.line, p.message) for p in feed_refused(data).problems] == [
        (2, "link 'file:///etc/passwd' is not an http(s) URL"),
        (3, "link 'javascript:alert(1)' is not an http(s) URL"),
    ]


def test_feed_caps_and_foreign_or_hostile_documents_are_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(cap_feed, "MAX_ENTRIES", 1)
    assert feed_refused(RSS).problems[0].message == "2 entries, the limit is 1"
    assert feed_refused(b"<html/>").problems[0].message == (
        "not an Atom or RSS feed: the root element is 'html'"
    )
    laughs = b"""<!DOCTYPE f [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]>
<feed xmlns="http://www.w3.org/2005/Atom"><title>&b;</title></feed>"""
    assert feed_refused(laughs).problems[0].message == (
        "XML with a DTD, entity declarations or external references is refused"
    )
