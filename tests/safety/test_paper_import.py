"""`kizuna import safety-answers` as staff run it on the forms collected on paper."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from backend.config import get_settings
from backend.db.session import Database
from backend.principal import Principal, PrincipalKind, Role, RoleGrant
from backend.residents import service as residents_service
from backend.safety import service as safety_service
from backend.safety.models import SafetyAnswer, SafetyLatest
from tests.cli import fresh_cli_env, kizuna

BASIS = "災害対策基本法第86条の15"


@pytest.fixture(scope="module")
def cli_env(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, str]]:
    tmp = tmp_path_factory.mktemp("safety-cli")
    yield asyncio.run(fresh_cli_env(database_url, "safety_cli", tmp))
    get_settings.cache_clear()


async def _seed(url: str) -> str:
    """Three residents of Aizu and an open event; returns the event id."""
    database = Database.from_url(url)
    try:
        async with database.session() as session:
            for subject in ("paper-a", "paper-b", "paper-c"):
                principal = Principal(kind=PrincipalKind.RESIDENT, subject=subject)
                resident = await residents_service.get_or_create_resident(session, principal)
                resident.home_municipality_code = "07202"
            staff = Principal(
                kind=PrincipalKind.RESIDENT,
                subject="paper-staff",
                roles=frozenset({RoleGrant(Role.CITY_STAFF, "07202")}),
            )
            event, _ = await safety_service.open_event(
                session,
                staff,
                safety_service.EventRequest(name="紙の安否確認", municipality_codes=["07202"]),
            )
            return str(event.id)
    finally:
        await database.dispose()


async def _counts(url: str, event_id: str) -> tuple[int, dict[str, str]]:
    database = Database.from_url(url)
    try:
        async with database.session() as session:
            answers = await session.scalar(select(func.count()).select_from(SafetyAnswer))
            latest = await session.execute(select(SafetyLatest.resident_id, SafetyLatest.status))
            return int(answers or 0), {str(r): s for r, s in latest}
    finally:
        await database.dispose()


def test_paper_answers_import_once_and_bad_files_change_nothing(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    url = cli_env["KIZUNA_DATABASE_URL"]
    assert kizuna(cli_env, "migrate")[0] == 0
    event_id = asyncio.run(_seed(url))
    # given a file with a bad line among good ones
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "地域ID,安否,回答日時,メモ\n"
        "paper-a,無事,2026-11-30 09:00,\n"
        "paper-b,元気,2026-11-30 09:05,\n"
        "nobody,無事,2026-11-30 09:10,\n"
        "paper-c,要救助,yesterday,\n",
        encoding="utf-8",
    )
    # when / then: every bad line is named and nothing is stored
    code, output = kizuna(
        cli_env, "import", "safety-answers", str(bad), "--event", event_id, "--legal-basis", BASIS
    )
    assert code != 0
    assert "bad.csv:3" in output and "bad.csv:5" in output, output
    assert asyncio.run(_counts(url, event_id))[0] == 0
    # given a good file (Shift_JIS, as Excel saves it)
    good = tmp_path / "good.csv"
    good.write_bytes(
        (
            "subject,status,answered_at,note,latitude,longitude\n"
            "paper-a,SAFE,2026-11-30T09:00:00+09:00,,,\n"
            "paper-b,負傷,2026-11-30 09:05,足首を捻挫,37.49,139.93\n"
            "paper-b,避難所,2026-11-30 10:00,,,\n"
        ).encode("cp932")
    )
    code, output = kizuna(
        cli_env, "import", "safety-answers", str(good), "--event", event_id, "--legal-basis", BASIS
    )
    assert code == 0, output
    assert "imported 3 safety answers for 2 people (0 already stored)" in output
    # when the same file is imported again, nothing is stored twice
    code, output = kizuna(
        cli_env, "import", "safety-answers", str(good), "--event", event_id, "--legal-basis", BASIS
    )
    assert "imported 0 safety answers for 0 people (3 already stored)" in output
    answers, latest = asyncio.run(_counts(url, event_id))
    assert answers == 3
    assert sorted(latest.values()) == ["evacuated_to_shelter", "safe"]


def test_an_unknown_event_is_refused(cli_env: dict[str, str], tmp_path: Path) -> None:
    csv = tmp_path / "a.csv"
    csv.write_text("subject,status,answered_at\npaper-a,SAFE,2026-11-30 09:00\n")
    code, output = kizuna(
        cli_env, "import", "safety-answers", str(csv), "--event", "nonsense", "--legal-basis", BASIS
    )
    assert code != 0 and "not a disaster event" in output
    code, output = kizuna(
        cli_env, "import", "safety-answers", str(csv), "--event",
        "00000000-0000-0000-0000-000000000000", "--legal-basis", BASIS,
    )  # fmt: skip
    assert code != 0 and "not found" in output
