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
    assert code == 0 and "imported boundary of 07202 福島県会津若松市" in output
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


def test_import_consent_catalog(cli_env: dict[str, str], tmp_path: Path) -> None:
    import json

    document = {
        "items": [{"code": "pet", "label_ja": "ペット", "label_en": "Pets"}],
        "purposes": [
            {
                "code": "pet_shelter",
                "label_ja": "ペット同行避難",
                "label_en": "Evacuating with pets",
                "description_ja": "ペットと避難する人の把握に使います。",
                "description_en": "Used to plan for residents evacuating with pets.",
                "items": ["name", "pet"],
                "recipients": ["city_staff"],
            }
        ],
        "bundles": [
            {
                "code": "pet_shelter_basic",
                "purpose": "pet_shelter",
                "label_ja": "ペット同行避難",
                "label_en": "Pets",
                "description_ja": "市職員に氏名とペットの情報を提供します。",
                "description_en": "City staff get your name and pet details.",
                "text_version": "v1",
                "flows": [{"recipient_role": "city_staff", "items": ["name", "pet"]}],
            }
        ],
    }
    good = tmp_path / "catalog.json"
    good.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    code, output = kizuna(cli_env, "import-consent-catalog", str(good))
    assert code == 0 and "imported 1 items, 1 purposes, 1 bundles" in output
    # a bundle reaching beyond its purpose, and an attempt to redefine a seeded purpose
    document["bundles"][0]["flows"][0]["items"] = ["name", "health_notes"]
    document["purposes"][0]["code"] = "family_safety"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    code, output = kizuna(cli_env, "import-consent-catalog", str(bad))
    assert code == 1
    assert "purposes[0].code: 'family_safety' is seeded" in output
    assert "bundles[0].flows[0].items" in output
