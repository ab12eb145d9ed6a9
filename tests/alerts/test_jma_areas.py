"""`kizuna import jma-areas` as an operator runs it, and the lookup the alert store calls."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from backend.alerts.drafts import AreaScheme
from backend.alerts.jma_areas import municipalities_for
from backend.config import get_settings
from backend.db.session import Database
from tests.cli import fresh_cli_env, kizuna
from tests.ingest.wording import english_words
from tests.shared_data import require_shared

AIZU = {
    "07202",  # 会津若松市
    "07208",  # 喜多方市
    "07405",  # 北塩原村
    "07407",  # 西会津町
    "07408",  # 磐梯町
    "07421",  # 会津坂下町
    "07422",  # 湯川村
    "07423",  # 柳津町
    "07444",  # 三島町
    "07445",  # 金山町
    "07446",  # 昭和村
    "07447",  # 会津美里町
    "07364",  # 南会津町
    "07362",  # 下郷町
    "07367",  # 只見町
    "07368",  # 檜枝岐村
    "07402",  # 猪苗代町
}


@pytest.fixture(scope="module")
def cli_env(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, str]]:
    tmp = tmp_path_factory.mktemp("jma-areas-cli")
    yield asyncio.run(fresh_cli_env(database_url, "jma_areas_cli", tmp))
    get_settings.cache_clear()


def lookup(env: dict[str, str], scheme: AreaScheme, *codes: str) -> dict[str, set[str]]:
    async def run() -> dict[str, set[str]]:
        database = Database.from_url(env["KIZUNA_DATABASE_URL"])
        try:
            async with database.session() as session:
                return await municipalities_for(session, scheme, codes)
        finally:
            await database.dispose()

    return asyncio.run(run())


def copy_tables(tmp_path: Path) -> Path:
    source = require_shared("jma-areas")
    folder = tmp_path / "jma-areas"
    shutil.copytree(source, folder)
    for path in folder.iterdir():
        path.chmod(0o644)
    return folder


def test_import_maps_every_area_to_its_municipalities(cli_env: dict[str, str]) -> None:
    # given JMA's area tables
    folder = require_shared("jma-areas")

    # when they are imported
    code, output = kizuna(cli_env, "import", "jma-areas", str(folder))

    # then every kind of area is counted and resolves to the municipalities it covers
    assert code == 0, output
    assert (
        "imported JMA areas from 5 files: 1,788 city areas (二次細分), 375 まとめ areas, "
        "142 一次細分 areas, 64 府県予報区" in output
    )
    assert "(replaced 0)" in output
    assert lookup(cli_env, AreaScheme.JMA_MATOME, "070032") == {
        # 会津中部, with 郡山市 for its 湖南 area (0720302)
        "070032": {"07202", "07203", "07421", "07422", "07423", "07444", "07445", "07446", "07447"}
    }
    aizu = lookup(cli_env, AreaScheme.JMA_FIRST, "070030")["070030"]  # 一次細分 会津
    assert "07202" in aizu and "07201" not in aizu
    fukushima = lookup(cli_env, AreaScheme.JMA_PREF, "070000")["070000"]
    assert len(fukushima) == 59 and {"07202", "07201", "07547"} <= fukushima
    # a designated city's whole-city code covers its wards, where places are located
    sendai = lookup(cli_env, AreaScheme.JMA_FIRST, "040010")["040010"]  # 宮城県 東部
    assert {"04100", "04101", "04105"} <= sendai
    # 北海道's 府県予報区 are parts of it: 宗谷地方 is not all of Hokkaido
    soya = lookup(cli_env, AreaScheme.JMA_PREF, "011000")["011000"]
    assert "01214" in soya and "01100" not in soya  # 稚内市, not 札幌市
    # unknown codes resolve to nothing, and the city scheme needs no table
    assert lookup(cli_env, AreaScheme.JMA_MATOME, "999999") == {"999999": set()}
    assert lookup(cli_env, AreaScheme.JMA_CITY, "0720200", "0720302") == {
        "0720200": {"07202"},
        "0720302": {"07203"},
    }

    # importing again replaces the table
    code, output = kizuna(cli_env, "import", "jma-areas", str(folder))
    assert code == 0, output
    assert "(replaced 0)" not in output
    assert lookup(cli_env, AreaScheme.JMA_MATOME, "070032")["070032"] >= {"07202"}


def test_a_bad_table_is_refused_whole_naming_its_lines(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    # given the tables with three bad lines in the join and one in a list
    folder = copy_tables(tmp_path)
    join = folder / "jmacode.csv"
    lines = join.read_text("utf-8").splitlines()
    lines[2] = lines[2].replace("0120200,", "9990000,", 1)  # no such municipality
    lines[3] = lines[3].replace(lines[3].split(",")[3], "99999", 1)  # 5-digit まとめ code
    assert lines[20].startswith("0121700,江別市")
    lines[20] = lines[20].replace("016010,石狩地方", "016010,石狩", 1)  # first-area name differs
    join.write_text("\n".join(lines) + "\n", "utf-8")
    prefs = folder / "prefcode.csv"
    prefs.write_text(prefs.read_text("utf-8") + "070000,福島県,ふくしまけん\n", "utf-8")
    before = lookup(cli_env, AreaScheme.JMA_MATOME, "070032")

    # when it is imported
    code, output = kizuna(cli_env, "import", "jma-areas", str(folder))

    # then nothing changes and every problem names its file and line
    assert code == 1
    assert "2 files refused, nothing imported" in output
    assert f"{join}:3: citycode '9990000' is not a JMA city code" in output
    assert f"{join}:4: matomeareacode '99999' is not a code of 6 digits" in output
    assert f"{join}:21: firstareaname '石狩' of 016010 differs from '石狩地方' on line 2" in output
    assert f"{prefs}:66: prefcode 070000 repeats line 21" in output
    assert lookup(cli_env, AreaScheme.JMA_MATOME, "070032") == before


def test_a_folder_without_the_join_table_is_refused(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    code, output = kizuna(cli_env, "import", "jma-areas", str(tmp_path))
    assert code == 1
    assert "jmacode.csv is missing" in output


async def test_without_the_table_city_and_whole_prefecture_codes_still_resolve(
    session: AsyncSession,
) -> None:
    # given the suite's database, where no JMA area table was imported
    # when a warning's areas are resolved
    cities = await municipalities_for(session, AreaScheme.JMA_CITY, ["0720200", "0410000", "x"])
    prefs = await municipalities_for(session, AreaScheme.JMA_PREF, ["070000", "011000"])
    matome = await municipalities_for(session, AreaScheme.JMA_MATOME, ["070032"])

    # then city codes and whole prefectures resolve, the rest needs the table
    assert cities["0720200"] == {"07202"}
    assert {"04100", "04101", "04102", "04103", "04104", "04105"} == cities["0410000"]
    assert cities["x"] == set()
    assert len(prefs["070000"]) == 59 and prefs["070000"] >= AIZU
    assert prefs["011000"] == set()
    assert matome == {"070032": set()}


def test_refusal_messages_are_wholly_japanese(tmp_path: Path) -> None:
    from backend.alerts.jma_areas import parse_jma_area_dir
    from backend.ingest.problems import ImportRefused

    folder = copy_tables(tmp_path)
    (folder / "matomeareacode.csv").write_text("matomeareacode\n12\n", "utf-8")
    with pytest.raises(ImportRefused) as refused:
        parse_jma_area_dir(folder)
    for problem in refused.value.problems:
        assert english_words(problem.message_ja) == [], problem.message_ja
