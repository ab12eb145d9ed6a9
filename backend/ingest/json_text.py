"""JSON import files: decoding and parsing with line positions, and where array items start."""

from __future__ import annotations

import bisect
import json
import re
from typing import Any

from .problems import Problems

_JSON_WS = re.compile(r"[ \t\n\r]*")


def load_json(data: bytes, problems: Problems, *, what: str = "JSON") -> tuple[str, Any]:
    """The text and the parsed document of UTF-8 JSON (BOM allowed); failures name the line."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        problems.fail(
            data[: exc.start].count(b"\n") + 1,
            f"{what} must be UTF-8: invalid byte at offset {exc.start}",
            f"{what}はUTF-8で保存してください（{exc.start}バイト目が不正です）",
        )
    try:
        return text, json.loads(text)
    except json.JSONDecodeError as exc:
        problems.fail(
            exc.lineno,
            f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}",
            f"JSONとして読めません（{exc.lineno}行{exc.colno}列目）",
        )
    except ValueError as exc:  # e.g. an integer of more than 4,300 digits
        problems.fail(
            None, f"invalid JSON: {exc}", "JSONとして読めません（桁数の多すぎる数値など）"
        )
    except RecursionError:
        problems.fail(None, "JSON is nested too deeply", "JSONの入れ子が深すぎます")


def json_type(value: object) -> tuple[str, str]:
    """What a JSON value is, for messages, in English and Japanese."""
    if isinstance(value, dict):
        return "an object", "オブジェクト"
    if isinstance(value, list):
        return "an array", "配列"
    if value is None:
        return "null", "null"
    if isinstance(value, bool):
        return "a boolean", "真偽値"
    if isinstance(value, str):
        return "a string", "文字列"
    return "a number", "数値"


def line_starts(text: str) -> list[int]:
    """Offsets of the newlines of a text, for ``line_of``."""
    return [m.start() for m in re.finditer("\n", text)]


def line_of(newlines: list[int], offset: int) -> int:
    """1-based line of a character offset, given ``line_starts`` of the text."""
    return bisect.bisect_left(newlines, offset) + 1


def member_item_lines(text: str, key: str, count: int) -> list[int | None]:
    """1-based line on which each item of the top-level array ``key`` starts.

    Walks the (already parsed) document with ``JSONDecoder.raw_decode``, which reports where
    each value ends, so the start of every item is exact whatever the layout (pretty-printed
    or minified) and however often its content repeats in the text. All None when the text
    does not hold ``count`` items there.
    """
    offsets = _member_item_offsets(text, key)
    if offsets is None or len(offsets) != count:
        return [None] * count
    newlines = line_starts(text)
    return [line_of(newlines, offset) for offset in offsets]


def document_line(text: str) -> int:
    """The line on which the top-level value starts."""
    return line_of(line_starts(text), _JSON_WS.match(text).end())  # type: ignore[union-attr]


def _member_item_offsets(text: str, member: str) -> list[int] | None:
    decoder = json.JSONDecoder()

    def skip(i: int) -> int:
        return _JSON_WS.match(text, i).end()  # type: ignore[union-attr]

    try:
        i = skip(0)
        if text[i] != "{":
            return None
        i = skip(i + 1)
        found: list[int] | None = None
        while text[i] != "}":
            key, i = decoder.raw_decode(text, i)
            i = skip(skip(i) + 1)  # past the colon
            if key == member and text[i] == "[":
                # json.loads keeps the last duplicate key, so we do too.
                found = []
                i = skip(i + 1)
                while text[i] != "]":
                    found.append(i)
                    _, i = decoder.raw_decode(text, i)
                    i = skip(i)
                    if text[i] == ",":
                        i = skip(i + 1)
                i += 1
            else:
                _, i = decoder.raw_decode(text, i)
            i = skip(i)
            if text[i] == ",":
                i = skip(i + 1)
        return found
    except (IndexError, ValueError, RecursionError):
        return None
