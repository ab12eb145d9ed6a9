"""What every alert source produces: format-neutral drafts the alert store ingests.

A reader (JMA disaster XML, CAP 1.2, L-Alert PCXML, a staff form) parses its document into
``AlertDraft``s and knows nothing of the database. The store (``alerts.service``) resolves the
areas to municipalities and geometry, applies the action to the alert of the same
``event_key`` (a later telegram replaces, 解除 lifts, 取消 withdraws), recognises a duplicate
delivery by ``source_id`` and queues the push.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from shapely.geometry.base import BaseGeometry


class AlertSource(StrEnum):
    JMA = "jma"
    CAP = "cap"
    L_ALERT = "l_alert"
    STAFF = "staff"


class AlertKind(StrEnum):
    """What the alert is about; decides the push category and whether it always goes out."""

    EVACUATION = "evacuation"  # 高齢者等避難 (level 3) / 避難指示 (4) / 緊急安全確保 (5)
    EMERGENCY_WARNING = "emergency_warning"  # 特別警報 (and the 2026 level-5 危険警報 / 特別警報)
    WARNING = "warning"  # 警報 (and the 2026 level-4 危険警報 / level-3 警報)
    ADVISORY = "advisory"  # 注意報
    LANDSLIDE_ALERT = "landslide_alert"  # 土砂災害警戒情報 (level 4)
    FLOOD_FORECAST = "flood_forecast"  # 指定河川洪水予報 (氾濫注意/警戒/危険/発生)
    RECORD_RAIN = "record_rain"  # 記録的短時間大雨情報
    EARTHQUAKE = "earthquake"  # 震度速報, 震源に関する情報, 震源・震度に関する情報
    TSUNAMI_WARNING = "tsunami_warning"  # 大津波警報 / 津波警報
    TSUNAMI_ADVISORY = "tsunami_advisory"  # 津波注意報
    TSUNAMI_INFO = "tsunami_info"  # 津波予報, 津波情報 without a warning
    NOTICE = "notice"  # free-form notice (city staff, CAP without a better match)
    EMERGENCY_NOTICE = "emergency_notice"  # the city's emergency notice: always goes out


class AlertAction(StrEnum):
    ISSUE = "issue"  # 発表 / CAP Alert: a new alert (or new areas of it)
    UPDATE = "update"  # 継続, 切替, CAP Update: replaces what the same event said before
    LIFT = "lift"  # 解除: the alert ends for the areas named
    CANCEL = "cancel"  # 取消 / CAP Cancel: the alert is withdrawn as if never issued


class AlertStatus(StrEnum):
    """Only ACTUAL alerts are ever pushed to residents; the others are visible to staff."""

    ACTUAL = "actual"
    EXERCISE = "exercise"
    TEST = "test"
    SYSTEM = "system"
    DRAFT = "draft"


class Severity(StrEnum):
    EXTREME = "extreme"
    SEVERE = "severe"
    MODERATE = "moderate"
    MINOR = "minor"
    UNKNOWN = "unknown"


class AreaScheme(StrEnum):
    """How an area is named; the store resolves each to municipalities or a geometry."""

    MUNICIPALITY = "municipality"  # 5-digit JIS X 0402 without check digit (07202)
    JMA_CITY = "jma_city"  # JMA 7-digit city code (0720200), 二次細分区域
    JMA_MATOME = "jma_matome"  # JMA まとめ area (e.g. 会津)
    JMA_FIRST = "jma_first"  # JMA 一次細分区域 (e.g. 会津)
    JMA_PREF = "jma_pref"  # JMA 府県予報区 (e.g. 福島県 070000)
    JMA_OTHER = "jma_other"  # a JMA code Kizuna has no table for (地震/津波予報区, 河川…)
    GEOMETRY = "geometry"  # a polygon or circle (CAP), or a drawn area (staff)
    # A 町丁目 name within a municipality (L-Alert districts, staff); ``code`` = municipality.
    TOWN = "town"


@dataclass(frozen=True, slots=True)
class AlertArea:
    """One area an alert concerns, as the source named it."""

    scheme: AreaScheme
    name: str
    code: str | None = None
    # WGS 84, x = longitude, y = latitude (readers swap CAP's "lat,lon").
    geometry: BaseGeometry | None = None
    # What applies in this area when it differs from the draft's (e.g. observed 震度 "5-").
    level: int | None = None
    intensity: str | None = None
    # LIFT for an area whose alert ended in this telegram while others continue.
    action: AlertAction | None = None


@dataclass(frozen=True, slots=True)
class AlertDraft:
    """One alert as a source stated it, before it is stored."""

    source: AlertSource
    # The identity of this delivery (a second delivery of it is ignored): JMA Control,
    # CAP sender+identifier+sent, L-Alert distribution id.
    source_id: str
    # Stable across updates of the same alert (JMA EventID and type, CAP first identifier).
    event_key: str
    kind: AlertKind
    action: AlertAction
    status: AlertStatus
    headline_ja: str
    issued_at: datetime  # timezone-aware
    areas: tuple[AlertArea, ...]
    issuer: str  # 発表官署, CAP sender name, the municipality
    # The warning's or event's own code (JMA 警報コード "03", CAP event code), for filtering.
    type_code: str | None = None
    title_ja: str | None = None  # e.g. 大雨警報, 避難指示
    title_en: str | None = None
    headline_en: str | None = None
    headline_easy_ja: str | None = None  # やさしい日本語
    body_ja: str | None = None
    body_en: str | None = None
    level: int | None = None  # 警戒レベル 1–5 where the source defines it
    severity: Severity = Severity.UNKNOWN
    # The highest 震度 for earthquakes: "1"…"4", "5-", "5+", "6-", "6+", "7".
    intensity: str | None = None
    effective_at: datetime | None = None
    expires_at: datetime | None = None
    # source_ids of earlier deliveries this one updates or cancels (CAP references).
    references: tuple[str, ...] = ()
    # Extra facts a screen may show (magnitude, depth, river name, shelters opened...).
    details: dict[str, str] = field(default_factory=dict)
