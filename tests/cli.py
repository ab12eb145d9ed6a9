"""Running the `kizuna` command in tests: in-process, with its own environment."""

from __future__ import annotations

import logging
from pathlib import Path

from typer.testing import CliRunner, Result

from backend.cli import app
from backend.config import get_settings
from tests.conftest import fresh_database_url

runner = CliRunner()


def cli_env(database_url: str, data_dir: Path) -> dict[str, str]:
    """The environment of a development command on this database and data directory."""
    return {
        "KIZUNA_DATABASE_URL": database_url,
        "KIZUNA_DATA_DIR": str(data_dir),
        "KIZUNA_ENVIRONMENT": "development",
    }


async def fresh_cli_env(database_url: str, suffix: str, folder: Path) -> dict[str, str]:
    """A command environment on an empty database of the suite's kind (see conftest)."""
    url = await fresh_database_url(database_url, suffix, folder)
    return cli_env(url, folder / "state")


def invoke(env: dict[str, str], *args: str) -> Result:
    """Run the command in-process; the result keeps stdout and stderr apart."""
    get_settings.cache_clear()  # settings are read once per process; the tests change them
    # Commands such as `worker` route logging to their stderr, which the runner closes after
    # the run: put the test process's logging back, or later log lines fail on a closed file.
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        return runner.invoke(app, list(args), env=env)
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        get_settings.cache_clear()


def kizuna(env: dict[str, str], *args: str) -> tuple[int, str]:
    """Exit code and output of the command."""
    result = invoke(env, *args)
    return result.exit_code, result.output
