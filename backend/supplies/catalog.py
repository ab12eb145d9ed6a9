"""The supplies catalog as data: items, the rules that say who needs how much, and why.

A catalog is a YAML (or JSON) document. The default one ships in this package
(``default_catalog.yaml``, after the national guidance); a municipality may import its own,
which extends the default (its items replace default items of the same code) or replaces it.
Parsing reports every problem with its line and path and refuses the document whole.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from yaml.nodes import Node, SequenceNode

from ..ingest.problems import FileRefused, Problems
from ..ingest.yaml_doc import Reader, compose_document

DEFAULT_CATALOG = Path(__file__).with_name("default_catalog.yaml")
DEFAULT_SOURCE = "default"
MAX_CATALOG_BYTES = 256 * 1024
MAX_ITEMS = 200
MAX_RULES_PER_ITEM = 10
MAX_QUANTITY = 1000.0
# A person whose age is not known (not entered, or not shared) is taken for an adult: age
# ranges apply to them when they include this age (water and meals do, infant formula not).
ASSUMED_ADULT_AGE = 30


class Basis(StrEnum):
    """What a rule's quantity is counted per."""

    PERSON_DAY = "person_day"
    PERSON = "person"
    HOUSEHOLD = "household"
    HOUSEHOLD_DAY = "household_day"
    PET_DAY = "pet_day"
    PET = "pet"


class Category(StrEnum):
    WATER_FOOD = "water_food"
    TOILET_HYGIENE = "toilet_hygiene"
    HEALTH = "health"
    INFANT = "infant"
    ELDERLY = "elderly"
    PET = "pet"
    TOOLS = "tools"
    VALUABLES = "valuables"


class PetKind(StrEnum):
    DOG = "dog"
    CAT = "cat"
    OTHER = "other"


class DietaryNeed(StrEnum):
    """Dietary needs a resident may declare (a fixed list, so rules can name them)."""

    ALLERGY = "allergy"
    DIABETES = "diabetes"
    SOFT_FOOD = "soft_food"  # 嚥下・咀嚼が難しい方の介護食
    HALAL = "halal"
    VEGETARIAN = "vegetarian"


class CatalogMode(StrEnum):
    EXTEND = "extend"
    REPLACE = "replace"


GENDERS = ("female", "male", "other")


@dataclass(frozen=True, slots=True)
class Condition:
    """Who a rule applies to; an empty condition applies to everyone."""

    age_min: int | None = None
    age_max: int | None = None
    genders: frozenset[str] = frozenset()
    pets: frozenset[str] | None = None  # kinds; None: pets do not matter
    medication: bool | None = None
    dietary: frozenset[str] = frozenset()  # any of
    not_dietary: frozenset[str] = frozenset()  # none of

    def as_json(self) -> dict[str, Any]:
        return {
            "age_min": self.age_min,
            "age_max": self.age_max,
            "genders": sorted(self.genders),
            "pets": None if self.pets is None else sorted(self.pets),
            "medication": self.medication,
            "dietary": sorted(self.dietary),
            "not_dietary": sorted(self.not_dietary),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Condition:
        pets = data.get("pets")
        return cls(
            age_min=data.get("age_min"),
            age_max=data.get("age_max"),
            genders=frozenset(data.get("genders") or ()),
            pets=None if pets is None else frozenset(pets),
            medication=data.get("medication"),
            dietary=frozenset(data.get("dietary") or ()),
            not_dietary=frozenset(data.get("not_dietary") or ()),
        )


@dataclass(frozen=True, slots=True)
class Rule:
    basis: Basis
    quantity: float
    reason_ja: str
    reason_en: str
    when: Condition = field(default_factory=Condition)

    def as_json(self) -> dict[str, Any]:
        return {
            "per": self.basis.value,
            "quantity": self.quantity,
            "reason_ja": self.reason_ja,
            "reason_en": self.reason_en,
            "when": self.when.as_json(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Rule:
        return cls(
            basis=Basis(data["per"]),
            quantity=float(data["quantity"]),
            reason_ja=data["reason_ja"],
            reason_en=data["reason_en"],
            when=Condition.from_json(data.get("when") or {}),
        )


@dataclass(frozen=True, slots=True)
class Item:
    code: str
    name_ja: str
    name_en: str
    unit_ja: str
    unit_en: str
    category: Category
    rules: tuple[Rule, ...]


@dataclass(frozen=True, slots=True)
class Catalog:
    """A parsed catalog: its items in order, and how it combines with the default."""

    items: tuple[Item, ...]
    mode: CatalogMode = CatalogMode.EXTEND
    digest: str = ""


class SupplyCatalogRefused(FileRefused):
    """A supplies catalog refused whole; nothing was imported."""

    what = "supplies catalog"
    what_ja = "備蓄品カタログ"


def combine(default: Catalog, own: Catalog | None) -> tuple[Item, ...]:
    """The items a municipality's residents get: its own catalog over (or instead of) the
    default one; an own item replaces the default item of the same code, in its place."""
    if own is None:
        return default.items
    if own.mode is CatalogMode.REPLACE:
        return own.items
    by_code = {item.code: item for item in own.items}
    kept = [by_code.pop(item.code, item) for item in default.items]
    return (*kept, *by_code.values())


# --- parsing --------------------------------------------------------------------------------


ITEM_KEYS = {
    "code": True, "name_ja": True, "name_en": True, "unit_ja": True, "unit_en": True,
    "category": True, "rules": True,
}  # fmt: skip
RULE_KEYS = {"per": True, "quantity": True, "reason_ja": True, "reason_en": True, "when": False}
WHEN_KEYS = {
    "age_min": False, "age_max": False, "genders": False, "pets": False, "medication": False,
    "dietary": False, "not_dietary": False,
}  # fmt: skip
CODE_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789_")


def _condition(reader: Reader, node: Node, path: str) -> Condition:
    entries = reader.mapping(node, path, WHEN_KEYS)
    if entries is None:
        return Condition()
    ages = {
        key: reader.integer(entries[key], f"{path}.{key}", 0, 130)
        for key in ("age_min", "age_max")
        if key in entries
    }
    low, high = ages.get("age_min"), ages.get("age_max")
    if low is not None and high is not None and low > high:
        reader.problem(
            node, f"{path}.age_min", "must not exceed age_max", "age_max 以下にしてください"
        )
    pets: frozenset[str] | None = None
    if "pets" in entries:
        if reader.scalar(entries["pets"]) == "any":
            pets = frozenset(PetKind)
        else:
            pets = reader.choices(entries["pets"], f"{path}.pets", tuple(PetKind))
    needs = tuple(DietaryNeed)
    return Condition(
        age_min=low,
        age_max=high,
        genders=reader.choices(entries["genders"], f"{path}.genders", GENDERS)
        if "genders" in entries
        else frozenset(),
        pets=pets,
        medication=reader.boolean(entries["medication"], f"{path}.medication")
        if "medication" in entries
        else None,
        dietary=reader.choices(entries["dietary"], f"{path}.dietary", needs)
        if "dietary" in entries
        else frozenset(),
        not_dietary=reader.choices(entries["not_dietary"], f"{path}.not_dietary", needs)
        if "not_dietary" in entries
        else frozenset(),
    )


def _rule(reader: Reader, node: Node, path: str) -> Rule | None:
    entries = reader.mapping(node, path, RULE_KEYS)
    if entries is None:
        return None
    # Every entry present is checked, so one run reports all that is wrong with the rule.
    basis = quantity = reason_ja = reason_en = None
    if "per" in entries:
        basis = Basis(reader.choice(entries["per"], f"{path}.per", tuple(Basis)))
    if "quantity" in entries:
        quantity = reader.number(entries["quantity"], f"{path}.quantity", MAX_QUANTITY)
    if "reason_ja" in entries:
        reason_ja = reader.text(entries["reason_ja"], f"{path}.reason_ja", 300)
    if "reason_en" in entries:
        reason_en = reader.text(entries["reason_en"], f"{path}.reason_en", 300)
    when = _condition(reader, entries["when"], f"{path}.when") if "when" in entries else None
    if basis is None or quantity is None or reason_ja is None or reason_en is None:
        return None
    return Rule(basis, quantity, reason_ja, reason_en, when or Condition())


def _code(reader: Reader, node: Node, path: str, codes: set[str]) -> str:
    code = reader.text(node, path, 64)
    if code and (not set(code) <= CODE_CHARS or not code[0].isalpha()):
        reader.problem(
            node,
            path,
            "lower-case letters, digits and _ required",
            "英小文字・数字・_ で指定してください",
        )
    elif code in codes:
        reader.problem(node, path, f"{code!r} appears twice", f"{code!r} が重複しています")
    codes.add(code)
    return code


def _item(reader: Reader, node: Node, path: str, codes: set[str]) -> Item | None:
    entries = reader.mapping(node, path, ITEM_KEYS)
    if entries is None:
        return None
    texts = {"name_ja": 100, "name_en": 100, "unit_ja": 20, "unit_en": 20}
    values: dict[str, Any] = {
        key: reader.text(entries[key], f"{path}.{key}", limit)
        for key, limit in texts.items()
        if key in entries
    }
    if "code" in entries:
        values["code"] = _code(reader, entries["code"], f"{path}.code", codes)
    if "category" in entries:
        values["category"] = Category(
            reader.choice(entries["category"], f"{path}.category", tuple(Category))
        )
    if "rules" in entries:
        rules_node = entries["rules"]
        if isinstance(rules_node, SequenceNode) and not rules_node.value:
            reader.problem(
                rules_node, f"{path}.rules", "at least one rule required", "ルールが1件以上必要です"
            )
        rule_nodes = reader.sequence(rules_node, f"{path}.rules", MAX_RULES_PER_ITEM)
        rules = [_rule(reader, n, f"{path}.rules[{i}]") for i, n in enumerate(rule_nodes)]
        values["rules"] = tuple(r for r in rules if r is not None)
    if set(values) != set(ITEM_KEYS):
        return None  # a required key is missing: reported by mapping()
    return Item(**values)


def parse_catalog(data: bytes, name: str) -> Catalog:
    """A catalog document checked whole; SupplyCatalogRefused lists every problem.

    CPU-bound (YAML): callers off the event loop run it in a worker thread.
    """
    problems = Problems(name, SupplyCatalogRefused)
    if len(data) > MAX_CATALOG_BYTES:
        problems.fail(
            None,
            f"larger than {MAX_CATALOG_BYTES:,} bytes",
            f"{MAX_CATALOG_BYTES:,} バイトを超えています",
        )
    root = compose_document(data, problems)
    reader = Reader(problems)
    entries = reader.mapping(root, "$", {"mode": False, "items": True})
    problems.raise_if_any()
    assert entries is not None
    mode = CatalogMode.EXTEND
    if "mode" in entries:
        mode = CatalogMode(reader.choice(entries["mode"], "mode", tuple(CatalogMode)))
    codes: set[str] = set()
    item_nodes = reader.sequence(entries["items"], "items", MAX_ITEMS)
    items = [_item(reader, n, f"items[{i}]", codes) for i, n in enumerate(item_nodes)]
    if not item_nodes and not problems.total:
        reader.problem(
            entries["items"], "items", "at least one item required", "品目が1件以上必要です"
        )
    problems.raise_if_any()
    return Catalog(
        items=tuple(i for i in items if i is not None),
        mode=mode,
        digest=hashlib.sha256(data).hexdigest(),
    )


@functools.cache
def default_catalog() -> Catalog:
    """The catalog shipped with Kizuna (parsed once; a bad file fails at start-up)."""
    return parse_catalog(DEFAULT_CATALOG.read_bytes(), DEFAULT_CATALOG.name)
