"""`kizuna import shelters` as an operator runs it, against a fresh database of the suite's kind."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from backend.cli import app
from backend.config import get_settings
from backend.db.session import Database
from backend.shelters import service as shelters_service
from backend.shelters.merge import merge_shelter_records
from backend.shelters.sources import parse_shelter_file
from tests.conftest import fresh_database_url
from tests.shared_data import require_shared

runner = CliRunner()
SUMMARY = re.compile(
    r"imported (\d+) shelters \((\d+) GSI rows from (\d+) files, (\d+) municipalities\) in "
    r"[\d.]+ s: (\d+) new, (\d+) updated, (\d+) unchanged, (\d+) merged into others"
)


@pytest.fixture(scope="module")
def cli_env(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, str]]:
    tmp = tmp_path_factory.mktemp("shelters-cli")
    url = asyncio.run(fresh_database_url(database_url, "shelters_cli", tmp))
    env = {
        "KIZUNA_DATABASE_URL": url,
        "KIZUNA_DATA_DIR": str(tmp / "state"),
        "KIZUNA_ENVIRONMENT": "development",
    }
    yield env
    get_settings.cache_clear()


def kizuna(env: dict[str, str], *args: str) -> tuple[int, str]:
    get_settings.cache_clear()
    result = runner.invoke(app, list(args), env=env)
    return result.exit_code, result.output


def summary(output: str) -> dict[str, int]:
    match = SUMMARY.search(output)
    assert match, output
    keys = ("records", "rows", "files", "municipalities", "new", "updated", "unchanged", "merged")
    return dict(zip(keys, map(int, match.groups()), strict=True))


def count_shelters(env: dict[str, str], municipality_code: str | None = None) -> int:
    async def count() -> int:
        database = Database.from_url(env["KIZUNA_DATABASE_URL"])
        try:
            async with database.session() as session:
                return await shelters_service.count_shelters(
                    session, municipality_code=municipality_code
                )
        finally:
            await database.dispose()

    return asyncio.run(count())


def merged_count(paths: list[Path]) -> int:
    return len(merge_shelter_records([r for p in paths for r in parse_shelter_file(p).records]))


def test_import_every_fukushima_file_then_reimport(cli_env: dict[str, str]) -> None:
    # given all 118 GSI files of the 59 municipalities, as a quoted glob
    folder = require_shared("gsi-shelters")
    paths = sorted(folder.glob("*/07*.json"))
    assert len(paths) == 118
    expected = merged_count(paths)

    # when they are imported, and imported again
    code, output = kizuna(cli_env, "import", "shelters", str(folder / "*" / "07*.json"))
    assert code == 0, output
    first = summary(output)
    code, output = kizuna(cli_env, "import", "shelters", *map(str, paths))
    assert code == 0, output
    again = summary(output)

    # then every place is stored once, the stubs are noticed, and the second run changes nothing
    assert (first["records"], first["new"], first["files"]) == (expected, expected, 118)
    assert "data unavailable for 福島県双葉町" in output
    assert (again["new"], again["updated"], again["unchanged"]) == (0, 0, expected)
    assert count_shelters(cli_env) == expected
    assert count_shelters(cli_env, "07202") == 234


def test_bad_file_is_refused_whole_with_its_line(cli_env: dict[str, str], tmp_path: Path) -> None:
    # given a copy of 会津若松市's evacuation file with a swapped point on one feature
    source = require_shared("gsi-shelters", "evacuation", "072028.json")
    document = json.loads(source.read_text(encoding="utf-8"))
    lon, lat = document["features"][4]["geometry"]["coordinates"]
    document["features"][4]["geometry"]["coordinates"] = [lat, lon]
    text = json.dumps(document, ensure_ascii=False, indent=2)
    bad = tmp_path / "evacuation" / "072028.json"
    bad.parent.mkdir()
    bad.write_text(text, encoding="utf-8")
    line = [n for n, row in enumerate(text.splitlines(), 1) if row == "    {"][4]
    before = count_shelters(cli_env)

    # when it is imported together with a good file
    good = require_shared("gsi-shelters", "emergency", "072044.json")
    code, output = kizuna(cli_env, "import", "shelters", str(good), str(bad))

    # then the command fails naming the line, and nothing of either file was written
    assert code == 1
    assert f"{bad}:{line}: point (lon={lat}, lat={lon}): latitude and longitude look swapped" in (
        output
    )
    assert count_shelters(cli_env) == before


def test_unreadable_and_unmatched_paths(cli_env: dict[str, str], tmp_path: Path) -> None:
    code, output = kizuna(cli_env, "import", "shelters", str(tmp_path / "nothing-*.json"))
    assert code == 1 and "no file matches" in output
    code, output = kizuna(cli_env, "import", "shelters", str(tmp_path / "missing.json"))
    assert code == 1 and "cannot read" in output
    stranger = tmp_path / "131016.json"  # a Tokyo municipality this database does not know
    source = require_shared("gsi-shelters", "evacuation", "072028.json")
    document = json.loads(source.read_text(encoding="utf-8"))
    document["name"] = "131016"
    for i, feature in enumerate(document["features"]):
        feature["properties"]["共通ID"] = f"E13101{i:05d}111"
    stranger.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    code, output = kizuna(cli_env, "import", "shelters", str(stranger))
    assert code == 1 and "unknown municipality code(s): 13101" in output
