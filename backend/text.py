"""One rule for every free-text input: normalised, trimmed, and free of invisible tricks.

Names, labels and messages are shown to other people (family lists, leaders' rosters, staff
screens), so text that renders differently from what it contains is refused: control
characters (NUL included), lone surrogates, private-use characters, and format characters
such as bidirectional overrides, zero-width spaces and byte-order marks — except the
zero-width joiner, which emoji sequences need.
"""

from __future__ import annotations

import re
import unicodedata

from .errors import Checker

_ZERO_WIDTH_JOINER = "\u200d"
_PHONE = re.compile(r"^\+?[0-9][0-9\- ]*[0-9]$")
_KATAKANA = re.compile(r"^[\u30a0-\u30ff\u3000 ・ー]+$")
_HIRAGANA_TO_KATAKANA = {code: code + 0x60 for code in range(0x3041, 0x3097)}


def is_hidden(character: str) -> bool:
    """Whether a character is refused in free text (see the module docstring)."""
    category = unicodedata.category(character)
    if category == "Cf":
        return character != _ZERO_WIDTH_JOINER
    return category in ("Cc", "Cs", "Co")


def clean_text(
    checker: Checker,
    field: str,
    value: str | None,
    *,
    label_ja: str,
    max_length: int,
    required: bool = False,
    multiline: bool = False,
) -> str | None:
    """NFC-normalised, trimmed text; blank is None (or a problem when ``required``).

    Problems are recorded on ``checker`` under ``field`` with ``label_ja`` naming the field
    in the Japanese message. ``multiline`` lets line breaks and tabs through.
    """
    if value is None:
        if required:
            checker.add(field, f"{field} is required", f"{label_ja}を入力してください")
        return None
    cleaned = unicodedata.normalize("NFC", value).strip()
    allowed = "\n\t" if multiline else ""
    if any(is_hidden(ch) and ch not in allowed for ch in cleaned):
        checker.add(
            field,
            f"{field} contains control, format or other invisible characters",
            f"{label_ja}に使えない文字（制御文字や見えない書式文字）が含まれています",
        )
        return None
    if len(cleaned) > max_length:
        checker.add(
            field,
            f"{field} must be at most {max_length} characters",
            f"{label_ja}は{max_length}文字以内で入力してください",
        )
        return None
    if not cleaned:
        if required:
            checker.add(field, f"{field} must not be empty", f"{label_ja}を入力してください")
        return None
    return cleaned


def clean_phone(checker: Checker, field: str, value: str | None) -> str | None:
    """A phone number of 10-15 digits (0-9, +, -, spaces), as people write them."""
    phone = clean_text(checker, field, value, label_ja="電話番号", max_length=20)
    digits = sum(ch.isdigit() for ch in phone or "")
    if phone is not None and (not _PHONE.match(phone) or not 10 <= digits <= 15):
        checker.add(
            field,
            f"{field} must have 10-15 digits (0-9, +, -, spaces)",
            "電話番号は10〜15桁の数字で入力してください",
        )
        return None
    return phone


def clean_kana(
    checker: Checker, field: str, value: str | None, *, label_ja: str, max_length: int
) -> str | None:
    """A reading (フリガナ) in full-width katakana; hiragana and half-width kana are converted."""
    cleaned = clean_text(checker, field, value, label_ja=label_ja, max_length=max_length)
    if cleaned is None:
        return None
    # NFKC widens half-width katakana; hiragana maps onto katakana one to one.
    katakana = unicodedata.normalize("NFKC", cleaned).translate(_HIRAGANA_TO_KATAKANA)
    if not _KATAKANA.match(katakana):
        checker.add(
            field,
            f"{field} must be written in kana",
            f"{label_ja}はカタカナ（またはひらがな）で入力してください",
        )
        return None
    return katakana
