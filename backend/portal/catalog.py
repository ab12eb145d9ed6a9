"""Checking catalog entries: one checker for the GraphQL mutation and the YAML import.

A service is checked field by field (every problem reported, snake_case field names); the
YAML reader keeps each field's line so a refused file names the lines to fix.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import yaml
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from ..ingest.problems import FileRefused, Problems
from ..ingest.yaml_doc import compose_document
from .rules import (
    ACR_LEVELS,
    ALL_RELATIONS,
    CATEGORIES,
    HOUSEHOLD_FACTS,
    LANGUAGE_LABELS,
    MUNICIPALITIES_SCOPE,
    PREFECTURE_SCOPE,
    PROVIDER_KINDS,
    Audience,
)

MAX_FILE_BYTES = 4 * 1024 * 1024
MAX_SERVICES = 5000
CODE = re.compile(r"^[a-z][a-z0-9_]{1,63}$")
MUNICIPALITY = re.compile(r"^\d{5}$")
PREFECTURE = re.compile(r"^\d{2}$")
URL = re.compile(r"^(https://|[a-z][a-z0-9+.-]*://)[^\s]{1,490}$")
FIELDS = (
    "code",
    "owner",
    "name_ja",
    "name_en",
    "description_ja",
    "description_en",
    "category",
    "provider",
    "url",
    "municipalities",
    "audience",
    "consent_purpose",
    "min_acr",
    "available_from",
    "available_until",
    "priority",
)
REQUIRED = ("code", "owner", "name_ja", "name_en", "category", "url")
Report = Callable[[str, str, str], None]


class ServiceCatalogRefused(FileRefused):
    """A service catalog refused whole; nothing was imported."""

    what = "service catalog"
    what_ja = "サービスカタログ"


@dataclass(frozen=True, slots=True)
class ServiceSpec:
    """A checked catalog entry (municipalities, purposes and clients checked by the service)."""

    code: str
    owner_code: str
    name_ja: str
    name_en: str
    description_ja: str
    description_en: str
    category: str
    provider_kind: str
    provider_client_id: str | None
    url: str
    scope: str
    municipality_codes: tuple[str, ...]
    audience: Audience
    consent_purpose: str | None
    min_acr: str | None
    available_from: datetime | None
    available_until: datetime | None
    priority: int


def _text(raw: Mapping[str, Any], key: str, limit: int, report: Report, *, required: bool) -> str:
    value = raw.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not 1 <= len(value.strip()) <= limit:
        report(key, f"text of 1-{limit} characters required", f"1〜{limit}文字の文字列が必要です")
        return ""
    return value.strip()


def _time(raw: Mapping[str, Any], key: str, report: Report) -> datetime | None:
    value = raw.get(key)
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            value = None
    if not isinstance(value, datetime) or value.tzinfo is None:
        report(
            key,
            "a date-time with a time zone required (e.g. 2026-04-01T00:00:00+09:00)",
            "タイムゾーン付きの日時が必要です（例: 2026-04-01T00:00:00+09:00）",
        )
        return None
    return value


def _codes(value: Any, pattern: re.Pattern[str]) -> list[str] | None:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        return None
    return [v for v in value if pattern.match(v)] if len(value) <= 100 else None


def _audience(raw: Any, report: Report) -> Audience:
    if raw is None:
        return Audience()
    if not isinstance(raw, Mapping):
        report("audience", "a mapping required", "対象条件は「キー: 値」で書いてください")
        return Audience()
    unknown = set(raw) - {"relations", "min_age", "max_age", "household", "languages"}
    if unknown:
        report("audience", f"unknown keys {sorted(unknown)}", "対象条件に使えない項目があります")
    relations = raw.get("relations")
    if relations is not None and (
        not isinstance(relations, list) or not relations or not set(relations) <= ALL_RELATIONS
    ):
        allowed = ", ".join(sorted(ALL_RELATIONS))
        report(
            "audience.relations",
            f"a list of {allowed}",
            "場所の種類（自宅・職場・学校・子の学校）のリストが必要です",
        )
        relations = None
    ages: list[int | None] = []
    for key in ("min_age", "max_age"):
        age = raw.get(key)
        if age is not None and (
            not isinstance(age, int) or isinstance(age, bool) or not 0 <= age <= 130
        ):
            report(f"audience.{key}", "an age 0-130 required", "0〜130の年齢が必要です")
            age = None
        ages.append(age)
    if ages[0] is not None and ages[1] is not None and ages[0] > ages[1]:
        report("audience.max_age", "max_age is below min_age", "上限の年齢が下限より小さいです")
    household = raw.get("household") or []
    if not isinstance(household, list) or not set(household) <= set(HOUSEHOLD_FACTS):
        allowed = ", ".join(HOUSEHOLD_FACTS)
        report(
            "audience.household", f"a list of {allowed}", "指定できる世帯の条件のリストが必要です"
        )
        household = []
    languages = raw.get("languages") or []
    if not isinstance(languages, list) or not set(languages) <= set(LANGUAGE_LABELS):
        allowed = ", ".join(LANGUAGE_LABELS)
        report("audience.languages", f"a list of {allowed}", "指定できる言語のリストが必要です")
        languages = []
    return Audience(
        relations=frozenset(relations) if relations else ALL_RELATIONS,
        min_age=ages[0],
        max_age=ages[1],
        household=tuple(dict.fromkeys(household)),
        languages=tuple(dict.fromkeys(languages)),
    )


def check_service(raw: Mapping[str, Any], report: Report) -> ServiceSpec:
    """The entry as a ServiceSpec; each problem goes to ``report(field, message, message_ja)``."""
    for key in sorted(set(raw) - set(FIELDS)):
        report(key, f"unknown field (allowed: {', '.join(FIELDS)})", "不明な項目です")
    for key in REQUIRED:
        if raw.get(key) is None:
            report(key, "required", "必須です")
    code = raw.get("code")
    if code is not None and (not isinstance(code, str) or not CODE.match(code)):
        report(
            "code", "lower-case letters, digits and _ (2-64)", "英小文字・数字・下線の2〜64文字です"
        )
    owner = str(raw.get("owner") or "")
    prefecture_wide = bool(PREFECTURE.match(owner))
    if raw.get("owner") is not None and not (prefecture_wide or MUNICIPALITY.match(owner)):
        report(
            "owner",
            "a municipality code (5 digits) or a prefecture code (2 digits)",
            "市区町村コード（5桁）または都道府県コード（2桁）が必要です",
        )
    category = raw.get("category")
    if category is not None and category not in CATEGORIES:
        report("category", f"one of {', '.join(CATEGORIES)}", "指定できる分類ではありません")
    provider = raw.get("provider") or {"kind": "prefecture" if prefecture_wide else "municipality"}
    kind = provider.get("kind") if isinstance(provider, Mapping) else None
    client_id = provider.get("client_id") if isinstance(provider, Mapping) else None
    if kind not in PROVIDER_KINDS or (kind == "client") != isinstance(client_id, str):
        report(
            "provider",
            "kind prefecture, municipality, or client with client_id",
            "提供者は県・市区町村、または連携サービス（クライアントID付き）です",
        )
    url = raw.get("url")
    if url is not None and (not isinstance(url, str) or not URL.match(url)):
        report(
            "url",
            "an https:// URL or an app deep link (scheme://...)",
            "ウェブのアドレスまたはアプリのリンクが必要です",
        )
    municipalities: list[str] = []
    if prefecture_wide:
        if raw.get("municipalities"):
            report(
                "municipalities",
                "a prefecture-wide service lists none",
                "県全域のサービスには指定しません",
            )
    else:
        listed = raw.get("municipalities", [owner] if owner else [])
        found = _codes(listed, MUNICIPALITY)
        if (
            found is None
            or len(found) != len(listed)
            or not found
            or (owner and owner not in found)
        ):
            report(
                "municipalities",
                "a list of 5-digit codes that includes the owner",
                "所管の市区町村を含む5桁コードのリストが必要です",
            )
        municipalities = list(dict.fromkeys(found or []))
    min_acr = raw.get("min_acr")
    if min_acr is not None and min_acr not in ACR_LEVELS:
        report(
            "min_acr", f"one of {', '.join(ACR_LEVELS)}", "指定できる本人確認の水準ではありません"
        )
    purpose = raw.get("consent_purpose")
    if purpose is not None and (not isinstance(purpose, str) or not CODE.match(purpose)):
        report("consent_purpose", "a purpose code", "利用目的のコードが必要です")
    start, end = _time(raw, "available_from", report), _time(raw, "available_until", report)
    if start and end and end <= start:
        report("available_until", "must be after available_from", "公開開始より後にしてください")
    priority = raw.get("priority", 0)
    if not isinstance(priority, int) or isinstance(priority, bool) or not -1000 <= priority <= 1000:
        report("priority", "an integer -1000..1000", "-1000〜1000の整数です")
        priority = 0
    return ServiceSpec(
        code=code if isinstance(code, str) else "",
        owner_code=owner,
        name_ja=_text(raw, "name_ja", 100, report, required=True),
        name_en=_text(raw, "name_en", 100, report, required=True),
        description_ja=_text(raw, "description_ja", 2000, report, required=False),
        description_en=_text(raw, "description_en", 2000, report, required=False),
        category=str(category or ""),
        provider_kind=str(kind or ""),
        provider_client_id=client_id if kind == "client" else None,
        url=url if isinstance(url, str) else "",
        scope=PREFECTURE_SCOPE if prefecture_wide else MUNICIPALITIES_SCOPE,
        municipality_codes=tuple(municipalities),
        audience=_audience(raw.get("audience"), report),
        consent_purpose=purpose if isinstance(purpose, str) else None,
        min_acr=min_acr if isinstance(min_acr, str) else None,
        available_from=start,
        available_until=end,
        priority=priority,
    )


# --- the YAML file ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ParsedEntry:
    spec: ServiceSpec
    line: int
    lines: dict[str, int]


def parse_file(data: bytes, name: str) -> list[ParsedEntry]:
    """The services of a YAML catalog, checked whole; ServiceCatalogRefused lists every problem.

    CPU-bound: async callers run it in a worker thread.
    """
    problems = Problems(name, ServiceCatalogRefused)
    root = compose_document(data, problems, MAX_FILE_BYTES)
    constructor = yaml.constructor.SafeConstructor()
    top = {k.value: v for k, v in root.value} if isinstance(root, MappingNode) else None
    services = top.get("services") if top else None
    if not isinstance(services, SequenceNode):
        problems.fail(
            1, "a mapping with a 'services' list is required", "services のリストが必要です"
        )
    if len(services.value) > MAX_SERVICES:
        problems.fail(
            services.start_mark.line + 1,
            f"at most {MAX_SERVICES} services",
            f"サービスは{MAX_SERVICES}件までです",
        )
    parsed: list[ParsedEntry] = []
    codes: dict[str, int] = {}
    for n, node in enumerate(services.value):
        line = node.start_mark.line + 1
        if not isinstance(node, MappingNode):
            problems.add(
                line,
                f"services[{n}]: a mapping required",
                f"services[{n}]: 「キー: 値」の形式が必要です",
            )
            continue
        lines = {
            str(k.value): v.start_mark.line + 1 for k, v in node.value if isinstance(k, ScalarNode)
        }
        raw = constructor.construct_document(node)

        def report(
            field: str,
            message: str,
            message_ja: str,
            n: int = n,
            lines: dict[str, int] = lines,
            line: int = line,
        ) -> None:
            at = lines.get(field.split(".")[0], line)
            problems.add(
                at, f"services[{n}].{field}: {message}", f"services[{n}].{field}: {message_ja}"
            )

        spec = check_service(raw, report)
        if spec.code in codes:
            report(
                "code",
                f"{spec.code!r} appears twice (line {codes[spec.code]})",
                f"{spec.code!r} が重複しています（{codes[spec.code]}行目）",
            )
        codes.setdefault(spec.code, lines.get("code", line))
        parsed.append(ParsedEntry(spec, line, lines))
    problems.raise_if_any()
    return parsed
