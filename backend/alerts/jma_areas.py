"""JMA forecast areas (予報区) and the municipalities each covers, for targeting JMA alerts.

A warning names 二次細分区域 by JMA's 7-digit city code (0720200 会津若松市), which the national
reference maps alone; まとめ areas (070032 会津中部), 一次細分区域 (070030 会津) and 府県予報区
(070000 福島県) need JMA's table, imported with ``kizuna import jma-areas DIR`` from the CSV
files JMA's XML code tables are published as (``jmacode.csv`` joins every city to its areas;
``citycode.csv``, ``matomeareacode.csv``, ``firstareacode.csv``, ``prefcode.csv`` list each
kind and are checked against it when present). An import replaces the whole table or nothing.
"""

from __future__ import annotations

import asyncio
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import String, delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from ..db.base import Base
from ..db.dialect import chunked
from ..errors import ValidationFailed
from ..ingest.csv_table import CsvTable, read_csv_table
from ..ingest.files import read_capped
from ..ingest.problems import FileRefused, ImportRefused, Problems, refuse_together
from ..municipalities.reference import (
    code_from_jma_city_code,
    national_reference,
    normalize_code,
)
from .drafts import AreaScheme

MAX_CSV_BYTES = 8 * 1024 * 1024
JOIN_FILE = "jmacode.csv"
# Each kind of area: its scheme, the columns naming it in jmacode.csv, its own list file.
KINDS: tuple[tuple[AreaScheme, str, str, str], ...] = (
    (AreaScheme.JMA_CITY, "citycode", "cityname", "citycode.csv"),
    (AreaScheme.JMA_MATOME, "matomeareacode", "matomeareaname", "matomeareacode.csv"),
    (AreaScheme.JMA_FIRST, "firstareacode", "firstareaname", "firstareacode.csv"),
    (AreaScheme.JMA_PREF, "prefcode", "prefname", "prefcode.csv"),
)
CODE_PATTERNS = {
    AreaScheme.JMA_CITY: re.compile(r"^\d{7}$"),
    AreaScheme.JMA_MATOME: re.compile(r"^\d{6}$"),
    AreaScheme.JMA_FIRST: re.compile(r"^\d{6}$"),
    AreaScheme.JMA_PREF: re.compile(r"^\d{6}$"),
}
TABLE_SCHEMES = (AreaScheme.JMA_MATOME, AreaScheme.JMA_FIRST, AreaScheme.JMA_PREF)
# 府県予報区 codes that are a whole prefecture (070000 福島県); Hokkaido, Kagoshima and
# Okinawa are split into several and need the table.
WHOLE_PREFECTURE = re.compile(r"^(?!01|46|47)(\d\d)0000$")
# Bound the IN lists of one query (SQLite allows 32,766 parameters, PostgreSQL 65,535).
QUERY_CHUNK = 500


class JmaAreaMunicipality(Base):
    """One municipality a JMA area covers (an area covering several has several rows)."""

    __tablename__ = "jma_area_municipalities"

    scheme: Mapped[str] = mapped_column(String(16), primary_key=True)
    area_code: Mapped[str] = mapped_column(String(7), primary_key=True)
    municipality_code: Mapped[str] = mapped_column(String(5), primary_key=True)
    area_name_ja: Mapped[str] = mapped_column(String(64))


class JmaAreaFileError(FileRefused):
    what = "JMA area table"
    what_ja = "気象庁の予報区の表"


@dataclass(frozen=True, slots=True)
class JmaAreaTable:
    """The parsed tables: (scheme, area code, municipality code) → the area's name."""

    rows: dict[tuple[AreaScheme, str, str], str]
    areas: dict[AreaScheme, int]
    files: int


@dataclass(frozen=True, slots=True)
class JmaAreaImport:
    areas: dict[AreaScheme, int]
    rows: int
    replaced: int
    files: int


def _columns(table: CsvTable, needed: Iterable[str], problems: Problems) -> dict[str, int]:
    missing = [c for c in needed if c not in table.header]
    if missing:
        problems.fail(
            table.header_line,
            f"missing columns: {', '.join(missing)}",
            f"必要な列がありません: {'、'.join(repr(c) for c in missing)}",
        )
    return {name: table.header.index(name) for name in table.header}


def _cell(row: list[str], index: int) -> str:
    return row[index].strip() if index < len(row) else ""


def _read_list(
    path: Path, scheme: AreaScheme, code_column: str, name_column: str
) -> dict[str, tuple[str, int]]:
    """One list file (e.g. prefcode.csv): code → (name, line)."""
    problems = Problems(str(path), JmaAreaFileError)
    table = read_csv_table(read_capped(path, MAX_CSV_BYTES, problems), problems)
    columns = _columns(table, (code_column, name_column), problems)
    listed: dict[str, tuple[str, int]] = {}
    for line, row in table.rows:
        code, name = _cell(row, columns[code_column]), _cell(row, columns[name_column])
        if not CODE_PATTERNS[scheme].match(code):
            problems.add(
                line,
                f"{code_column} {code!r} is not a code of {_digits(scheme)} digits",
                f"列 {code_column!r} の {code!r} が{_digits(scheme)}桁の数字ではありません",
            )
        elif code in listed:
            problems.add(
                line,
                f"{code_column} {code} repeats line {listed[code][1]}",
                f"列 {code_column!r} の {code} が{listed[code][1]}行目と重複しています",
            )
        elif not name:
            problems.add(line, f"{name_column} is empty", f"列 {name_column!r} が空です")
        else:
            listed[code] = (name, line)
    problems.raise_if_any()
    return listed


def _digits(scheme: AreaScheme) -> int:
    return 7 if scheme is AreaScheme.JMA_CITY else 6


def parse_jma_area_dir(directory: Path) -> JmaAreaTable:
    """Read and check the CSV files of a folder; one refusal lists every bad line of them all.

    CPU-bound: call it from a worker thread (``import_jma_areas`` does).
    """
    join_path = directory / JOIN_FILE
    if not directory.is_dir():
        raise ValidationFailed(
            f"{directory} is not a folder", f"{directory} はフォルダではありません"
        )
    if not join_path.is_file():
        raise ValidationFailed(
            f"{join_path} is missing: the folder must hold JMA's jmacode.csv",
            f"{join_path} がありません（気象庁の jmacode.csv を含むフォルダを指定してください）",
        )
    refused: list[ImportRefused] = []
    lists: dict[AreaScheme, dict[str, tuple[str, int]]] = {}
    for scheme, code_column, name_column, file_name in KINDS:
        if (directory / file_name).is_file():
            try:
                lists[scheme] = _read_list(directory / file_name, scheme, code_column, name_column)
            except ImportRefused as exc:
                refused.append(exc)
    try:
        rows = _read_join(join_path, lists)
    except ImportRefused as exc:
        refused.append(exc)
    if refused:
        raise refuse_together(refused)
    areas: dict[AreaScheme, set[str]] = defaultdict(set)
    for scheme, code, _municipality in rows:
        areas[scheme].add(code)
    return JmaAreaTable(
        rows=rows,
        areas={scheme: len(codes) for scheme, codes in areas.items()},
        files=1 + len(lists),
    )


def _read_join(
    path: Path, lists: dict[AreaScheme, dict[str, tuple[str, int]]]
) -> dict[tuple[AreaScheme, str, str], str]:
    problems = Problems(str(path), JmaAreaFileError)
    table = read_csv_table(read_capped(path, MAX_CSV_BYTES, problems), problems)
    columns = _columns(table, [c for kind in KINDS for c in kind[1:3]], problems)
    rows: dict[tuple[AreaScheme, str, str], str] = {}
    names: dict[tuple[AreaScheme, str], tuple[str, int]] = {}
    cities: dict[str, int] = {}
    for line, row in table.rows:
        city_code = _cell(row, columns["citycode"])
        municipality = code_from_jma_city_code(city_code)
        if municipality is None:
            problems.add(
                line,
                f"citycode {city_code!r} is not a JMA city code of a municipality of Japan",
                f"列 'citycode' の {city_code!r} は国内の市区町村を表す気象庁の7桁のコードでは"
                "ありません",
            )
            continue
        if city_code in cities:
            problems.add(
                line,
                f"citycode {city_code} repeats line {cities[city_code]}",
                f"列 'citycode' の {city_code} が{cities[city_code]}行目と重複しています",
            )
            continue
        cities[city_code] = line
        for scheme, code_column, name_column, file_name in KINDS:
            code, name = _cell(row, columns[code_column]), _cell(row, columns[name_column])
            if not CODE_PATTERNS[scheme].match(code) or not name:
                problems.add(
                    line,
                    f"{code_column} {code!r} is not a code of {_digits(scheme)} digits with "
                    f"its {name_column}",
                    f"列 {code_column!r} の {code!r} が{_digits(scheme)}桁の数字でないか、"
                    f"列 {name_column!r} が空です",
                )
                continue
            known = lists.get(scheme)
            if known is not None and code not in known:
                problems.add(
                    line,
                    f"{code_column} {code} is not in {file_name}",
                    f"列 {code_column!r} の {code} が {file_name!r} にありません",
                )
                continue
            first = names.setdefault((scheme, code), (name, line))
            if first[0] != name:
                problems.add(
                    line,
                    f"{name_column} {name!r} of {code} differs from {first[0]!r} on line "
                    f"{first[1]}",
                    f"{code} の列 {name_column!r} の {name!r} が{first[1]}行目の {first[0]!r} と"
                    "異なります",
                )
                continue
            rows[(scheme, code, municipality)] = name
    if not table.rows:
        problems.add(table.header_line, "no rows", "行がありません")
    problems.raise_if_any()
    return rows


async def import_jma_areas(session: AsyncSession, directory: Path) -> JmaAreaImport:
    """Replace the JMA area table with a folder's CSV files (all or nothing)."""
    table = await asyncio.to_thread(parse_jma_area_dir, directory)
    replaced = await session.scalar(select(func.count()).select_from(JmaAreaMunicipality))
    await session.execute(delete(JmaAreaMunicipality))
    values = [
        {
            "scheme": scheme.value,
            "area_code": code,
            "municipality_code": municipality,
            "area_name_ja": name,
        }
        for (scheme, code, municipality), name in sorted(table.rows.items())
    ]
    for chunk in chunked(values, 1000):
        await session.execute(insert(JmaAreaMunicipality), chunk)
    await session.flush()
    return JmaAreaImport(
        areas=table.areas, rows=len(values), replaced=replaced or 0, files=table.files
    )


def _with_wards(codes: set[str]) -> set[str]:
    """A designated city's code with its wards (places are located in wards: 04101...)."""
    wards = {ref.code for ref in national_reference() if ref.designated_city_code in codes}
    return codes | wards


def _prefecture(prefecture_code: str) -> set[str]:
    return {ref.code for ref in national_reference() if ref.prefecture_code == prefecture_code}


async def municipalities_for(
    session: AsyncSession, scheme: AreaScheme, codes: Iterable[str]
) -> dict[str, set[str]]:
    """The 5-digit municipality codes each JMA area covers (an empty set: unknown area).

    City codes and municipality codes resolve through the national reference alone; まとめ,
    一次細分 and 府県予報区 codes through the imported table, and before it is imported a
    府県予報区 that is a whole prefecture (070000) still resolves to its municipalities.
    """
    wanted = list(dict.fromkeys(c.strip() for c in codes))
    found: dict[str, set[str]] = {code: set() for code in wanted}
    if scheme is AreaScheme.JMA_CITY:
        for code in wanted:
            if (municipality := code_from_jma_city_code(code)) is not None:
                found[code] = _with_wards({municipality})
        return found
    if scheme is AreaScheme.MUNICIPALITY:
        for code in wanted:
            if (municipality := normalize_code(code)) is not None:
                found[code] = _with_wards({municipality})
        return found
    if scheme not in TABLE_SCHEMES:
        return found
    for chunk in chunked(wanted, QUERY_CHUNK):
        result = await session.execute(
            select(JmaAreaMunicipality.area_code, JmaAreaMunicipality.municipality_code).where(
                JmaAreaMunicipality.scheme == scheme.value,
                JmaAreaMunicipality.area_code.in_(chunk),
            )
        )
        for area_code, municipality in result:
            found[area_code].add(municipality)
    imported: bool | None = None
    for code, municipalities in found.items():
        if municipalities:
            found[code] = _with_wards(municipalities)
        elif scheme is AreaScheme.JMA_PREF and (match := WHOLE_PREFECTURE.match(code)):
            if imported is None:
                imported = await _table_imported(session)
            if not imported:
                found[code] = _prefecture(match.group(1))
    return found


async def _table_imported(session: AsyncSession) -> bool:
    return (await session.scalar(select(JmaAreaMunicipality.scheme).limit(1))) is not None
