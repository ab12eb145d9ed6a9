"""The register's field parsers: what municipalities write, and what is refused."""

from __future__ import annotations

from datetime import date

import pytest

from backend.plans import register
from backend.plans.models import RegisterConsent

TODAY = date(2026, 12, 1)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1940-04-01", date(1940, 4, 1)),
        ("1940/4/1", date(1940, 4, 1)),
        ("1940年4月1日", date(1940, 4, 1)),
        ("昭和15年4月1日", date(1940, 4, 1)),
        ("S15.4.1", date(1940, 4, 1)),
        ("Ｓ１５．４．１", date(1940, 4, 1)),
        ("s15/04/01", date(1940, 4, 1)),
        ("平成元年1月8日", date(1989, 1, 8)),
        ("昭和64年1月7日", date(1989, 1, 7)),
        ("大正14年12月31日", date(1925, 12, 31)),
        ("R1.5.1", date(2019, 5, 1)),
        ("", None),
    ],
)
def test_birth_dates_in_western_and_japanese_eras(raw: str, expected: date | None) -> None:
    assert register.parse_birth_date(raw, today=TODAY) == expected


@pytest.mark.parametrize(
    "raw", ["平成元年1月7日", "昭和65年1月1日", "R1.4.30", "1940-02-30", "2027-01-01", "昨日", "S"]
)
def test_dates_that_do_not_exist_are_refused(raw: str) -> None:
    with pytest.raises(register.Invalid):
        register.parse_birth_date(raw, today=TODAY)


@pytest.mark.parametrize(
    ("parser", "raw", "expected"),
    [
        (register.parse_care_level, "要介護３", "要介護3"),
        (register.parse_care_level, "要支援 1", "要支援1"),
        (register.parse_care_level, "care5", "要介護5"),
        (register.parse_care_level, "なし", None),
        (register.parse_physical_disability, "１級", "1級"),
        (register.parse_physical_disability, "六級", "6級"),
        (register.parse_mental_disability, "3", "3級"),
        (register.parse_intellectual_disability, "ａ１", "A1"),
        (register.parse_intellectual_disability, "B", "B"),
        (register.parse_phone, "０２４２－００－００００", "0242-00-0000"),
        (register.parse_phone, "09000000000", "09000000000"),
        (register.parse_kana, "ｱｲﾂﾞ ﾊﾅｺ", "あいづ はなこ"),
        (register.parse_gender, "女性", "female"),
        (register.parse_consent, "不同意", RegisterConsent.REFUSED),
        (register.parse_consent, "", RegisterConsent.UNANSWERED),
        (register.parse_flag, "○", True),
        (register.parse_flag, "×", False),
        (register.parse_disease, "有", ""),
        (register.parse_disease, "架空病", "架空病"),
        (register.parse_register_number, "０００１２", "00012"),
    ],
)
def test_values_as_written_become_canonical(parser: object, raw: str, expected: object) -> None:
    assert parser(raw) == expected  # type: ignore[operator]


@pytest.mark.parametrize(
    ("parser", "raw"),
    [
        (register.parse_care_level, "要支援3"),
        (register.parse_care_level, "要介護0"),
        (register.parse_physical_disability, "7級"),
        (register.parse_mental_disability, "4級"),
        (register.parse_intellectual_disability, "C"),
        (register.parse_phone, "0242-00"),
        (register.parse_phone, "tel 0242000000"),
        (register.parse_kana, "Aizu"),
        (register.parse_gender, "?"),
        (register.parse_consent, "maybe"),
        (register.parse_flag, "たぶん"),
        (register.parse_name, ""),
        (register.parse_name, "架空\u202e太郎"),
        (register.parse_register_number, "12 34"),
    ],
)
def test_values_outside_the_vocabulary_are_refused_in_both_languages(
    parser: object, raw: str
) -> None:
    with pytest.raises(register.Invalid) as refused:
        parser(raw)  # type: ignore[operator]
    assert refused.value.message and refused.value.message_ja


def test_the_row_cap_is_checked_before_the_csv_is_split() -> None:
    data = b"register_number,name\n" + b"1,x\n" * (register.MAX_ROWS + 20)
    with pytest.raises(register.RegisterRefused, match="at most"):
        register.parse_register(data, "huge.csv")
