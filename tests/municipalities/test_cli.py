"""Shelters anywhere in Japan through the kizuna command, then through GraphQL."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from backend.app import create_app
from backend.auth.tokens import TokenVerifier
from backend.cli import app
from backend.config import Settings, get_settings
from backend.db.session import Database
from tests.conftest import GraphQLClient, fresh_database_url

runner = CliRunner()
NEAR = """
query($lat: Float!, $lon: Float!) {
  shelters(near: {latitude: $lat, longitude: $lon}, first: 2) {
    name kinds address distanceMeters
    municipality { code nameJa prefectureNameJa designatedCityCode served }
  }
}"""
# Two schools of 仙台市青葉区 (Sendai), in GSI's 指定緊急避難場所 format; points near 仙台市役所.
SENDAI_CITY_HALL = (38.268215, 140.869417)
SENDAI_SITES = [
    ("E0410100001", "片平丁小学校", "宮城県仙台市青葉区片平一丁目1-1", (140.870233, 38.256218)),
    ("E0410100002", "東二番丁小学校", "宮城県仙台市青葉区一番町二丁目8", (140.874012, 38.262311)),
]


def kizuna(env: dict[str, str], *args: str) -> tuple[int, str]:
    get_settings.cache_clear()  # settings are read once per process; the tests change them
    try:
        result = runner.invoke(app, list(args), env=env)
    finally:
        get_settings.cache_clear()
    return result.exit_code, result.output


async def run_kizuna(env: dict[str, str], *args: str) -> tuple[int, str]:
    """The command runs its own event loop: run it beside the test's."""
    return await asyncio.to_thread(kizuna, env, *args)


@pytest.fixture(scope="module")
def cli_env(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, str]]:
    tmp = tmp_path_factory.mktemp("municipalities-cli")
    url = asyncio.run(fresh_database_url(database_url, "municipalities_cli", tmp))
    env = {
        "KIZUNA_DATABASE_URL": url,
        "KIZUNA_DATA_DIR": str(tmp / "state"),
        "KIZUNA_ENVIRONMENT": "development",
    }
    code, output = kizuna(env, "migrate")
    assert code == 0, output
    yield env


@pytest.fixture
async def cli_gql(
    cli_env: dict[str, str], settings: Settings, verifier: TokenVerifier
) -> AsyncIterator[GraphQLClient]:
    """GraphQL against the database the commands wrote to."""
    database = Database.from_url(cli_env["KIZUNA_DATABASE_URL"])
    server = create_app(settings, database=database, verifier=verifier)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=server), base_url="http://kizuna.test"
    ) as client:
        yield GraphQLClient(client)
    await database.dispose()


def sendai_gsi_file(folder: Path) -> Path:
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": list(point)},
            "properties": {
                "NO": number,
                "共通ID": f"{facility}201",
                "都道府県名及び市町村名": "宮城県仙台市青葉区",
                "施設・場所名": name,
                "住所": address,
                "洪水": "1",
                "崖崩れ、土石流及び地滑り": "",
                "高潮": "",
                "地震": "1",
                "津波": "",
                "大規模な火事": "1",
                "内水氾濫": "1",
                "火山現象": "",
                "指定避難所との住所同一": "1",
                "備考": "",
            },
        }
        for number, (facility, name, address, point) in enumerate(SENDAI_SITES, 1)
    ]
    path = folder / "emergency" / "041017.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {"type": "FeatureCollection", "name": "041017", "features": features}
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return path


async def test_gsi_shelters_of_another_prefecture_import_and_are_found(
    cli_env: dict[str, str], cli_gql: GraphQLClient, tmp_path: Path
) -> None:
    # given a GSI shelter file of 仙台市青葉区 (Miyagi), which this installation does not serve
    path = sendai_gsi_file(tmp_path)

    # when the operator imports it
    code, output = await run_kizuna(cli_env, "import", "shelters", str(path))

    # then it is stored under its own municipality, and found near Sendai's city hall
    assert code == 0, output
    assert "imported 2 shelters (2 GSI rows from 1 files, 1 municipalities)" in output
    lat, lon = SENDAI_CITY_HALL
    body = await cli_gql(NEAR, {"lat": lat, "lon": lon})
    shelters = body["data"]["shelters"]
    assert [s["name"] for s in shelters] == ["東二番丁小学校", "片平丁小学校"]
    assert shelters[0]["distanceMeters"] < 1_000
    assert {json.dumps(s["municipality"], ensure_ascii=False) for s in shelters} == {
        json.dumps(
            {
                "code": "04101",
                "nameJa": "仙台市青葉区",
                "prefectureNameJa": "宮城県",
                "designatedCityCode": "04100",
                "served": False,
            },
            ensure_ascii=False,
        )
    }


async def test_grant_role_follows_the_served_configuration(cli_env: dict[str, str]) -> None:
    # by default Sendai is not served: the operator is told so
    args = ("grant-role", "sendai-staff", "city_staff", "--municipality", "041017")
    code, output = await run_kizuna(cli_env, *args)
    assert code == 1
    assert "municipality 04101 (宮城県仙台市青葉区) is not served by this installation" in output

    # an installation configured for Miyagi as well serves it
    miyagi = {**cli_env, "KIZUNA_SERVED_MUNICIPALITIES": "07,04"}
    code, output = await run_kizuna(miyagi, *args)
    assert code == 0 and "granted city_staff in 04101 to sendai-staff" in output

    # a configuration naming no prefecture or municipality stops the command with the reason
    code, output = await run_kizuna({**cli_env, "KIZUNA_SERVED_MUNICIPALITIES": "07,99"}, "migrate")
    assert code == 1
    assert "KIZUNA_SERVED_MUNICIPALITIES: not a prefecture or municipality code of Japan: 99" in (
        output
    )
    # back to the default for the other tests of this module
    assert (await run_kizuna(cli_env, "migrate"))[0] == 0
