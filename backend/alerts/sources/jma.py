"""JMA disaster XML (気象庁防災情報XML) telegrams read into ``AlertDraft``s.

Every telegram has the same frame: ``Control`` (the telegram type in ``Title``, transmission
time, 通常/訓練/試験), ``Head`` (report time, ``EventID``, 発表/訂正/取消, headline) and a
type-specific ``Body``. The type is told by ``Control/Title`` (the file name's VPWW53 etc. is
not in the document). Pure: no database, no clock.

Identity, so that the store can apply a telegram to what came before:

- ``event_key`` names one alert whose areas later telegrams replace: a weather warning kind in
  one 府県予報区 (``jma:warning:290000:33``), the landslide alert of a prefecture, a river's
  flood forecast, an earthquake or a tsunami category by the quake's EventID. A telegram
  that is not 通常 gets its own keys (``…@exercise``) so an exercise never touches a real alert.
- ``source_id`` is one delivery of one draft: a digest of the Control and Head fields (the
  same telegram delivered twice gives the same ids) plus the draft's part of it.
- Per area, ``AlertArea.action = LIFT`` says the alert ended there (解除, or the area moved to
  another kind: 大雨注意報 → 大雨警報 lifts the 注意報 there); a draft whose areas are all
  lifted has ``action = LIFT``; 取消 gives ``CANCEL`` drafts.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from xml.etree.ElementTree import Element

from ...ingest.files import check_size
from ...ingest.problems import FileRefused, Problems
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
from .common import parse_time

# The largest real telegrams (nationwide 震度 lists, long tsunami information) are ~1 MB.
MAX_TELEGRAM_BYTES = 4 * 1024 * 1024

NS = "{http://xml.kishou.go.jp/jmaxml1/}"
NS_HEAD = "{http://xml.kishou.go.jp/jmaxml1/informationBasis1/}"
NS_MET = "{http://xml.kishou.go.jp/jmaxml1/body/meteorology1/}"
NS_SEIS = "{http://xml.kishou.go.jp/jmaxml1/body/seismology1/}"
NS_EB = "{http://xml.kishou.go.jp/jmaxml1/elementBasis1/}"


class JmaTelegramRefused(FileRefused):
    what = "JMA telegram"
    what_ja = "気象庁の電文"


# Control/Title → telegram type (the type code JMA's feeds and file names use).
TELEGRAM_TYPES: dict[str, str] = {
    "気象特別警報・警報・注意報": "VPWW53",
    "気象警報・注意報（Ｈ２７）": "VPWW54",
    "気象警報・注意報（Ｒ０６）（大雨）": "VPWW55",
    "気象警報・注意報（Ｒ０６）（土砂）": "VPWW56",
    "気象警報・注意報（Ｒ０６）（高潮）": "VPWW57",
    "気象警報・注意報（Ｒ０６）（暴風）": "VPWW58",
    "気象警報・注意報（Ｒ０６）（波浪）": "VPWW59",
    "気象警報・注意報（Ｒ０６）（大雪）": "VPWW60",
    "気象警報・注意報（Ｒ０６）（その他注意報）": "VPWW61",
    "土砂災害警戒情報": "VXWW50",
    "指定河川洪水予報": "VXKOii",
    "記録的短時間大雨情報": "VPOA50",
    "震度速報": "VXSE51",
    "震源に関する情報": "VXSE52",
    "震源・震度に関する情報": "VXSE53",
    "津波警報・注意報・予報a": "VTSE41",
    "津波情報a": "VTSE51",
}

STATUSES = {"通常": AlertStatus.ACTUAL, "訓練": AlertStatus.EXERCISE, "試験": AlertStatus.TEST}
INFO_TYPES = {"発表": AlertAction.ISSUE, "訂正": AlertAction.UPDATE, "取消": AlertAction.CANCEL}

# 気象警報・注意報 codes (XML個別コード表「警報等情報要素／気象警報・注意報」), for the
# kinds a telegram ends without naming them (an upgrade drops the lower kind silently).
WARNING_NAMES: dict[str, str] = {
    "02": "暴風雪警報",
    "03": "大雨警報",
    "04": "洪水警報",
    "05": "暴風警報",
    "06": "大雪警報",
    "07": "波浪警報",
    "08": "高潮警報",
    "09": "土砂災害警報",
    "10": "大雨注意報",
    "12": "大雪注意報",
    "13": "風雪注意報",
    "14": "雷注意報",
    "15": "強風注意報",
    "16": "波浪注意報",
    "17": "融雪注意報",
    "18": "洪水注意報",
    "19": "高潮注意報",
    "20": "濃霧注意報",
    "21": "乾燥注意報",
    "22": "なだれ注意報",
    "23": "低温注意報",
    "24": "霜注意報",
    "25": "着氷注意報",
    "26": "着雪注意報",
    "27": "その他の注意報",
    "29": "土砂災害注意報",
    "32": "暴風雪特別警報",
    "33": "大雨特別警報",
    "35": "暴風特別警報",
    "36": "大雪特別警報",
    "37": "波浪特別警報",
    "38": "高潮特別警報",
    "39": "土砂災害特別警報",
    "43": "大雨危険警報",
    "48": "高潮危険警報",
    "49": "土砂災害危険警報",
}
# One phenomenon's steps, lowest first: an area holds at most one of them, so a step that
# starts in an area ends the other there. Telegrams before 2026 name the step it replaced only
# in the status (特別警報から警報); an upgrade drops the lower step silently.
WARNING_GROUPS: tuple[tuple[str, ...], ...] = (
    ("10", "03", "33"),  # 大雨
    ("18", "04"),  # 洪水
    ("19", "08", "38"),  # 高潮
    ("15", "05", "35"),  # 強風 / 暴風
    ("13", "02", "32"),  # 風雪 / 暴風雪
    ("12", "06", "36"),  # 大雪
    ("16", "07", "37"),  # 波浪
)
# 警戒レベル相当 of the kinds whose names (before 2026) do not state it (気象庁「防災気象情報と
# 警戒レベルとの対応」): 大雨特別警報 5, 大雨・洪水警報 3, 高潮特別警報・高潮警報 4,
# 大雨・洪水・高潮注意報 2. The 2026 names carry it (レベル４大雨危険警報).
WARNING_LEVELS = {"33": 5, "03": 3, "04": 3, "38": 4, "08": 4, "10": 2, "18": 2, "19": 2}

# The Warning element of each area level, finest first (the store resolves each scheme).
WARNING_AREA_LEVELS = (
    ("気象警報・注意報（市町村等）", AreaScheme.JMA_CITY),
    ("気象警報・注意報（市町村等をまとめた地域等）", AreaScheme.JMA_MATOME),
    ("気象警報・注意報（一次細分区域等）", AreaScheme.JMA_FIRST),
    ("気象警報・注意報（府県予報区等）", AreaScheme.JMA_PREF),
)
PREF_WARNING = "気象警報・注意報（府県予報区等）"

# 津波警報・注意報・予報 codes by category; 00 津波なし, 50 警報解除, 60 注意報解除 hold none.
TSUNAMI_CATEGORY = {
    "52": "52",  # 大津波警報
    "53": "52",  # 大津波警報：発表 (newly issued)
    "51": "51",  # 津波警報
    "62": "62",  # 津波注意報
    "71": "71",  # 津波予報（若干の海面変動）
    "72": "71",  # 同（津波注意報解除後）
    "73": "71",  # 同（津波警報解除後）
}
TSUNAMI_TITLES = {
    "52": "大津波警報",
    "51": "津波警報",
    "62": "津波注意報",
    "71": "津波予報（若干の海面変動）",
}
TSUNAMI_KINDS = {
    "52": (AlertKind.TSUNAMI_WARNING, Severity.EXTREME),
    "51": (AlertKind.TSUNAMI_WARNING, Severity.SEVERE),
    "62": (AlertKind.TSUNAMI_ADVISORY, Severity.MODERATE),
    "71": (AlertKind.TSUNAMI_INFO, Severity.MINOR),
}

INTENSITIES = ("1", "2", "3", "4", "5-", "5+", "6-", "6+", "7")
# ISO 6709 as JMA writes it: latitude, longitude (degrees), then the depth in metres, e.g.
# "+39.6+142.7-30000/" or "-36.1-072.6/" (depth unknown).
COORDINATE = re.compile(r"^([+-]\d+(?:\.\d+)?)([+-]\d+(?:\.\d+)?)([+-]\d+(?:\.\d+)?)?/$")
LEVEL_IN_NAME = re.compile(r"レベル([1-5])")


@dataclass(slots=True)
class _Telegram:
    """The frame every telegram shares."""

    type: str
    status: AlertStatus
    info_type: str
    event_id: str
    issued_at: datetime
    expires_at: datetime | None
    title: str
    headline: str
    issuer: str
    delivery: str
    body: Element | None

    def key(self, key: str) -> str:
        """An event key, kept apart from real alerts when the telegram is an exercise or test."""
        return key if self.status is AlertStatus.ACTUAL else f"{key}@{self.status.value}"

    def source_id(self, part: str) -> str:
        return f"jma:{self.type}:{self.delivery}:{part}"

    def draft(self, part: str, event_key: str, **fields: Any) -> AlertDraft:
        """A draft of this telegram: the frame every type shares, plus the type's ``fields``."""
        return AlertDraft(
            source=AlertSource.JMA,
            source_id=self.source_id(part),
            event_key=self.key(event_key),
            status=self.status,
            headline_ja=self.headline,
            issued_at=self.issued_at,
            issuer=self.issuer,
            expires_at=self.expires_at,
            **fields,
        )

    def action(self, default: AlertAction = AlertAction.ISSUE) -> AlertAction:
        if self.info_type == "取消":
            return AlertAction.CANCEL
        if self.info_type == "訂正":
            return AlertAction.UPDATE
        return default


def read_jma_telegram(
    data: bytes, name: str, *, max_bytes: int = MAX_TELEGRAM_BYTES
) -> list[AlertDraft]:
    """The drafts of one telegram's bytes: size-capped, parsed safely, refused with reasons.

    CPU-bound on large telegrams: call it from a worker thread.
    """
    problems = Problems(name, JmaTelegramRefused)
    check_size(data, max_bytes, problems)
    return parse_jma(load_xml(data, problems), problems)


def parse_jma(doc: XmlDocument, problems: Problems) -> list[AlertDraft]:
    """The alert drafts of one parsed JMA telegram; problems refuse it with their lines."""
    root = doc.root
    if root.tag != f"{NS}Report":
        problems.fail(
            doc.line(root),
            f"not JMA disaster XML: the root element is {_local(root.tag)!r}, "
            "expected Report in the namespace http://xml.kishou.go.jp/jmaxml1/",
            "気象庁防災情報XMLではありません（最上位の要素が気象庁の電文の形式ではありません）",
        )
    telegram = _frame(doc, problems)
    problems.raise_if_any()
    readers = {
        "VXWW50": _landslide,
        "VXKOii": _flood,
        "VPOA50": _record_rain,
        "VTSE41": _tsunami_warning,
        "VTSE51": _tsunami_info,
    }
    if telegram.type.startswith("VPWW"):
        drafts = _weather(telegram, doc, problems)
    elif telegram.type.startswith("VXSE"):
        drafts = _earthquake(telegram, doc, problems)
    else:
        drafts = readers[telegram.type](telegram, doc, problems)
    problems.raise_if_any()
    return drafts


# --- the frame ------------------------------------------------------------------------------


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _text(element: Element | None, path: str) -> str:
    if element is None:
        return ""
    return (element.findtext(path) or "").strip()


def _required(
    doc: XmlDocument, problems: Problems, parent: Element | None, path: str, what: str
) -> str:
    value = _text(parent, path)
    if not value:
        problems.add(
            doc.line(parent) if parent is not None else None,
            f"{what} is missing or empty",
            f"{_JA_NAMES.get(what, what)}がないか空です",
        )
    return value


_JA_NAMES = {
    "Control/Title": "管理部の標題",
    "Control/Status": "管理部の運用種別",
    "Head/ReportDateTime": "ヘッダ部の報告日時",
    "Head/ValidDateTime": "ヘッダ部の失効日時",
    "Head/InfoType": "ヘッダ部の情報形態",
    "Head/EventID": "ヘッダ部の識別情報",
}


def _head_time(
    doc: XmlDocument, problems: Problems, head: Element, name: str, raw: str | None
) -> datetime | None:
    """A time of the telegram's head (absent: None), read by the one parser of alert times."""
    if not raw:
        return None
    what = f"Head/{name}"
    element = head.find(f"{NS_HEAD}{name}")
    return parse_time(raw, what, doc, element, problems, what_ja=_JA_NAMES[what])


def _frame(doc: XmlDocument, problems: Problems) -> _Telegram:
    root = doc.root
    control = root.find(f"{NS}Control")
    head = root.find(f"{NS_HEAD}Head")
    if control is None or head is None:
        problems.fail(
            doc.line(root),
            "not JMA disaster XML: Control or Head is missing",
            "気象庁防災情報XMLではありません（管理部またはヘッダ部がありません）",
        )
    title = _required(doc, problems, control, f"{NS}Title", "Control/Title")
    problems.raise_if_any()
    telegram_type = TELEGRAM_TYPES.get(title)
    if telegram_type is None:
        problems.fail(
            doc.line(control.find(f"{NS}Title")),  # type: ignore[arg-type]
            f"telegram type {title!r} is not one Kizuna reads (weather warnings, landslide, "
            "river flood, record rain, earthquake and tsunami telegrams)",
            f"電文の種類 {title!r} は取り込みの対象外です（気象警報・注意報、土砂災害警戒情報、"
            "指定河川洪水予報、記録的短時間大雨情報、地震情報、津波警報・情報が対象です）",
        )
    raw_status = _required(doc, problems, control, f"{NS}Status", "Control/Status")
    status = STATUSES.get(raw_status)
    if raw_status and status is None:
        problems.add(
            doc.line(control.find(f"{NS}Status")),  # type: ignore[arg-type]
            f"Control/Status {raw_status!r} is not 通常, 訓練 or 試験",
            f"管理部の運用種別 {raw_status!r} は 通常・訓練・試験 のいずれでもありません",
        )
    info_type = _required(doc, problems, head, f"{NS_HEAD}InfoType", "Head/InfoType")
    if info_type and info_type not in INFO_TYPES:
        problems.add(
            doc.line(head.find(f"{NS_HEAD}InfoType")),  # type: ignore[arg-type]
            f"Head/InfoType {info_type!r} is not 発表, 訂正 or 取消",
            f"ヘッダ部の情報形態 {info_type!r} は 発表・訂正・取消 のいずれでもありません",
        )
    raw_report = _required(doc, problems, head, f"{NS_HEAD}ReportDateTime", "Head/ReportDateTime")
    issued_at = _head_time(doc, problems, head, "ReportDateTime", raw_report)
    raw_valid = _text(head, f"{NS_HEAD}ValidDateTime")
    expires_at = _head_time(doc, problems, head, "ValidDateTime", raw_valid)
    event_id = " ".join(_text(head, f"{NS_HEAD}EventID").split())
    problems.raise_if_any()
    assert status is not None and issued_at is not None
    head_title = _text(head, f"{NS_HEAD}Title")
    # The fields that make one telegram: a second delivery (feed and relay, or a retry) of the
    # same telegram repeats them all; two different telegrams never do.
    identity = "\x1f".join(
        _text(parent, path)
        for parent, path in (
            (control, f"{NS}Title"),
            (control, f"{NS}DateTime"),
            (control, f"{NS}Status"),
            (control, f"{NS}EditorialOffice"),
            (control, f"{NS}PublishingOffice"),
            (head, f"{NS_HEAD}Title"),
            (head, f"{NS_HEAD}ReportDateTime"),
            (head, f"{NS_HEAD}EventID"),
            (head, f"{NS_HEAD}InfoType"),
            (head, f"{NS_HEAD}Serial"),
        )
    )
    return _Telegram(
        type=telegram_type,
        status=status,
        info_type=info_type,
        event_id=event_id,
        issued_at=issued_at,
        expires_at=expires_at,
        title=head_title or title,
        headline=_text(head, f"{NS_HEAD}Headline/{NS_HEAD}Text") or head_title or title,
        issuer=_text(control, f"{NS}PublishingOffice") or _text(control, f"{NS}EditorialOffice"),
        delivery=hashlib.sha256(identity.encode()).hexdigest()[:24],
        body=_body(root),
    )


def _body(root: Element) -> Element | None:
    # Not ``find() or find()``: an Element without children is falsy.
    for ns in (NS_MET, NS_SEIS):
        if (body := root.find(f"{ns}Body")) is not None:
            return body
    return None


def _first_event_id(telegram: _Telegram, doc: XmlDocument, problems: Problems) -> str:
    """The EventID (the first, when a tsunami telegram names several earthquakes)."""
    if not telegram.event_id:
        problems.fail(
            None, "Head/EventID is missing or empty", f"{_JA_NAMES['Head/EventID']}がないか空です"
        )
    return telegram.event_id.split()[0]


def _details(telegram: _Telegram, **extra: str | None) -> dict[str, str]:
    details = {"telegram": telegram.type}
    if telegram.event_id:
        details["event_id"] = telegram.event_id
    details.update({k: v for k, v in extra.items() if v})
    return details


def _body_text(telegram: _Telegram, ns: str) -> str | None:
    """The free text of a body (取消 reasons, 固定付加文, comments), joined by lines."""
    if telegram.body is None:
        return None
    parts = [_text(telegram.body, f"{ns}Text")]
    comments = telegram.body.find(f"{ns}Comments")
    if comments is not None:
        parts.extend(_text(c, f"{ns}Text") for c in comments)
    comment = telegram.body.find(f"{ns}Comment")
    if comment is not None:
        parts.extend(_text(c, f"{ns}Text") for c in comment)
    text = "\n".join(p for p in parts if p)
    return text or None


@dataclass(slots=True)
class _Areas:
    """Areas of one draft in document order: active ones, and those lifted by the telegram."""

    active: dict[tuple[AreaScheme, str], AlertArea] = field(default_factory=dict)
    lifted: dict[tuple[AreaScheme, str], AlertArea] = field(default_factory=dict)
    new: bool = False  # some area starts in this telegram (発表), not only continues

    def add(self, area: AlertArea) -> None:
        key = (area.scheme, area.code or area.name)
        self.lifted.pop(key, None)
        self.active.setdefault(key, area)

    def lift(self, area: AlertArea) -> None:
        key = (area.scheme, area.code or area.name)
        if key not in self.active:
            self.lifted.setdefault(
                key, AlertArea(area.scheme, area.name, area.code, action=AlertAction.LIFT)
            )

    def all(self) -> tuple[AlertArea, ...]:
        return (*self.active.values(), *self.lifted.values())

    def action(self, telegram: _Telegram) -> AlertAction:
        """CANCEL for 取消, LIFT when nothing stays active, else ISSUE for new areas or UPDATE."""
        if telegram.info_type == "取消":
            return AlertAction.CANCEL
        if not self.active:
            return AlertAction.LIFT
        if telegram.info_type == "訂正" or not self.new:
            return AlertAction.UPDATE
        return AlertAction.ISSUE


def _area(element: Element, ns: str, scheme: AreaScheme) -> AlertArea | None:
    code, name = _text(element, f"{ns}Code"), _text(element, f"{ns}Name")
    if not code and not name:
        return None
    return AlertArea(scheme, name or code, code or None)


# --- weather warnings: VPWW53/54 and the 2026 telegrams VPWW55–61 ----------------------------


def _warning_kind(code: str, name: str) -> tuple[AlertKind, Severity, int | None]:
    level_match = LEVEL_IN_NAME.search(unicodedata.normalize("NFKC", name))
    level = int(level_match.group(1)) if level_match else WARNING_LEVELS.get(code)
    if "特別警報" in name:
        return AlertKind.EMERGENCY_WARNING, Severity.EXTREME, level
    if "警報" in name:  # 警報 and the 2026 危険警報 (level 4)
        return AlertKind.WARNING, Severity.SEVERE, level
    return AlertKind.ADVISORY, Severity.MODERATE, level


def _weather(telegram: _Telegram, doc: XmlDocument, problems: Problems) -> list[AlertDraft]:
    body = telegram.body
    warnings = (
        {} if body is None else {w.get("type", ""): w for w in body.findall(f"{NS_MET}Warning")}
    )
    pref = warnings.get(PREF_WARNING)
    pref_code = _text(pref, f"{NS_MET}Item/{NS_MET}Area/{NS_MET}Code")
    if not pref_code:
        problems.fail(
            doc.line(body) if body is not None else None,
            "the warning telegram names no 府県予報区 "
            "(no Warning of type 気象警報・注意報（府県予報区等）)",
            "警報・注意報の電文に府県予報区の項目がありません",
        )
    chosen = next(
        ((warnings[kind], scheme) for kind, scheme in WARNING_AREA_LEVELS if kind in warnings),
        None,
    )
    areas: dict[str, _Areas] = {}
    names: dict[str, str] = {}
    if chosen is not None:
        warning, scheme = chosen
        for item in warning.findall(f"{NS_MET}Item"):
            _weather_item(item, scheme, areas, names)
    drafts = []
    for code in sorted(areas):
        name = names.get(code) or WARNING_NAMES.get(code, code)
        kind, severity, level = _warning_kind(code, name)
        of_code = areas[code]
        drafts.append(
            telegram.draft(
                code,
                f"jma:warning:{pref_code}:{code}",
                kind=kind,
                action=of_code.action(telegram),
                areas=of_code.all(),
                type_code=code,
                title_ja=name,
                level=level,
                severity=severity,
                details=_details(telegram, pref_code=pref_code),
            )
        )
    return drafts


def _step(name: str) -> int:
    """Rank of a warning kind: 注意報 0, 警報 1, 危険警報 2, 特別警報 3."""
    for rank, suffix in ((3, "特別警報"), (2, "危険警報"), (1, "警報")):
        if name.endswith(suffix):
            return rank
    return 0


def _replaced_steps(code: str, status: str) -> set[str]:
    """The kinds of a phenomenon that end in an area where ``code`` starts (before 2026)."""
    group = next((g for g in WARNING_GROUPS if code in g), ())
    if status == "発表":  # an upgrade: the lower steps end
        return set(group[: group.index(code)]) if group else set()
    if "から" in status:  # 特別警報から警報, 警報から注意報, 特別警報から注意報
        before = _step(status.split("から", 1)[0])
        return {other for other in group if _step(WARNING_NAMES[other]) == before}
    return set()


def _weather_item(
    item: Element, scheme: AreaScheme, areas: dict[str, _Areas], names: dict[str, str]
) -> None:
    area_element = item.find(f"{NS_MET}Area")
    area = None if area_element is None else _area(area_element, NS_MET, scheme)
    if area is None:
        return
    kinds = [k for k in item.findall(f"{NS_MET}Kind") if _text(k, f"{NS_MET}Code")]
    listed = {_text(k, f"{NS_MET}Code") for k in kinds}
    for kind in kinds:
        code, status = _text(kind, f"{NS_MET}Code"), _text(kind, f"{NS_MET}Status")
        if name := _text(kind, f"{NS_MET}Name"):
            names.setdefault(code, name)
        of_code = areas.setdefault(code, _Areas())
        if status == "解除":
            of_code.lift(area)
            continue
        of_code.add(area)
        of_code.new |= status == "発表"
        # What this kind replaced in the area ends there (unless still listed).
        last = kind.find(f"{NS_MET}LastKind")
        if last is not None:  # 2026 telegrams name it
            ended = {_text(last, f"{NS_MET}Code")}
            if last_name := _text(last, f"{NS_MET}Name"):
                names.setdefault(_text(last, f"{NS_MET}Code"), last_name)
        else:
            ended = _replaced_steps(code, status)
        for other in ended - listed - {"", "00"}:
            areas.setdefault(other, _Areas()).lift(area)


# --- 土砂災害警戒情報 VXWW50 ------------------------------------------------------------------


def _landslide(telegram: _Telegram, doc: XmlDocument, problems: Problems) -> list[AlertDraft]:
    key = _first_event_id(telegram, doc, problems)
    areas = _Areas()
    warning = None if telegram.body is None else telegram.body.find(f"{NS_MET}Warning")
    for item in [] if warning is None else warning.findall(f"{NS_MET}Item"):
        area_element = item.find(f"{NS_MET}Area")
        area = None if area_element is None else _area(area_element, NS_MET, AreaScheme.JMA_CITY)
        status = _text(item, f"{NS_MET}Kind/{NS_MET}Status")
        if area is None or status in ("", "なし"):
            continue
        if status == "解除":
            areas.lift(area)
        else:
            areas.add(area)
            areas.new |= status == "発表"
    return [
        telegram.draft(
            "landslide",
            f"jma:landslide:{key}",
            kind=AlertKind.LANDSLIDE_ALERT,
            action=areas.action(telegram),
            areas=areas.all(),
            title_ja=telegram.title,
            level=4,  # 土砂災害警戒情報 is 警戒レベル４相当 (the 2026 レベル４土砂災害危険警報)
            severity=Severity.SEVERE,
            body_ja=_body_text(telegram, NS_MET),
            details=_details(
                telegram,
                target_area=_text(telegram.body, f"{NS_MET}TargetArea/{NS_MET}Name"),
                target_area_code=_text(telegram.body, f"{NS_MET}TargetArea/{NS_MET}Code"),
            ),
        )
    ]


# --- 指定河川洪水予報 VXKOii ----------------------------------------------------------------


def _flood(telegram: _Telegram, doc: XmlDocument, problems: Problems) -> list[AlertDraft]:
    key = _first_event_id(telegram, doc, problems)
    head = doc.root.find(f"{NS_HEAD}Head")
    kind_name, kind_code = "", ""
    rivers: list[AlertArea] = []
    for information in [] if head is None else head.iter(f"{NS_HEAD}Information"):
        for item in information.findall(f"{NS_HEAD}Item"):
            kind_name = kind_name or _text(item, f"{NS_HEAD}Kind/{NS_HEAD}Name")
            kind_code = kind_code or _text(item, f"{NS_HEAD}Kind/{NS_HEAD}Code")
            if information.get("type") == "指定河川洪水予報（河川）":
                for element in item.iter(f"{NS_HEAD}Area"):
                    if (area := _area(element, NS_HEAD, AreaScheme.JMA_OTHER)) is not None:
                        rivers.append(area)
    if not kind_code.isdigit():
        problems.fail(
            doc.line(head) if head is not None else None,
            "the flood forecast names no kind (Headline/Information/Item/Kind/Code)",
            "洪水予報の種類（見出し要素の情報の種類コード）がありません",
        )
    # 氾濫注意情報 20, 警戒 30, 危険 40, 発生 50 (with variants 21, 41, 53...); 1x are 解除.
    level = int(kind_code) // 10
    lifted = level < 2 or "解除" in kind_name
    areas = _Areas(new=True)
    # The municipalities the forecast expects flooded in (浸水想定地区), by JMA city code.
    cities: list[AlertArea] = []
    for element in [] if telegram.body is None else telegram.body.iter(f"{NS_MET}Area"):
        city_code = _text(element, f"{NS_MET}CityCode")
        if city_code:
            cities.append(
                AlertArea(
                    AreaScheme.JMA_CITY, _text(element, f"{NS_MET}City") or city_code, city_code
                )
            )
    for area in (*rivers, *cities):
        (areas.lift if lifted else areas.add)(area)
    severity = {5: Severity.EXTREME, 4: Severity.SEVERE, 3: Severity.SEVERE}.get(
        level, Severity.MODERATE
    )
    return [
        telegram.draft(
            "flood",
            f"jma:flood:{key}",
            kind=AlertKind.FLOOD_FORECAST,
            action=areas.action(telegram),
            areas=areas.all(),
            type_code=kind_code,
            title_ja=telegram.title,
            level=None if lifted else min(level, 5),
            severity=Severity.MINOR if lifted else severity,
            details=_details(telegram, kind=kind_name, rivers="、".join(r.name for r in rivers)),
        )
    ]


# --- 記録的短時間大雨情報 VPOA50 ----------------------------------------------------------


def _record_rain(telegram: _Telegram, doc: XmlDocument, problems: Problems) -> list[AlertDraft]:
    key = _first_event_id(telegram, doc, problems)
    areas = _Areas(new=True)
    warning = None if telegram.body is None else telegram.body.find(f"{NS_MET}Warning")
    for item in [] if warning is None else warning.findall(f"{NS_MET}Item"):
        if _text(item, f"{NS_MET}Kind/{NS_MET}Status") != "発表":
            continue
        element = item.find(f"{NS_MET}Area")
        code = _text(element, f"{NS_MET}Code")
        # 発表細分 are 府県予報区 (270000 大阪府) or 一次細分区域 (016010 石狩地方).
        scheme = AreaScheme.JMA_PREF if code.endswith("0000") else AreaScheme.JMA_FIRST
        if element is not None and (area := _area(element, NS_MET, scheme)) is not None:
            areas.add(area)
    return [
        telegram.draft(
            "record-rain",
            f"jma:record-rain:{key}",
            kind=AlertKind.RECORD_RAIN,
            action=areas.action(telegram),
            areas=areas.all(),
            title_ja=telegram.title,
            severity=Severity.SEVERE,
            details=_details(telegram),
        )
    ]


# --- earthquakes: 震度速報 VXSE51, 震源 VXSE52, 震源・震度 VXSE53 ----------------------------


def _intensity(raw: str) -> str | None:
    return raw if raw in INTENSITIES else None


def _earthquake_severity(intensity: str | None) -> Severity:
    if intensity is None:
        return Severity.UNKNOWN
    rank = INTENSITIES.index(intensity)
    if rank >= INTENSITIES.index("6-"):
        return Severity.EXTREME
    if rank >= INTENSITIES.index("5-"):
        return Severity.SEVERE
    return Severity.MODERATE if rank >= INTENSITIES.index("3") else Severity.MINOR


def _hypocentre(earthquake: Element | None) -> dict[str, str | None]:
    """Origin, place, ISO 6709 position (latitude first) and magnitude of an Earthquake."""
    if earthquake is None:
        return {}
    area = earthquake.find(f"{NS_SEIS}Hypocenter/{NS_SEIS}Area")
    facts: dict[str, str | None] = {
        "origin_time": _text(earthquake, f"{NS_SEIS}OriginTime"),
        "hypocentre": _text(area, f"{NS_SEIS}Name"),
        "hypocentre_code": _text(area, f"{NS_SEIS}Code"),
    }
    coordinate = area.find(f"{NS_EB}Coordinate") if area is not None else None
    if coordinate is not None and (match := COORDINATE.match((coordinate.text or "").strip())):
        lat, lon, height = match.groups()
        facts["latitude"], facts["longitude"] = str(float(lat)), str(float(lon))
        if height is not None:
            # A height below the surface in metres: "-30000" is 30 km deep.
            facts["depth_km"] = f"{abs(float(height)) / 1000:g}"
        facts["position"] = coordinate.get("description")
    magnitude = earthquake.find(f"{NS_EB}Magnitude")
    if magnitude is not None:
        value = (magnitude.text or "").strip()
        facts["magnitude"] = None if value in ("", "NaN") else value
        facts["magnitude_text"] = magnitude.get("description")
    return facts


def _earthquake(telegram: _Telegram, doc: XmlDocument, problems: Problems) -> list[AlertDraft]:
    key = _first_event_id(telegram, doc, problems)
    body = telegram.body
    areas = _Areas(new=True)
    observation = None if body is None else body.find(f"{NS_SEIS}Intensity/{NS_SEIS}Observation")
    max_intensity = _intensity(_text(observation, f"{NS_SEIS}MaxInt"))
    for pref in [] if observation is None else observation.findall(f"{NS_SEIS}Pref"):
        for region in pref.findall(f"{NS_SEIS}Area"):
            for element, scheme in (
                (region, AreaScheme.JMA_OTHER),
                *((city, AreaScheme.JMA_CITY) for city in region.findall(f"{NS_SEIS}City")),
            ):
                area = _area(element, NS_SEIS, scheme)
                if area is not None:
                    intensity = _intensity(_text(element, f"{NS_SEIS}MaxInt"))
                    areas.add(AlertArea(area.scheme, area.name, area.code, intensity=intensity))
    facts = _hypocentre(None if body is None else body.find(f"{NS_SEIS}Earthquake"))
    return [
        telegram.draft(
            "earthquake",
            f"jma:earthquake:{key}",
            kind=AlertKind.EARTHQUAKE,
            action=telegram.action(),
            areas=() if telegram.info_type == "取消" else areas.all(),
            title_ja=telegram.title,
            severity=_earthquake_severity(max_intensity),
            intensity=max_intensity,
            body_ja=_body_text(telegram, NS_SEIS),
            details=_details(telegram, max_intensity=max_intensity, **facts),
        )
    ]


# --- tsunami: 津波警報・注意報・予報 VTSE41, 津波情報 VTSE51 --------------------------------


def _tsunami_items(telegram: _Telegram) -> Iterable[tuple[AlertArea, str | None, str | None]]:
    """Each forecast area with its category now and before (None: no warning or forecast)."""
    forecast = (
        None if telegram.body is None else telegram.body.find(f"{NS_SEIS}Tsunami/{NS_SEIS}Forecast")
    )
    for item in [] if forecast is None else forecast.findall(f"{NS_SEIS}Item"):
        element = item.find(f"{NS_SEIS}Area")
        area = None if element is None else _area(element, NS_SEIS, AreaScheme.JMA_OTHER)
        if area is None:
            continue
        now = TSUNAMI_CATEGORY.get(_text(item, f"{NS_SEIS}Category/{NS_SEIS}Kind/{NS_SEIS}Code"))
        before = TSUNAMI_CATEGORY.get(
            _text(item, f"{NS_SEIS}Category/{NS_SEIS}LastKind/{NS_SEIS}Code")
        )
        yield area, now, before


def _tsunami_warning(telegram: _Telegram, doc: XmlDocument, problems: Problems) -> list[AlertDraft]:
    key = _first_event_id(telegram, doc, problems)
    categories = {category: _Areas() for category in TSUNAMI_TITLES}
    for area, now, before in _tsunami_items(telegram):
        if now is not None:
            categories[now].add(area)
            categories[now].new |= before != now
        if before is not None and before != now:
            categories[before].lift(area)
    facts = _hypocentre(
        None if telegram.body is None else telegram.body.find(f"{NS_SEIS}Earthquake")
    )
    drafts = []
    for category, areas in categories.items():
        # 取消 withdraws every category of the event; otherwise only those the telegram names.
        if not areas.active and not areas.lifted and telegram.info_type != "取消":
            continue
        kind, severity = TSUNAMI_KINDS[category]
        drafts.append(
            telegram.draft(
                category,
                f"jma:tsunami:{key}:{category}",
                kind=kind,
                action=areas.action(telegram),
                areas=areas.all(),
                type_code=category,
                title_ja=TSUNAMI_TITLES[category],
                severity=severity,
                body_ja=_body_text(telegram, NS_SEIS),
                details=_details(telegram, **facts),
            )
        )
    return drafts


def _tsunami_info(telegram: _Telegram, doc: XmlDocument, problems: Problems) -> list[AlertDraft]:
    key = _first_event_id(telegram, doc, problems)
    areas = _Areas(new=True)
    highest: str | None = None
    for area, now, _before in _tsunami_items(telegram):
        if now is not None:
            areas.add(area)
            if highest is None or list(TSUNAMI_TITLES).index(now) < list(TSUNAMI_TITLES).index(
                highest
            ):
                highest = now
    facts = _hypocentre(
        None if telegram.body is None else telegram.body.find(f"{NS_SEIS}Earthquake")
    )
    return [
        telegram.draft(
            "tsunami-info",
            f"jma:tsunami-info:{key}",
            kind=AlertKind.TSUNAMI_INFO,
            action=telegram.action(),
            areas=() if telegram.info_type == "取消" else areas.all(),
            title_ja=telegram.title,
            severity=Severity.MINOR if highest is None else TSUNAMI_KINDS[highest][1],
            body_ja=_body_text(telegram, NS_SEIS),
            details=_details(
                telegram,
                highest_category=TSUNAMI_TITLES.get(highest or ""),
                **facts,
            ),
        )
    ]
