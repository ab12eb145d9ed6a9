"""`kizuna import supplies-catalog`: a municipality's catalog, idempotent, refused whole."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from backend.config import get_settings
from backend.db.session import Database
from backend.supplies import service as supplies_service
from tests.cli import fresh_cli_env, kizuna
from tests.supplies.test_api import CITY_CATALOG


@pytest.fixture(scope="module")
def cli_env(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, str]]:
    folder = tmp_path_factory.mktemp("supplies-cli")
    env = asyncio.run(fresh_cli_env(database_url, "supplies_cli", folder))
    assert kizuna(env, "migrate")[0] == 0
    yield env
    get_settings.cache_clear()


def catalog_of(env: dict[str, str], code: str) -> tuple[str, list[str]]:
    """Whose catalog a municipality's residents get, and its item codes."""

    async def read() -> tuple[str, list[str]]:
        database = Database.from_url(env["KIZUNA_DATABASE_URL"])
        try:
            async with database.session() as session:
                source, items = await supplies_service.catalog_for(session, code)
        finally:
            await database.dispose()
        return source, [i.code for i in items]

    return asyncio.run(read())


def test_import_is_idempotent_and_a_bad_file_changes_nothing(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    # given a municipality's catalog file
    good = tmp_path / "aizu.yaml"
    good.write_bytes(CITY_CATALOG)
    # when it is imported, then imported again
    code, output = kizuna(
        cli_env, "import", "supplies-catalog", str(good), "--municipality", "07202"
    )
    assert code == 0, output
    assert "imported: 2 supply items for 07202 (extend)" in output
    code, output = kizuna(
        cli_env, "import", "supplies-catalog", str(good), "--municipality", "07202"
    )
    assert code == 0 and "unchanged" in output
    source, items = catalog_of(cli_env, "07202")
    assert source == "07202" and items[-1] == "snow_gear" and "staple_food" in items
    # when a broken file follows
    bad = tmp_path / "broken.yaml"
    bad.write_text("mode: replace\nitems:\n  - code: Water!\n    name_ja: 水\n", encoding="utf-8")
    code, output = kizuna(
        cli_env, "import", "supplies-catalog", str(bad), "--municipality", "07202"
    )
    # then it is refused with each problem and its line, and the catalog is as it was
    assert code == 1
    assert f"{bad}:3: items[0].code" in output
    assert f"{bad}:3: items[0]: 'rules' is required" in output
    assert catalog_of(cli_env, "07202") == (source, items)


def test_unknown_municipality_and_missing_file_are_refused(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    good = tmp_path / "aizu.yaml"
    good.write_bytes(CITY_CATALOG)
    code, output = kizuna(
        cli_env, "import", "supplies-catalog", str(good), "--municipality", "99999"
    )
    assert code == 1 and "municipality" in output
    code, output = kizuna(
        cli_env,
        "import",
        "supplies-catalog",
        str(tmp_path / "nope.yaml"),
        "--municipality",
        "07202",
    )
    assert code == 1 and "cannot read" in output
