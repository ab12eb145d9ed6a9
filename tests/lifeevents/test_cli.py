"""`kizuna import life-events`: idempotent, and a bad file is refused whole, changing nothing."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from backend.config import get_settings
from backend.db.session import Database
from backend.lifeevents import service as lifeevents_service
from backend.lifeevents.demo import DEMO_FILE
from tests.cli import fresh_cli_env, kizuna
from tests.lifeevents.test_definition import BAD


@pytest.fixture(scope="module")
def cli_env(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, str]]:
    folder = tmp_path_factory.mktemp("lifeevents-cli")
    env = asyncio.run(fresh_cli_env(database_url, "lifeevents_cli", folder))
    assert kizuna(env, "migrate")[0] == 0
    yield env
    get_settings.cache_clear()


def events_of(env: dict[str, str], code: str) -> list[str]:
    async def read() -> list[str]:
        database = Database.from_url(env["KIZUNA_DATABASE_URL"])
        try:
            async with database.session() as session:
                found = await lifeevents_service.list_life_events(session, code)
        finally:
            await database.dispose()
        return [e.event.code for e in found]

    return asyncio.run(read())


def test_import_is_idempotent_and_a_bad_file_changes_nothing(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    # given the demo file of 会津若松市
    args = ("import", "life-events", str(DEMO_FILE), "--municipality", "07202")
    # when it is imported, then imported again
    code, output = kizuna(cli_env, *args)
    assert code == 0, output
    assert "imported: 4 life events for 07202" in output
    code, output = kizuna(cli_env, *args)
    assert code == 0 and "unchanged" in output
    before = events_of(cli_env, "07202")
    assert before == ["moving_in", "moving_out", "birth", "school_entry"]
    # when a broken file follows
    bad = tmp_path / "broken.yaml"
    bad.write_text(BAD, encoding="utf-8")
    code, output = kizuna(cli_env, "import", "life-events", str(bad), "--municipality", "07202")
    # then it is refused with each problem and its line, and the events are as they were
    assert code == 1
    assert f"{bad}:12: events[0].questions[0].ask_if.question" in output
    assert f"{bad}:43: events[0].procedures[1].online_url" in output
    assert events_of(cli_env, "07202") == before


def test_unknown_municipality_and_oversized_file_are_refused(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    code, output = kizuna(
        cli_env, "import", "life-events", str(DEMO_FILE), "--municipality", "99999"
    )
    assert code == 1 and "municipality" in output
    huge = tmp_path / "huge.yaml"
    huge.write_bytes(b"#" * (300 * 1024))
    code, output = kizuna(cli_env, "import", "life-events", str(huge), "--municipality", "07202")
    assert code == 1 and "limit" in output
