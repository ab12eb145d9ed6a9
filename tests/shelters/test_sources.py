"""Parsing, validation and merging of GSI shelter files (real Fukushima data + crafted files)."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import unicodedata
from pathlib import Path
from typing import Any

import pytest

from backend.hazards.types import GSI_HAZARD_COLUMNS, HazardType
from backend.ingest.problems import MAX_PROBLEMS, SourceRef
from backend.municipalities.reference import with_check_digit
from backend.shelters.gsi_rows import (
    EMERGENCY_CSV_COLUMNS,
    EVACUATION_CSV_COLUMNS,
    ShelterFileError,
)
from backend.shelters.merge import merge_shelter_records, merge_shelter_records_detailed
from backend.shelters.records import ShelterKind, ShelterRecord, parse_common_id
from backend.shelters.sources import parse_shelter_bytes, parse_shelter_file
from tests.ingest.wording import english_words
from tests.shared_data import require_shared

AIZU = "072028"


def _raw_features(path: Path) -> list[dict[str, Any]]:
    return json.loads(path.read_text(encoding="utf-8"))["features"]


def _fold(text: str | None) -> str:
    return "".join(unicodedata.normalize("NFKC", text or "").split())


def _without_sources(records: list[ShelterRecord] | tuple[ShelterRecord, ...]) -> list[Any]:
    return [dataclasses.replace(r, sources=()) for r in records]


# --- real data --------------------------------------------------------------------------------


def test_aizu_emergency_sites() -> None:
    path = require_shared("gsi-shelters", "emergency", f"{AIZU}.json")
    parsed = parse_shelter_file(path)
    assert parsed.format == "geojson"
    assert parsed.kind is ShelterKind.EMERGENCY_SITE
    assert parsed.municipality_code == "07202"
    assert len(parsed.records) == 199
    assert parsed.notices == ()
    assert {r.municipality_code for r in parsed.records} == {"07202"}
    assert all(r.kinds == {ShelterKind.EMERGENCY_SITE} for r in parsed.records)
    assert all(r.target_group is None for r in parsed.records)


def test_aizu_evacuation_shelters() -> None:
    path = require_shared("gsi-shelters", "evacuation", f"{AIZU}.json")
    parsed = parse_shelter_file(path)
    assert parsed.kind is ShelterKind.EVACUATION_SHELTER
    assert len(parsed.records) == 102
    assert all(r.hazard_types == frozenset() for r in parsed.records)
    raw = {f["properties"]["共通ID"]: f["properties"] for f in _raw_features(path)}
    for record in parsed.records:
        assert record.target_group == (raw[record.common_id]["受入対象者"] or None)


def test_known_shelter_hazard_flags_match_raw_properties() -> None:
    path = require_shared("gsi-shelters", "emergency", f"{AIZU}.json")
    records = {r.common_id: r for r in parse_shelter_file(path).records}
    raw = {f["properties"]["共通ID"]: f for f in _raw_features(path)}
    # ふれあい体育館 is designated for everything but earthquakes (and the non-local hazards).
    record = records["E0720200015201"]
    assert record.name == "ふれあい体育館"
    assert record.hazard_types == {
        HazardType.FLOOD,
        HazardType.LANDSLIDE,
        HazardType.LARGE_FIRE,
        HazardType.INLAND_FLOOD,
    }
    # And every record agrees with its raw flags.
    for common_id, record in records.items():
        props = raw[common_id]["properties"]
        expected = {t for t in HazardType if props[t.gsi_column] == "1"}
        assert record.hazard_types == expected, common_id
        assert (record.lon, record.lat) == tuple(raw[common_id]["geometry"]["coordinates"])


def test_source_line_is_where_the_feature_starts() -> None:
    path = require_shared("gsi-shelters", "emergency", f"{AIZU}.json")
    lines = path.read_text(encoding="utf-8").splitlines()
    for record in parse_shelter_file(path).records:
        start = record.source.line
        assert start is not None
        assert lines[start - 1].strip() == "{"
        # The feature's own 共通ID follows within the feature, before the next feature starts.
        following = lines[start : start + 20]
        assert f'"共通ID": "{record.common_id}",' in "\n".join(following).replace("  ", "")


def test_all_fukushima_files_parse() -> None:
    root = require_shared("gsi-shelters")
    totals = {"emergency": 0, "evacuation": 0}
    notices: list[str] = []
    files = 0
    for folder in totals:
        for path in sorted((root / folder).glob("07*.json")):
            parsed = parse_shelter_file(path)
            files += 1
            totals[folder] += len(parsed.records)
            notices.extend(parsed.notices)
            expected_code = path.stem[:5]
            assert with_check_digit(expected_code) == path.stem
            assert all(r.municipality_code == expected_code for r in parsed.records)
            if not parsed.records:
                assert parsed.notices, path
    assert files == 118
    assert totals == {"emergency": 2546, "evacuation": 2462}
    assert len(notices) == 3
    assert sum("075469" in n for n in notices) == 2 and sum("075647" in n for n in notices) == 1


def test_unavailable_stub_is_a_notice_not_an_error() -> None:
    path = require_shared("gsi-shelters", "emergency", "075647.json")
    parsed = parse_shelter_file(path)
    assert parsed.records == ()
    assert parsed.kind is ShelterKind.EMERGENCY_SITE
    assert parsed.municipality_code == "07564"
    assert "飯舘村" in parsed.notices[0] and "公開されていません" in parsed.notices[0]


def test_aizu_merge_count_is_derived_from_raw_json() -> None:
    emergency_path = require_shared("gsi-shelters", "emergency", f"{AIZU}.json")
    evacuation_path = require_shared("gsi-shelters", "evacuation", f"{AIZU}.json")
    raw_e = _raw_features(emergency_path)
    raw_v = _raw_features(evacuation_path)
    ids_e = {f["properties"]["共通ID"] for f in raw_e}
    ids_v = {f["properties"]["共通ID"] for f in raw_v}
    # GSI never reuses a 共通ID across the two tables: exact-ID merging alone would keep 301.
    assert ids_e & ids_v == set()
    assert len(ids_e | ids_v) == 301

    # Independent brute force of the place rule: same facility (first 11 characters of the
    # 共通ID), same folded name and address, one evacuation shelter per emergency site.
    pairs = 0
    used: set[str] = set()
    for e in sorted(raw_e, key=lambda f: f["properties"]["共通ID"]):
        pe = e["properties"]
        for v in sorted(raw_v, key=lambda f: f["properties"]["共通ID"]):
            pv = v["properties"]
            if (
                pv["共通ID"] not in used
                and pe["共通ID"][:11] == pv["共通ID"][:11]
                and _fold(pe["施設・場所名"]) == _fold(pv["施設・場所名"])
                and _fold(pe["住所"]) == _fold(pv["住所"])
            ):
                used.add(pv["共通ID"])
                pairs += 1
                break
    # Cross-check with GSI's own flags: every Aizu emergency site marked 指定避難所との住所同一
    # has exactly one such partner, and vice versa.
    flagged_e = sum(f["properties"]["指定避難所との住所同一"] == "1" for f in raw_e)
    flagged_v = sum(f["properties"]["指定緊急避難場所との住所同一"] == "1" for f in raw_v)
    assert pairs == flagged_e == flagged_v == 67

    records = [
        *parse_shelter_file(emergency_path).records,
        *parse_shelter_file(evacuation_path).records,
    ]
    result = merge_shelter_records_detailed(records)
    assert result.conflicts == ()
    assert len(result.records) == 301 - pairs == 234
    all_ids = [cid for r in result.records for cid in r.common_ids]
    assert len(all_ids) == len(set(all_ids)) == 301
    assert sum(len(r.kinds) == 2 for r in result.records) == pairs


def test_merged_place_has_both_kinds_and_emergency_fields() -> None:
    emergency_path = require_shared("gsi-shelters", "emergency", f"{AIZU}.json")
    evacuation_path = require_shared("gsi-shelters", "evacuation", f"{AIZU}.json")
    e = {r.common_id: r for r in parse_shelter_file(emergency_path).records}
    v = {r.common_id: r for r in parse_shelter_file(evacuation_path).records}
    merged = {r.common_id: r for r in merge_shelter_records([*v.values(), *e.values()])}
    school = merged["E0720200006201"]  # 松長小学校
    assert school.common_ids == ("E0720200006111", "E0720200006201")
    assert school.kinds == {ShelterKind.EMERGENCY_SITE, ShelterKind.EVACUATION_SHELTER}
    assert school.hazard_types == e["E0720200006201"].hazard_types
    assert (school.lon, school.lat) == (e["E0720200006201"].lon, e["E0720200006201"].lat)
    assert school.source == e["E0720200006201"].source
    assert len(school.sources) == 2
    assert "E0720200006111" not in merged


def test_real_swapped_points_are_reported_not_merged() -> None:
    # In 郡山市's evacuation table the points of 三和小学校 and 三穂田中学校 are swapped
    # (~1.7 km apart from their emergency-site rows with the same name and address).
    records = [
        *parse_shelter_file(require_shared("gsi-shelters", "emergency", "072036.json")).records,
        *parse_shelter_file(require_shared("gsi-shelters", "evacuation", "072036.json")).records,
    ]
    result = merge_shelter_records_detailed(records)
    conflicted = {c.common_ids for c in result.conflicts}
    assert ("E0720300161201", "E0720300161111") in conflicted
    assert ("E0720300162201", "E0720300162111") in conflicted
    assert all(not c.merged and c.distance_m > 1500 for c in result.conflicts)
    ids = {r.common_id for r in result.records}
    assert {"E0720300161201", "E0720300161111"} <= ids


# --- merging rules on crafted records ------------------------------------------------------------


def _record(common_id: str, kind: ShelterKind, **changes: Any) -> ShelterRecord:
    base = ShelterRecord(
        common_id=common_id,
        common_ids=(common_id,),
        name="会津第一小学校",
        address="福島県会津若松市城東町1-1",
        lon=139.93,
        lat=37.49,
        municipality_code="07202",
        municipality_name="福島県会津若松市",
        kinds=frozenset({kind}),
        hazard_types=frozenset(),
        target_group=None,
        other_matters=None,
        note=None,
        gsi_same_address=True,
        sources=(SourceRef("crafted.json", 1),),
    )
    return dataclasses.replace(base, **changes)


def test_same_common_id_merges_preferring_emergency_fields() -> None:
    site = _record(
        "X-1",
        ShelterKind.EMERGENCY_SITE,
        hazard_types=frozenset({HazardType.FLOOD}),
        name="第一小学校 校庭",
    )
    shelter = _record(
        "X-1",
        ShelterKind.EVACUATION_SHELTER,
        name="第一小学校 体育館",
        address="別の住所",
        target_group="要配慮者",
        lon=139.931,
    )
    [merged] = merge_shelter_records([shelter, site])
    assert merged.kinds == {ShelterKind.EMERGENCY_SITE, ShelterKind.EVACUATION_SHELTER}
    assert merged.name == "第一小学校 校庭"
    assert merged.address == "福島県会津若松市城東町1-1"
    assert merged.lon == 139.93
    assert merged.target_group == "要配慮者"
    assert merged.hazard_types == {HazardType.FLOOD}


def test_facility_pairing_prefers_general_over_welfare_shelter() -> None:
    site = _record("E0720200099201", ShelterKind.EMERGENCY_SITE)
    general = _record("E0720200099111", ShelterKind.EVACUATION_SHELTER, name="会津第一小学校 ")
    welfare = _record("E0720200099121", ShelterKind.EVACUATION_SHELTER, target_group="要配慮者")
    other_building = _record("E0720200099112", ShelterKind.EVACUATION_SHELTER, name="体育館")
    merged = merge_shelter_records([welfare, other_building, general, site])
    assert [r.common_ids for r in merged] == [
        ("E0720200099112",),
        ("E0720200099121",),
        ("E0720200099111", "E0720200099201"),
    ]


def test_far_apart_pair_is_kept_separate() -> None:
    site = _record("E0720200099201", ShelterKind.EMERGENCY_SITE)
    shelter = _record("E0720200099111", ShelterKind.EVACUATION_SHELTER, lat=37.50)
    result = merge_shelter_records_detailed([site, shelter], max_distance_m=500)
    assert len(result.records) == 2
    [conflict] = result.conflicts
    assert 1000 < conflict.distance_m < 1200 and not conflict.merged


def test_parse_common_id() -> None:
    parts = parse_common_id("E0720200006121")
    assert parts is not None
    assert parts.municipality_code == "07202"
    assert parts.facility_key == "E0720200006"
    assert parts.kind is ShelterKind.EVACUATION_SHELTER
    assert parse_common_id("07202-1") is None


# --- CSV round trip ---------------------------------------------------------------------------


def _csv_text(features: list[dict[str, Any]], columns: tuple[str, ...]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for feature in features:
        props = feature["properties"]
        lon, lat = feature["geometry"]["coordinates"]
        values = {**props, "緯度": repr(lat), "経度": repr(lon)}
        writer.writerow(["" if values.get(c) is None else values[c] for c in columns])
    return out.getvalue()


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp932"])
@pytest.mark.parametrize(
    ("folder", "columns"),
    [("emergency", EMERGENCY_CSV_COLUMNS), ("evacuation", EVACUATION_CSV_COLUMNS)],
)
def test_csv_round_trip(
    tmp_path: Path, encoding: str, folder: str, columns: tuple[str, ...]
) -> None:
    source = require_shared("gsi-shelters", folder, f"{AIZU}.json")
    from_json = parse_shelter_file(source)
    features = _raw_features(source)
    csv_path = tmp_path / f"{AIZU}.csv"
    csv_path.write_bytes(_csv_text(features, columns).encode(encoding))

    from_csv = parse_shelter_file(csv_path)
    assert from_csv.format == "csv"
    assert from_csv.encoding == ("cp932" if encoding == "cp932" else "utf-8")
    assert from_csv.kind is from_json.kind
    # Records carry no municipality name in GSI's CSV; everything else must match exactly.
    expected = [dataclasses.replace(r, municipality_name=None) for r in from_json.records]
    assert _without_sources(from_csv.records) == _without_sources(expected)
    # Row i (0-based) sits on physical line i + 2, after the header.
    assert [r.source.line for r in from_csv.records] == list(range(2, len(features) + 2))


def test_csv_line_numbers_count_physical_lines(tmp_path: Path) -> None:
    features = _aizu_features(count=3)
    features[0]["properties"]["備考"] = "一行目\n二行目\n三行目"  # a quoted field over 3 lines
    text = _csv_text(features, EMERGENCY_CSV_COLUMNS)
    lat = repr(features[2]["geometry"]["coordinates"][1])
    path = tmp_path / "shelters.csv"
    path.write_text(text.replace(f",{lat},", ",north,"), encoding="utf-8")
    with pytest.raises(ShelterFileError) as info:
        parse_shelter_file(path)
    # header 1, first row 2-4 (three physical lines), second row 5, third row 6
    [problem] = info.value.problems
    assert problem.line == 6
    assert problem.message == "緯度 'north' is not a number"


# --- bad files ----------------------------------------------------------------------------------


def _feature_collection(features: list[dict[str, Any]]) -> str:
    return json.dumps(
        {"type": "FeatureCollection", "name": AIZU, "features": features},
        ensure_ascii=False,
        indent=2,
    )


def _start_line(text: str, common_id: str) -> int:
    """1-based line of the ``{`` opening the feature with this 共通ID (indent=2 layout)."""
    lines = text.splitlines()
    at = next(i for i, line in enumerate(lines) if f'"共通ID": "{common_id}"' in line)
    while lines[at] != "    {":
        at -= 1
    return at + 1


def _aizu_features(folder: str = "emergency", count: int = 10) -> list[dict[str, Any]]:
    return _raw_features(require_shared("gsi-shelters", folder, f"{AIZU}.json"))[:count]


def test_geojson_problems_are_all_reported_with_lines(tmp_path: Path) -> None:
    features = _aizu_features()
    features[2]["geometry"]["coordinates"] = [139.9, 95.0]
    features[4]["geometry"]["coordinates"] = [2.35, 48.85]  # Paris
    features[5]["properties"]["施設・場所名"] = " "
    features[6]["properties"]["共通ID"] = features[1]["properties"]["共通ID"]
    features[7]["properties"]["地震"] = "yes"
    features[8]["geometry"] = {"type": "Polygon", "coordinates": []}
    text = _feature_collection(features)
    path = tmp_path / f"{AIZU}.json"
    path.write_text(text, encoding="utf-8")

    with pytest.raises(ShelterFileError) as info:
        parse_shelter_file(path)
    problems = info.value.problems
    ids = [f["properties"]["共通ID"] for f in features]
    # With indent=2 every feature (and nothing else) opens on a line that is exactly "    {".
    line = [i + 1 for i, text_line in enumerate(text.splitlines()) if text_line == "    {"]
    assert len(line) == len(features)
    assert line[1] == _start_line(text, ids[1])
    got = [(p.line, p.message) for p in problems]
    assert got == [
        (line[2], "latitude 95.0 is out of range (-90..90)"),
        (
            line[4],
            "point (lon=2.35, lat=48.85) is outside Japan (lat 20-46, lon 122-154)",
        ),
        (line[5], "missing 施設・場所名 (name)"),
        (line[6], f"duplicate 共通ID {ids[1]} (first on line {line[1]})"),
        (line[7], '地震 must be "1", "0" or empty, got \'yes\''),
        (line[8], "geometry must be a Point, got 'Polygon'"),
    ]
    assert info.value.total == 6
    assert str(path) in str(info.value)
    assert english_words(info.value.message_ja, path) == []


def test_lines_are_found_in_minified_json() -> None:
    features = _aizu_features(count=3)
    features[2]["properties"]["共通ID"] = features[0]["properties"]["共通ID"]
    # One feature per line, preceded by a header line: feature i starts on line i + 2.
    body = ",\n".join(json.dumps(f, ensure_ascii=False) for f in features)
    text = '{"type": "FeatureCollection",\n"features": [' + body + "]}"
    with pytest.raises(ShelterFileError) as info:
        parse_shelter_bytes(text.encode(), path=f"{AIZU}.json")
    [problem] = info.value.problems
    assert problem.line == 4
    assert "(first on line 2)" in problem.message


def test_swapped_coordinates_are_explained() -> None:
    features = _aizu_features(count=1)
    features[0]["geometry"]["coordinates"].reverse()
    with pytest.raises(ShelterFileError, match="look swapped"):
        parse_shelter_bytes(_feature_collection(features).encode(), path=f"{AIZU}.json")


def test_invalid_json_reports_line_and_column() -> None:
    text = _feature_collection(_aizu_features(count=2))
    lines = text.splitlines()
    lines[10] = lines[10] + ","  # a stray comma after a value
    broken = "\n".join(lines)
    with pytest.raises(json.JSONDecodeError) as expected:
        json.loads(broken)
    with pytest.raises(ShelterFileError) as info:
        parse_shelter_bytes(broken.encode(), path=f"{AIZU}.json")
    [problem] = info.value.problems
    assert problem.line == expected.value.lineno
    assert f"line {expected.value.lineno} column {expected.value.colno}" in problem.message


def test_not_a_feature_collection() -> None:
    with pytest.raises(ShelterFileError, match="not a GeoJSON FeatureCollection"):
        parse_shelter_bytes(b'{"type": "Feature"}', path="x.json")
    with pytest.raises(ShelterFileError, match="got an array"):
        parse_shelter_bytes(b"[]", path="x.json")


def test_feature_without_geometry() -> None:
    features = _aizu_features(count=1)
    features[0]["geometry"] = None
    with pytest.raises(ShelterFileError, match="feature has no geometry"):
        parse_shelter_bytes(_feature_collection(features).encode(), path=f"{AIZU}.json")


def test_bad_file_yields_no_records_and_problem_list_is_capped(tmp_path: Path) -> None:
    features = _aizu_features(count=80)
    for feature in features[10:]:
        feature["geometry"]["coordinates"] = [0.0, 0.0]
    with pytest.raises(ShelterFileError) as info:
        parse_shelter_bytes(_feature_collection(features).encode(), path=f"{AIZU}.json")
    assert info.value.total == 70
    assert len(info.value.problems) == MAX_PROBLEMS
    assert "... and 20 more problem(s)" in str(info.value)


def test_csv_missing_columns_are_named(tmp_path: Path) -> None:
    columns = tuple(c for c in EMERGENCY_CSV_COLUMNS if c not in ("緯度", "地震"))
    path = tmp_path / "shelters.csv"
    path.write_text(_csv_text(_aizu_features(count=2), columns), encoding="utf-8")
    with pytest.raises(ShelterFileError) as info:
        parse_shelter_file(path)
    [problem] = info.value.problems
    assert problem.line == 1
    assert problem.message.endswith("missing columns for a 指定緊急避難場所 CSV: 緯度, 地震")


def test_csv_of_unknown_kind_or_mixed_kinds(tmp_path: Path) -> None:
    path = tmp_path / "shelters.csv"
    path.write_text("共通ID,施設・場所名,住所,緯度,経度\n", encoding="utf-8")
    with pytest.raises(ShelterFileError, match="cannot tell the kind of file") as unknown:
        parse_shelter_file(path)
    path.write_text("共通ID,施設・場所名,住所,洪水,受入対象者,緯度,経度\n", encoding="utf-8")
    with pytest.raises(ShelterFileError, match="mixes emergency-site columns") as mixed:
        parse_shelter_file(path)
    for refused in (unknown, mixed):
        assert english_words(refused.value.message_ja, path) == []


def test_csv_row_problems(tmp_path: Path) -> None:
    features = _aizu_features(count=4)
    features[1]["properties"]["洪水"] = "x"
    features[3]["geometry"]["coordinates"][0] = 200.0
    text = _csv_text(features, EMERGENCY_CSV_COLUMNS) + "1,2,3\r\n"
    path = tmp_path / "shelters.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ShelterFileError) as info:
        parse_shelter_file(path)
    assert [(p.line, p.message) for p in info.value.problems] == [
        (3, '洪水 must be "1", "0" or empty, got \'x\''),
        (5, "longitude 200.0 is out of range (-180..180)"),
        (6, f"row has 3 fields but the header has {len(EMERGENCY_CSV_COLUMNS)}"),
    ]
    assert english_words(info.value.message_ja, path) == []


def test_csv_that_is_neither_utf8_nor_cp932(tmp_path: Path) -> None:
    path = tmp_path / "shelters.csv"
    path.write_bytes("共通ID\n".encode() + b"\x81\x39\xff\n")
    with pytest.raises(ShelterFileError, match="neither UTF-8 nor Shift_JIS"):
        parse_shelter_file(path)


def test_municipality_code_sources(tmp_path: Path) -> None:
    features = _aizu_features(count=1)
    features[0]["properties"]["共通ID"] = "CITY-0001"  # not the GSI form
    payload = json.dumps({"type": "FeatureCollection", "features": features}).encode()
    with pytest.raises(ShelterFileError, match="cannot derive the municipality code"):
        parse_shelter_bytes(payload, path="upload.json")
    parsed = parse_shelter_bytes(payload, path="upload.json", municipality_code="072028")
    assert parsed.records[0].municipality_code == "07202"
    # The file name gives the code when it is a valid 6-digit code...
    assert parse_shelter_bytes(payload, path="072028.json").records[0].municipality_code == "07202"
    # ...and a GSI 共通ID of another municipality than the file is refused.
    other = json.dumps({"type": "FeatureCollection", "features": _aizu_features(count=1)})
    with pytest.raises(ShelterFileError, match="belongs to municipality 07202 but the file is for"):
        parse_shelter_bytes(other.encode(), path="072036.json")


def test_kind_comes_from_content_not_folder(tmp_path: Path) -> None:
    folder = tmp_path / "emergency"
    folder.mkdir()
    path = folder / f"{AIZU}.json"
    path.write_text(_feature_collection(_aizu_features("evacuation", 3)), encoding="utf-8")
    parsed = parse_shelter_file(path)
    assert parsed.kind is ShelterKind.EVACUATION_SHELTER
    assert len(parsed.records) == 3
    assert any("content was trusted" in n for n in parsed.notices)


def test_flags_accept_zero_null_and_numbers() -> None:
    features = _aizu_features(count=1)
    props = features[0]["properties"]
    for column, value in zip(
        GSI_HAZARD_COLUMNS, ["0", None, 1, 0, "1", "", " 1 ", "0"], strict=True
    ):
        props[column] = value
    [record] = parse_shelter_bytes(_feature_collection(features).encode(), path="a.json").records
    assert record.hazard_types == {
        HazardType.STORM_SURGE,
        HazardType.TSUNAMI,
        HazardType.INLAND_FLOOD,
    }
