"""OASIS Common Alerting Protocol 1.2 messages into ``AlertDraft``s.

A message is refused whole when anything is wrong: over a size or count cap (checked before
any geometry is built), not valid against the official XML Schema (shipped in ``schemas/``),
or with coordinates that make no area. CAP writes coordinates latitude first ("lat,lon");
drafts carry shapely geometries with x = longitude.

Schema validation uses lxml (libxml2) rather than the pure-Python ``xmlschema``: it runs in
C in about a millisecond for a capped document, reports the line of each error, and only ever
sees bytes that defusedxml already accepted (no DTD, no entity), through a parser that
expands no entity, loads no DTD and has no network access.
"""

from __future__ import annotations

import math
import re
import threading
import unicodedata
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element

from geographiclib.geodesic import Geodesic
from lxml import etree
from shapely.geometry import Point, Polygon
from shapely.validation import explain_validity

from ...ingest.files import check_size
from ...ingest.problems import Problems
from ...ingest.xml_doc import XmlDocument, load_xml
from ..drafts import (
    AlertAction,
    AlertArea,
    AlertDraft,
    AlertKind,
    AlertSource,
    AlertStatus,
    AreaScheme,
    Severity,
)
from .common import (
    MAX_DOCUMENT_BYTES,
    AlertDocumentRefused,
    bad_municipality_code,
    child,
    child_text,
    children,
    hardened_parser,
    local_name,
    lxml_tree,
    municipality_code,
    parse_time,
    squeeze,
    text_of,
)

CAP_NS = "urn:oasis:names:tc:emergency:cap:1.2"
CAP_ALERT = f"{{{CAP_NS}}}alert"
SCHEMA_FILE = Path(__file__).with_name("schemas") / "CAP-v1.2.xsd"

# Caps, counted before anything is computed from the message.
MAX_ALERTS_PER_DOCUMENT = 20  # CAP messages in one EDXL-DE envelope
MAX_INFOS = 16
MAX_AREAS = 200  # in one message, all info blocks together
MAX_SHAPES_PER_AREA = 100  # polygons and circles of one area
MAX_GEOCODES_PER_AREA = 1_000
MAX_VERTICES_PER_POLYGON = 5_000
MAX_VERTICES = 50_000  # in one message (a 5,000-point star takes GEOS 0.1 s to find invalid)
MAX_REFERENCES = 100
MAX_PARAMETERS = 100
MAX_CIRCLE_RADIUS_KM = 1_000.0
MAX_SCHEMA_ERRORS = 10
# Points of the polygon standing for a circle: the chord error at 72 points is 0.1 % of r.
CIRCLE_POINTS = 72

_STATUS = {
    "Actual": AlertStatus.ACTUAL,
    "Exercise": AlertStatus.EXERCISE,
    "System": AlertStatus.SYSTEM,
    "Test": AlertStatus.TEST,
    "Draft": AlertStatus.DRAFT,
}
_ACTION = {"Alert": AlertAction.ISSUE, "Update": AlertAction.UPDATE, "Cancel": AlertAction.CANCEL}
_SEVERITY = {
    "Extreme": Severity.EXTREME,
    "Severe": Severity.SEVERE,
    "Moderate": Severity.MODERATE,
    "Minor": Severity.MINOR,
    "Unknown": Severity.UNKNOWN,
}
# 避難情報 named in an event or headline, and the 警戒レベル each stands for (2021 names and the
# older ones feeds still use).
EVACUATION_WORDS: tuple[tuple[str, int], ...] = (
    ("緊急安全確保", 5),
    ("災害発生情報", 5),
    ("避難指示", 4),
    ("避難勧告", 4),
    ("高齢者等避難", 3),
    ("避難準備", 3),
)
# Kinds recognised from the event name, first match wins (特別警報 before 警報 and so on).
_EVENT_KINDS: tuple[tuple[str, AlertKind], ...] = (
    ("特別警報", AlertKind.EMERGENCY_WARNING),
    ("土砂災害警戒情報", AlertKind.LANDSLIDE_ALERT),
    ("大津波警報", AlertKind.TSUNAMI_WARNING),
    ("津波警報", AlertKind.TSUNAMI_WARNING),
    ("津波注意報", AlertKind.TSUNAMI_ADVISORY),
    ("津波", AlertKind.TSUNAMI_INFO),
    ("記録的短時間大雨", AlertKind.RECORD_RAIN),
    ("洪水予報", AlertKind.FLOOD_FORECAST),
    ("氾濫", AlertKind.FLOOD_FORECAST),
    ("注意報", AlertKind.ADVISORY),
    ("警報", AlertKind.WARNING),
    ("地震", AlertKind.EARTHQUAKE),
    ("震度", AlertKind.EARTHQUAKE),
    ("tsunami warning", AlertKind.TSUNAMI_WARNING),
    ("tsunami advisory", AlertKind.TSUNAMI_ADVISORY),
    ("earthquake", AlertKind.EARTHQUAKE),
)
_LEVEL = re.compile(r"警戒レベル\s*([1-5])")
# geocode valueNames that hold a JIS X 0402 municipality code (compared without case,
# spaces, hyphens or underscores).
MUNICIPALITY_GEOCODE_NAMES = frozenset(
    {
        "jisx0402",
        "jisx0402code",
        "jiscode",
        "lgcode",
        "localgovernmentcode",
        "municipalitycode",
        "全国地方公共団体コード",
        "地方公共団体コード",
        "市区町村コード",
        "市町村コード",
    }
)

# geocodes Kizuna writes (``alerts.cap_out``) and reads back to the same area scheme: a 町丁目
# (areaDesc) of the municipality whose JIS X 0402 code is the value, and JMA area codes.
TOWN_GEOCODE_NAME = "JIS X 0402 town"
JMA_GEOCODE_NAMES = frozenset(
    s.value
    for s in (AreaScheme.JMA_CITY, AreaScheme.JMA_MATOME, AreaScheme.JMA_FIRST, AreaScheme.JMA_PREF)
)

_schemas = threading.local()


def cap_schema() -> Any:
    """The CAP 1.2 XML Schema (one per thread: lxml validators are not shared across threads)."""
    schema = getattr(_schemas, "cap", None)
    if schema is None:
        schema = etree.XMLSchema(etree.parse(str(SCHEMA_FILE), hardened_parser()))
        _schemas.cap = schema
    return schema


def parse_cap(
    data: bytes, name: str = "<cap>", *, max_bytes: int = MAX_DOCUMENT_BYTES
) -> list[AlertDraft]:
    """The drafts of one CAP 1.2 message; raises AlertDocumentRefused listing its problems."""
    problems = Problems(name, AlertDocumentRefused)
    check_size(data, max_bytes, problems)
    doc = load_xml(data, problems)
    if doc.root.tag != CAP_ALERT:
        problems.fail(
            doc.line(doc.root),
            f"not a CAP 1.2 alert: the root element is {doc.root.tag!r}",
            "共通警報プロトコル1.2の文書ではありません"
            f"（最上位の要素が '{local_name(doc.root)}' です）",
        )
    return cap_drafts(doc, [doc.root], data, problems)


def cap_drafts(
    doc: XmlDocument, alerts: list[Element], data: bytes, problems: Problems
) -> list[AlertDraft]:
    """The drafts of CAP ``alert`` elements of a parsed document (bare, or in an envelope).

    ``data`` are the document's bytes, re-read by lxml to validate each alert against the
    schema. Raises the refusal of ``problems`` when anything is wrong.
    """
    if len(alerts) > MAX_ALERTS_PER_DOCUMENT:
        problems.fail(
            None,
            f"{len(alerts)} CAP messages in one document, the limit is {MAX_ALERTS_PER_DOCUMENT}",
            f"一つの文書に共通警報プロトコルの警報が {len(alerts)} 件あり、上限の "
            f"{MAX_ALERTS_PER_DOCUMENT} 件を超えています",
        )
    for alert in alerts:
        _check_counts(doc, alert, problems)
    problems.raise_if_any()
    _validate(data, doc, alerts, problems)
    problems.raise_if_any()
    drafts = [draft for alert in alerts for draft in _AlertReader(doc, alert, problems).drafts()]
    problems.raise_if_any()
    return drafts


def _check_counts(doc: XmlDocument, alert: Element, problems: Problems) -> None:
    """Refuse a message over a cap before any text is split or any shape is built."""

    def over(element: Element, what: str, what_ja: str, count: int, limit: int) -> None:
        problems.fail(
            doc.line(element),
            f"{count} {what}, the limit is {limit:,}",
            f"{what_ja}が {count:,} 個あり、上限の {limit:,} 個を超えています",
        )

    infos = children(alert, "info")
    if len(infos) > MAX_INFOS:
        over(alert, "info blocks", "情報ブロック", len(infos), MAX_INFOS)
    areas = [area for info in infos for area in children(info, "area")]
    if len(areas) > MAX_AREAS:
        over(alert, "areas", "対象地域", len(areas), MAX_AREAS)
    total = 0
    for area in areas:
        shapes = children(area, "polygon") + children(area, "circle")
        if len(shapes) > MAX_SHAPES_PER_AREA:
            over(area, "polygons and circles in one area", "一つの地域の多角形と円", len(shapes),
                 MAX_SHAPES_PER_AREA)  # fmt: skip
        geocodes = children(area, "geocode")
        if len(geocodes) > MAX_GEOCODES_PER_AREA:
            over(area, "geocodes in one area", "一つの地域の地域コード", len(geocodes),
                 MAX_GEOCODES_PER_AREA)  # fmt: skip
        for polygon in children(area, "polygon"):
            # Each "lat,lon" pair holds one comma: counting them costs no parsing.
            vertices = (polygon.text or "").count(",")
            if vertices > MAX_VERTICES_PER_POLYGON:
                over(polygon, "points in one polygon", "一つの多角形の頂点", vertices,
                     MAX_VERTICES_PER_POLYGON)  # fmt: skip
            total += vertices
    if total > MAX_VERTICES:
        over(alert, "polygon points in one message", "多角形の頂点の合計", total, MAX_VERTICES)
    references = child_text(alert, "references")
    if references is not None and len(references.split()) > MAX_REFERENCES:
        over(alert, "references", "参照する警報", len(references.split()), MAX_REFERENCES)
    for info in infos:
        parameters = children(info, "parameter") + children(info, "eventCode")
        if len(parameters) > MAX_PARAMETERS:
            over(info, "parameters and event codes in one info block",
                 "一つの情報ブロックの付加情報", len(parameters), MAX_PARAMETERS)  # fmt: skip


_ELEMENT = re.compile(r"Element '(?:\{[^}]*\})?([^']+)'")


def _validate(data: bytes, doc: XmlDocument, alerts: list[Element], problems: Problems) -> None:
    """Validate the CAP ``alert`` elements against the CAP 1.2 schema, on lxml's reading."""
    schema = cap_schema()
    for alert in _counterparts(lxml_tree(data, problems), doc, alerts):
        if schema.validate(alert):
            continue
        for error in list(schema.error_log)[:MAX_SCHEMA_ERRORS]:
            found = _ELEMENT.search(error.message)
            element = found.group(1) if found else "alert"
            problems.add(
                error.line or None,
                f"not valid CAP 1.2: {error.message}"[:400],
                f"'{element}' 要素が共通警報プロトコル1.2のスキーマに合いません",
            )


def _counterparts(lxml_root: Any, doc: XmlDocument, elements: list[Element]) -> list[Any]:
    """The lxml elements standing where ``elements`` stand in the ElementTree reading.

    Both parsers read the same bytes and keep only elements (comments and processing
    instructions are skipped), so the path of child positions from the root is the same.
    """
    parents = {c: p for p in doc.root.iter() for c in p}
    found = []
    for element in elements:
        path = []
        while element in parents:
            parent = parents[element]
            path.append(list(parent).index(element))
            element = parent
        node = lxml_root
        for index in reversed(path):
            node = [c for c in node if isinstance(c.tag, str)][index]
        found.append(node)
    return found


@dataclass(frozen=True, slots=True)
class _Info:
    element: Element
    language: str  # the language family: "ja", "en", "es"...

    def text(self, name: str) -> str | None:
        return child_text(self.element, name)


class _AlertReader:
    """One valid CAP message read into drafts; problems recorded, never raised here."""

    def __init__(self, doc: XmlDocument, alert: Element, problems: Problems) -> None:
        self.doc, self.alert, self.problems = doc, alert, problems

    def add(self, element: Element | None, message: str, message_ja: str) -> None:
        self.problems.add(self.doc.line(element) if element is not None else None, message,
                          message_ja)  # fmt: skip

    def drafts(self) -> list[AlertDraft]:
        alert = self.alert
        identifier = child_text(alert, "identifier") or ""
        sender = child_text(alert, "sender") or ""
        sent_text = child_text(alert, "sent") or ""
        for value, what, what_ja in ((identifier, "identifier", "識別子"),
                                     (sender, "sender", "発信者")):  # fmt: skip
            if re.search(r"[\s,<&]", value):
                self.add(
                    child(alert, what),
                    f"{what} {value!r} contains a space, comma, '<' or '&', which CAP forbids",
                    f"{what_ja} '{value}' に空白・カンマ・'<'・'&' は使えません",
                )
        sent = parse_time(sent_text, "sent", self.doc, child(alert, "sent"), self.problems)
        msg_type = child_text(alert, "msgType") or ""
        if msg_type not in _ACTION:  # Ack and Error answer a message: there is no alert in them
            return []
        identity = f"{sender},{identifier},{sent_text}"
        references = self._references()
        action = _ACTION[msg_type]
        # An Update or Cancel stands for the alert first issued: the earliest message it names.
        event_key = identity
        if action is not AlertAction.ISSUE and references:
            event_key = min(references, key=lambda ref: (ref[1], ref[0]))[0]
        status = _STATUS[child_text(alert, "status") or "Actual"]
        infos = [
            _Info(info, (child_text(info, "language") or "en-US").split("-")[0].lower())
            for info in children(alert, "info")
        ]
        if sent is None:
            return []
        common = {
            "references": tuple(ref for ref, _ in references),
            "status": status,
            "issued_at": sent,
        }
        details: dict[str, str] = {"sender": sender, "msgType": msg_type}
        for name in ("scope", "source", "note", "incidents"):
            stated = child_text(alert, name)
            if stated is not None:
                details[name] = stated
        if not infos:
            if action is AlertAction.CANCEL:
                return [
                    AlertDraft(
                        source=AlertSource.CAP,
                        source_id=identity,
                        event_key=event_key,
                        kind=AlertKind.NOTICE,
                        action=action,
                        headline_ja=child_text(alert, "note") or "取り消されました",
                        headline_en="Cancelled",
                        areas=(),
                        issuer=sender,
                        details=details,
                        **common,  # type: ignore[arg-type]
                    )
                ]
            self.add(alert, f"a CAP {msg_type} without an info block says nothing to residents",
                     "情報ブロックがないため住民に伝える内容がありません")  # fmt: skip
            return []
        primary_language = "ja" if any(i.language == "ja" for i in infos) else infos[0].language
        primary = [i for i in infos if i.language == primary_language]
        english = [i for i in infos if i.language == "en"]
        drafts = []
        for index, info in enumerate(primary, 1):
            if primary_language == "en":
                en: _Info | None = info
            elif len(english) == len(primary):
                en = english[index - 1]
            else:
                en = english[0] if len(english) == 1 else None
            suffix = f"#{index}" if len(primary) > 1 else ""
            draft = self._draft(info, en, action, details, common)
            if draft is not None:
                drafts.append(
                    _with_ids(draft, source_id=identity + suffix, event_key=event_key + suffix)
                )
        return drafts

    def _references(self) -> list[tuple[str, datetime]]:
        element = child(self.alert, "references")
        found: list[tuple[str, datetime]] = []
        for triple in (text_of(element) or "").split():
            parts = triple.split(",")
            sent = None
            if len(parts) == 3 and all(parts):
                try:
                    sent = datetime.fromisoformat(parts[2])
                except ValueError:
                    sent = None
            if sent is None or sent.tzinfo is None:
                self.add(
                    element,
                    f"reference {triple!r} is not 'sender,identifier,sent'",
                    f"参照 '{triple}' が「発信者,識別子,発信日時」の形ではありません",
                )
                continue
            found.append((triple, sent))
        return found

    def _draft(
        self,
        info: _Info,
        en: _Info | None,
        action: AlertAction,
        details: dict[str, str],
        common: dict[str, Any],
    ) -> AlertDraft | None:
        event = info.text("event") or ""
        headline = info.text("headline") or event
        kind, level = _kind_and_level(event, headline, en.text("event") if en else None)
        response_types = [text_of(e) or "" for e in children(info.element, "responseType")]
        if action is not AlertAction.CANCEL and ("AllClear" in response_types or "解除" in event):
            action = AlertAction.LIFT
        info_details = dict(details)
        categories = [text_of(e) or "" for e in children(info.element, "category")]
        info_details["category"] = ",".join(categories)
        if response_types:
            info_details["responseType"] = ",".join(response_types)
        for name in ("urgency", "certainty", "audience", "web", "contact"):
            value = info.text(name)
            if value is not None:
                info_details[name] = value
        event_codes = _pairs(info.element, "eventCode")
        for key, value in event_codes:
            info_details[f"eventCode.{key}"] = value
        for key, value in _pairs(info.element, "parameter"):
            info_details[f"parameter.{key}"] = value
        times = {
            name: parse_time(
                info.text(name), name, self.doc, child(info.element, name), self.problems
            )  # fmt: skip
            for name in ("effective", "onset", "expires")
        }
        if times["onset"] is not None:
            info_details["onset"] = times["onset"].isoformat()
        areas = self._areas(info) or (self._areas(en) if en is not None else [])
        return AlertDraft(
            source=AlertSource.CAP,
            source_id="",
            event_key="",
            kind=kind,
            action=action,
            headline_ja=squeeze(headline),
            areas=tuple(areas),
            issuer=info.text("senderName") or details["sender"],
            type_code=event_codes[0][1] if event_codes else None,
            title_ja=squeeze(event) or None,
            title_en=_one_line(en.text("event")) if en else None,
            headline_en=_one_line(en.text("headline") or en.text("event")) if en else None,
            body_ja=_body(info),
            body_en=_body(en) if en is not None else None,
            level=level,
            severity=_SEVERITY.get(info.text("severity") or "", Severity.UNKNOWN),
            effective_at=times["effective"],
            expires_at=times["expires"],
            details=info_details,
            **common,
        )

    def _areas(self, info: _Info) -> list[AlertArea]:
        areas: list[AlertArea] = []
        for area in children(info.element, "area"):
            description = squeeze(child_text(area, "areaDesc") or "")
            before = len(areas)
            for polygon in children(area, "polygon"):
                shape = self._polygon(polygon)
                if shape is not None:
                    areas.append(AlertArea(AreaScheme.GEOMETRY, description, geometry=shape))
            for circle in children(area, "circle"):
                shape = self._circle(circle)
                if shape is not None:
                    areas.append(AlertArea(AreaScheme.GEOMETRY, description, geometry=shape))
            # Geocodes beside a polygon or circle name the same area more coarsely (the
            # municipality it lies in): the shape is what residents are targeted by.
            shaped = len(areas) > before
            for geocode in children(area, "geocode"):
                found = self._geocode(geocode, description)
                if found is not None and not shaped:
                    areas.append(found)
            if len(areas) == before:  # only a description: kept by its name
                areas.append(AlertArea(AreaScheme.JMA_OTHER, description))
        return areas

    def _points(self, element: Element, tokens: list[str]) -> list[tuple[float, float]] | None:
        points: list[tuple[float, float]] = []
        for token in tokens:
            try:
                points.append(_lat_lon(token))
            except _BadPoint as exc:
                self.add(element, str(exc), exc.message_ja)
                return None
        return points

    def _polygon(self, element: Element) -> Polygon | None:
        tokens = (element.text or "").split()
        points = self._points(element, tokens)
        if points is None:
            return None
        if len(points) < 4:
            self.add(
                element,
                f"a polygon needs at least 4 points (the first repeated as the last), got "
                f"{len(points)}",
                f"多角形の頂点が {len(points)} 個しかありません"
                "（最初の点を最後に繰り返して4点以上必要です）",
            )
            return None
        if points[0] != points[-1]:
            self.add(
                element,
                "polygon is not closed: its last point must repeat the first",
                "多角形が閉じていません（最後の点は最初の点と同じにしてください）",
            )
            return None
        polygon = Polygon(points)
        if not polygon.is_valid:
            self.add(
                element,
                f"polygon is not a valid area ({explain_validity(polygon)})"[:300],
                "多角形の辺が交差しているなど、形が正しくありません",
            )
            return None
        return polygon

    def _circle(self, element: Element) -> Polygon | Point | None:
        text = squeeze(element.text or "")
        tokens = text.split(" ")
        radius = math.nan
        if len(tokens) == 2:
            try:
                radius = float(tokens[1])
            except ValueError:
                radius = math.nan
        if not (0 <= radius <= MAX_CIRCLE_RADIUS_KM):
            self.add(
                element,
                f"circle {text!r} is not 'lat,lon radius' with a radius of 0 to "
                f"{MAX_CIRCLE_RADIUS_KM:,.0f} km",
                f"円 '{text}' が「緯度,経度 半径」の形でないか、半径が "
                f"0〜{MAX_CIRCLE_RADIUS_KM:,.0f} キロメートルの範囲にありません",
            )
            return None
        points = self._points(element, tokens[:1])
        if points is None:
            return None
        [(lon, lat)] = points
        if radius == 0:  # a point, e.g. an epicentre: it concerns no area of its own
            return Point(lon, lat)
        ring = [
            (found["lon2"], found["lat2"])
            for found in (
                Geodesic.WGS84.Direct(lat, lon, 360.0 * step / CIRCLE_POINTS, radius * 1000.0)
                for step in range(CIRCLE_POINTS)
            )
        ]
        lons = [x for x, _ in ring]
        if max(abs(y) for _, y in ring) > 89.0 or max(lons) - min(lons) > 180.0:
            self.add(
                element,
                f"circle {text!r} reaches a pole or crosses the 180th meridian",
                f"円 '{text}' が極または経度180度の線にかかっています",
            )
            return None
        return Polygon(ring)

    def _geocode(self, element: Element, description: str) -> AlertArea | None:
        name = child_text(element, "valueName") or ""
        value = child_text(element, "value") or ""
        town = name == TOWN_GEOCODE_NAME
        if town or re.sub(r"[\s_\-]", "", name).lower() in MUNICIPALITY_GEOCODE_NAMES:
            code = municipality_code(value)
            if code is None:
                message, message_ja = bad_municipality_code(value)
                self.add(element, message, message_ja)
                return None
            scheme = AreaScheme.TOWN if town else AreaScheme.MUNICIPALITY
            return AlertArea(scheme, description, code=code)
        if name in JMA_GEOCODE_NAMES or name == AreaScheme.JMA_OTHER.value:
            return AlertArea(AreaScheme(name), description, code=value)
        # A code Kizuna has no table for (FIPS, SAME, EMMA...): kept with its scheme's name.
        return AlertArea(AreaScheme.JMA_OTHER, description, code=f"{name}:{value}")


class _BadPoint(ValueError):
    def __init__(self, message: str, message_ja: str) -> None:
        super().__init__(message)
        self.message_ja = message_ja


def _lat_lon(token: str) -> tuple[float, float]:
    """(lon, lat) of a CAP "lat,lon" pair; raises _BadPoint saying why it is not one."""
    parts = token.split(",")
    try:
        lat, lon = (float(p) for p in parts) if len(parts) == 2 else (math.nan, math.nan)
    except ValueError:
        lat = lon = math.nan
    if not (math.isfinite(lat) and math.isfinite(lon)):
        raise _BadPoint(
            f"{token!r} is not a 'lat,lon' pair of numbers"[:200],
            f"'{token[:60]}' が「緯度,経度」の数値の組ではありません",
        )
    if not -90.0 <= lat <= 90.0:
        raise _BadPoint(
            f"latitude {lat} is out of range (-90..90) in {token[:60]!r}: CAP writes latitude "
            "first",
            f"緯度 {lat} が範囲外です（-90〜90）。緯度を先に書いてください",
        )
    if not -180.0 <= lon <= 180.0:
        raise _BadPoint(
            f"longitude {lon} is out of range (-180..180) in {token!r}"[:200],
            f"経度 {lon} が範囲外です（-180〜180）",
        )
    return lon, lat


def _pairs(element: Element, name: str) -> list[tuple[str, str]]:
    """The (valueName, value) pairs of the children called ``name``."""
    return [
        (child_text(pair, "valueName") or "", child_text(pair, "value") or "")
        for pair in children(element, name)
    ]


def _one_line(text: str | None) -> str | None:
    return squeeze(text) or None if text else None


def _body(info: _Info) -> str | None:
    parts = [text for text in (info.text("description"), info.text("instruction")) if text]
    return "\n\n".join(parts) or None


def _kind_and_level(
    event: str, headline: str, event_en: str | None
) -> tuple[AlertKind, int | None]:
    """What the alert is about, from its event (and headline for 避難情報 and 警戒レベル)."""
    text = unicodedata.normalize("NFKC", f"{event} {headline}")
    levels = [level for word, level in EVACUATION_WORDS if word in text]
    stated = _LEVEL.search(text)
    if levels:
        return AlertKind.EVACUATION, int(stated.group(1)) if stated else max(levels)
    names = f"{unicodedata.normalize('NFKC', event)} {event_en or ''}".lower()
    for word, kind in _EVENT_KINDS:
        if word in names:
            return kind, int(stated.group(1)) if stated else None
    return AlertKind.NOTICE, int(stated.group(1)) if stated else None


def _with_ids(draft: AlertDraft, *, source_id: str, event_key: str) -> AlertDraft:
    return replace(draft, source_id=source_id, event_key=event_key)
