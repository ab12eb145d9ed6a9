"""The import toolkit as the importers use it: every bad file refused at once, with lines,
in English and wholly Japanese, nothing written, size caps before reading, parsing off the loop."""

from __future__ import annotations

import csv
import io
import json
import threading
from pathlib import Path
from typing import Any

import pytest

from backend.errors import ValidationFailed
from backend.hazards import service as hazards_service
from backend.hazards.demo import demo_feature_collection
from backend.ingest.files import parse_all, parse_all_off_loop, read_capped
from backend.ingest.problems import MAX_PROBLEMS, ImportRefused, Problems
from backend.shelters import service as shelters_service
from backend.shelters.gsi_rows import EVACUATION_CSV_COLUMNS
from tests.ingest.wording import english_words
from tests.shared_data import require_shared

AIZU = "072028"


def aizu_features(folder: str, count: int) -> list[dict[str, Any]]:
    path = require_shared("gsi-shelters", folder, f"{AIZU}.json")
    return json.loads(path.read_text(encoding="utf-8"))["features"][:count]


def feature_lines(text: str) -> list[int]:
    """With indent=2 every feature (and nothing else) opens on a line that is exactly "    {"."""
    return [n for n, line in enumerate(text.splitlines(), 1) if line == "    {"]


def write_geojson(path: Path, features: list[dict[str, Any]]) -> list[int]:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(
        {"type": "FeatureCollection", "features": features}, ensure_ascii=False, indent=2
    )
    path.write_text(text, encoding="utf-8")
    return feature_lines(text)


def write_evacuation_csv(path: Path, features: list[dict[str, Any]]) -> None:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(EVACUATION_CSV_COLUMNS)
    for feature in features:
        lon, lat = feature["geometry"]["coordinates"]
        values = {**feature["properties"], "緯度": str(lat), "経度": str(lon)}
        writer.writerow(
            ["" if values.get(c) is None else values[c] for c in EVACUATION_CSV_COLUMNS]
        )
    path.write_bytes(out.getvalue().encode("cp932"))


async def test_every_bad_shelter_file_is_listed_with_its_lines(session, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # given a good file, a GeoJSON file with a swapped point and a Shift_JIS CSV with two bad rows
    good = require_shared("gsi-shelters", "emergency", "072044.json")
    features = aizu_features("emergency", 6)
    lon, lat = features[3]["geometry"]["coordinates"]
    features[3]["geometry"]["coordinates"] = [lat, lon]
    swapped = tmp_path / "emergency" / f"{AIZU}.json"
    lines = write_geojson(swapped, features)
    rows = aizu_features("evacuation", 4)
    rows[1]["geometry"]["coordinates"][1] = "north"
    rows[3]["properties"]["施設・場所名"] = ""
    table = tmp_path / f"{AIZU}.csv"
    write_evacuation_csv(table, rows)

    # when they are imported in one run
    with pytest.raises(ImportRefused) as refused:
        await shelters_service.import_shelter_files(session, [good, swapped, table])

    # then one refusal names every problem of both bad files at its line, in both languages
    error = refused.value
    assert error.total == 3
    assert error.message.splitlines() == [
        "2 files refused, nothing imported:",
        f"{swapped}:{lines[3]}: point (lon={lat}, lat={lon}): latitude and longitude look swapped",
        f"{table}:3: 緯度 'north' is not a number",
        f"{table}:5: missing 施設・場所名 (name)",
    ]
    assert error.message_ja.splitlines() == [
        "2 件のファイルに問題があるため何も取り込んでいません:",
        f"{swapped}（{lines[3]}行目）: "
        f"点（経度={lat}、緯度={lon}）の緯度と経度が入れ替わっているようです",
        f"{table}（3行目）: 緯度 'north' が数値ではありません",
        f"{table}（5行目）: 施設・場所名がありません",
    ]
    assert english_words(error.message_ja, swapped, table) == []
    # and nothing of the good file was written either
    assert await shelters_service.count_shelters(session) == 0


def hazard_file(path: Path, features: list[dict[str, Any]]) -> list[int]:
    return write_geojson(path, features)


def flood_band() -> dict[str, Any]:
    return next(
        f
        for f in demo_feature_collection()["features"]
        if f["properties"]["hazard_type"] == "flood"
    )


async def test_hazard_problems_name_the_line_and_the_feature(session, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # given a pretty-printed file whose second feature is a point and whose third has rank 9
    point = {
        "type": "Feature",
        "properties": {"rank": 1},
        "geometry": {"type": "Point", "coordinates": [139.93, 37.49]},
    }
    deep = json.loads(json.dumps(flood_band()))
    deep["properties"]["rank"] = 9
    path = tmp_path / "zones.geojson"
    lines = hazard_file(path, [flood_band(), point, deep])

    # when it is imported as flood zones ranked by "rank"
    with pytest.raises(ImportRefused) as refused:
        await hazards_service.import_hazard_files(
            session, [path], hazard_type="flood", rank_property="rank"
        )

    # then each problem names its line and feature, and the Japanese is wholly Japanese
    error = refused.value
    assert error.message.splitlines()[1:] == [
        f"{path}:{lines[1]}: features[1]: geometry must be a Polygon or MultiPolygon, got 'Point'",
        f"{path}:{lines[2]}: features[2]: rank 9 is outside 1..6 for flood zones",
    ]
    assert error.message_ja.splitlines() == [
        f"{path}: ハザードデータに 2 件の問題があるため取り込めません:",
        f"{path}（{lines[1]}行目）: 2件目の地物: 形が多角形ではありません",
        f"{path}（{lines[2]}行目）: 3件目の地物: 洪水のランク 9 が範囲外です（1〜6）",
    ]
    assert english_words(error.message_ja, path) == []


async def test_the_problem_cap_is_shared_and_names_every_file(session, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # given three files of 30 features without geometry each
    bare = {"type": "Feature", "properties": {}, "geometry": None}
    paths = [tmp_path / f"zones-{i}.geojson" for i in range(3)]
    for path in paths:
        hazard_file(path, [bare] * 30)

    # when they are imported together
    with pytest.raises(ImportRefused) as refused:
        await hazards_service.import_hazard_files(session, paths, hazard_type="flood")

    # then 50 problems are listed, some of every file, and the rest are counted
    error = refused.value
    assert (error.total, len(error.problems)) == (90, MAX_PROBLEMS)
    assert {p.path for p in error.problems} == {str(p) for p in paths}
    assert error.message.endswith("... and 40 more problem(s)")
    assert error.message_ja.endswith("…ほか 40 件の問題があります")


def test_size_is_checked_before_reading(tmp_path: Path) -> None:
    # given a sparse file far over the limit, and a device that never ends
    sparse = tmp_path / "big.json"
    with sparse.open("wb") as file:
        file.truncate(3_000_000)

    # when they are read with a limit of 1 MB, then both are refused, the device after 1 MB
    for path, message in (
        (sparse, "file is 3.0 MB, the limit is 1.0 MB"),
        (Path("/dev/zero"), "file is larger than the limit of 1.0 MB"),
    ):
        if not path.exists():
            continue
        with pytest.raises(ImportRefused) as refused:
            read_capped(path, 1_000_000, Problems(str(path)))
        [problem] = refused.value.problems
        assert problem.message == message
        assert english_words(problem.message_ja) == []


@pytest.mark.parametrize(
    ("name", "message", "message_ja"),
    [
        (
            "missing.json",
            "cannot read: No such file or directory",
            "読み込めません（ファイルがありません）",
        ),
        ("folder", "cannot read: Is a directory", "読み込めません（ファイルではなくフォルダです）"),
    ],
)
def test_unreadable_files_are_problems(
    tmp_path: Path, name: str, message: str, message_ja: str
) -> None:
    (tmp_path / "folder").mkdir()
    path = tmp_path / name
    with pytest.raises(ImportRefused) as refused:
        read_capped(path, 1_000, Problems(str(path)))
    [problem] = refused.value.problems
    assert (problem.message, problem.message_ja) == (message, message_ja)


def test_one_import_is_capped_in_total_before_any_parsing(tmp_path: Path) -> None:
    paths = [tmp_path / f"{i}.json" for i in range(3)]
    for path in paths:
        path.write_bytes(b"x" * 400)
    parsed: list[Path] = []
    with pytest.raises(ValidationFailed) as refused:
        parse_all(paths, parsed.append, max_total_bytes=1_000)
    assert parsed == []
    assert "3 files of 1,200 bytes together, the limit for one import is 1,000 bytes" in str(
        refused.value
    )
    assert english_words(refused.value.message_ja) == []


async def test_parsing_runs_off_the_event_loop(tmp_path: Path) -> None:
    # given files and a parser that notes the thread it runs in
    paths = [tmp_path / f"{i}.json" for i in range(3)]
    for path in paths:
        path.write_text("{}", encoding="utf-8")
    threads: list[int] = []

    # when the files are parsed from a coroutine
    await parse_all_off_loop(paths, lambda path: threads.append(threading.get_ident()))

    # then the parser never ran in the event loop's thread
    assert len(threads) == 3 and threading.get_ident() not in threads


async def test_a_source_imported_twice_is_refused_in_japanese_too(session, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # given zones imported from a file
    path = tmp_path / "zones.geojson"
    hazard_file(path, [flood_band()])
    await hazards_service.import_hazard_files(session, [path], hazard_type="flood")

    # when the same file is imported again without --replace-source
    with pytest.raises(ValidationFailed) as refused:
        await hazards_service.import_hazard_files(session, [path], hazard_type="flood")

    # then the refusal says so in both languages
    assert "zones from zones.geojson (1 zones) exist already" in refused.value.message
    assert refused.value.message_ja.startswith(
        "zones.geojson（1 区域）のハザード区域は取り込み済み"
    )
    assert english_words(refused.value.message_ja, "zones.geojson", "--replace-source") == []
