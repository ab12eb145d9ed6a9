"""`kizuna import application-forms`: a municipality's forms and bundles, refused whole."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from backend.applications import service as applications_service
from backend.applications.demo import DEMO_FORMS
from backend.config import get_settings
from backend.db.session import Database
from tests.cli import fresh_cli_env, kizuna


@pytest.fixture(scope="module")
def cli_env(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, str]]:
    folder = tmp_path_factory.mktemp("applications-cli")
    env = asyncio.run(fresh_cli_env(database_url, "applications_cli", folder))
    assert kizuna(env, "migrate")[0] == 0
    yield env
    get_settings.cache_clear()


def bundles_of(env: dict[str, str], code: str) -> list[tuple[str, list[str]]]:
    """A municipality's bundles and their forms' codes."""

    async def read() -> list[tuple[str, list[str]]]:
        database = Database.from_url(env["KIZUNA_DATABASE_URL"])
        try:
            async with database.session() as session:
                views = await applications_service.list_bundles(session, code)
        finally:
            await database.dispose()
        return [(v.bundle.code, [f.code for f in v.forms]) for v in views]

    return asyncio.run(read())


def test_import_then_a_bad_file_is_refused_whole(cli_env: dict[str, str], tmp_path: Path) -> None:
    # given the demo forms of 会津若松市
    good = tmp_path / "aizu.yaml"
    good.write_bytes(DEMO_FORMS.read_bytes())
    # when they are imported
    code, output = kizuna(
        cli_env, "import", "application-forms", str(good), "--municipality", "07202"
    )
    # then the bundle and its three forms are offered
    assert code == 0, output
    assert "imported: 3 forms and 1 bundles for 07202" in output
    expected = [("move_in_set", ["resident_move_in", "child_allowance", "school_transfer"])]
    assert bundles_of(cli_env, "07202") == expected
    # when a file with a good form, a bad field and a bundle naming an unknown form follows
    bad = tmp_path / "broken.yaml"
    bad.write_text(
        "forms:\n"
        "  - code: pet_registration\n"
        "    title_ja: 犬の登録\n"
        "    title_en: Dog registration\n"
        "    approval_steps: [{step: clerk, role: city_staff}]\n"
        "    schema:\n"
        "      type: object\n"
        "      properties:\n"
        "        name: {type: object, title: 名前}\n"
        "bundles:\n"
        "  - code: pets\n"
        "    title_ja: ペット\n"
        "    title_en: Pets\n"
        "    forms: [pet_registration, no_such_form]\n",
        encoding="utf-8",
    )
    code, output = kizuna(
        cli_env, "import", "application-forms", str(bad), "--municipality", "07202"
    )
    # then it is refused with each problem and its line, and nothing changed
    assert code == 1, output
    assert f"{bad}:9: forms[0].schema.properties.name" in output, output
    assert f"{bad}:14: bundles[0].forms[1]" in output, output
    assert bundles_of(cli_env, "07202") == expected


def test_unknown_municipality_and_missing_file_are_refused(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    good = tmp_path / "aizu.yaml"
    good.write_bytes(DEMO_FORMS.read_bytes())
    code, output = kizuna(
        cli_env, "import", "application-forms", str(good), "--municipality", "99999"
    )
    assert code == 1 and "municipality" in output
    code, output = kizuna(
        cli_env, "import", "application-forms", str(tmp_path / "no.yaml"), "--municipality", "07202"
    )
    assert code == 1 and "cannot read" in output
