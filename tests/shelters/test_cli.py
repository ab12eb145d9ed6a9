"""`kizuna import shelters` as an operator runs it, against a fresh database of the suite's kind."""

from __future__ import annotations

import asyncio
import json
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from geopy.distance import geodesic

from backend.config import get_settings
from backend.db.session import Database
from backend.municipalities.reference import with_check_digit
from backend.shelters import service as shelters_service
from backend.shelters.demo import DEMO_SHELTERS
from tests.cli import fresh_cli_env, kizuna
from tests.shared_data import require_shared

AIZU, KITAKATA = "07202", "07208"
STORED = re.compile(r"^stored in [\d.]+ s: (.*)$", re.MULTILINE)


@pytest.fixture(scope="module")
def cli_env(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, str]]:
    tmp = tmp_path_factory.mktemp("shelters-cli")
    yield asyncio.run(fresh_cli_env(database_url, "shelters_cli", tmp))
    get_settings.cache_clear()


def stored(output: str) -> str:
    """What the summary says was stored (new, updated, unchanged, removed)."""
    match = STORED.search(output)
    assert match, output
    return match.group(1)


def in_database(env: dict[str, str], municipality_code: str | None = None) -> list[str]:
    """Names of the stored shelters (of one municipality), through the service the API uses."""

    async def names() -> list[str]:
        database = Database.from_url(env["KIZUNA_DATABASE_URL"])
        try:
            async with database.session() as session:
                if municipality_code is None:
                    return ["?"] * await shelters_service.count_shelters(session)
                shelters, _ = await shelters_service.shelters_in_area(
                    session, municipality_code=municipality_code
                )
                return [s.name for s in shelters]
        finally:
            await database.dispose()

    return asyncio.run(names())


def count_shelters(env: dict[str, str], municipality_code: str | None = None) -> int:
    return len(in_database(env, municipality_code))


def fold(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split())


def gsi_tables(paths: list[Path]) -> dict[str, int]:
    """Rows of each table and how many places carry both designations, from the raw JSON.

    The place rule, brute force: an emergency site and an evacuation shelter of one facility
    (first 11 characters of the 共通ID) with the same name and address, paired in 共通ID order,
    are one place when their points are at most 500 m apart.
    """
    rows: dict[str, list[dict[str, Any]]] = {"emergency": [], "evacuation": []}
    for path in paths:
        document = json.loads(path.read_text(encoding="utf-8"))
        rows[path.parent.name].extend(document.get("features", []))
    groups: dict[tuple[str, str, str], dict[str, list[dict[str, Any]]]] = defaultdict(
        lambda: {"emergency": [], "evacuation": []}
    )
    for table, features in rows.items():
        for feature in features:
            props = feature["properties"]
            key = (props["共通ID"][:11], fold(props["施設・場所名"]), fold(props["住所"]))
            groups[key][table].append(feature)
    both = apart = 0
    for group in groups.values():
        sites, shelters = (
            sorted(group[t], key=lambda f: f["properties"]["共通ID"])
            for t in ("emergency", "evacuation")
        )
        for site, shelter in zip(sites, shelters, strict=False):
            (lon1, lat1), (lon2, lat2) = (f["geometry"]["coordinates"] for f in (site, shelter))
            if geodesic((lat1, lon1), (lat2, lon2)).meters <= 500:
                both += 1
            else:
                apart += 1
    emergency, evacuation = len(rows["emergency"]), len(rows["evacuation"])
    return {
        "emergency": emergency,
        "evacuation": evacuation,
        "places": emergency + evacuation - both,
        "both": both,
        "apart": apart,
    }


def test_import_every_fukushima_file_then_reimport(cli_env: dict[str, str]) -> None:
    # given all 118 GSI files of the 59 municipalities, as a quoted glob
    folder = require_shared("gsi-shelters")
    paths = sorted(folder.glob("*/07*.json"))
    assert len(paths) == 118
    tables = gsi_tables(paths)
    # the figures of the issue: 5,008 rows became 4,083 shelters
    assert (tables["emergency"] + tables["evacuation"], tables["places"]) == (5008, 4083)

    # when they are imported, and imported again
    code, first = kizuna(cli_env, "import", "shelters", str(folder / "*" / "07*.json"))
    assert code == 0, first
    code, again = kizuna(cli_env, "import", "shelters", *map(str, paths))
    assert code == 0, again

    # then the summary counts rows of each table, the places they are, and what was stored
    lines = first.splitlines()
    assert lines[-3] == (
        "read 5,008 GSI rows from 118 files (58 municipalities): "
        f"{tables['emergency']:,} 指定緊急避難場所 (emergency sites), "
        f"{tables['evacuation']:,} 指定避難所 (evacuation shelters)"
    )
    assert lines[-2] == (
        f"4,083 shelters: {tables['both']:,} places are in both tables and count once, with "
        f"both designations; {tables['apart']} pairs with one name and address but over 500 m "
        "apart were kept as two shelters (see the notices)"
    )
    assert stored(first) == "4,083 new, 0 updated, 0 unchanged, 0 removed"
    assert (tables["both"], tables["apart"]) == (925, 4)
    # the stubs are noticed, and the second run changes nothing
    assert "data unavailable for 福島県双葉町" in again
    assert stored(again) == "0 new, 0 updated, 4,083 unchanged, 0 removed"
    assert count_shelters(cli_env) == 4083
    assert count_shelters(cli_env, AIZU) == 234


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
    stranger = tmp_path / "139998.json"  # a well-formed code that no municipality of Japan has
    source = require_shared("gsi-shelters", "evacuation", "072028.json")
    document = json.loads(source.read_text(encoding="utf-8"))
    document["name"] = "139998"
    for i, feature in enumerate(document["features"]):
        feature["properties"]["共通ID"] = f"E13999{i:05d}111"
    stranger.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    code, output = kizuna(cli_env, "import", "shelters", str(stranger))
    assert code == 1 and "unknown municipality code(s): 13999" in output


@pytest.fixture
def fresh_env(database_url: str, tmp_path: Path) -> Iterator[dict[str, str]]:
    yield asyncio.run(fresh_cli_env(database_url, "shelters_demo", tmp_path))
    get_settings.cache_clear()


def gsi_files(code: str) -> list[str]:
    return [
        str(require_shared("gsi-shelters", folder, f"{with_check_digit(code)}.json"))
        for folder in ("emergency", "evacuation")
    ]


def is_demo(name: str) -> bool:
    return "（架空）" in name


def test_real_shelters_replace_the_demo_shelters_of_their_municipality(
    fresh_env: dict[str, str],
) -> None:
    # given the demo data of 会津若松市
    code, output = kizuna(fresh_env, "seed-demo")
    assert code == 0, output
    assert sorted(in_database(fresh_env, AIZU)) == sorted(name for _, name, *_ in DEMO_SHELTERS)

    # when the real shelters of a neighbour are imported, the demo shelters stay
    code, output = kizuna(fresh_env, "import", "shelters", *gsi_files(KITAKATA))
    assert code == 0, output
    assert "demo" not in output
    assert len([n for n in in_database(fresh_env, AIZU) if is_demo(n)]) == len(DEMO_SHELTERS)

    # when the real GSI files of 会津若松市 are imported
    code, output = kizuna(fresh_env, "import", "shelters", *gsi_files(AIZU))

    # then they replace its demo shelters, and the summary says so
    assert code == 0, output
    assert output.splitlines()[-1] == (
        f"replaced the {len(DEMO_SHELTERS)} demo shelters of 会津若松市 (07202) with its real "
        "shelters"
    )
    names = in_database(fresh_env, AIZU)
    assert len(names) == 234 and not any(is_demo(n) for n in names)

    # and a second import has nothing left to replace
    code, output = kizuna(fresh_env, "import", "shelters", *gsi_files(AIZU))
    assert code == 0 and "demo" not in output
    assert stored(output) == "0 new, 0 updated, 234 unchanged, 0 removed"


def test_demo_shelters_are_not_loaded_beside_real_ones(fresh_env: dict[str, str]) -> None:
    # given the real shelters of 会津若松市 imported into a new database
    code, output = kizuna(fresh_env, "import", "shelters", *gsi_files(AIZU))
    assert code == 0, output

    # when the demo data is loaded (as `kizuna serve` does on a database without residents)
    code, output = kizuna(fresh_env, "seed-demo")

    # then the demo residents are there but no synthetic shelter joins the real ones
    assert code == 0 and "demo-hanako" in output
    names = in_database(fresh_env, AIZU)
    assert len(names) == 234 and not any(is_demo(n) for n in names)
