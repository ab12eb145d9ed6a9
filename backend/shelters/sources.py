"""Parse GSI 指定緊急避難場所 / 指定避難所 files (GeoJSON or CSV) into plain shelter records.

Two published forms are accepted:

* GeoJSON FeatureCollections, one Point feature per place, as split per municipality by
  motohasystem/jp-shelter-api from the GSI data (``emergency/072028.json``), including its
  ``{"type": "unavailable", ...}`` stub for municipalities without published data;
* GSI's CSV (UTF-8 with or without BOM, or Shift_JIS/CP932 as GSI's national file often is).

Whether a file lists emergency sites or evacuation shelters is told from its columns/properties
(hazard flag columns vs 受入対象者), not from the folder name.

Validation is all-or-nothing: every problem found in a file (up to ``MAX_PROBLEMS``) is
reported in one ``ShelterFileError`` with the physical line it occurs on, and a bad file yields
no records, so an administrator can fix the whole file in one go.

The 共通ID (全国共通避難所・避難場所ID, 14 characters) as observed in the GSI data of 2025-10-27:
``E`` + 5-digit municipality code + 5-digit facility number + 3-digit designation code whose first
digit is 2 for an emergency site and 1 for an evacuation shelter (second digit 2 = a shelter
with designated 受入対象者, i.e. a welfare shelter). An emergency site and an evacuation shelter at
the same place therefore never share a 共通ID; they share the first 11 characters (see
``merge_shelter_records``).
"""

from __future__ import annotations

import bisect
import csv
import io
import json
import math
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal, NoReturn

from ..errors import ValidationFailed
from ..geo import haversine_m
from ..hazards.types import GSI_HAZARD_COLUMNS, HazardType
from ..municipalities.reference import normalize_code

MAX_PROBLEMS = 50
DEFAULT_MAX_BYTES = 50 * 1024 * 1024
# Merging an emergency site with the evacuation shelter of the same facility is refused when
# their points are farther apart than this: the real data has pairs whose points were swapped.
DEFAULT_MERGE_MAX_DISTANCE_M = 500.0

# A generous box around Japan (Okinotorishima 20.4N, Yonaguni 122.9E, Minamitorishima 154.0E,
# northern islands ~45.6N): points outside are mistakes (swapped or zero coordinates).
JAPAN_LAT = (20.0, 46.0)
JAPAN_LON = (122.0, 154.0)

COL_ID = "共通ID"
COL_NO = "NO"
COL_NAME = "施設・場所名"
COL_ADDRESS = "住所"
COL_MUNICIPALITY_NAME = "都道府県名及び市町村名"
COL_LAT = "緯度"
COL_LON = "経度"
COL_NOTE = "備考"
COL_SAME_ADDRESS_AS_EVACUATION = "指定避難所との住所同一"
COL_SAME_ADDRESS_AS_EMERGENCY = "指定緊急避難場所との住所同一"
COL_TARGET_GROUP = "受入対象者"
COL_OTHER_MATTERS = "その他市町村長が必要と認める事項"

EMERGENCY_CSV_COLUMNS: tuple[str, ...] = (
    COL_NO,
    COL_ID,
    COL_NAME,
    COL_ADDRESS,
    *GSI_HAZARD_COLUMNS,
    COL_SAME_ADDRESS_AS_EVACUATION,
    COL_LAT,
    COL_LON,
    COL_NOTE,
)
EVACUATION_CSV_COLUMNS: tuple[str, ...] = (
    COL_NO,
    COL_ID,
    COL_NAME,
    COL_ADDRESS,
    COL_SAME_ADDRESS_AS_EMERGENCY,
    COL_OTHER_MATTERS,
    COL_TARGET_GROUP,
    COL_LAT,
    COL_LON,
    COL_NOTE,
)
# Only what a record cannot do without is required; NO, 備考 and the 住所同一 flags are optional.
_REQUIRED_CSV_BASE = (COL_ID, COL_NAME, COL_ADDRESS, COL_LAT, COL_LON)
_EVACUATION_MARKERS = (COL_TARGET_GROUP, COL_SAME_ADDRESS_AS_EMERGENCY)
_KNOWN_COLUMNS = (
    frozenset(EMERGENCY_CSV_COLUMNS) | frozenset(EVACUATION_CSV_COLUMNS) | {COL_MUNICIPALITY_NAME}
)

_COMMON_ID = re.compile(r"^E(?P<municipality>\d{5})(?P<facility>\d{5})(?P<designation>\d{3})$")
_JSON_WS = re.compile(r"[ \t\n\r]*")


class ShelterKind(StrEnum):
    """Designation of a place under 災害対策基本法."""

    EMERGENCY_SITE = "emergency_site"  # 指定緊急避難場所 (GSI "emergency" files)
    EVACUATION_SHELTER = "evacuation_shelter"  # 指定避難所 (GSI "evacuation" files)
    WELFARE_SHELTER = "welfare_shelter"  # 福祉避難所: set by city staff, never by this parser

    @property
    def label_ja(self) -> str:
        """Japanese legal name of the designation."""
        return _KIND_LABELS_JA[self]


_KIND_LABELS_JA = {
    ShelterKind.EMERGENCY_SITE: "指定緊急避難場所",
    ShelterKind.EVACUATION_SHELTER: "指定避難所",
    ShelterKind.WELFARE_SHELTER: "福祉避難所",
}


@dataclass(frozen=True, slots=True)
class SourceRef:
    """Where a record came from: file path and 1-based physical line (None if unknown)."""

    path: str
    line: int | None

    def __str__(self) -> str:
        return self.path if self.line is None else f"{self.path}:{self.line}"


@dataclass(frozen=True, slots=True)
class ShelterRecord:
    """One designated place; after merging it may stand for several GSI rows.

    ``municipality_code`` is the 5-digit JIS X 0402 code (``07202``): taken from characters 2-6 of
    a GSI-form 共通ID, else from the file (the ``municipality_code`` argument, the
    FeatureCollection ``name`` or the file name, each a 5-digit code or a 6-digit one whose check
    digit is valid). A 共通ID naming another municipality than its file is an error.
    """

    common_id: str  # primary 共通ID (the emergency site's when merged)
    common_ids: tuple[str, ...]  # every 共通ID this record stands for, sorted
    name: str
    address: str | None
    lon: float
    lat: float
    municipality_code: str
    municipality_name: str | None  # 都道府県名及び市町村名, e.g. 福島県会津若松市
    kinds: frozenset[ShelterKind]
    hazard_types: frozenset[HazardType]  # only emergency sites carry hazard flags
    target_group: str | None  # 受入対象者 (evacuation shelters)
    other_matters: str | None  # その他市町村長が必要と認める事項 (evacuation shelters)
    note: str | None  # 備考
    gsi_same_address: bool  # GSI 住所同一 flag: the other designation exists at the same address
    sources: tuple[SourceRef, ...]

    @property
    def source(self) -> SourceRef:
        """The source of the primary row."""
        return self.sources[0]


@dataclass(frozen=True, slots=True)
class ParsedShelterFile:
    """The records of one valid file plus notices (e.g. the unavailable stub) for the admin."""

    path: str
    format: Literal["geojson", "csv"]
    kind: ShelterKind | None  # None only for an empty file whose kind cannot be told
    municipality_code: str | None  # file-level code, when the file names one
    encoding: str
    records: tuple[ShelterRecord, ...]
    notices: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ShelterProblem:
    """One thing wrong with a shelter file."""

    path: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        return f"{where}: {self.message}"


class ShelterFileError(ValidationFailed):
    """A shelter file was refused; ``problems`` lists the first ``MAX_PROBLEMS`` problems."""

    def __init__(self, path: str, problems: list[ShelterProblem], total: int) -> None:
        more = total - len(problems)
        lines = [str(p) for p in problems]
        if more > 0:
            lines.append(f"... and {more} more problem(s)")
        body = "\n".join(lines)
        super().__init__(
            f"{path}: shelter file refused, {total} problem(s):\n{body}",
            f"{path}: 避難所データに {total} 件の問題があるため取り込めません:\n{body}",
        )
        self.path = path
        self.problems = tuple(problems)
        self.total = total


@dataclass(frozen=True, slots=True)
class CommonIdParts:
    """The parts of a GSI-form 共通ID (structure as observed in the data, see module doc)."""

    municipality_code: str
    facility_key: str  # the first 11 characters, shared by designations of one facility
    designation: str  # last 3 digits, e.g. 201 (emergency site), 111 / 121 (evacuation shelter)

    @property
    def kind(self) -> ShelterKind | None:
        """The designation the code stands for, when recognised."""
        return {"2": ShelterKind.EMERGENCY_SITE, "1": ShelterKind.EVACUATION_SHELTER}.get(
            self.designation[0]
        )


def parse_common_id(common_id: str) -> CommonIdParts | None:
    """Split a GSI-form 共通ID (``E`` + 13 digits); None for other identifiers."""
    m = _COMMON_ID.match(common_id)
    if m is None:
        return None
    return CommonIdParts(m["municipality"], common_id[:-3], m["designation"])


class _Problems:
    """Collects problems up to the cap while still counting them all."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.items: list[ShelterProblem] = []
        self.total = 0

    def add(self, line: int | None, message: str) -> None:
        self.total += 1
        if len(self.items) < MAX_PROBLEMS:
            self.items.append(ShelterProblem(self.path, line, message))

    def raise_if_any(self) -> None:
        if self.total:
            raise ShelterFileError(self.path, self.items, self.total)

    def fail(self, line: int | None, message: str) -> NoReturn:
        """Add a problem that stops parsing, and raise with everything found so far."""
        self.add(line, message)
        raise ShelterFileError(self.path, self.items, self.total)


def parse_shelter_file(
    path: str | Path,
    *,
    municipality_code: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> ParsedShelterFile:
    """Parse and validate one GSI shelter file (GeoJSON or CSV); raise ShelterFileError."""
    path = Path(path)
    size = path.stat().st_size
    if size > max_bytes:
        raise ShelterFileError(
            str(path),
            [ShelterProblem(str(path), None, f"file is {size} bytes, the limit is {max_bytes}")],
            1,
        )
    return parse_shelter_bytes(
        path.read_bytes(), path=str(path), municipality_code=municipality_code, max_bytes=max_bytes
    )


def parse_shelter_bytes(
    data: bytes,
    *,
    path: str,
    municipality_code: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> ParsedShelterFile:
    """Parse an uploaded shelter file; ``path`` is its name (for messages and format/code)."""
    problems = _Problems(path)
    if len(data) > max_bytes:
        problems.fail(None, f"file is {len(data)} bytes, the limit is {max_bytes}")
    file_code: str | None = None
    if municipality_code is not None:
        file_code = normalize_code(municipality_code)
        if file_code is None:
            raise ValueError(f"not a municipality code: {municipality_code!r}")
    if _looks_like_json(path, data):
        return _parse_geojson(data, path, file_code, problems)
    return _parse_csv(data, path, file_code, problems)


def _looks_like_json(path: str, data: bytes) -> bool:
    suffix = Path(path).suffix.lower()
    if suffix in (".json", ".geojson"):
        return True
    if suffix in (".csv", ".txt"):
        return False
    head = data.removeprefix(b"\xef\xbb\xbf").lstrip()[:1]
    return head in (b"{", b"[")


def _kind_from_folder(path: str) -> ShelterKind | None:
    # Only a hint for empty files and for a notice; the content decides.
    parts = {p.lower() for p in Path(path).parts[:-1]}
    if "emergency" in parts:
        return ShelterKind.EMERGENCY_SITE
    if "evacuation" in parts:
        return ShelterKind.EVACUATION_SHELTER
    return None


def _file_code(path: str, explicit: str | None, declared: object = None) -> str | None:
    if explicit is not None:
        return explicit
    if isinstance(declared, str) and (code := normalize_code(declared)):
        return code
    return normalize_code(Path(path).stem)


def _detect_kind(keys: Iterable[str]) -> tuple[ShelterKind | None, bool]:
    """Kind told from column/property names, and whether both kinds' columns are present."""
    keys = set(keys)
    has_flags = any(c in keys for c in GSI_HAZARD_COLUMNS)
    has_evacuation = any(c in keys for c in _EVACUATION_MARKERS)
    if has_flags and has_evacuation:
        return None, True
    if has_flags:
        return ShelterKind.EMERGENCY_SITE, False
    if has_evacuation:
        return ShelterKind.EVACUATION_SHELTER, False
    return None, False


_KIND_UNKNOWN_MESSAGE = (
    "cannot tell the kind of file: it has neither the hazard flag columns of an emergency-site "
    f"file ({', '.join(GSI_HAZARD_COLUMNS)}) nor the {COL_TARGET_GROUP} column of an "
    "evacuation-shelter file"
)
_KIND_MIXED_MESSAGE = (
    "file mixes emergency-site columns (hazard flags) and evacuation-shelter columns "
    f"({COL_TARGET_GROUP}/{COL_SAME_ADDRESS_AS_EMERGENCY}); split it into one file per kind"
)


# --- GeoJSON -------------------------------------------------------------------------------


def _parse_geojson(
    data: bytes, path: str, explicit_code: str | None, problems: _Problems
) -> ParsedShelterFile:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        bad_line = data[: exc.start].count(b"\n") + 1
        problems.fail(bad_line, f"GeoJSON must be UTF-8: invalid byte at offset {exc.start}")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}"
        problems.fail(exc.lineno, f"invalid JSON at {where}: {exc.msg}")

    if not isinstance(doc, dict):
        problems.fail(1, f"top level must be a GeoJSON FeatureCollection, got {_json_type(doc)}")
    if doc.get("type") == "unavailable":
        return _unavailable_stub(doc, path, explicit_code)
    if doc.get("type") != "FeatureCollection":
        problems.fail(1, f"not a GeoJSON FeatureCollection (type is {doc.get('type')!r})")
    features = doc.get("features")
    if not isinstance(features, list):
        got = _json_type(features)
        problems.fail(1, f"FeatureCollection 'features' must be an array, got {got}")

    file_code = _file_code(path, explicit_code, doc.get("name"))
    lines = _feature_lines(text, len(features))
    keys: set[str] = set()
    for feature in features:
        if isinstance(feature, dict) and isinstance(feature.get("properties"), dict):
            keys.update(feature["properties"])
    kind, mixed = _detect_kind(keys)
    notices: list[str] = []
    if mixed:
        problems.fail(None, _KIND_MIXED_MESSAGE)
    if kind is None and features:
        problems.fail(None, _KIND_UNKNOWN_MESSAGE)
    folder_kind = _kind_from_folder(path)
    if kind is None:
        kind = folder_kind
    elif folder_kind is not None and folder_kind != kind:
        notices.append(
            f"{path}: content lists {kind.label_ja} although the folder suggests "
            f"{folder_kind.label_ja}; the content was trusted"
        )

    builder = _RecordBuilder(path, kind, file_code, problems, notices)
    for index, feature in enumerate(features):
        line = lines[index]
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            problems.add(line, f"features[{index}] is not a GeoJSON Feature")
            continue
        props = feature.get("properties")
        if not isinstance(props, dict):
            problems.add(line, f"features[{index}] has no properties object")
            continue
        lon, lat = _point_coordinates(feature.get("geometry"), line, problems)
        builder.add(line, props, lon, lat, missing_is_error=True)
    problems.raise_if_any()
    return ParsedShelterFile(
        path=path,
        format="geojson",
        kind=kind,
        municipality_code=file_code,
        encoding="utf-8",
        records=tuple(builder.records),
        notices=tuple(notices),
    )


def _unavailable_stub(doc: Mapping[str, Any], path: str, explicit: str | None) -> ParsedShelterFile:
    data_type = doc.get("dataType")
    kind = (
        {
            "emergency": ShelterKind.EMERGENCY_SITE,
            "evacuation": ShelterKind.EVACUATION_SHELTER,
        }.get(data_type)
        if isinstance(data_type, str)
        else None
    )
    code = _file_code(path, explicit, doc.get("code"))
    who = " ".join(str(doc[k]) for k in ("name", "code") if doc.get(k))
    message = doc.get("message") or "no data published"
    return ParsedShelterFile(
        path=path,
        format="geojson",
        kind=kind or _kind_from_folder(path),
        municipality_code=code,
        encoding="utf-8",
        records=(),
        notices=(f"{path}: data unavailable for {who or 'this municipality'}: {message}",),
    )


def _feature_lines(text: str, count: int) -> list[int | None]:
    """1-based line on which each element of the top-level ``features`` array starts.

    Walks the (already validated) document with ``JSONDecoder.raw_decode``, which reports where
    each value ends, so the start offset of every feature is exact whatever the layout
    (pretty-printed or minified) and no matter how often a 共通ID appears in the text.
    """
    offsets = _feature_offsets(text)
    if offsets is None or len(offsets) != count:
        return [None] * count
    newlines = [m.start() for m in re.finditer("\n", text)]
    return [bisect.bisect_left(newlines, offset) + 1 for offset in offsets]


def _feature_offsets(text: str) -> list[int] | None:
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
            if key == "features" and text[i] == "[":
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
    except (IndexError, ValueError):
        return None


def _point_coordinates(
    geometry: object, line: int | None, problems: _Problems
) -> tuple[float | None, float | None]:
    if not isinstance(geometry, dict):
        problems.add(line, "feature has no geometry (a Point is required)")
        return None, None
    if geometry.get("type") != "Point":
        problems.add(line, f"geometry must be a Point, got {geometry.get('type')!r}")
        return None, None
    coords = geometry.get("coordinates")
    if (
        not isinstance(coords, list)
        or len(coords) < 2
        or not all(_is_number(c) for c in coords[:2])
    ):
        problems.add(line, f"Point coordinates must be [lon, lat] numbers, got {coords!r}")
        return None, None
    lon, lat = float(coords[0]), float(coords[1])
    if (message := coordinate_problem(lon, lat)) is not None:
        problems.add(line, message)
        return None, None
    return lon, lat


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _json_type(value: object) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    return "null" if value is None else type(value).__name__


def coordinate_problem(lon: float, lat: float) -> str | None:
    """Why (lon, lat) cannot be a shelter in Japan, or None when it can."""
    if not (math.isfinite(lon) and math.isfinite(lat)):
        return f"coordinates must be finite numbers (lon={lon}, lat={lat})"
    if _in_japan(lon, lat):
        return None
    if _in_japan(lat, lon):
        # The commonest mistake in hand-made files, and GeoJSON's [lon, lat] order invites it.
        return f"point (lon={lon}, lat={lat}): latitude and longitude look swapped"
    if not -90.0 <= lat <= 90.0:
        return f"latitude {lat} is out of range (-90..90)"
    if not -180.0 <= lon <= 180.0:
        return f"longitude {lon} is out of range (-180..180)"
    return (
        f"point (lon={lon}, lat={lat}) is outside Japan "
        f"(lat {JAPAN_LAT[0]:g}-{JAPAN_LAT[1]:g}, lon {JAPAN_LON[0]:g}-{JAPAN_LON[1]:g})"
    )


def _in_japan(lon: float, lat: float) -> bool:
    return JAPAN_LAT[0] <= lat <= JAPAN_LAT[1] and JAPAN_LON[0] <= lon <= JAPAN_LON[1]


# --- CSV -----------------------------------------------------------------------------------


def _decode_csv(data: bytes, problems: _Problems) -> tuple[str, str]:
    # Strict UTF-8 practically never accepts CP932 Japanese text, so trying it first is safe.
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError as utf8_error:
        try:
            return data.decode("cp932"), "cp932"
        except UnicodeDecodeError:
            line = data[: utf8_error.start].count(b"\n") + 1
            problems.fail(line, "CSV is neither UTF-8 nor Shift_JIS (CP932)")


def _parse_csv(
    data: bytes, path: str, explicit_code: str | None, problems: _Problems
) -> ParsedShelterFile:
    text, encoding = _decode_csv(data, problems)
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
            problems.add(reader.line_num, f"malformed CSV: {exc}")
            break
        if not any(cell.strip() for cell in row):
            continue
        if header is None:
            header, header_line = [cell.strip().lstrip("\ufeff") for cell in row], start
        else:
            rows.append((start, row))
    if header is None:
        problems.fail(1, "CSV is empty (no header row)")

    duplicates = sorted({c for c in header if c and header.count(c) > 1})
    if duplicates:
        problems.add(header_line, f"duplicate columns: {', '.join(duplicates)}")
    kind, mixed = _detect_kind(header)
    if mixed:
        problems.add(header_line, _KIND_MIXED_MESSAGE)
    elif kind is None:
        problems.add(header_line, _KIND_UNKNOWN_MESSAGE)
    else:
        needed = _REQUIRED_CSV_BASE + (
            GSI_HAZARD_COLUMNS if kind is ShelterKind.EMERGENCY_SITE else (COL_TARGET_GROUP,)
        )
        missing = [c for c in needed if c not in header]
        if missing:
            problems.add(
                header_line, f"missing columns for a {kind.label_ja} CSV: {', '.join(missing)}"
            )
    problems.raise_if_any()
    assert kind is not None

    notices: list[str] = []
    unknown = [c for c in header if c not in _KNOWN_COLUMNS]
    if unknown:
        notices.append(f"{path}: ignored unknown columns: {', '.join(unknown)}")
    file_code = _file_code(path, explicit_code)
    builder = _RecordBuilder(path, kind, file_code, problems, notices)
    width = len(header)
    for line, row in rows:
        if len(row) != width:
            problems.add(line, f"row has {len(row)} fields but the header has {width}")
            continue
        props = dict(zip(header, row, strict=True))
        lon = _csv_number(props[COL_LON], COL_LON, line, problems)
        lat = _csv_number(props[COL_LAT], COL_LAT, line, problems)
        message = coordinate_problem(lon, lat) if lon is not None and lat is not None else None
        if message is not None:
            problems.add(line, message)
            lon = lat = None
        builder.add(line, props, lon, lat, missing_is_error=False)
    problems.raise_if_any()
    return ParsedShelterFile(
        path=path,
        format="csv",
        kind=kind,
        municipality_code=file_code,
        encoding=encoding,
        records=tuple(builder.records),
        notices=tuple(notices),
    )


def _csv_number(raw: str, column: str, line: int, problems: _Problems) -> float | None:
    text = raw.strip()
    try:
        value = float(text)
    except ValueError:
        problems.add(line, f"{column} {raw!r} is not a number")
        return None
    if not math.isfinite(value):
        problems.add(line, f"{column} {raw!r} is not a finite number")
        return None
    return value


# --- Records -------------------------------------------------------------------------------


class _RecordBuilder:
    """Validates the format-independent part of a row and builds its record."""

    def __init__(
        self,
        path: str,
        kind: ShelterKind | None,
        file_code: str | None,
        problems: _Problems,
        notices: list[str],
    ) -> None:
        self.path = path
        self.kind = kind
        self.file_code = file_code
        self.problems = problems
        self.notices = notices
        self.records: list[ShelterRecord] = []
        self.first_line: dict[str, int | None] = {}

    def add(
        self,
        line: int | None,
        props: Mapping[str, Any],
        lon: float | None,
        lat: float | None,
        *,
        missing_is_error: bool,
    ) -> None:
        ok = lon is not None and lat is not None
        common_id = _text(props.get(COL_ID))
        name = _text(props.get(COL_NAME))
        if common_id is None:
            self.problems.add(line, f"missing {COL_ID}")
            ok = False
        elif common_id in self.first_line:
            first = self.first_line[common_id]
            self.problems.add(line, f"duplicate {COL_ID} {common_id} (first on line {first})")
            ok = False
        else:
            self.first_line[common_id] = line
        if name is None:
            self.problems.add(line, f"missing {COL_NAME} (name)")
            ok = False

        hazards: set[HazardType] = set()
        if self.kind is ShelterKind.EMERGENCY_SITE:
            for column in GSI_HAZARD_COLUMNS:
                if column not in props:
                    if missing_is_error:
                        self.problems.add(line, f"missing hazard flag property {column}")
                        ok = False
                    continue
                flag = self._flag(props[column], column, line)
                if flag is None:
                    ok = False
                elif flag:
                    hazards.add(HazardType.from_gsi_column(column))
        same_column = (
            COL_SAME_ADDRESS_AS_EVACUATION
            if self.kind is ShelterKind.EMERGENCY_SITE
            else COL_SAME_ADDRESS_AS_EMERGENCY
        )
        same_address = self._flag(props.get(same_column), same_column, line)
        if same_address is None:
            ok = False

        code = self._municipality_code(common_id, line)
        if code is None:
            ok = False
        if not ok or self.kind is None:
            return
        assert common_id is not None and name is not None and lon is not None and lat is not None
        assert code is not None
        self.records.append(
            ShelterRecord(
                common_id=common_id,
                common_ids=(common_id,),
                name=name,
                address=_text(props.get(COL_ADDRESS)),
                lon=lon,
                lat=lat,
                municipality_code=code,
                municipality_name=_text(props.get(COL_MUNICIPALITY_NAME)),
                kinds=frozenset({self.kind}),
                hazard_types=frozenset(hazards),
                target_group=_text(props.get(COL_TARGET_GROUP)),
                other_matters=_text(props.get(COL_OTHER_MATTERS)),
                note=_text(props.get(COL_NOTE)),
                gsi_same_address=bool(same_address),
                sources=(SourceRef(self.path, line),),
            )
        )

    def _flag(self, value: object, column: str, line: int | None) -> bool | None:
        # GSI writes "1" / ""; "0", JSON null and the numbers 0/1 are accepted as well.
        if value is None or (isinstance(value, int) and not isinstance(value, bool) and value == 0):
            return False
        if isinstance(value, int) and not isinstance(value, bool) and value == 1:
            return True
        if isinstance(value, str) and value.strip() in ("", "0", "1"):
            return value.strip() == "1"
        self.problems.add(line, f'{column} must be "1", "0" or empty, got {value!r}')
        return None

    def _municipality_code(self, common_id: str | None, line: int | None) -> str | None:
        parts = parse_common_id(common_id) if common_id else None
        if parts is None:
            if self.file_code is None:
                self.problems.add(
                    line,
                    f"cannot derive the municipality code: {COL_ID} {common_id!r} is not in GSI "
                    "form and the file name is not a municipality code",
                )
            return self.file_code
        if self.file_code is not None and parts.municipality_code != self.file_code:
            self.problems.add(
                line,
                f"{COL_ID} {common_id} belongs to municipality {parts.municipality_code} "
                f"but the file is for {self.file_code}",
            )
            return None
        if parts.kind is not None and self.kind is not None and parts.kind is not self.kind:
            self.notices.append(
                f"{self.path}:{line}: {COL_ID} {common_id} has the designation code of a "
                f"{parts.kind.label_ja} but is listed as a {self.kind.label_ja}"
            )
        return parts.municipality_code


def _text(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


# --- Merging -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MergeConflict:
    """Two rows that look like one place but whose points are too far apart to merge blindly."""

    common_ids: tuple[str, str]
    distance_m: float
    merged: bool  # rows with the same 共通ID are merged anyway; facility matches are not
    message: str


@dataclass(frozen=True, slots=True)
class MergeResult:
    """Merged records (sorted by 共通ID) and the conflicts an administrator should review."""

    records: tuple[ShelterRecord, ...]
    conflicts: tuple[MergeConflict, ...]


def merge_shelter_records(
    records: Iterable[ShelterRecord], *, max_distance_m: float = DEFAULT_MERGE_MAX_DISTANCE_M
) -> list[ShelterRecord]:
    """One record per place: emergency site + evacuation shelter of one place become one."""
    return list(merge_shelter_records_detailed(records, max_distance_m=max_distance_m).records)


def merge_shelter_records_detailed(
    records: Iterable[ShelterRecord], *, max_distance_m: float = DEFAULT_MERGE_MAX_DISTANCE_M
) -> MergeResult:
    """Merge as ``merge_shelter_records`` and also report distance conflicts.

    Two rules decide that rows are one place:

    1. the same 共通ID (any kinds; e.g. the same file imported twice);
    2. an emergency site and an evacuation shelter whose GSI-form 共通IDs share the facility key
       (first 11 characters) and whose names and addresses are equal after NFKC and whitespace
       folding, paired one to one in 共通ID order (so a general shelter 1x1 pairs before a welfare
       shelter 12x at the same facility), provided their points are within ``max_distance_m``.

    Rule 2 exists because GSI gives the two designations of one place different 共通IDs (201 vs
    111); facilities with several buildings (e.g. 小学校 and 中学校 on one lot) share the key, so
    names must match too. The emergency row wins for name, address and point; target group and
    other matters come from the evacuation row; hazard types and kinds are united.
    """
    conflicts: list[MergeConflict] = []
    by_id: dict[str, list[ShelterRecord]] = defaultdict(list)
    for record in records:
        by_id[record.common_id].append(record)

    merged: list[ShelterRecord] = []
    for common_id, group in by_id.items():
        result = group[0]
        for other in group[1:]:
            distance = _distance_m(result, other)
            if distance > max_distance_m:
                conflicts.append(
                    MergeConflict(
                        (common_id, common_id),
                        distance,
                        True,
                        f"rows of {COL_ID} {common_id} ({other.source}, {result.source}) are "
                        f"{distance:.0f} m apart; merged anyway",
                    )
                )
            result = _combine(result, other)
        merged.append(result)

    emergency: dict[tuple[str, str, str], list[ShelterRecord]] = defaultdict(list)
    evacuation: dict[tuple[str, str, str], list[ShelterRecord]] = defaultdict(list)
    for record in merged:
        parts = parse_common_id(record.common_id)
        if parts is None:
            continue
        key = (parts.facility_key, _fold(record.name), _fold(record.address or ""))
        if ShelterKind.EMERGENCY_SITE in record.kinds:
            if ShelterKind.EVACUATION_SHELTER not in record.kinds:
                emergency[key].append(record)
        elif ShelterKind.EVACUATION_SHELTER in record.kinds:
            evacuation[key].append(record)

    replaced: dict[str, ShelterRecord | None] = {}
    for key, sites in emergency.items():
        shelters = evacuation.get(key)
        if not shelters:
            continue
        pairs = zip(
            sorted(sites, key=lambda r: r.common_id),
            sorted(shelters, key=lambda r: r.common_id),
            strict=False,
        )
        for site, shelter in pairs:
            distance = _distance_m(site, shelter)
            if distance > max_distance_m:
                conflicts.append(
                    MergeConflict(
                        (site.common_id, shelter.common_id),
                        distance,
                        False,
                        f"{site.name}: emergency site {site.common_id} ({site.source}) and "
                        f"evacuation shelter {shelter.common_id} ({shelter.source}) share name "
                        f"and address but are {distance:.0f} m apart; kept separate",
                    )
                )
                continue
            replaced[site.common_id] = _combine(site, shelter)
            replaced[shelter.common_id] = None

    result_records = [replaced.get(r.common_id, r) for r in merged]
    final = sorted((r for r in result_records if r is not None), key=lambda r: r.common_id)
    return MergeResult(tuple(final), tuple(conflicts))


def _combine(a: ShelterRecord, b: ShelterRecord) -> ShelterRecord:
    """Merge two rows of one place, the emergency-site row (else ``a``) being primary."""
    if ShelterKind.EMERGENCY_SITE in b.kinds and ShelterKind.EMERGENCY_SITE not in a.kinds:
        a, b = b, a
    evac = [r for r in (a, b) if ShelterKind.EVACUATION_SHELTER in r.kinds] or [a, b]
    notes = list(dict.fromkeys(n for n in (a.note, b.note) if n))
    return ShelterRecord(
        common_id=a.common_id,
        common_ids=tuple(sorted(set(a.common_ids) | set(b.common_ids))),
        name=a.name,
        address=a.address or b.address,
        lon=a.lon,
        lat=a.lat,
        municipality_code=a.municipality_code,
        municipality_name=a.municipality_name or b.municipality_name,
        kinds=a.kinds | b.kinds,
        hazard_types=a.hazard_types | b.hazard_types,
        target_group=next((r.target_group for r in evac if r.target_group), None),
        other_matters=next((r.other_matters for r in evac if r.other_matters), None),
        note=" / ".join(notes) or None,
        gsi_same_address=a.gsi_same_address or b.gsi_same_address,
        sources=a.sources + b.sources,
    )


def _fold(text: str) -> str:
    # Full-width spaces and digits vary between the two GSI tables for one place.
    return "".join(unicodedata.normalize("NFKC", text).split())


def _distance_m(a: ShelterRecord, b: ShelterRecord) -> float:
    # The spherical distance is ample for a 500 m threshold.
    return haversine_m(a.lat, a.lon, b.lat, b.lon)
