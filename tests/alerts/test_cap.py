"""CAP 1.2 messages into alert drafts: the specification's four examples with every value
written out, schema validation, coordinates (latitude first), caps and hostile XML."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from geographiclib.geodesic import Geodesic
from shapely.geometry import Point, Polygon

from backend.alerts.drafts import (
    AlertAction,
    AlertArea,
    AlertKind,
    AlertSource,
    AlertStatus,
    AreaScheme,
    Severity,
)
from backend.alerts.sources import cap
from backend.alerts.sources.cap import parse_cap
from backend.ingest.problems import ImportRefused
from tests.ingest.wording import english_words
from tests.shared_data import require_shared

PDT = timezone(timedelta(hours=-7))


def example(number: int) -> bytes:
    return require_shared("cap", f"example{number}.xml").read_bytes()


def refused(data: bytes, name: str = "alert.xml") -> ImportRefused:
    with pytest.raises(ImportRefused) as caught:
        parse_cap(data, name)
    for problem in caught.value.problems:
        assert english_words(problem.message_ja) == [], problem.message_ja
    return caught.value


def message(
    *infos: str,
    msg_type: str = "Alert",
    status: str = "Actual",
    references: str | None = None,
    identifier: str = "KZ-0001",
) -> bytes:
    """A CAP 1.2 message from Kizuna's own test sender, with the given info blocks."""
    refs = f"<references>{references}</references>" if references else ""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>{identifier}</identifier>
  <sender>bousai@city.aizuwakamatsu.example</sender>
  <sent>2025-07-01T10:00:00+09:00</sent>
  <status>{status}</status>
  <msgType>{msg_type}</msgType>
  <scope>Public</scope>
  {refs}
  {"".join(infos)}
</alert>""".encode()


def info(
    *areas: str,
    language: str = "ja-JP",
    event: str = "避難指示",
    headline: str = "警戒レベル4 避難指示 一箕町",
    extra: str = "",
    response: str = "",
) -> str:
    return f"""<info>
    <language>{language}</language>
    <category>Safety</category>
    <event>{event}</event>
    {response}
    <urgency>Immediate</urgency>
    <severity>Severe</severity>
    <certainty>Likely</certainty>
    {extra}
    <senderName>会津若松市</senderName>
    <headline>{headline}</headline>
    <description>土砂災害の危険が高まっています。</description>
    <instruction>直ちに避難してください。</instruction>
    {"".join(areas)}
  </info>"""


def area(body: str, description: str = "一箕町") -> str:
    return f"<area><areaDesc>{description}</areaDesc>{body}</area>"


SQUARE = "<polygon>37.50,139.90 37.50,139.95 37.52,139.95 37.52,139.90 37.50,139.90</polygon>"


def test_example1_homeland_security_advisory() -> None:
    # given the CAP 1.2 specification's first example (an area by description only)
    # when it is read
    [draft] = parse_cap(example(1), "example1.xml")

    # then every value is mapped, and headline_ja falls back to the (English) first info
    identity = "hsas@dhs.gov,43b080713727,2003-04-02T14:39:01-05:00"
    assert (draft.source, draft.source_id, draft.event_key) == (AlertSource.CAP, identity, identity)
    assert (draft.kind, draft.action, draft.status) == (
        AlertKind.NOTICE,
        AlertAction.ISSUE,
        AlertStatus.ACTUAL,
    )
    assert draft.issued_at == datetime(2003, 4, 2, 14, 39, 1, tzinfo=timezone(timedelta(hours=-5)))
    assert draft.headline_ja == draft.headline_en == "Homeland Security Sets Code ORANGE"
    assert draft.title_ja == draft.title_en == "Homeland Security Advisory System Update"
    assert draft.issuer == "U.S. Government, Department of Homeland Security"
    assert draft.severity is Severity.SEVERE
    assert (draft.level, draft.type_code, draft.effective_at, draft.expires_at) == (
        None,
        None,
        None,
        None,
    )
    assert draft.references == ()
    assert draft.areas == (
        AlertArea(AreaScheme.JMA_OTHER, "U.S. nationwide and interests worldwide"),
    )
    assert draft.body_ja is not None and draft.body_ja.startswith(
        "The Department of Homeland Security has elevated"
    )
    assert draft.body_ja.endswith("in accordance with their existing plans.")
    assert draft.details == {
        "sender": "hsas@dhs.gov",
        "msgType": "Alert",
        "scope": "Public",
        "category": "Security",
        "urgency": "Immediate",
        "certainty": "Likely",
        "web": "http://www.dhs.gov/dhspublic/display?theme=29",
        "parameter.HSAS": "ORANGE",
    }


def test_example2_thunderstorm_polygon_is_read_latitude_first() -> None:
    # given the second example: a polygon ("lat,lon" pairs) and three SAME geocodes
    [draft] = parse_cap(example(2), "example2.xml")

    # then the polygon has x = longitude, y = latitude, and the geocodes are kept by scheme
    assert draft.source_id == "KSTO@NWS.NOAA.GOV,KSTO1055887203,2003-06-17T14:57:00-07:00"
    assert (draft.kind, draft.action, draft.severity) == (
        AlertKind.NOTICE,
        AlertAction.ISSUE,
        Severity.SEVERE,
    )
    assert draft.headline_ja == "SEVERE THUNDERSTORM WARNING"
    assert draft.title_ja == "SEVERE THUNDERSTORM"
    assert draft.type_code == "SVR"
    assert draft.issued_at == datetime(2003, 6, 17, 14, 57, tzinfo=PDT)
    assert draft.expires_at == datetime(2003, 6, 17, 16, 0, tzinfo=PDT)
    assert draft.issuer == "NATIONAL WEATHER SERVICE SACRAMENTO CA"
    description = (
        "EXTREME NORTH CENTRAL TUOLUMNE COUNTY IN CALIFORNIA, EXTREME NORTHEASTERN CALAVERAS "
        "COUNTY IN CALIFORNIA, SOUTHWESTERN ALPINE COUNTY IN CALIFORNIA"
    )
    polygon, *geocodes = draft.areas
    assert (polygon.scheme, polygon.name) == (AreaScheme.GEOMETRY, description)
    assert isinstance(polygon.geometry, Polygon)
    assert list(polygon.geometry.exterior.coords) == [
        (-120.14, 38.47),
        (-119.95, 38.34),
        (-119.74, 38.52),
        (-119.89, 38.62),
        (-120.14, 38.47),
    ]
    # the SAME county geocodes beside the polygon name the same area more coarsely: the
    # polygon alone decides who is concerned (three whole counties would be far too many)
    assert geocodes == []
    assert draft.details["responseType"] == "Shelter"
    assert draft.details["eventCode.SAME"] == "SVR"
    assert draft.details["contact"] == "BARUFFALDI/JUSKIE"
    assert draft.body_ja is not None and draft.body_ja.endswith(
        "TAKE COVER IN A SUBSTANTIAL SHELTER UNTIL THE STORM PASSES."
    )


def test_example3_earthquake_update_replaces_the_first_message() -> None:
    # given the third example: an Update referencing the first message, a circle of radius 0
    [draft] = parse_cap(example(3), "example3.xml")

    # then it updates the alert keyed by the first message's identity
    first = "trinet@caltech.edu,TRI13970876.1,2003-06-11T20:30:00-07:00"
    assert draft.source_id == "trinet@caltech.edu,TRI13970876.2,2003-06-11T20:56:00-07:00"
    assert (draft.event_key, draft.references) == (first, (first,))
    assert (draft.kind, draft.action, draft.severity) == (
        AlertKind.EARTHQUAKE,
        AlertAction.UPDATE,
        Severity.MINOR,
    )
    assert draft.headline_ja == "EQ 3.4 Imperial County CA"
    assert draft.issued_at == datetime(2003, 6, 11, 20, 56, tzinfo=PDT)
    [epicentre] = draft.areas
    assert epicentre.scheme is AreaScheme.GEOMETRY
    assert epicentre.name.startswith("1 mi. WSW of Brawley, CA")
    # a circle of radius 0 is its centre point: it covers nobody's place
    assert epicentre.geometry == Point(-115.5527, 32.9525)
    assert draft.details["parameter.Magnitude"] == "3.4 Ml"
    assert draft.details["parameter.Depth"] == "11.8 mi."
    assert draft.details["parameter.EventID"] == "13970876"
    assert draft.details["urgency"] == "Past"


def test_example4_amber_alert_in_english_and_spanish() -> None:
    # given the fourth example: info blocks in en-US and es-US, no Japanese
    [draft] = parse_cap(example(4), "example4.xml")

    # then the English block fills both headlines; the Spanish one is not used
    assert draft.source_id == "KARO@CLETS.DOJ.CA.GOV,KAR0-0306112239-SW,2003-06-11T22:39:00-07:00"
    assert draft.headline_ja == draft.headline_en == "Amber Alert in Los Angeles County"
    assert draft.title_ja == draft.title_en == "Child Abduction"
    assert draft.type_code == "CAE"
    assert draft.issuer == "Los Angeles Police Dept - LAPD"
    assert (draft.kind, draft.severity) == (AlertKind.NOTICE, Severity.SEVERE)
    assert draft.areas == (
        AlertArea(AreaScheme.JMA_OTHER, "Los Angeles County", code="SAME:006037"),
    )
    assert draft.details["source"] == "SW"
    assert draft.body_en is not None and "LOCATION: 5721 DOE ST." in draft.body_en


def test_japanese_and_english_info_blocks_fill_both_languages() -> None:
    # given an evacuation order in Japanese and English, by polygon and municipality code
    geocode = "<geocode><valueName>JIS X 0402</valueName><value>072028</value></geocode>"
    data = message(
        info(area(SQUARE + geocode), extra="<expires>2025-07-01T22:00:00+09:00</expires>"),
        info(
            area(SQUARE + geocode, "Ichinomachi"),
            language="en-US",
            event="Evacuation order",
            headline="Level 4 evacuation order for Ichinomachi",
        ),
    )

    # when it is read
    [draft] = parse_cap(data, "order.xml")

    # then Japanese comes from the ja block, English from the en block, level from the words
    assert (draft.kind, draft.level) == (AlertKind.EVACUATION, 4)
    assert draft.headline_ja == "警戒レベル4 避難指示 一箕町"
    assert draft.headline_en == "Level 4 evacuation order for Ichinomachi"
    assert (draft.title_ja, draft.title_en) == ("避難指示", "Evacuation order")
    assert draft.body_ja == "土砂災害の危険が高まっています。\n\n直ちに避難してください。"
    assert draft.issuer == "会津若松市"
    assert draft.expires_at == datetime(2025, 7, 1, 22, tzinfo=timezone(timedelta(hours=9)))
    # and the area is the polygon: the city's code beside it only says where it lies, and
    # taking it as an area of its own would tell the whole city
    [square] = draft.areas
    assert square.geometry is not None and square.geometry.bounds == (139.90, 37.50, 139.95, 37.52)
    assert (square.scheme, square.name) == (AreaScheme.GEOMETRY, "一箕町")


@pytest.mark.parametrize(
    ("event", "headline", "kind", "level"),
    [
        ("緊急安全確保", "警戒レベル5 緊急安全確保", AlertKind.EVACUATION, 5),
        ("高齢者等避難", "高齢者等避難を発令", AlertKind.EVACUATION, 3),
        ("避難勧告", "避難勧告", AlertKind.EVACUATION, 4),
        ("大雨特別警報", "大雨特別警報", AlertKind.EMERGENCY_WARNING, None),
        ("大雨警報", "大雨警報", AlertKind.WARNING, None),
        ("大雨注意報", "大雨注意報", AlertKind.ADVISORY, None),
        ("土砂災害警戒情報", "警戒レベル４相当", AlertKind.LANDSLIDE_ALERT, 4),
        ("津波警報", "津波警報", AlertKind.TSUNAMI_WARNING, None),
        ("お知らせ", "給水所の開設", AlertKind.NOTICE, None),
    ],
)
def test_kind_and_level_follow_the_event(
    event: str, headline: str, kind: AlertKind, level: int | None
) -> None:
    [draft] = parse_cap(message(info(area(SQUARE), event=event, headline=headline)), "a.xml")
    assert (draft.kind, draft.level) == (kind, level)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("Actual", AlertStatus.ACTUAL),
        ("Exercise", AlertStatus.EXERCISE),
        ("System", AlertStatus.SYSTEM),
        ("Test", AlertStatus.TEST),
        ("Draft", AlertStatus.DRAFT),
    ],
)
def test_status_is_kept(status: str, expected: AlertStatus) -> None:
    [draft] = parse_cap(message(info(area(SQUARE)), status=status), "a.xml")
    assert draft.status is expected


def test_update_and_cancel_point_at_the_first_message() -> None:
    # given an update naming two earlier messages (listed newest first) and a bare cancel
    first = "bousai@city.aizuwakamatsu.example,KZ-0001,2025-07-01T10:00:00+09:00"
    second = "bousai@city.aizuwakamatsu.example,KZ-0002,2025-07-01T11:00:00+09:00"
    update = message(
        info(area(SQUARE)), msg_type="Update", references=f"{second} {first}", identifier="KZ-3"
    )
    cancel = message(msg_type="Cancel", references=first, identifier="KZ-4")

    # when they are read
    [updated] = parse_cap(update, "update.xml")
    [cancelled] = parse_cap(cancel, "cancel.xml")

    # then both are keyed by the first message, so they replace or withdraw its alert
    assert (updated.action, updated.event_key, updated.references) == (
        AlertAction.UPDATE,
        first,
        (second, first),
    )
    assert (cancelled.action, cancelled.event_key, cancelled.areas) == (
        AlertAction.CANCEL,
        first,
        (),
    )
    assert cancelled.headline_ja == "取り消されました"


def test_all_clear_lifts_the_alert() -> None:
    data = message(
        info(
            area(SQUARE),
            event="避難指示解除",
            headline="避難指示を解除しました",
            response="<responseType>AllClear</responseType>",
        ),
        msg_type="Update",
        references="bousai@city.aizuwakamatsu.example,KZ-0001,2025-07-01T10:00:00+09:00",
    )
    [draft] = parse_cap(data, "lift.xml")
    assert (draft.action, draft.kind, draft.level) == (AlertAction.LIFT, AlertKind.EVACUATION, 4)


def test_acknowledgements_hold_no_alert() -> None:
    assert parse_cap(message(msg_type="Ack"), "ack.xml") == []


def test_a_circle_becomes_a_polygon_of_its_radius_on_the_ellipsoid() -> None:
    # given a circle of 2 km around 会津若松市役所
    [draft] = parse_cap(message(info(area("<circle>37.4948,139.9298 2</circle>"))), "c.xml")

    # then it is a polygon whose every point lies 2 km from the centre
    [circle] = draft.areas
    assert isinstance(circle.geometry, Polygon)
    centre = Point(139.9298, 37.4948)
    assert circle.geometry.contains(centre)
    for lon, lat in circle.geometry.exterior.coords:
        distance = Geodesic.WGS84.Inverse(37.4948, 139.9298, lat, lon)["s12"]
        assert distance == pytest.approx(2000.0, abs=0.01)


def test_not_valid_against_the_schema_is_refused_with_its_line() -> None:
    # given a message whose status is not one of CAP's and whose urgency is missing
    data = message(info(area(SQUARE)), status="Bogus").replace(b"<urgency>Immediate</urgency>", b"")

    # when it is read
    error = refused(data)

    # then each schema error is named at its line, in English and Japanese
    lines = data.decode().splitlines()
    status_line = next(n for n, t in enumerate(lines, 1) if "<status>" in t)
    first = error.problems[0]
    assert first.line == status_line
    assert first.message.startswith("not valid CAP 1.2: Element '{urn:oasis:names:tc:")
    assert first.message_ja == "'status' 要素が共通警報プロトコル1.2のスキーマに合いません"
    assert any("severity" in p.message and "urgency" in p.message for p in error.problems)


def test_another_root_element_is_refused() -> None:
    error = refused(b"<feed xmlns='http://www.w3.org/2005/Atom'/>")
    assert error.problems[0].message == (
        "not a CAP 1.2 alert: the root element is '{http://www.w3.org/2005/Atom}feed'"
    )


@pytest.mark.parametrize(
    ("shape", "message_en", "message_ja"),
    [
        (
            "<polygon>95.0,139.9 37.5,139.95 37.52,139.95 95.0,139.9</polygon>",
            "latitude 95.0 is out of range (-90..90) in '95.0,139.9': CAP writes latitude first",
            "緯度 95.0 が範囲外です（-90〜90）。緯度を先に書いてください",
        ),
        (
            "<polygon>139.9,37.5 139.95,37.5 139.95,37.52 139.9,37.5</polygon>",
            "latitude 139.9 is out of range (-90..90) in '139.9,37.5': CAP writes latitude first",
            "緯度 139.9 が範囲外です（-90〜90）。緯度を先に書いてください",
        ),
        (
            "<polygon>37.50,139.90 37.50,139.95 37.52,139.95 37.52,139.90</polygon>",
            "polygon is not closed: its last point must repeat the first",
            "多角形が閉じていません（最後の点は最初の点と同じにしてください）",
        ),
        (
            "<polygon>37.50,139.90 37.50,139.95 37.50,139.90</polygon>",
            "a polygon needs at least 4 points (the first repeated as the last), got 3",
            "多角形の頂点が 3 個しかありません（最初の点を最後に繰り返して4点以上必要です）",
        ),
        (
            "<polygon>37.50,139.90 37.52,139.95 37.50,139.95 37.52,139.90 37.50,139.90</polygon>",
            "polygon is not a valid area (Self-intersection[139.925 37.51])",
            "多角形の辺が交差しているなど、形が正しくありません",
        ),
        (
            "<polygon>37.50;139.90 37.50,139.95 37.52,139.95 37.50;139.90</polygon>",
            "'37.50;139.90' is not a 'lat,lon' pair of numbers",
            "'37.50;139.90' が「緯度,経度」の数値の組ではありません",
        ),
        (
            "<circle>37.4948,139.9298 -2</circle>",
            "circle '37.4948,139.9298 -2' is not 'lat,lon radius' with a radius of 0 to 1,000 km",
            "円 '37.4948,139.9298 -2' が「緯度,経度 半径」の形でないか、"
            "半径が 0〜1,000 キロメートルの範囲にありません",
        ),
        (
            "<circle>89.5,139.9 100</circle>",
            "circle '89.5,139.9 100' reaches a pole or crosses the 180th meridian",
            "円 '89.5,139.9 100' が極または経度180度の線にかかっています",
        ),
        (
            "<geocode><valueName>JISX0402</valueName><value>072021</value></geocode>",
            "municipality code '072021' has a wrong check digit",
            "市区町村コード '072021' の検査数字が正しくありません",
        ),
        (
            "<geocode><valueName>LGCode</valueName><value>99999</value></geocode>",
            "'99999' is not the code of a municipality of Japan",
            "'99999' は日本の市区町村コードではありません",
        ),
    ],
    ids=[
        "latitude-over-90",
        "longitude-first",
        "unclosed",
        "too-few-points",
        "self-intersecting",
        "not-a-pair",
        "negative-radius",
        "circle-over-pole",
        "check-digit",
        "unknown-municipality",
    ],
)
def test_areas_that_make_no_area_are_refused(shape: str, message_en: str, message_ja: str) -> None:
    # given a message with one bad area
    data = message(info(area(shape)))

    # when it is read
    error = refused(data)

    # then it is refused naming the area's line, in both languages
    [problem] = error.problems
    line = next(n for n, t in enumerate(data.decode().splitlines(), 1) if "<area>" in t)
    assert (problem.line, problem.message, problem.message_ja) == (line, message_en, message_ja)


def test_caps_are_counted_before_any_geometry(monkeypatch: pytest.MonkeyPatch) -> None:
    # given caps lowered for the test, and messages just over each
    monkeypatch.setattr(cap, "MAX_VERTICES_PER_POLYGON", 4)
    monkeypatch.setattr(cap, "MAX_SHAPES_PER_AREA", 2)
    monkeypatch.setattr(cap, "MAX_AREAS", 2)
    monkeypatch.setattr(cap, "MAX_INFOS", 2)
    cases = {
        "5 points in one polygon, the limit is 4": message(info(area(SQUARE))),
        "3 polygons and circles in one area, the limit is 2": message(
            info(area("<circle>37.5,139.9 1</circle>" * 3))
        ),
        "3 areas, the limit is 2": message(info(area(""), area(""), area(""))),
        "3 info blocks, the limit is 2": message(info(), info(), info()),
    }
    for expected, data in cases.items():
        # when each is read, then it is refused with the count, before shapes are built
        [problem] = refused(data).problems
        assert problem.message == expected


def test_size_is_capped_before_parsing() -> None:
    with pytest.raises(ImportRefused) as caught:
        parse_cap(b"<alert>" + b" " * 2000 + b"</alert>", "big.xml", max_bytes=1000)
    assert caught.value.problems[0].message == "file is 2,015 bytes, the limit is 1,000 bytes"


@pytest.mark.parametrize(
    "data",
    [
        b"""<?xml version="1.0"?>
<!DOCTYPE alert [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&lol3;</identifier></alert>""",
        b"""<?xml version="1.0"?>
<!DOCTYPE alert [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&x;</identifier></alert>""",
        b"""<?xml version="1.0"?>
<!DOCTYPE alert SYSTEM "http://127.0.0.1:9/cap.dtd">
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>x</identifier></alert>""",
    ],
    ids=["billion-laughs", "external-entity", "external-dtd"],
)
def test_hostile_xml_is_refused(data: bytes) -> None:
    [problem] = refused(data).problems
    assert problem.message == (
        "XML with a DTD, entity declarations or external references is refused"
    )
