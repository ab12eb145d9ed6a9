"""The kizuna command as an operator uses it, against a fresh database of the suite's kind."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from backend.auth.principal import PrincipalKind, Role
from backend.auth.tokens import AuthenticationError, TokenVerifier
from backend.cli import app
from backend.config import Environment, Settings, get_settings
from tests.conftest import fresh_database_url
from tests.shared_data import require_shared

runner = CliRunner()


@pytest.fixture(scope="module")
def cli_env(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, str]]:
    tmp = tmp_path_factory.mktemp("cli")
    url = asyncio.run(fresh_database_url(database_url, "cli", tmp))
    env = {
        "KIZUNA_DATABASE_URL": url,
        "KIZUNA_DATA_DIR": str(tmp / "state"),
        "KIZUNA_ENVIRONMENT": "development",
    }
    yield env
    get_settings.cache_clear()


def kizuna(env: dict[str, str], *args: str) -> tuple[int, str]:
    get_settings.cache_clear()  # settings are read once per process; the tests change them
    result = runner.invoke(app, list(args), env=env)
    return result.exit_code, result.output


def test_migrate_and_seed_demo_once(cli_env: dict[str, str]) -> None:
    assert kizuna(cli_env, "migrate")[0] == 0
    code, output = kizuna(cli_env, "seed-demo")
    assert code == 0 and "demo-hanako" in output
    code, output = kizuna(cli_env, "seed-demo")
    assert code == 0 and "skipped" in output


def test_dev_token_is_accepted_by_the_server(cli_env: dict[str, str]) -> None:
    code, output = kizuna(
        cli_env, "dev-token", "demo-staff", "--role", "city_staff", "--municipality", "07202"
    )
    assert code == 0
    settings = Settings(
        environment=Environment.DEVELOPMENT, data_dir=Path(cli_env["KIZUNA_DATA_DIR"])
    )
    principal = asyncio.run(TokenVerifier(settings).verify(output.strip()))
    assert principal.subject == "demo-staff"
    assert principal.has_role("07202", Role.CITY_STAFF)
    code, output = kizuna(cli_env, "dev-token", "care", "--client", "care-app")
    client = asyncio.run(TokenVerifier(settings).verify(output.strip()))
    assert client.kind is PrincipalKind.SYSTEM_CLIENT and client.client_id == "care-app"
    # a server in production refuses it
    production = Settings(
        environment=Environment.PRODUCTION, data_dir=Path(cli_env["KIZUNA_DATA_DIR"])
    )
    with pytest.raises(AuthenticationError, match="not in development mode"):
        asyncio.run(TokenVerifier(production).verify(output.strip()))


def test_dev_token_refused_in_production_and_for_bad_roles(cli_env: dict[str, str]) -> None:
    code, output = kizuna({**cli_env, "KIZUNA_ENVIRONMENT": "production"}, "dev-token", "x")
    assert code == 1 and "only for development" in output
    code, output = kizuna(cli_env, "dev-token", "x", "--role", "mayor", "--municipality", "07202")
    assert code == 1 and "unknown role 'mayor'" in output
    code, output = kizuna(cli_env, "dev-token", "x", "--role", "city_staff")
    assert code == 1 and "--municipality" in output


def test_grant_list_and_revoke_roles(cli_env: dict[str, str]) -> None:
    code, output = kizuna(
        cli_env, "grant-role", "sato", "shelter_manager", "--municipality", "07202"
    )
    assert code == 0 and "granted shelter_manager in 07202 to sato" in output
    code, output = kizuna(cli_env, "roles", "sato")
    assert output.startswith("shelter_manager\t07202\t")
    code, output = kizuna(cli_env, "grant-role", "sato", "emperor", "--municipality", "07202")
    assert code == 1 and "unknown role" in output
    code, output = kizuna(cli_env, "grant-role", "sato", "city_staff", "--municipality", "99999")
    assert code == 1 and "municipality not found" in output
    code, output = kizuna(
        cli_env, "revoke-role", "sato", "shelter_manager", "--municipality", "07202"
    )
    assert code == 0 and "revoked" in output
    assert kizuna(cli_env, "roles", "sato")[1] == ""


def test_import_boundary(cli_env: dict[str, str], tmp_path: Path) -> None:
    path = require_shared("boundaries", "07202.json")
    code, output = kizuna(cli_env, "import", "boundaries", str(path))
    assert code == 0 and "imported boundary of 07202 会津若松市" in output
    broken = tmp_path / "07201.json"
    broken.write_text('{"type": "FeatureCollection", "features": [')
    code, output = kizuna(cli_env, "import", "boundaries", str(broken))
    assert code == 1 and "invalid JSON" in output


def test_export_schema_matches_the_committed_snapshot(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    target = tmp_path / "schema.graphql"
    assert kizuna(cli_env, "export-schema", "--output", str(target))[0] == 0
    committed = Path(__file__).resolve().parents[1] / "graphql" / "schema.graphql"
    assert target.read_text(encoding="utf-8") == committed.read_text(encoding="utf-8")


def test_register_client(cli_env: dict[str, str]) -> None:
    code, output = kizuna(
        cli_env,
        "register-client",
        "care-app",
        "--name-ja",
        "あいづケア",
        "--name-en",
        "Aizu Care",
        "--municipality",
        "07202",
        "--purpose",
        "care_linkage",
        "--purpose",
        "plan_support",
    )
    assert code == 0 and "registered care-app for care_linkage, plan_support" in output
    code, output = kizuna(
        cli_env,
        "register-client",
        "bad-app",
        "--name-ja",
        "x",
        "--name-en",
        "x",
        "--municipality",
        "07202",
        "--purpose",
        "spying",
    )
    assert code == 1 and "unknown or missing purposes" in output
