"""Catalog files: the default one is valid, a bad one is refused whole with its lines."""

from __future__ import annotations

import pytest

from backend.supplies.catalog import (
    DEFAULT_CATALOG,
    SupplyCatalogRefused,
    default_catalog,
    parse_catalog,
)

BAD = """\
mode: merge
items:
  - code: water
    name_ja: 水
    name_en: Water
    unit_ja: L
    unit_en: litres
    category: drinks
    rules:
      - per: person_week
        quantity: -1
        reason_ja: 水
        reason_en: water
        when: {age_min: 70, age_max: 10, pets: [hamster]}
  - code: water
    name_ja: 水
    colour: blue
    unit_ja: L
    unit_en: litres
    category: water_food
    rules: []
"""


def test_the_default_catalog_covers_the_national_guidance() -> None:
    codes = {item.code for item in default_catalog().items}
    assert {
        "water", "staple_food", "portable_toilets", "infant_formula", "infant_diapers",
        "adult_diapers", "denture_care", "sanitary_products", "pet_food", "pet_water",
        "medication_notebook", "allergy_safe_food",
    } <= codes  # fmt: skip
    assert DEFAULT_CATALOG.read_bytes()  # shipped in the package


def test_a_bad_catalog_is_refused_with_every_problem_and_its_line() -> None:
    with pytest.raises(SupplyCatalogRefused) as refused:
        parse_catalog(BAD.encode(), "city.yaml")
    found = {(p.line, p.message.split(":")[0]) for p in refused.value.problems}
    assert {
        (1, "mode"),
        (8, "items[0].category"),
        (10, "items[0].rules[0].per"),
        (11, "items[0].rules[0].quantity"),
        (14, "items[0].rules[0].when.age_min"),
        (14, "items[0].rules[0].when.pets[0]"),
        (15, "items[1].code"),  # twice
        (15, "items[1]"),  # name_en missing
        (17, "items[1]"),  # unknown key colour
    } <= found, found
    # the message names the file and each line, in English and Japanese
    assert "city.yaml:11: items[0].rules[0].quantity" in refused.value.message
    assert "city.yaml（11行目）" in refused.value.message_ja


@pytest.mark.parametrize(
    ("text", "lines"),
    [
        ("items: [", (1, 2)),  # not YAML (libyaml names the end of the text, PyYAML line 1)
        ("items:\n  - &a {code: x}\n  - *a\n", (2,)),  # aliases could blow a small file up
        ("", (None,)),
        ("- just a list", (1,)),
        ("items: []", (1,)),
    ],
)
def test_unreadable_documents_are_refused(text: str, lines: tuple[int | None, ...]) -> None:
    with pytest.raises(SupplyCatalogRefused) as refused:
        parse_catalog(text.encode(), "x.yaml")
    assert refused.value.problems[0].line in lines


def test_oversized_files_are_refused_before_parsing() -> None:
    with pytest.raises(SupplyCatalogRefused, match="larger than"):
        parse_catalog(b"#" * (300 * 1024), "huge.yaml")


def test_json_is_accepted_too() -> None:
    document = (
        '{"mode": "replace", "items": [{"code": "water", "name_ja": "水", "name_en": "Water",'
        ' "unit_ja": "L", "unit_en": "litres", "category": "water_food", "rules": [{"per":'
        ' "household", "quantity": 10, "reason_ja": "r", "reason_en": "r"}]}]}'
    )
    parsed = parse_catalog(document.encode(), "city.json")
    assert parsed.mode.value == "replace" and [i.code for i in parsed.items] == ["water"]


def test_nested_aliases_are_refused_without_expanding_them() -> None:
    # a "billion laughs" document: 2^30 strings if expanded
    lines = ["l0: &l0 [lol, lol]"]
    lines += [f"l{n}: &l{n} [*l{n - 1}, *l{n - 1}]" for n in range(1, 30)]
    with pytest.raises(SupplyCatalogRefused, match="aliases are not allowed"):
        parse_catalog("\n".join(lines).encode(), "laughs.yaml")
