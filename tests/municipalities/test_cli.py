"""Shelters and boundaries anywhere in Japan through the kizuna command, then through GraphQL."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from backend.app import create_app
from backend.auth.tokens import TokenVerifier
from backend.config import Settings
from backend.db.session import Database
from tests.cli import fresh_cli_env, kizuna
from tests.conftest import GraphQLClient
from tests.shared_data import require_shared

LOCATED = re.compile(
    r"located saved places in [\d.]+ s: (\d+) examined, (\d+) changed municipality, "
    r"(\d+) residents' home municipality updated"
)
NEAR = """
query($lat: Float!, $lon: Float!) {
  shelters(near: {latitude: $lat, longitude: $lon}, first: 2) {
    name kinds address distanceMeters
    municipality { code nameJa prefectureNameJa designatedCityCode served }
  }
}"""
ME = "{ me { municipalityChosen homeMunicipality { code } places { label municipalityCode } } }"
# Two schools of 仙台市青葉区 (Sendai), in GSI's 指定緊急避難場所 format; points near 仙台市役所.
SENDAI_CITY_HALL = (38.268215, 140.869417)
SENDAI_SITES = [
    ("E0410100001", "片平丁小学校", "宮城県仙台市青葉区片平一丁目1-1", (140.870233, 38.256218)),
    ("E0410100002", "東二番丁小学校", "宮城県仙台市青葉区一番町二丁目8", (140.874012, 38.262311)),
]
AIZU_HOME = (37.4947, 139.9297)  # central 会津若松, inside boundaries/07202.json


async def run_kizuna(env: dict[str, str], *args: str) -> tuple[int, str]:
    """The command runs its own event loop: run it beside the test's."""
    return await asyncio.to_thread(kizuna, env, *args)


@pytest.fixture(scope="module")
def cli_env(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, str]]:
    tmp = tmp_path_factory.mktemp("municipalities-cli")
    env = asyncio.run(fresh_cli_env(database_url, "municipalities_cli", tmp))
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
    assert "read 2 GSI rows from 1 files (1 municipalities)" in output
    assert "stored in" in output and ": 2 new," in output
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


async def add_place(gql: GraphQLClient, bearer: str, kind: str, label: str, point: Any) -> None:
    body = await gql(
        "mutation($input: AddPlaceInput!) { addPlace(input: $input) { errors { code } } }",
        {"input": {"kind": kind, "label": label, "latitude": point[0], "longitude": point[1]}},
        token=bearer,
    )
    assert body["data"]["addPlace"]["errors"] == [], body


def located(output: str) -> tuple[int, int, int]:
    match = LOCATED.search(output)
    assert match, output
    examined, moved, residents = map(int, match.groups())
    return examined, moved, residents


def polygon_file(folder: Path, code: str, box: tuple[float, float, float, float]) -> Path:
    min_lon, min_lat, max_lon, max_lat = box
    ring = [[min_lon, min_lat], [max_lon, min_lat], [max_lon, max_lat], [min_lon, max_lat]]
    geometry = {"type": "Polygon", "coordinates": [ring + [ring[0]]]}
    path = folder / f"{code}.json"
    feature = {"type": "Feature", "properties": {}, "geometry": geometry}
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    return path


async def test_import_boundaries_locates_places_saved_before(
    cli_env: dict[str, str], cli_gql: GraphQLClient, token: Any, tmp_path: Path
) -> None:
    # given, before any boundary exists, a resident with a home and a workplace in 会津若松市,
    # another who chose 福島市 as their municipality but lives in 会津若松市, and a school
    # outside it (郡山市)
    hanako, chooser = token("relocated-hanako"), token("relocated-chooser")
    await add_place(cli_gql, hanako, "HOME", "自宅", AIZU_HOME)
    await add_place(cli_gql, hanako, "WORKPLACE", "職場", (37.4880, 139.9290))
    await add_place(cli_gql, hanako, "SCHOOL", "学校", (37.4000, 140.3800))
    await cli_gql(
        'mutation { updateProfile(input: {municipalityCode: "07201"}) { errors { code } } }',
        token=chooser,
    )
    await add_place(cli_gql, chooser, "HOME", "自宅", (37.5000, 139.9300))
    before = (await cli_gql(ME, token=hanako))["data"]["me"]
    assert before["homeMunicipality"] is None
    assert {p["municipalityCode"] for p in before["places"]} == {None}

    # when the boundary of 会津若松市 is imported
    boundary = require_shared("boundaries", "07202.json")
    code, output = await run_kizuna(cli_env, "import", "boundaries", str(boundary))

    # then the places inside it are located there, with the home municipality that follows
    assert code == 0, output
    assert "imported boundary of 07202 福島県会津若松市" in output
    assert located(output) == (3, 3, 1)
    me = (await cli_gql(ME, token=hanako))["data"]["me"]
    assert me["homeMunicipality"] == {"code": "07202"}
    assert [p["municipalityCode"] for p in me["places"]] == ["07202", "07202", None]
    # but a municipality the resident chose stays chosen
    me = (await cli_gql(ME, token=chooser))["data"]["me"]
    assert (me["municipalityChosen"], me["homeMunicipality"]) == (True, {"code": "07201"})
    assert me["places"][0]["municipalityCode"] == "07202"

    # when the same boundary is imported again, nothing moves
    code, output = await run_kizuna(cli_env, "import", "boundaries", str(boundary))
    assert code == 0 and located(output)[1:] == (0, 0), output

    # when a corrected boundary no longer covers the home, the home leaves it
    small = polygon_file(tmp_path, "07202", (139.92, 37.48, 139.94, 37.4900))
    code, output = await run_kizuna(cli_env, "import", "boundaries", str(small))
    assert code == 0 and located(output)[1:] == (2, 1), output
    me = (await cli_gql(ME, token=hanako))["data"]["me"]
    assert me["homeMunicipality"] is None
    assert [p["municipalityCode"] for p in me["places"]] == [None, "07202", None]
    code, output = await run_kizuna(cli_env, "import", "boundaries", str(boundary))
    assert code == 0 and located(output)[1:] == (2, 1), output


async def test_boundaries_anywhere_in_japan_and_wards_inside_their_city(
    cli_env: dict[str, str], cli_gql: GraphQLClient, token: Any, tmp_path: Path
) -> None:
    # given a resident living in Sendai's 青葉区 and working elsewhere in the city
    evacuee = token("relocated-evacuee")
    await add_place(cli_gql, evacuee, "HOME", "避難先", SENDAI_CITY_HALL)
    await add_place(cli_gql, evacuee, "WORKPLACE", "職場", (38.2000, 140.9000))

    # when boundaries of the city (04100) and of its ward (04101, inside it) are imported
    city = polygon_file(tmp_path, "04100", (140.80, 38.10, 141.00, 38.40))
    ward = polygon_file(tmp_path, "041017", (140.85, 38.25, 140.88, 38.28))
    code, output = await run_kizuna(cli_env, "import", "boundaries", str(city), str(ward))

    # then the home is in the ward (the smaller boundary), the workplace in the city
    assert code == 0, output
    assert "imported boundary of 04101 宮城県仙台市青葉区" in output
    me = (await cli_gql(ME, token=evacuee))["data"]["me"]
    assert me["homeMunicipality"] == {"code": "04101"}
    assert [p["municipalityCode"] for p in me["places"]] == ["04101", "04100"]
    # and a place saved afterwards is located the same way
    await add_place(cli_gql, evacuee, "SCHOOL", "学校", (38.2700, 140.8700))
    me = (await cli_gql(ME, token=evacuee))["data"]["me"]
    assert me["places"][2]["municipalityCode"] == "04101"


async def test_import_boundaries_refuses_bad_input_and_changes_nothing(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    unknown = polygon_file(tmp_path, "04199", (140.0, 38.0, 140.1, 38.1))
    code, output = await run_kizuna(cli_env, "import", "boundaries", str(unknown))
    assert code == 1 and "municipality not found" in output
    broken = tmp_path / "07201.json"
    broken.write_text('{"type": "FeatureCollection", "features": [')
    code, output = await run_kizuna(cli_env, "import", "boundaries", str(broken))
    assert code == 1 and "invalid JSON" in output
    code, output = await run_kizuna(
        cli_env, "import", "boundaries", str(unknown), str(broken), "--code", "07201"
    )
    assert code == 1 and "--code" in output


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
