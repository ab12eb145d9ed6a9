"""`kizuna worker` and the worker that `kizuna serve` runs in development, with the log
gateway (no FCM credentials)."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from backend.app import create_app
from backend.config import PROJECT_ROOT, Environment, Settings
from backend.db.session import Database
from backend.push.models import OutboxState
from tests.cli import cli_env, invoke
from tests.live_server import serving
from tests.push.delivery_helpers import (
    clear_push_tables,
    delivery_database,
    delivery_records,
    outbox_rows,
    queue_messages,
)


@pytest.fixture(scope="module")
async def database(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Database]:
    database = await delivery_database(
        database_url, "push_commands", tmp_path_factory.mktemp("push-commands")
    )
    yield database
    await database.dispose()


@pytest.fixture
async def db(database: Database) -> Database:
    await clear_push_tables(database)
    return database


def url_of(db: Database) -> str:
    return db.engine.url.render_as_string(hide_password=False)


def run_worker(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """`kizuna worker` in its own process (it sets up logging for the whole process)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("KIZUNA_")}
    return subprocess.run(
        [sys.executable, "-m", "backend.cli", "worker", *args],
        cwd=PROJECT_ROOT,
        env={**clean, **env, "KIZUNA_LOG_JSON": "false"},
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_worker_once_delivers_what_is_due_to_the_log(db: Database, tmp_path: Path) -> None:
    # given
    await queue_messages(db, 30, prefix="cli")
    env = cli_env(url_of(db), tmp_path / "state")

    # when
    result = await asyncio.to_thread(
        run_worker, env, "--once", "--batch-size", "7", "--concurrency", "2"
    )

    # then
    assert result.returncode == 0, result.stderr
    assert "push messages go to the log" in result.stderr
    assert "push (log gateway)" in result.stderr  # one log line per message
    assert "push outbox: 30 sent, 0 to retry" in result.stdout
    rows = await outbox_rows(db)
    assert {row.state for row in rows.values()} == {OutboxState.SENT.value}
    assert {r.gateway for r in await delivery_records(db)} == {"log"}


async def test_worker_refuses_to_log_instead_of_sending_in_production(
    db: Database, tmp_path: Path
) -> None:
    env = {**cli_env(url_of(db), tmp_path / "state"), "KIZUNA_ENVIRONMENT": "production"}

    result = await asyncio.to_thread(invoke, env, "worker", "--once")

    assert result.exit_code == 1
    assert "KIZUNA_FCM_CREDENTIALS_FILE" in result.stderr


async def test_worker_names_a_missing_credentials_file(db: Database, tmp_path: Path) -> None:
    env = {
        **cli_env(url_of(db), tmp_path / "state"),
        "KIZUNA_FCM_CREDENTIALS_FILE": str(tmp_path / "nowhere.json"),
    }

    result = await asyncio.to_thread(invoke, env, "worker", "--once")

    assert result.exit_code == 1
    assert "nowhere.json: no such file" in result.stderr


async def test_the_development_server_delivers_the_outbox_itself(
    db: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # given: the server as `kizuna serve` starts it in development, without FCM credentials
    settings = Settings(
        environment=Environment.DEVELOPMENT,
        data_dir=tmp_path / "state",
        database_url=url_of(db),
        log_json=False,
        push_poll_seconds=0.1,
    )
    assert settings.runs_push_worker_in_process
    app = create_app(settings, push_worker=settings.runs_push_worker_in_process)
    caplog.set_level(logging.INFO, logger="kizuna.push.gateway")

    with serving(app):
        # when: a notification is queued while it runs
        queued = await queue_messages(db, 3, prefix="serve", locale="en")

        # then: it reaches the log gateway within a moment
        deadline = time.monotonic() + 20
        while {row.state for row in (await outbox_rows(db)).values()} != {"sent"}:
            assert time.monotonic() < deadline, "the in-process worker sent nothing"
            await asyncio.sleep(0.1)

    logged = [r for r in caplog.records if r.getMessage() == "push (log gateway)"]
    assert len(logged) == 3
    assert {getattr(r, "title", None) for r in logged} == {"Evacuation order"}
    assert len(queued) == 3


def test_the_worker_runs_in_the_server_only_in_development_by_default() -> None:
    assert Settings(environment=Environment.DEVELOPMENT).runs_push_worker_in_process
    assert not Settings(environment=Environment.PRODUCTION).runs_push_worker_in_process
    assert Settings(
        environment=Environment.PRODUCTION, push_worker_in_process=True
    ).runs_push_worker_in_process
