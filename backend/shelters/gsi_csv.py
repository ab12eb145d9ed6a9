"""GSI's shelter CSV (UTF-8 with or without BOM, or Shift_JIS/CP932 as GSI's national file
often is): one row per place, columns named as in ``EMERGENCY_CSV_COLUMNS`` or
``EVACUATION_CSV_COLUMNS``."""

from __future__ import annotations

from ..hazards.types import GSI_HAZARD_COLUMNS
from ..ingest.csv_table import csv_number, read_csv_table
from ..ingest.problems import Problems
from .gsi_rows import (
    COL_LAT,
    COL_LON,
    COL_TARGET_GROUP,
    KIND_MIXED,
    KIND_UNKNOWN,
    KNOWN_COLUMNS,
    REQUIRED_CSV_BASE,
    RecordBuilder,
    coordinate_problem,
    detect_kind,
    file_code,
)
from .records import ParsedShelterFile, ShelterKind


def parse_csv(
    data: bytes, path: str, explicit_code: str | None, problems: Problems
) -> ParsedShelterFile:
    """Parse a GSI shelter CSV; every problem is collected with its physical line."""
    table = read_csv_table(data, problems)
    header, header_line = table.header, table.header_line
    kind, mixed = detect_kind(header)
    if mixed:
        problems.add(header_line, *KIND_MIXED)
    elif kind is None:
        problems.add(header_line, *KIND_UNKNOWN)
    else:
        needed = REQUIRED_CSV_BASE + (
            GSI_HAZARD_COLUMNS if kind is ShelterKind.EMERGENCY_SITE else (COL_TARGET_GROUP,)
        )
        missing = [c for c in needed if c not in header]
        if missing:
            problems.add(
                header_line,
                f"missing columns for a {kind.label_ja} CSV: {', '.join(missing)}",
                f"{kind.label_ja}のCSVに必要な列がありません: {'、'.join(missing)}",
            )
    problems.raise_if_any()
    assert kind is not None

    notices: list[str] = []
    unknown = [c for c in header if c not in KNOWN_COLUMNS]
    if unknown:
        notices.append(f"{path}: ignored unknown columns: {', '.join(unknown)}")
    builder = RecordBuilder(path, kind, file_code(path, explicit_code), problems, notices)
    width = len(header)
    for line, row in table.rows:
        if len(row) != width:
            problems.add(
                line,
                f"row has {len(row)} fields but the header has {width}",
                f"この行は {len(row)} 列ですが、見出し行は {width} 列です",
            )
            continue
        props = dict(zip(header, row, strict=True))
        lon = csv_number(props[COL_LON], COL_LON, line, problems)
        lat = csv_number(props[COL_LAT], COL_LAT, line, problems)
        problem = coordinate_problem(lon, lat) if lon is not None and lat is not None else None
        if problem is not None:
            problems.add(line, *problem)
            lon = lat = None
        builder.add(line, props, lon, lat, missing_is_error=False)
    problems.raise_if_any()
    return ParsedShelterFile(
        path=path,
        format="csv",
        kind=kind,
        municipality_code=builder.file_code,
        encoding=table.encoding,
        records=tuple(builder.records),
        notices=tuple(notices),
    )
