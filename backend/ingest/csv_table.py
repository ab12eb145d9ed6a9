"""CSV import files: the encodings Japanese offices write, and rows with their physical lines."""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass

from .problems import Problems


@dataclass(frozen=True, slots=True)
class CsvTable:
    """A CSV's header and its non-blank rows, each with the physical line it starts on."""

    header: list[str]
    header_line: int
    rows: list[tuple[int, list[str]]]
    encoding: str


def decode_text(data: bytes, problems: Problems, *, what: str = "CSV") -> tuple[str, str]:
    """The text and its encoding: UTF-8 (BOM allowed), else Shift_JIS (CP932) as Excel saves."""
    # Strict UTF-8 practically never accepts CP932 Japanese text, so trying it first is safe.
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError as utf8_error:
        try:
            return data.decode("cp932"), "cp932"
        except UnicodeDecodeError:
            problems.fail(
                data[: utf8_error.start].count(b"\n") + 1,
                f"{what} is neither UTF-8 nor Shift_JIS (CP932)",
                f"{what}の文字コードがUTF-8でもShift_JIS（CP932）でもありません",
            )


def read_csv_table(data: bytes, problems: Problems) -> CsvTable:
    """Decode and split a CSV; the first non-blank row is the header (duplicates refused)."""
    text, encoding = decode_text(data, problems)
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    header_line = 0
    rows: list[tuple[int, list[str]]] = []
    while True:
        # csv counts physical lines, so a quoted field spanning lines still gives the right start.
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            problems.add(reader.line_num, f"malformed CSV: {exc}", "CSVの形式が正しくありません")
            break
        if not any(cell.strip() for cell in row):
            continue
        if header is None:
            header, header_line = [cell.strip().lstrip("\ufeff") for cell in row], start
        else:
            rows.append((start, row))
    if header is None:
        problems.fail(1, "CSV is empty (no header row)", "CSVが空です（見出し行がありません）")
    duplicates = sorted({c for c in header if c and header.count(c) > 1})
    if duplicates:
        problems.add(
            header_line,
            f"duplicate columns: {', '.join(duplicates)}",
            f"列名が重複しています: {'、'.join(duplicates)}",
        )
    return CsvTable(header, header_line, rows, encoding)


def csv_number(raw: str, column: str, line: int, problems: Problems) -> float | None:
    """A finite number from a cell, or None with the problem recorded."""
    text = raw.strip()
    try:
        value = float(text)
    except ValueError:
        problems.add(
            line, f"{column} {raw!r} is not a number", f"{column} {raw!r} が数値ではありません"
        )
        return None
    if not math.isfinite(value):
        problems.add(
            line,
            f"{column} {raw!r} is not a finite number",
            f"{column} {raw!r} が有限の数値ではありません",
        )
        return None
    return value
