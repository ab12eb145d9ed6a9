"""GSI shelter columns and the validation of one row, shared by the GeoJSON and CSV readers."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ..hazards.types import GSI_HAZARD_COLUMNS, HazardType
from ..ingest.problems import FileRefused, Problems, SourceRef
from ..municipalities.reference import normalize_code
from .records import ShelterKind, ShelterRecord, parse_common_id

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
REQUIRED_CSV_BASE = (COL_ID, COL_NAME, COL_ADDRESS, COL_LAT, COL_LON)
_EVACUATION_MARKERS = (COL_TARGET_GROUP, COL_SAME_ADDRESS_AS_EMERGENCY)
KNOWN_COLUMNS = (
    frozenset(EMERGENCY_CSV_COLUMNS) | frozenset(EVACUATION_CSV_COLUMNS) | {COL_MUNICIPALITY_NAME}
)
# The widths of the shelters table's columns.
MAX_LENGTHS = ((COL_ID, 64), (COL_NAME, 255), (COL_ADDRESS, 255))

KIND_UNKNOWN = (
    "cannot tell the kind of file: it has neither the hazard flag columns of an emergency-site "
    f"file ({', '.join(GSI_HAZARD_COLUMNS)}) nor the {COL_TARGET_GROUP} column of an "
    "evacuation-shelter file",
    "ファイルの種類が分かりません: 指定緊急避難場所の災害種別の列"
    f"（{'、'.join(GSI_HAZARD_COLUMNS)}）も指定避難所の{COL_TARGET_GROUP}の列もありません",
)
KIND_MIXED = (
    "file mixes emergency-site columns (hazard flags) and evacuation-shelter columns "
    f"({COL_TARGET_GROUP}/{COL_SAME_ADDRESS_AS_EMERGENCY}); split it into one file per kind",
    "指定緊急避難場所の列（災害種別）と指定避難所の列"
    f"（{COL_TARGET_GROUP}・{COL_SAME_ADDRESS_AS_EMERGENCY}）が混在しています。"
    "種類ごとにファイルを分けてください",
)


class ShelterFileError(FileRefused):
    """A shelter file was refused; ``problems`` lists the first ``MAX_PROBLEMS`` problems."""

    what = "shelter file"
    what_ja = "避難所データ"


def kind_from_folder(path: str) -> ShelterKind | None:
    """The kind a folder name suggests; only a hint for empty files and a notice."""
    parts = {p.lower() for p in Path(path).parts[:-1]}
    if "emergency" in parts:
        return ShelterKind.EMERGENCY_SITE
    if "evacuation" in parts:
        return ShelterKind.EVACUATION_SHELTER
    return None


def file_code(path: str, explicit: str | None, declared: object = None) -> str | None:
    """The file's municipality code: given, declared in the file, or the file name."""
    if explicit is not None:
        return explicit
    if isinstance(declared, str) and (code := normalize_code(declared)):
        return code
    return normalize_code(Path(path).stem)


def detect_kind(keys: Iterable[str]) -> tuple[ShelterKind | None, bool]:
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


def coordinate_problem(lon: float, lat: float) -> tuple[str, str] | None:
    """Why (lon, lat) cannot be a shelter in Japan (English, Japanese), or None when it can."""
    if not (math.isfinite(lon) and math.isfinite(lat)):
        return (
            f"coordinates must be finite numbers (lon={lon}, lat={lat})",
            f"座標が有限の数値ではありません（経度={lon}、緯度={lat}）",
        )
    if _in_japan(lon, lat):
        return None
    if _in_japan(lat, lon):
        # The commonest mistake in hand-made files, and GeoJSON's [lon, lat] order invites it.
        return (
            f"point (lon={lon}, lat={lat}): latitude and longitude look swapped",
            f"点（経度={lon}、緯度={lat}）の緯度と経度が入れ替わっているようです",
        )
    if not -90.0 <= lat <= 90.0:
        return f"latitude {lat} is out of range (-90..90)", f"緯度 {lat} が範囲外です（-90〜90）"
    if not -180.0 <= lon <= 180.0:
        return (
            f"longitude {lon} is out of range (-180..180)",
            f"経度 {lon} が範囲外です（-180〜180）",
        )
    return (
        f"point (lon={lon}, lat={lat}) is outside Japan "
        f"(lat {JAPAN_LAT[0]:g}-{JAPAN_LAT[1]:g}, lon {JAPAN_LON[0]:g}-{JAPAN_LON[1]:g})",
        f"点（経度={lon}、緯度={lat}）が日本の範囲外です"
        f"（緯度{JAPAN_LAT[0]:g}〜{JAPAN_LAT[1]:g}、経度{JAPAN_LON[0]:g}〜{JAPAN_LON[1]:g}）",
    )


def _in_japan(lon: float, lat: float) -> bool:
    return JAPAN_LAT[0] <= lat <= JAPAN_LAT[1] and JAPAN_LON[0] <= lon <= JAPAN_LON[1]


class RecordBuilder:
    """Validates the format-independent part of a row and builds its record."""

    def __init__(
        self,
        path: str,
        kind: ShelterKind | None,
        file_code: str | None,
        problems: Problems,
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
        """Check one row (its point already checked) and keep its record when it is good."""
        ok = lon is not None and lat is not None
        common_id = _text(props.get(COL_ID))
        name = _text(props.get(COL_NAME))
        if common_id is None:
            self.problems.add(line, f"missing {COL_ID}", f"{COL_ID}がありません")
            ok = False
        elif common_id in self.first_line:
            first = self.first_line[common_id]
            where = "listed before" if first is None else f"first on line {first}"
            where_ja = "前にもあります" if first is None else f"最初は{first}行目"
            self.problems.add(
                line,
                f"duplicate {COL_ID} {common_id} ({where})",
                f"{COL_ID} {common_id} が重複しています（{where_ja}）",
            )
            ok = False
        else:
            self.first_line[common_id] = line
        if name is None:
            self.problems.add(line, f"missing {COL_NAME} (name)", f"{COL_NAME}がありません")
            ok = False
        for column, limit in MAX_LENGTHS:
            value = _text(props.get(column)) or ""
            if len(value) > limit:
                self.problems.add(
                    line,
                    f"{column} is longer than {limit} characters",
                    f"{column}が{limit}文字を超えています",
                )
                ok = False

        hazards: set[HazardType] = set()
        if self.kind is ShelterKind.EMERGENCY_SITE:
            for column in GSI_HAZARD_COLUMNS:
                if column not in props:
                    if missing_is_error:
                        self.problems.add(
                            line,
                            f"missing hazard flag property {column}",
                            f"災害種別の属性 {column} がありません",
                        )
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
        self.problems.add(
            line,
            f'{column} must be "1", "0" or empty, got {value!r}',
            f"{column}は「1」「0」または空欄にしてください（{value!r}）",
        )
        return None

    def _municipality_code(self, common_id: str | None, line: int | None) -> str | None:
        parts = parse_common_id(common_id) if common_id else None
        if parts is None:
            if self.file_code is None:
                self.problems.add(
                    line,
                    f"cannot derive the municipality code: {COL_ID} {common_id!r} is not in GSI "
                    "form and the file name is not a municipality code",
                    f"市区町村コードが分かりません: {COL_ID} {common_id!r} が国土地理院の形式"
                    "ではなく、ファイル名も市区町村コードではありません",
                )
            return self.file_code
        if self.file_code is not None and parts.municipality_code != self.file_code:
            self.problems.add(
                line,
                f"{COL_ID} {common_id} belongs to municipality {parts.municipality_code} "
                f"but the file is for {self.file_code}",
                f"{COL_ID} {common_id} は市区町村 {parts.municipality_code} のものですが、"
                f"このファイルは {self.file_code} のものです",
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
