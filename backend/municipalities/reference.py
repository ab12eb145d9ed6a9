"""Every municipality of Japan (総務省 全国地方公共団体コード), from the generated ``japan.csv``.

Codes are the 5-digit JIS X 0402 form without check digit (07202), the form every record
of Kizuna carries; the 6-digit form with check digit (072028) is derived by ``with_check_digit``
and JMA's 7-digit city codes (0720200) map back by ``code_from_jma_city_code``.
``japan.csv`` is written by ``scripts/generate_municipalities.py``; see the README for its sources.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

FUKUSHIMA_PREFECTURE = "07"
REFERENCE_FILE = Path(__file__).with_name("japan.csv")


@dataclass(frozen=True, slots=True)
class MunicipalityRef:
    code: str
    prefecture_code: str
    prefecture_name_ja: str
    name_ja: str
    name_kana: str | None
    name_en: str | None
    # For a ward of a designated city (仙台市青葉区), the city's code (04100).
    designated_city_code: str | None


@cache
def national_reference() -> tuple[MunicipalityRef, ...]:
    """All municipalities of Japan, 政令市 and their wards included, by code."""
    with REFERENCE_FILE.open(encoding="utf-8", newline="") as handle:
        return tuple(
            MunicipalityRef(
                code=row["code"],
                prefecture_code=row["prefecture_code"],
                prefecture_name_ja=row["prefecture_name_ja"],
                name_ja=row["name_ja"],
                name_kana=row["name_kana"] or None,
                name_en=row["name_en"] or None,
                designated_city_code=row["designated_city_code"] or None,
            )
            for row in csv.DictReader(handle)
        )


@cache
def _by_code() -> dict[str, MunicipalityRef]:
    return {ref.code: ref for ref in national_reference()}


def reference_of(code: str) -> MunicipalityRef | None:
    """The reference entry of a 5-digit code, if it is a municipality of Japan."""
    return _by_code().get(code)


def with_check_digit(code: str) -> str:
    """The 6-digit 全国地方公共団体コード (JIS X 0402 code plus its modulus-11 check digit)."""
    if len(code) != 5 or not code.isdigit():
        raise ValueError(f"not a 5-digit municipality code: {code!r}")
    total = sum(int(d) * w for d, w in zip(code, (6, 5, 4, 3, 2), strict=True))
    # 11 - remainder, keeping its last digit: remainder 0 gives 1, remainder 1 gives 0.
    return f"{code}{(11 - total % 11) % 10}"


def normalize_code(code: str) -> str | None:
    """A 5-digit code from a 5- or 6-digit input (the 6th being a valid check digit), else None."""
    code = code.strip()
    if len(code) == 5 and code.isdigit():
        return code
    if len(code) == 6 and code.isdigit() and with_check_digit(code[:5]) == code:
        return code[:5]
    return None


def code_from_jma_city_code(jma_code: str) -> str | None:
    """The municipality of a JMA 7-digit city code (気象庁 市町村等, e.g. 0720200 -> 07202).

    JMA appends two digits to the 5-digit code: ``00`` for the whole municipality, ``01``...
    for the areas it warns separately (0410001 仙台市東部, 0720302 郡山市湖南). A designated
    city may appear whole (0410000 仙台市) or per ward (3410100 広島市中区). None when the code
    is malformed or names no municipality.
    """
    jma_code = jma_code.strip()
    if len(jma_code) != 7 or not jma_code.isdigit():
        return None
    code = jma_code[:5]
    return code if reference_of(code) is not None else None


def served_codes(selection: Iterable[str]) -> frozenset[str]:
    """Codes of the municipalities a selection of prefecture and municipality codes serves.

    "07" serves every municipality of Fukushima; "07202" or "072028" serves 会津若松市; a
    designated city ("04100") serves its wards too. Raises ValueError naming unknown entries.
    """
    prefectures: set[str] = set()
    municipalities: set[str] = set()
    unknown: list[str] = []
    known_prefectures = {ref.prefecture_code for ref in national_reference()}
    for entry in selection:
        entry = entry.strip()
        code = normalize_code(entry)
        if entry in known_prefectures:
            prefectures.add(entry)
        elif code is not None and reference_of(code) is not None:
            municipalities.add(code)
        else:
            unknown.append(entry)
    if unknown:
        raise ValueError(f"not a prefecture or municipality code of Japan: {', '.join(unknown)}")
    return frozenset(
        ref.code
        for ref in national_reference()
        if ref.prefecture_code in prefectures
        or ref.code in municipalities
        or ref.designated_city_code in municipalities
    )
