"""The generated national table, JMA city codes and the served selection, on the real files."""

from __future__ import annotations

import csv
import importlib.util
import io
import sys
from pathlib import Path
from types import ModuleType

import pytest

from backend.municipalities.reference import (
    REFERENCE_FILE,
    code_from_jma_city_code,
    national_reference,
    normalize_code,
    reference_of,
    served_codes,
    with_check_digit,
)
from tests.shared_data import require_shared

GENERATOR = Path(__file__).resolve().parents[2] / "scripts" / "generate_municipalities.py"

# JMA areas whose names do not begin with their municipality's name. Each is a part of one
# municipality that JMA warns separately, named after the part alone, or an older spelling.
JMA_NAMES_NOT_PREFIXED = {
    "0148402": "天売焼尻",  # the islands of 羽幌町 (01484)
    "2020201": "松本",  # 松本市 (20202) without 乗鞍上高地
    "2020202": "乗鞍上高地",  # the mountain part of 松本市
    "2021501": "塩尻",  # 塩尻市 (20215) without 楢川
    "2021502": "楢川",  # the former village, now part of 塩尻市
    "3940500": "檮原町",  # 梼原町 (39405), written with the variant 檮
    "4220901": "下対馬",  # 対馬市 (42209), south
    "4220902": "上対馬",  # 対馬市 (42209), north
}


def load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("generate_municipalities", GENERATOR)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_the_packaged_table_is_what_the_generator_writes_from_the_sources() -> None:
    # given the two sources in the shared data folder
    code_table = require_shared("gsi-shelters", "code-to-city.json")
    require_shared("jma-areas", "citycode.csv")
    generator = load_generator()

    # when the generator runs on them
    rows, _notes = generator.generate(code_table.parent.parent)
    written = io.StringIO()
    writer = csv.DictWriter(written, fieldnames=generator.COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)

    # then its output is the committed file, byte for byte
    assert written.getvalue() == REFERENCE_FILE.read_text(encoding="utf-8")


def test_the_table_holds_every_entry_of_the_national_code_table_except_prefectures() -> None:
    import json

    table = json.loads(require_shared("gsi-shelters", "code-to-city.json").read_text("utf-8"))
    expected = {
        city["code"]: city["cityName"]
        for prefecture in table.values()
        for city in prefecture["cities"].values()
        if city["cityName"]  # the prefecture itself (130001 東京都) is no municipality
    }
    assert {with_check_digit(r.code): r.name_ja for r in national_reference()} == expected
    wards = [r for r in national_reference() if r.designated_city_code]
    assert len(wards) == 171
    for ward in wards:
        city = reference_of(ward.designated_city_code or "")
        assert city is not None and ward.name_ja.startswith(city.name_ja)


def test_every_jma_city_code_maps_to_a_municipality_of_japan() -> None:
    # given every row of JMA's city table (1,788 forecast areas)
    path = require_shared("jma-areas", "citycode.csv")
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 1788

    # when each code is mapped
    unmapped = [row for row in rows if code_from_jma_city_code(row["citycode"]) is None]

    # then all of them name a municipality, and the area's name begins with its name except
    # for the parts JMA names on their own (listed above with the reason)
    assert unmapped == []
    not_prefixed = {}
    for row in rows:
        municipality = reference_of(code_from_jma_city_code(row["citycode"]) or "")
        assert municipality is not None
        if not row["cityname"].startswith(municipality.name_ja):
            not_prefixed[row["citycode"]] = row["cityname"]
    assert not_prefixed == JMA_NAMES_NOT_PREFIXED


@pytest.mark.parametrize(
    ("jma_code", "expected"),
    [
        ("0720200", "07202"),  # 会津若松市, whole
        ("0720302", "07203"),  # 郡山市湖南, a part
        ("0410000", "04100"),  # 仙台市 as a whole
        ("3410100", "34101"),  # 広島市中区: JMA lists Hiroshima per ward
        ("9999900", None),
        ("07202", None),
        ("072020x", None),
        ("", None),
    ],
)
def test_jma_city_codes(jma_code: str, expected: str | None) -> None:
    assert code_from_jma_city_code(jma_code) == expected


def test_codes_in_5_and_6_digits() -> None:
    assert with_check_digit("07202") == "072028"
    assert with_check_digit("04101") == "041017"
    assert normalize_code(" 072028 ") == "07202"
    assert normalize_code("041017") == "04101"
    assert normalize_code("041018") is None  # wrong check digit
    assert normalize_code("7202") is None


def test_served_selection() -> None:
    assert len(served_codes(["07"])) == 59
    assert served_codes(["072028"]) == {"07202"}
    # a designated city brings its wards
    assert served_codes(["04100"]) == {"04100", "04101", "04102", "04103", "04104", "04105"}
    with pytest.raises(ValueError, match="07999, 041018"):
        served_codes(["07", "07999", "041018"])
