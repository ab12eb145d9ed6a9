"""The portal's rules as data: audiences, assurance levels, sections, and the catalog index.

Everything here is pure (no database): ``PortalIndex`` is built once per catalog version and
answers a portal from the few services that can apply to the caller; ``naive_portal``
evaluates every rule of every service and is the benchmark's baseline and the tests' oracle.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Section(StrEnum):
    PREFECTURE = "prefecture"
    RESIDENCE = "residence"
    COMMUTE = "commute"
    FOR_ME = "for_me"
    SELECTED = "selected"


class Relation(StrEnum):
    """How a resident relates to a municipality (their places' kinds)."""

    HOME = "home"
    WORKPLACE = "workplace"
    SCHOOL = "school"
    CHILD_SCHOOL = "child_school"


ALL_RELATIONS = frozenset(Relation)
COMMUTE_RELATIONS = (Relation.WORKPLACE, Relation.SCHOOL, Relation.CHILD_SCHOOL)

# Identity assurance from the token's ``acr`` claim, lowest first. Unknown or missing: 0.
ACR_LEVELS: dict[str, int] = {"email": 1, "password": 2, "mynumber": 3}
ACR_LABELS: dict[str, tuple[str, str]] = {
    "email": ("メールアドレスの確認", "a verified e-mail address"),
    "password": ("パスワードでのサインイン", "a password sign-in"),
    "mynumber": ("マイナンバーカードでの本人確認", "identity verified with a My Number card"),
}

# Household facts a service may target, with the consent items needed to know them and the
# reason shown. A reason says only the fact matched, never the data behind it.
HOUSEHOLD_FACTS: dict[str, tuple[frozenset[str], str, str]] = {
    "child_under_6": (
        frozenset({"household"}),
        "6歳未満のお子さんがいる世帯向け",
        "For households with a child under 6",
    ),
    "school_age_child": (
        frozenset({"household"}),
        "小中学生のお子さんがいる世帯向け",
        "For households with a school-age child",
    ),
    "lives_alone_65_plus": (
        frozenset({"household", "age"}),
        "65歳以上で一人暮らしの方向け",
        "For people aged 65 or over living alone",
    ),
    # On the municipality's support-needed register or with an evacuation plan.
    "support_needed": (
        frozenset({"support_needed"}),
        "避難の支援が必要な方向け",
        "For people who need support to evacuate",
    ),
}
LANGUAGE_LABELS = {"ja": ("日本語", "Japanese"), "en": ("英語", "English")}
CATEGORIES = (
    "disaster",
    "health",
    "childcare",
    "elderly",
    "welfare",
    "education",
    "procedures",
    "mobility",
    "community",
    "tourism",
    "other",
)
PROVIDER_KINDS = ("prefecture", "municipality", "client")
PREFECTURE_SCOPE = "prefecture"
MUNICIPALITIES_SCOPE = "municipalities"
RELATION_REASONS = {
    Relation.WORKPLACE: ("通勤先の{ja}のサービス", "A service of {en}, where you work"),
    Relation.SCHOOL: ("通学先の{ja}のサービス", "A service of {en}, where you study"),
    Relation.CHILD_SCHOOL: (
        "お子さんの通学先の{ja}のサービス",
        "A service of {en}, where your child goes to school",
    ),
}
# Recent use lifts a service: each use in the window counts, up to a cap.
USE_BOOST = 12
USE_BOOST_CAP = 3


@dataclass(frozen=True, slots=True)
class Audience:
    """Whom a service is for; attribute rules make it a "for me" service."""

    relations: frozenset[str] = ALL_RELATIONS
    min_age: int | None = None
    max_age: int | None = None
    household: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()

    @property
    def personal(self) -> bool:
        """True when the service is chosen by the resident's attributes."""
        return (
            self.min_age is not None
            or self.max_age is not None
            or bool(self.household or self.languages)
        )

    def index_keys(self) -> list[str]:
        """The facts under which the index files this service (its most selective rule)."""
        if self.household:
            return [f"household:{fact}" for fact in self.household]
        if self.languages:
            return [f"language:{lang}" for lang in self.languages]
        return ["age"]

    def as_json(self) -> dict[str, object]:
        return {
            "relations": sorted(self.relations),
            "min_age": self.min_age,
            "max_age": self.max_age,
            "household": list(self.household),
            "languages": list(self.languages),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> Audience:
        relations = data.get("relations") or sorted(ALL_RELATIONS)
        min_age, max_age = data.get("min_age"), data.get("max_age")
        return cls(
            relations=frozenset(str(r) for r in relations),  # type: ignore[attr-defined]
            min_age=min_age if isinstance(min_age, int) else None,
            max_age=max_age if isinstance(max_age, int) else None,
            household=tuple(str(h) for h in data.get("household") or ()),  # type: ignore[attr-defined]
            languages=tuple(str(lang) for lang in data.get("languages") or ()),  # type: ignore[attr-defined]
        )


@dataclass(frozen=True, slots=True)
class Entry:
    """A catalog service as the portal evaluates it."""

    id: uuid.UUID
    code: str
    owner_code: str
    scope: str
    municipality_codes: tuple[str, ...]
    audience: Audience
    priority: int
    min_acr: str | None = None
    consent_purpose: str | None = None
    available_from: datetime | None = None
    available_until: datetime | None = None

    def available(self, now: datetime) -> bool:
        return (self.available_from is None or self.available_from <= now) and (
            self.available_until is None or now < self.available_until
        )


@dataclass(frozen=True, slots=True)
class Facts:
    """What the portal may use about the resident: only items of their portal consent.

    ``items`` is None without an active ``portal_personalization`` consent; then nothing
    is "for me". Facts the consent does not cover are None / empty here, never looked up.
    """

    items: frozenset[str] | None = None
    age: int | None = None
    household: frozenset[str] = frozenset()
    language: str | None = None

    def keys(self) -> list[str]:
        """Index keys of the facts known (and consented to)."""
        if self.items is None:
            return []
        keys = [f"household:{fact}" for fact in sorted(self.household)]
        if self.language:
            keys.append(f"language:{self.language}")
        if self.age is not None:
            keys.append("age")
        return keys


@dataclass(frozen=True, slots=True)
class Situation:
    """The caller as the portal sees them, for one request."""

    prefecture_code: str
    home_code: str | None = None
    commutes: tuple[tuple[Relation, str], ...] = ()
    selected_code: str | None = None
    facts: Facts = field(default_factory=Facts)
    acr_level: int = 0
    now: datetime | None = None
    # service id -> uses in the recent window (the resident's own history).
    recent_uses: Mapping[uuid.UUID, int] = field(default_factory=dict)
    names: Mapping[str, tuple[str, str]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Shown:
    """One service in a section, with why it is shown and whether it is locked."""

    entry: Entry
    section: Section
    reason_ja: str
    reason_en: str
    locked: bool
    score: int


def personal_reason(audience: Audience, facts: Facts) -> tuple[str, str] | None:
    """The reason a "for me" service fits, from consented facts only; None if it does not."""
    items = facts.items
    if items is None or not audience.personal:
        return None
    parts: list[tuple[str, str]] = []
    if audience.household:
        matched = [
            h
            for h in audience.household
            if h in facts.household and HOUSEHOLD_FACTS.get(h, (frozenset({"?"}),))[0] <= items
        ]
        if not matched:
            return None
        _, ja, en = HOUSEHOLD_FACTS[matched[0]]
        parts.append((ja, en))
    if audience.min_age is not None or audience.max_age is not None:
        if "age" not in items or facts.age is None:
            return None
        low, high = audience.min_age, audience.max_age
        if (low is not None and facts.age < low) or (high is not None and facts.age > high):
            return None
        if not audience.household:
            parts.append(_age_reason(low, high))
    if audience.languages:
        if facts.language not in audience.languages:
            return None
        ja, en = LANGUAGE_LABELS.get(facts.language or "", (facts.language, facts.language))
        parts.append((f"{ja}を使う方向け", f"For {en} speakers"))
    return "・".join(p[0] for p in parts), "; ".join(p[1] for p in parts)


def _age_reason(low: int | None, high: int | None) -> tuple[str, str]:
    if low is not None and high is not None:
        return f"{low}〜{high}歳の方向け", f"For people aged {low} to {high}"
    if low is not None:
        return f"{low}歳以上の方向け", f"For people aged {low} or over"
    return f"{high}歳以下の方向け", f"For people aged {high} or under"


def _name(situation: Situation, code: str) -> tuple[str, str]:
    return situation.names.get(code, (code, code))


class _Collector:
    """Collects shown services (first section wins), then ranks each section."""

    def __init__(self, situation: Situation) -> None:
        self.situation = situation
        self.seen: set[uuid.UUID] = set()
        self.rows: list[Shown] = []

    def add(self, entry: Entry, section: Section, reason: tuple[str, str]) -> None:
        situation = self.situation
        if entry.id in self.seen:
            return
        if situation.now is not None and not entry.available(situation.now):
            return
        self.seen.add(entry.id)
        needed = ACR_LEVELS.get(entry.min_acr or "", 0)
        uses = min(situation.recent_uses.get(entry.id, 0), USE_BOOST_CAP)
        self.rows.append(
            Shown(
                entry=entry,
                section=section,
                reason_ja=reason[0],
                reason_en=reason[1],
                locked=needed > situation.acr_level,
                score=entry.priority + USE_BOOST * uses,
            )
        )

    def ranked(self) -> dict[Section, list[Shown]]:
        sections: dict[Section, list[Shown]] = {s: [] for s in Section}
        for row in sorted(self.rows, key=lambda r: (-r.score, r.entry.code)):
            sections[row.section].append(row)
        return sections


def _prefecture_reason(situation: Situation) -> tuple[str, str]:
    return "福島県全域のサービス", "A service for all of Fukushima"


def _place_reason(situation: Situation, relation: Relation, code: str) -> tuple[str, str]:
    ja, en = _name(situation, code)
    if relation is Relation.HOME:
        return f"お住まいの{ja}のサービス", f"A service of {en}, where you live"
    template_ja, template_en = RELATION_REASONS[relation]
    return template_ja.format(ja=ja), template_en.format(en=en)


def _selected_reason(situation: Situation, code: str) -> tuple[str, str]:
    ja, en = _name(situation, code)
    return f"選択した{ja}のサービス", f"A service of {en}, which you chose"


def _related(situation: Situation) -> list[tuple[Relation, str]]:
    places = [(Relation.HOME, situation.home_code)] if situation.home_code else []
    return places + [(r, c) for r, c in situation.commutes if c != situation.home_code]


class PortalIndex:
    """The catalog filed by scope and section, so a portal reads only what can apply."""

    def __init__(self, entries: Iterable[Entry]) -> None:
        self.entries = list(entries)
        self.prefecture: list[Entry] = []
        self.local: dict[str, list[Entry]] = defaultdict(list)
        # scope ("*" prefecture-wide, or a municipality code) -> fact key -> services
        self.personal: dict[str, dict[str, list[Entry]]] = defaultdict(lambda: defaultdict(list))
        for entry in self.entries:
            scopes = ["*"] if entry.scope == PREFECTURE_SCOPE else list(entry.municipality_codes)
            if entry.audience.personal:
                for scope in scopes:
                    for key in entry.audience.index_keys():
                        self.personal[scope][key].append(entry)
            elif entry.scope == PREFECTURE_SCOPE:
                self.prefecture.append(entry)
            else:
                for code in scopes:
                    self.local[code].append(entry)

    def portal(self, situation: Situation) -> dict[Section, list[Shown]]:
        """The sections for this caller, from the services filed under their places."""
        out = _Collector(situation)
        for entry in self.prefecture:
            out.add(entry, Section.PREFECTURE, _prefecture_reason(situation))
        related = _related(situation)
        for relation, code in related:
            section = Section.RESIDENCE if relation is Relation.HOME else Section.COMMUTE
            for entry in self.local.get(code, ()):
                if relation in entry.audience.relations:
                    out.add(entry, section, _place_reason(situation, relation, code))
        if situation.selected_code:
            for entry in self.local.get(situation.selected_code, ()):
                out.add(
                    entry, Section.SELECTED, _selected_reason(situation, situation.selected_code)
                )
        keys = situation.facts.keys()
        if keys:
            scopes: list[tuple[str, Relation | None]] = [("*", None)]
            scopes += [(code, relation) for relation, code in related]
            for scope, via in scopes:
                filed = self.personal.get(scope)
                if not filed:
                    continue
                for key in keys:
                    for entry in filed.get(key, ()):
                        if via is not None and via not in entry.audience.relations:
                            continue
                        reason = personal_reason(entry.audience, situation.facts)
                        if reason is not None:
                            out.add(entry, Section.FOR_ME, reason)
        return out.ranked()


def naive_portal(entries: Sequence[Entry], situation: Situation) -> dict[Section, list[Shown]]:
    """Every rule of every service evaluated for the caller (baseline; same answer)."""
    out = _Collector(situation)
    related = _related(situation)
    kinds: list[tuple[Section, Entry, tuple[str, str]]] = []
    for entry in entries:
        if entry.audience.personal:
            continue
        if entry.scope == PREFECTURE_SCOPE:
            kinds.append((Section.PREFECTURE, entry, _prefecture_reason(situation)))
    for relation, code in related:
        section = Section.RESIDENCE if relation is Relation.HOME else Section.COMMUTE
        for entry in entries:
            if (
                not entry.audience.personal
                and entry.scope != PREFECTURE_SCOPE
                and code in entry.municipality_codes
                and relation in entry.audience.relations
            ):
                kinds.append((section, entry, _place_reason(situation, relation, code)))
    if situation.selected_code:
        for entry in entries:
            if (
                not entry.audience.personal
                and entry.scope != PREFECTURE_SCOPE
                and situation.selected_code in entry.municipality_codes
            ):
                kinds.append(
                    (Section.SELECTED, entry, _selected_reason(situation, situation.selected_code))
                )
    for entry in entries:
        reason = personal_reason(entry.audience, situation.facts)
        if reason is None:
            continue
        fits = entry.scope == PREFECTURE_SCOPE or any(
            code in entry.municipality_codes and relation in entry.audience.relations
            for relation, code in related
        )
        if fits:
            kinds.append((Section.FOR_ME, entry, reason))
    for section, entry, why in kinds:
        out.add(entry, section, why)
    return out.ranked()
