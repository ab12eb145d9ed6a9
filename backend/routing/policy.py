"""Who may walk where, for Japan: the OpenStreetMap tag policy of the walk graph, as data.

A way is either excluded by the first rule of ``WAY_RULES`` it matches (each rule is counted
in the import report), or kept with edge flags the profiles read at request time: one
imported graph serves WALK and STEP_FREE. Nodes add barrier flags (ticket gates, raised
kerbs). Every rule has a test on a real way of the Shibuya extract (tests/routing).

Sources: the OSM wiki's Japan tagging guidelines (JA:Tagging_Guidelines), Key:sidewalk,
Key:conveying, Tag:barrier=turnstile, and Japanese road law, under which people may walk
along ordinary roads unless a 歩道 (sidewalk) is provided — then the sidewalk is the way.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from .graph import HIGHWAY_CODE


class TagLookup(Protocol):
    """Anything with dict-like ``get`` (a dict or a pyosmium TagList)."""

    def get(self, key: str, default: str | None = None, /) -> str | None: ...


ABSENT = None  # a rule value meaning "the tag is not set"


class _AnyValue(frozenset[str | None]):
    """Matches every value of a tag that is set."""

    def __contains__(self, value: object) -> bool:
        return value is not None


ANY_VALUE = _AnyValue()

FOOT_ALLOWED = frozenset({"yes", "designated", "permissive", "official"})
FOOT_DENIED = frozenset({"no", "private", "use_sidepath"})
ACCESS_DENIED = frozenset({"no", "private"})
# Car roads: the classes whose tunnels and carriageways the sidewalk rules are about.
MAIN_ROADS = frozenset(
    {
        "trunk",
        "trunk_link",
        "primary",
        "primary_link",
        "secondary",
        "secondary_link",
    }
)
CAR_ROADS = MAIN_ROADS | {"tertiary", "tertiary_link", "unclassified"}
CARRIAGEWAYS = CAR_ROADS | {"residential", "service", "living_street", "road"}
EXCLUDED_HIGHWAYS = frozenset(
    {
        "motorway",
        "motorway_link",
        "construction",
        "proposed",
        "planned",
        "abandoned",
        "disused",
        "razed",
        "raceway",
        "bus_guideway",
        "busway",
        "escape",
    }
)
WALKABLE_HIGHWAYS = frozenset(HIGHWAY_CODE) - {"other"}
SIDEWALK_KEYS = ("sidewalk", "sidewalk:both", "sidewalk:left", "sidewalk:right")
ATTACHED_SIDEWALK = frozenset({"yes", "both", "left", "right"})


@dataclass(frozen=True, slots=True)
class WayRule:
    """One reason to leave a way out of the walk graph.

    ``match``: every key must have one of its values (``ABSENT``: the tag is missing);
    ``unless``: the rule does not apply when any of these keys has one of its values.
    ``test`` names a check in code for what tags alone cannot say (sidewalk sides).
    """

    code: str
    description: str
    match: Mapping[str, frozenset[str | None]] = field(default_factory=dict)
    unless: Mapping[str, frozenset[str | None]] = field(default_factory=dict)
    test: str | None = None

    def applies(self, tags: TagLookup) -> bool:
        """Whether this rule excludes a way with these tags."""
        for key, values in self.match.items():
            if tags.get(key) not in values:
                return False
        for key, values in self.unless.items():
            if tags.get(key) in values:
                return False
        return self.test is None or _TESTS[self.test](tags)


_FOOT_RIGHT = {"foot": frozenset(FOOT_ALLOWED)}

WAY_RULES: tuple[WayRule, ...] = (
    WayRule(
        "highway_class",
        "motorways, roads under construction or abandoned, raceways, busways",
        match={"highway": frozenset(EXCLUDED_HIGHWAYS)},
    ),
    WayRule(
        "area",
        "areas (area=yes): would be walked along their outline only",
        match={"area": frozenset({"yes"})},
    ),  # fmt: skip
    WayRule(
        "foot_denied",
        "foot=no, private or use_sidepath",
        match={"foot": frozenset(FOOT_DENIED)},
        # foot=no @ some hours only if foot:conditional opens it at others.
        unless={"foot:conditional": ANY_VALUE},
    ),
    WayRule(
        "access_denied",
        "access=no or private without a pedestrian right",
        match={"access": frozenset(ACCESS_DENIED)},
        unless=_FOOT_RIGHT,
        test="no_conditional_access",
    ),
    WayRule(
        "motorroad",
        "自動車専用道路 (motorroad=yes) without a pedestrian right",
        match={"motorroad": frozenset({"yes"})},
        unless=_FOOT_RIGHT,
    ),
    WayRule(
        "not_walkable",
        "highway values that are not ways to walk (bus_stop, highway=yes ...) without a "
        "pedestrian right",
        unless=_FOOT_RIGHT,
        test="unknown_highway",
    ),
    WayRule(
        "road_tunnel",
        "road tunnels (trunk to unclassified) with neither a pedestrian right nor an attached "
        "sidewalk: underpasses built for cars",
        match={"highway": frozenset(CAR_ROADS), "tunnel": frozenset({"yes"})},
        unless=_FOOT_RIGHT,
        test="no_attached_sidewalk",
    ),
    WayRule(
        "sidewalk_separate",
        "carriageways whose sidewalks are mapped as separate ways (sidewalk=separate): the "
        "sidewalk ways are the ones walked",
        match={"highway": frozenset(CARRIAGEWAYS)},
        unless=_FOOT_RIGHT,
        test="sidewalks_separate",
    ),
    WayRule(
        "main_road_no_sidewalk",
        "trunk, primary and secondary carriageways tagged sidewalk=no",
        match={"highway": frozenset(MAIN_ROADS)},
        unless=_FOOT_RIGHT,
        test="no_sidewalk",
    ),
)
RULE_CODES = tuple(rule.code for rule in WAY_RULES)


def _sidewalk_sides(tags: TagLookup) -> tuple[str | None, str | None]:
    """(left, right) sidewalk values, from sidewalk=* or the per-side keys."""
    left = right = None
    value = tags.get("sidewalk")
    if value in ("both", "yes"):
        left = right = "yes"
    elif value == "left":
        left, right = "yes", "no"
    elif value == "right":
        left, right = "no", "yes"
    elif value in ("no", "none", "separate"):
        left = right = "no" if value == "none" else value
    both = tags.get("sidewalk:both")
    if both is not None:
        left = right = both
    left = tags.get("sidewalk:left") or left
    right = tags.get("sidewalk:right") or right
    return left, right


def _no_attached_sidewalk(tags: TagLookup) -> bool:
    return not any(side in ATTACHED_SIDEWALK for side in _sidewalk_sides(tags))


def _sidewalks_separate(tags: TagLookup) -> bool:
    sides = _sidewalk_sides(tags)
    # Every side is a separate way or has none, and at least one is separate.
    return "separate" in sides and all(side in ("separate", "no") for side in sides)


def _no_sidewalk(tags: TagLookup) -> bool:
    return _sidewalk_sides(tags) == ("no", "no")


def _unknown_highway(tags: TagLookup) -> bool:
    return tags.get("highway") not in WALKABLE_HIGHWAYS


def _no_conditional_access(tags: TagLookup) -> bool:
    # A way closed by its plain tags but opened at some times stays in the graph; the
    # request time decides (see Conditional).
    return not conditional_rules(tags)


_TESTS = {
    "no_attached_sidewalk": _no_attached_sidewalk,
    "sidewalks_separate": _sidewalks_separate,
    "no_sidewalk": _no_sidewalk,
    "unknown_highway": _unknown_highway,
    "no_conditional_access": _no_conditional_access,
}


def excluding_rule(tags: TagLookup) -> WayRule | None:
    """The first rule that leaves a way with these tags out of the graph, or None."""
    if tags.get("highway") is None:
        return None
    for rule in WAY_RULES:
        if rule.applies(tags):
            return rule
    return None


def highway_code(tags: TagLookup) -> int | None:
    """Highway class code of a walkable way (``other`` for one admitted by foot=yes), or None
    when a rule excludes it."""
    highway = tags.get("highway")
    if highway is None or excluding_rule(tags) is not None:
        return None
    return HIGHWAY_CODE.get(highway, 0)


# ------------------------------------------------------------------------------ edge flags

STEPS = 1 << 0
ESCALATOR = 1 << 1
ELEVATOR = 1 << 2
WHEELCHAIR_NO = 1 << 3
OFF_STREET_LEVEL = 1 << 4  # indoor, underground, on a bridge or another level
FORWARD_ONLY = 1 << 5  # walkable only in the way's direction (u -> v)
BACKWARD_ONLY = 1 << 6  # only against it (v -> u)
RAMP = 1 << 7  # steps with a wheelchair ramp: step-free

# Node flags.
TICKET_GATE = 1 << 0  # barrier=turnstile and fee gates: closed unless the city opens them
NOT_STEP_FREE = 1 << 1  # raised kerb, stile, wheelchair=no
ELEVATOR_NODE = 1 << 2

_GATE_BARRIERS = frozenset({"turnstile", "full-height_turnstile", "toll_booth"})
# Ticket gates are not here: the wide gate of a Japanese station takes a wheelchair.
_STEP_BARRIERS = frozenset({"stile", "kissing_gate", "full-height_turnstile"})
_FLAT_KERBS = frozenset({"lowered", "flush", "no"})
_INCLINE = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*(%|°)?\s*$")


def edge_flags(tags: TagLookup) -> int:
    """The flags of a kept way's edges."""
    flags = 0
    highway = tags.get("highway")
    conveying = tags.get("conveying")
    if highway == "steps":
        flags |= ESCALATOR if conveying not in (None, "no") else STEPS
        if tags.get("ramp:wheelchair") == "yes":
            flags |= RAMP
    elif conveying not in (None, "no") or tags.get("escalator") == "yes":
        # A moving walkway (conveying on a footway) is level; an escalator has steps.
        flags |= ESCALATOR if tags.get("escalator") == "yes" or highway != "footway" else 0
    if highway == "elevator":
        flags |= ELEVATOR
    if tags.get("wheelchair") == "no":
        flags |= WHEELCHAIR_NO
    if not street_level(tags):
        flags |= OFF_STREET_LEVEL
    # People on foot ignore oneway (a one-way street is walked both ways); oneway:foot and
    # an escalator's direction are what bind them.
    direction = tags.get("oneway:foot")
    if direction is None and flags & ESCALATOR:
        direction = {"forward": "yes", "backward": "-1"}.get(conveying or "")
    if direction in ("yes", "true", "1"):
        flags |= FORWARD_ONLY
    elif direction == "-1":
        flags |= BACKWARD_ONLY
    return flags


def street_level(tags: TagLookup) -> bool:
    """Whether a way is outdoors at street level (snapping prefers these)."""
    if tags.get("indoor") not in (None, "no") or tags.get("highway") == "corridor":
        return False
    if tags.get("location") in ("underground", "indoor"):
        return False
    if tags.get("tunnel") in ("yes", "culvert") or tags.get("bridge") not in (None, "no"):
        return False
    level = tags.get("level")
    if level is not None and "0" not in re.split(r"[;,]", level.replace(" ", "")):
        return False
    layer = tags.get("layer")
    return layer is None or layer.strip() in ("0", "")


def incline_percent(tags: TagLookup) -> float:
    """The absolute incline in percent when tagged with a number (NaN otherwise: up/down)."""
    value = tags.get("incline")
    if value is None:
        return math.nan
    found = _INCLINE.match(value)
    if found is None:
        return math.nan
    number = abs(float(found.group(1)))
    if found.group(2) == "°":
        number = math.tan(math.radians(min(number, 89.0))) * 100.0
    return number


def node_flags(tags: TagLookup) -> int:
    """The flags of a node on a walkable way."""
    flags = 0
    barrier = tags.get("barrier")
    if barrier in _GATE_BARRIERS or (barrier is not None and tags.get("fee") == "yes"):
        flags |= TICKET_GATE
    if barrier in _STEP_BARRIERS or tags.get("wheelchair") == "no":
        flags |= NOT_STEP_FREE
    kerb = tags.get("kerb")
    # barrier=kerb alone is a raised kerb (Key:kerb); lowered and flush kerbs are step-free.
    if (barrier == "kerb" and kerb not in _FLAT_KERBS) or kerb in ("raised", "rolled"):
        flags |= NOT_STEP_FREE
    if tags.get("highway") == "elevator":
        flags |= ELEVATOR_NODE
    return flags


NODE_TAG_KEYS = ("barrier", "kerb", "wheelchair", "highway")


# ------------------------------------------------------------------ time-conditional access

CONDITIONAL_KEYS = ("foot:conditional", "access:conditional")


def _split_conditional(value: str) -> list[tuple[str, str]]:
    """``no @ (08:00-20:00); yes @ (Su)`` -> [("no", "08:00-20:00"), ("yes", "Su")]."""
    parts: list[str] = []
    depth, start = 0, 0
    for i, char in enumerate(value):
        if char == "(":
            depth += 1
        elif char == ")":
            depth = max(depth - 1, 0)
        elif char == ";" and depth == 0:
            parts.append(value[start:i])
            start = i + 1
    parts.append(value[start:])
    rules: list[tuple[str, str]] = []
    for part in parts:
        if "@" not in part:
            continue
        access, condition = part.split("@", 1)
        # "(17:00-05:00),(PH 12:00-05:00)": either time; the comma joins opening-hours rules.
        groups = re.split(r"\)\s*,\s*\(", condition.strip())
        condition = ", ".join(group.strip().strip("()").strip() for group in groups)
        rules.append((access.strip(), condition))
    return rules


def conditional_rules(tags: TagLookup) -> dict[str, str]:
    """The plain and conditional access tags of a way whose access depends on the time."""
    if not any(tags.get(key) for key in CONDITIONAL_KEYS):
        return {}
    keys = ("foot", "access", *CONDITIONAL_KEYS)
    return {key: value for key in keys if (value := tags.get(key)) is not None}


def conditional_record(tags: TagLookup) -> str | None:
    """A canonical JSON text of a way's time-dependent access (the graph stores each once)."""
    rules = conditional_rules(tags)
    return json.dumps(rules, ensure_ascii=False, sort_keys=True) if rules else None


def _allowed(foot: str | None, access: str | None) -> bool:
    if foot in FOOT_DENIED:
        return False
    if foot in FOOT_ALLOWED:
        return True
    return access not in ACCESS_DENIED


@dataclass(frozen=True, slots=True)
class Conditional:
    """A parsed time-dependent access record: which access value holds at a local time."""

    foot: str | None
    access: str | None
    foot_rules: tuple[tuple[str, object], ...]
    access_rules: tuple[tuple[str, object], ...]
    unparsed: tuple[str, ...]

    @classmethod
    def parse(cls, record: str) -> Conditional:
        """From a ``conditional_record`` text; conditions that are not times are ignored."""
        from opening_hours import OpeningHours

        tags = json.loads(record)
        unparsed: list[str] = []

        def rules(key: str) -> tuple[tuple[str, object], ...]:
            parsed: list[tuple[str, object]] = []
            for access, condition in _split_conditional(tags.get(key, "")):
                # Common variant "Su: 12:00-05:00" of the standard "Su 12:00-05:00".
                normalized = re.sub(r"\b(Mo|Tu|We|Th|Fr|Sa|Su|PH):\s*", r"\1 ", condition)
                try:
                    parsed.append((access, OpeningHours(normalized, country="JP")))
                except Exception:  # noqa: BLE001 - the parser's errors (not times: "wet")
                    unparsed.append(condition)
            return tuple(parsed)

        return cls(
            tags.get("foot"),
            tags.get("access"),
            rules("foot:conditional"),
            rules("access:conditional"),
            tuple(unparsed),
        )

    def allowed_at(self, local_time: object) -> bool:
        """Whether people may walk the way at this local (naive, Japan time) moment."""
        foot = self.foot
        for access, hours in self.foot_rules:
            if hours.is_open(local_time):  # type: ignore[attr-defined]
                foot = access
                break
        access_value = self.access
        for access, hours in self.access_rules:
            if hours.is_open(local_time):  # type: ignore[attr-defined]
                access_value = access
                break
        return _allowed(foot, access_value)


def rule_descriptions() -> Iterable[tuple[str, str]]:
    """(code, description) of every exclusion rule, in order."""
    return ((rule.code, rule.description) for rule in WAY_RULES)
