"""The support-needed register (避難行動要支援者名簿) as municipalities keep it: the one place
where each of its fields is parsed and validated, for CSV imports and for staff edits alike.

Pure functions: no database, no GraphQL. A field parser takes the text a municipality writes
(Japanese or English, full-width or not) and returns the stored value, or raises ``Invalid``
with an English and a Japanese message. A register file is refused whole: every bad cell is
named by line and column, and nothing is returned.
"""

from __future__ import annotations

import asyncio
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any

from ..ingest.csv_table import read_csv_table
from ..ingest.files import read_capped
from ..ingest.problems import FileRefused, Problems
from ..text import is_hidden
from .models import RegisterConsent

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_ROWS = 50_000
# Aizu-Wakamatsu keeps about 10,000 people on its register; a prefecture-wide file is an error.


class RegisterRefused(FileRefused):
    """The register file was refused as a whole; nothing was stored."""

    what = "support register"
    what_ja = "避難行動要支援者名簿"


class Invalid(ValueError):
    """One field's value is not acceptable; the messages say what is expected."""

    def __init__(self, message: str, message_ja: str) -> None:
        super().__init__(message)
        self.message = message
        self.message_ja = message_ja


class ReasonKind(StrEnum):
    """Why a person needs support, in the order they are stored and shown."""

    CARE_LEVEL = "care_level"  # 要介護度
    PHYSICAL_DISABILITY = "physical_disability"  # 身体障害者手帳
    INTELLECTUAL_DISABILITY = "intellectual_disability"  # 療育手帳
    MENTAL_DISABILITY = "mental_disability"  # 精神障害者保健福祉手帳
    INTRACTABLE_DISEASE = "intractable_disease"  # 難病
    ELDERLY_ALONE = "elderly_alone"  # 独居高齢者
    ELDERLY_HOUSEHOLD = "elderly_household"  # 高齢者のみ世帯
    OTHER = "other"  # その他


REASON_KINDS = tuple(k.value for k in ReasonKind)


@dataclass(frozen=True, slots=True)
class Reason:
    """One reason for support: ``value`` is the grade or note, None for a plain yes."""

    kind: str
    value: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "value": self.value}


@dataclass(frozen=True, slots=True)
class EntryData:
    """One person's register entry, every field typed and validated."""

    register_number: str
    name: str
    kana: str | None = None
    birth_date: date | None = None
    gender: str | None = None
    address: str | None = None
    phone: str | None = None
    reasons: tuple[Reason, ...] = ()
    consent_status: RegisterConsent = RegisterConsent.UNANSWERED
    line: int | None = field(default=None, compare=False)

    def values(self) -> dict[str, Any]:
        """The stored columns of the entry (what an import compares and writes)."""
        return {
            "register_number": self.register_number,
            "name": self.name,
            "kana": self.kana,
            "birth_date": self.birth_date,
            "gender": self.gender,
            "address": self.address,
            "phone": self.phone,
            "reasons": reasons_json(self.reasons),
            "consent_status": self.consent_status.value,
        }


def reasons_json(reasons: Sequence[Reason]) -> list[dict[str, Any]]:
    """Reasons as stored: one per kind, in the fixed order of ``REASON_KINDS``."""
    by_kind = {r.kind: r for r in reasons}
    return [by_kind[k].as_json() for k in REASON_KINDS if k in by_kind]


def reasons_from_json(stored: Sequence[dict[str, Any]] | None) -> tuple[Reason, ...]:
    """Reasons read back from the stored JSON (unknown kinds are kept as they are)."""
    return tuple(Reason(str(r.get("kind")), r.get("value")) for r in stored or ())


def _text(raw: str) -> str:
    """NFKC (full-width digits and letters become ASCII), spaces collapsed, trimmed."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", raw)).strip()


def _bounded(raw: str, limit: int, what: str, what_ja: str) -> str | None:
    text = re.sub(r"\s+", " ", unicodedata.normalize("NFC", raw)).strip()
    if any(is_hidden(ch) for ch in text):
        raise Invalid(
            f"{what} contains control, format or other invisible characters",
            f"{what_ja}に使えない文字（制御文字や見えない書式文字）が含まれています",
        )
    if len(text) > limit:
        raise Invalid(
            f"{what} is longer than {limit} characters", f"{what_ja}は{limit}文字までです"
        )
    return text or None


def parse_register_number(raw: str) -> str:
    """名簿番号: 1-32 letters, digits, '-' or '_' (full-width digits accepted)."""
    text = _text(raw)
    if not re.fullmatch(r"[0-9A-Za-z_-]{1,32}", text):
        raise Invalid(
            "register number is required: 1-32 letters, digits, '-' or '_'",
            "名簿番号は英数字・ハイフン・下線で1〜32文字で記入してください",
        )
    return text


def parse_name(raw: str) -> str:
    """氏名: required, at most 100 characters (as the municipality writes it)."""
    name = _bounded(raw, 100, "name", "氏名")
    if name is None:
        raise Invalid("name is required", "氏名を記入してください")
    return name


_KANA = re.compile(r"[\u3041-\u3096\u30a1-\u30fa\u30fc\u30fb ・ー]+")


def to_hiragana(text: str) -> str:
    """Katakana turned into hiragana (ふりがな is kept in hiragana)."""
    return "".join(chr(ord(c) - 0x60) if "\u30a1" <= c <= "\u30f6" else c for c in text)


def parse_kana(raw: str) -> str | None:
    """ふりがな: kana only (katakana and half-width kana become hiragana), at most 100."""
    text = _text(raw).replace("\u3000", " ")
    if not text:
        return None
    if len(text) > 100 or not _KANA.fullmatch(text):
        raise Invalid(
            "kana must be written in kana (at most 100 characters)",
            "ふりがなはひらがなかカタカナで100文字までで記入してください",
        )
    return to_hiragana(text)


# Era name, its one-letter abbreviation, and its first day (the day after the last era ended).
ERAS = (
    ("明治", "M", date(1868, 1, 25)),
    ("大正", "T", date(1912, 7, 30)),
    ("昭和", "S", date(1926, 12, 25)),
    ("平成", "H", date(1989, 1, 8)),
    ("令和", "R", date(2019, 5, 1)),
)
_ERA_BY_NAME = {name: (i, start) for i, (name, _, start) in enumerate(ERAS)} | {
    letter: (i, start) for i, (_, letter, start) in enumerate(ERAS)
}
_WESTERN = re.compile(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?")
_JAPANESE = re.compile(
    r"(明治|大正|昭和|平成|令和|[MTSHR])\s*(元|\d{1,2})[-/.年](\d{1,2})[-/.月](\d{1,2})日?"
)
_BAD_DATE = Invalid(
    "birth date must be a date such as 1940-04-01, 昭和15年4月1日 or S15.4.1",
    "生年月日は「1940-04-01」「昭和15年4月1日」「Ｓ15.4.1」のように記入してください",
)


def parse_birth_date(raw: str, *, today: date | None = None) -> date | None:
    """生年月日: YYYY-MM-DD (or / .) and 和暦 (昭和15年4月1日, S15.4.1, 平成元年...)."""
    text = _text(raw).replace(" ", "").upper()
    if not text:
        return None
    if m := _WESTERN.fullmatch(text):
        year, month, day = int(m[1]), int(m[2]), int(m[3])
        era_check = None
    elif m := _JAPANESE.fullmatch(text):
        index, start = _ERA_BY_NAME[m[1]]
        year = start.year + (1 if m[2] == "元" else int(m[2])) - 1
        month, day = int(m[3]), int(m[4])
        era_check = (index, start)
    else:
        raise _BAD_DATE
    try:
        value = date(year, month, day)
    except ValueError as exc:
        raise _BAD_DATE from exc
    if era_check is not None:
        index, start = era_check
        end = ERAS[index + 1][2] if index + 1 < len(ERAS) else date.max
        if not start <= value < end:
            raise Invalid(
                f"{raw.strip()} does not exist: {ERAS[index][0]} ran from {start} to {end}",
                f"{raw.strip()}は存在しない日付です（{ERAS[index][0]}の期間外）",
            )
    if not date(1868, 1, 1) <= value <= (today or date.today()):
        raise Invalid("birth date lies in the future or too far back", "生年月日が不正です")
    return value


_GENDERS = {
    "男": "male",
    "男性": "male",
    "m": "male",
    "male": "male",
    "女": "female",
    "女性": "female",
    "f": "female",
    "female": "female",
    "その他": "other",
    "other": "other",
}


def parse_gender(raw: str) -> str | None:
    """性別: 男/女/その他 or male/female/other (blank: not recorded)."""
    text = _text(raw).lower()
    if not text:
        return None
    if text not in _GENDERS:
        raise Invalid(
            "gender must be 男, 女 or その他 (male, female, other)",
            "性別は「男」「女」「その他」のいずれかを記入してください",
        )
    return _GENDERS[text]


def parse_address(raw: str) -> str | None:
    """住所: at most 300 characters."""
    return _bounded(raw, 300, "address", "住所")


def parse_phone(raw: str) -> str | None:
    """電話番号: digits and hyphens, 10 or 11 digits (full-width and dash variants accepted)."""
    text = re.sub(r"[‐‑–—−ー－]", "-", _text(raw)).replace(" ", "")
    if not text:
        return None
    digits = text.replace("-", "")
    if not re.fullmatch(r"\d[\d-]*\d", text) or not 10 <= len(digits) <= 11 or "--" in text:
        raise Invalid(
            "phone must be 10 or 11 digits with optional hyphens, e.g. 0242-00-0000",
            "電話番号は「0242-00-0000」のように数字とハイフンで記入してください",
        )
    return text


_NONE_WORDS = {"", "なし", "無", "無し", "非該当", "-", "×", "no", "n", "false", "0", "none"}
_YES_WORDS = {"○", "〇", "◯", "●", "有", "有り", "あり", "該当", "はい", "yes", "y", "true", "1"}
_KANJI_DIGITS = str.maketrans("一二三四五六", "123456")


def _is_none(text: str) -> bool:
    return text.lower() in _NONE_WORDS


def parse_care_level(raw: str) -> str | None:
    """要介護度: 要支援1-2 or 要介護1-5 (also support1, care3); なし/blank for none."""
    text = _text(raw).replace(" ", "").translate(_KANJI_DIGITS)
    if _is_none(text):
        return None
    m = re.fullmatch(r"(要支援|要介護|support|care)_?(\d)", text, re.IGNORECASE)
    kind = {"support": "要支援", "care": "要介護"}.get(m[1].lower(), m[1]) if m else ""
    if m is None or not 1 <= int(m[2]) <= (2 if kind == "要支援" else 5):
        raise Invalid(
            "care level must be 要支援1-2 or 要介護1-5",
            "要介護度は「要支援1〜2」「要介護1〜5」のいずれかを記入してください",
        )
    return f"{kind}{m[2]}"


def _grade(raw: str, top: int, what: str, what_ja: str) -> str | None:
    text = _text(raw).replace(" ", "").translate(_KANJI_DIGITS)
    if _is_none(text):
        return None
    m = re.fullmatch(r"(\d)(級)?", text)
    if m is None or not 1 <= int(m[1]) <= top:
        raise Invalid(
            f"{what} must be a grade from 1 to {top} (e.g. 2級)",
            f"{what_ja}は1〜{top}級で記入してください（例: 2級）",
        )
    return f"{m[1]}級"


def parse_physical_disability(raw: str) -> str | None:
    """身体障害者手帳: 1級-6級."""
    return _grade(raw, 6, "physical disability", "身体障害者手帳")


def parse_mental_disability(raw: str) -> str | None:
    """精神障害者保健福祉手帳: 1級-3級."""
    return _grade(raw, 3, "mental disability", "精神障害者保健福祉手帳")


def parse_intellectual_disability(raw: str) -> str | None:
    """療育手帳: A or B, or their subdivisions A1, A2, B1, B2."""
    text = _text(raw).replace(" ", "").upper()
    if _is_none(text):
        return None
    if not re.fullmatch(r"[AB][12]?", text):
        raise Invalid(
            "intellectual disability must be A, B, A1, A2, B1 or B2",
            "療育手帳は「Ａ」「Ｂ」「Ａ１」「Ａ２」「Ｂ１」「Ｂ２」のいずれかを記入してください",
        )
    return text


def parse_flag(raw: str) -> bool:
    """A yes/no column (○/有/はい/yes/1 or ×/無/いいえ/no/0/blank)."""
    text = _text(raw).replace(" ", "")
    if _is_none(text) or text == "いいえ":
        return False
    if text.lower() in _YES_WORDS:
        return True
    raise Invalid(
        "write yes or no (○/有/はい or ×/無/いいえ)",
        "「○」「有」「はい」か「×」「無」「いいえ」で記入してください",
    )


def parse_disease(raw: str) -> str | None:
    """難病: yes/no, or the disease's name (kept as the note, at most 100 characters).

    Returns None for no, "" for a plain yes, else the note.
    """
    try:
        return "" if parse_flag(raw) else None
    except Invalid:
        return _bounded(raw, 100, "intractable disease", "難病")


def parse_other(raw: str) -> str | None:
    """その他の理由: free text, at most 200 characters."""
    return _bounded(raw, 200, "other reason", "その他の理由")


_CONSENT = {
    "同意": RegisterConsent.AGREED,
    "同意あり": RegisterConsent.AGREED,
    "agreed": RegisterConsent.AGREED,
    "不同意": RegisterConsent.REFUSED,
    "同意しない": RegisterConsent.REFUSED,
    "拒否": RegisterConsent.REFUSED,
    "refused": RegisterConsent.REFUSED,
    "未回答": RegisterConsent.UNANSWERED,
    "unanswered": RegisterConsent.UNANSWERED,
    "": RegisterConsent.UNANSWERED,
}


def parse_consent(raw: str) -> RegisterConsent:
    """同意状況: 同意 / 不同意 / 未回答 (agreed / refused / unanswered; blank: unanswered)."""
    text = _text(raw).replace(" ", "").lower()
    if text not in _CONSENT:
        raise Invalid(
            "consent status must be 同意, 不同意 or 未回答 (agreed, refused, unanswered)",
            "同意状況は「同意」「不同意」「未回答」のいずれかを記入してください",
        )
    return _CONSENT[text]


def reason(kind: str, value: str | None) -> Reason | None:
    """The reason of a kind with a parsed value (None: the person has no such reason)."""
    return None if value is None else Reason(kind, value or None)


# Reason columns: (kind, parser returning the value or None when absent).
REASON_PARSERS: dict[str, Callable[[str], str | None]] = {
    "care_level": parse_care_level,
    "physical_disability": parse_physical_disability,
    "intellectual_disability": parse_intellectual_disability,
    "mental_disability": parse_mental_disability,
    "intractable_disease": parse_disease,
    "elderly_alone": lambda raw: "" if parse_flag(raw) else None,
    "elderly_household": lambda raw: "" if parse_flag(raw) else None,
    "other": parse_other,
}

# Column key -> the headers a file may use for it: English first, then Japanese variants.
COLUMNS: dict[str, tuple[str, ...]] = {
    "register_number": ("register_number", "名簿番号", "番号"),
    "name": ("name", "氏名"),
    "kana": ("kana", "ふりがな", "フリガナ", "氏名カナ"),
    "birth_date": ("birth_date", "生年月日"),
    "gender": ("gender", "性別"),
    "address": ("address", "住所"),
    "phone": ("phone", "電話番号"),
    "care_level": ("care_level", "要介護度", "要介護認定"),
    "physical_disability": ("physical_disability", "身体障害者手帳"),
    "intellectual_disability": ("intellectual_disability", "療育手帳"),
    "mental_disability": ("mental_disability", "精神障害者保健福祉手帳"),
    "intractable_disease": ("intractable_disease", "難病"),
    "elderly_alone": ("elderly_alone", "独居高齢者"),
    "elderly_household": ("elderly_household", "高齢者のみ世帯"),
    "other": ("other_reason", "その他の理由"),
    "consent_status": ("consent_status", "同意状況"),
}
REQUIRED = ("register_number", "name")
FIELD_PARSERS: dict[str, Callable[[str], Any]] = {
    "register_number": parse_register_number,
    "name": parse_name,
    "kana": parse_kana,
    "birth_date": parse_birth_date,
    "gender": parse_gender,
    "address": parse_address,
    "phone": parse_phone,
    "consent_status": parse_consent,
}


def _header_index(header: list[str], problems: Problems, header_line: int) -> dict[str, int]:
    normalized = [_text(h).lower() for h in header]
    index: dict[str, int] = {}
    for key, names in COLUMNS.items():
        for name in names:
            if name.lower() in normalized:
                index[key] = normalized.index(name.lower())
                break
    missing = [COLUMNS[k][1] for k in REQUIRED if k not in index]
    if missing:
        problems.fail(
            header_line,
            f"missing columns: {', '.join(COLUMNS[k][0] for k in REQUIRED if k not in index)}",
            f"必要な列がありません: {'、'.join(missing)}",
        )
    return index


def parse_register(data: bytes, path: str, *, today: date | None = None) -> list[EntryData]:
    """The entries of a register CSV (UTF-8 or Shift_JIS); refuses the file with every bad
    cell named by line and column, and a number used twice."""
    problems = Problems(path, RegisterRefused)
    # A cheap upper bound on rows before the CSV is split and any cell is read.
    if data.count(b"\n") > MAX_ROWS + 10:
        problems.fail(None, f"at most {MAX_ROWS:,} rows", f"行数は{MAX_ROWS:,}行までです")
    table = read_csv_table(data, problems)
    index = _header_index(table.header, problems, table.header_line)
    if len(table.rows) > MAX_ROWS:
        problems.fail(None, f"at most {MAX_ROWS:,} rows", f"行数は{MAX_ROWS:,}行までです")
    if not table.rows:
        problems.add(None, "the file has no entries", "名簿の行がありません")
    entries: list[EntryData] = []
    first_line: dict[str, int] = {}
    for line, row in table.rows:
        values: dict[str, Any] = {}
        reasons: list[Reason] = []
        ok = True
        for key, at in index.items():
            raw = row[at] if at < len(row) else ""
            column = table.header[at]
            try:
                if key in REASON_PARSERS:
                    if (found := reason(key, REASON_PARSERS[key](raw))) is not None:
                        reasons.append(found)
                elif key == "birth_date":
                    values[key] = parse_birth_date(raw, today=today)
                else:
                    values[key] = FIELD_PARSERS[key](raw)
            except Invalid as exc:
                ok = False
                problems.add(
                    line, f"column {column}: {exc.message}", f"{column}列: {exc.message_ja}"
                )
        if not ok:
            continue
        number = values["register_number"]
        if number in first_line:
            problems.add(
                line,
                f"register number {number} is already on line {first_line[number]}",
                f"名簿番号 {number} は{first_line[number]}行目と重複しています",
            )
            continue
        first_line[number] = line
        entries.append(EntryData(reasons=tuple(reasons), line=line, **values))
    problems.raise_if_any()
    return entries


async def read_register_file(path: Path, *, today: date | None = None) -> list[EntryData]:
    """Read (size-capped before reading) and check a register file off the event loop."""
    problems = Problems(str(path), RegisterRefused)
    data = read_capped(path, MAX_FILE_BYTES, problems)
    return await asyncio.to_thread(parse_register, data, str(path), today=today)


def matching_name(text: str | None) -> str:
    """A name or kana as compared when suggesting who an entry is: NFKC, no spaces, hiragana."""
    return to_hiragana(re.sub(r"\s+", "", unicodedata.normalize("NFKC", text or "")))
