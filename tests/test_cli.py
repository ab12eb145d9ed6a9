"""The kizuna command as an operator uses it, against a fresh database of the suite's kind."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from backend.app import create_app
from backend.auth.tokens import AuthenticationError, TokenVerifier
from backend.config import PROJECT_ROOT, Environment, Settings, get_settings
from backend.principal import PrincipalKind, Role
from tests.cli import fresh_cli_env, invoke, kizuna
from tests.conftest import RollbackDatabase
from tests.shared_data import require_shared


@pytest.fixture(scope="module")
def cli_env(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, str]]:
    yield asyncio.run(fresh_cli_env(database_url, "cli", tmp_path_factory.mktemp("cli")))
    get_settings.cache_clear()


def run_installed(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """The installed `kizuna` script in a child process, as a user runs it from ``cwd``."""
    script = Path(sys.executable).with_name("kizuna")
    if not script.exists():
        pytest.skip(f"no installed kizuna script beside {sys.executable}")
    clean = {k: v for k, v in os.environ.items() if not k.startswith("KIZUNA_")}
    return subprocess.run(
        [str(script), *args],
        cwd=cwd,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_migrate_and_seed_demo_once(cli_env: dict[str, str]) -> None:
    assert kizuna(cli_env, "migrate")[0] == 0
    code, output = kizuna(cli_env, "seed-demo")
    assert code == 0 and "demo-hanako" in output
    code, output = kizuna(cli_env, "seed-demo")
    assert code == 0 and "skipped" in output


def test_dev_token_is_accepted_by_the_server(cli_env: dict[str, str]) -> None:
    result = invoke(
        cli_env, "dev-token", "demo-staff", "--role", "city_staff", "--municipality", "07202"
    )
    assert result.exit_code == 0
    settings = Settings(
        environment=Environment.DEVELOPMENT, data_dir=Path(cli_env["KIZUNA_DATA_DIR"])
    )
    principal = asyncio.run(TokenVerifier(settings).verify(result.stdout.strip()))
    assert principal.subject == "demo-staff"
    assert principal.has_role("07202", Role.CITY_STAFF)
    # stdout is the token alone; stderr says which key signed it (created on first use)
    assert f"created a new development signing key: {settings.dev_signing_key_path}" in (
        result.stderr
    )
    result = invoke(cli_env, "dev-token", "care", "--client", "care-app")
    assert f"signed with the development key {settings.dev_signing_key_path}" in result.stderr
    client = asyncio.run(TokenVerifier(settings).verify(result.stdout.strip()))
    assert client.kind is PrincipalKind.SYSTEM_CLIENT and client.client_id == "care-app"
    # a server in production refuses it
    production = Settings(
        environment=Environment.PRODUCTION, data_dir=Path(cli_env["KIZUNA_DATA_DIR"])
    )
    with pytest.raises(AuthenticationError, match="not in development mode"):
        asyncio.run(TokenVerifier(production).verify(result.stdout.strip()))


def test_dev_token_run_outside_the_project_signs_with_the_projects_key(
    tmp_path: Path,
) -> None:
    # given no KIZUNA_DATA_DIR, and a working directory outside the project
    key = PROJECT_ROOT / "var" / "dev-signing-key.pem"
    existed, folder_existed = key.exists(), key.parent.exists()
    try:
        # when a user runs `kizuna dev-token` there
        result = run_installed(tmp_path, {}, "dev-token", "demo-hanako")
        # then the token is signed with the project's key, which stderr names, and nothing
        # is created in the working directory
        assert result.returncode == 0, result.stderr
        assert str(key) in result.stderr
        assert list(tmp_path.iterdir()) == []
        # and a server with the default settings (started anywhere) accepts it
        server = Settings(environment=Environment.DEVELOPMENT)
        principal = asyncio.run(TokenVerifier(server).verify(result.stdout.strip()))
        assert principal.subject == "demo-hanako"
    finally:  # leave the checkout as it was
        if not existed:
            key.unlink(missing_ok=True)
        if not folder_existed and key.parent.exists() and not any(key.parent.iterdir()):
            key.parent.rmdir()


def test_a_relative_data_dir_is_taken_from_the_project_not_the_working_directory(
    tmp_path: Path,
) -> None:
    # given KIZUNA_DATA_DIR as a relative path (here leading to a temporary folder)
    state = tmp_path / "state"
    relative = os.path.relpath(state, PROJECT_ROOT)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    # when dev-token runs in another working directory
    result = run_installed(elsewhere, {"KIZUNA_DATA_DIR": relative}, "dev-token", "x")
    # then the key is created under the project, where a server with that setting looks
    assert result.returncode == 0, result.stderr
    assert (state / "dev-signing-key.pem").is_file()
    assert f"created a new development signing key: {state / 'dev-signing-key.pem'}" in (
        result.stderr
    )
    assert Settings(data_dir=Path(relative)).dev_signing_key_path == state / "dev-signing-key.pem"
    assert list(elsewhere.iterdir()) == []


async def test_a_token_signed_with_another_key_names_the_servers_key(
    db: RollbackDatabase, tmp_path: Path
) -> None:
    # given a development server whose data directory is not the one dev-token used
    server = Settings(environment=Environment.DEVELOPMENT, data_dir=tmp_path / "server")
    other = tmp_path / "elsewhere"
    result = invoke(
        {"KIZUNA_DATA_DIR": str(other), "KIZUNA_ENVIRONMENT": "development"}, "dev-token", "x"
    )
    token = result.stdout.strip()
    app_ = create_app(server, database=db, verifier=TokenVerifier(server))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app_), base_url="http://kizuna.test"
    ) as client:
        # when the token is used
        response = await client.post(
            "/graphql",
            json={"query": "{ me { id } }"},
            headers={"Authorization": f"Bearer {token}"},
        )
    # then the answer says which key the server checks with and how to make a good token
    assert response.status_code == 401
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert error["message"].startswith("token signature is invalid")
    assert str(server.dev_signing_key_path) in error["message"]
    assert "KIZUNA_DATA_DIR" in error["message"]
    # and dev-token said which key it signed with
    assert str(other / "dev-signing-key.pem") in result.stderr


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
                "text_version": "v1",
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
