"""`kizuna import hazards` as an operator runs it, against a fresh database of the suite's kind."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from shapely.geometry import Point

from backend.config import get_settings
from backend.db.session import Database
from backend.hazards import service as hazards_service
from backend.hazards.demo import YUGAWA, demo_feature_collection, demo_hazard_zones
from backend.hazards.sources import parse_hazard_geojson
from backend.shelters import service as shelters_service
from backend.shelters.demo import DEMO_SHELTERS
from tests.cli import fresh_cli_env, kizuna
from tests.shared_data import require_shared

BOWTIE = [[139.90, 37.50], [139.91, 37.51], [139.91, 37.50], [139.90, 37.51], [139.90, 37.50]]


@pytest.fixture(scope="module")
def cli_env(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, str]]:
    tmp = tmp_path_factory.mktemp("hazards-cli")
    yield asyncio.run(fresh_cli_env(database_url, "hazards_cli", tmp))
    get_settings.cache_clear()


def in_database(env: dict[str, str], lon: float, lat: float) -> list[tuple[str, int | None]]:
    """(type, rank) of the stored zones at a point, through the service the API uses."""

    async def look_up() -> list[tuple[str, int | None]]:
        database = Database.from_url(env["KIZUNA_DATABASE_URL"])
        try:
            async with database.session() as session:
                zones = await hazards_service.zones_at(session, lat=lat, lon=lon)
        finally:
            await database.dispose()
        return sorted((z.hazard_type.value, z.rank) for z in zones)

    return asyncio.run(look_up())


def write(path: Path, features: list[dict[str, Any]]) -> Path:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), "utf-8")
    return path


def flood_features() -> list[dict[str, Any]]:
    return [
        f
        for f in demo_feature_collection()["features"]
        if f["properties"]["hazard_type"] == "flood"
    ]


def test_import_replace_and_refuse_duplicates(cli_env: dict[str, str], tmp_path: Path) -> None:
    # given the demo flood bands as a city would publish them
    floods = write(tmp_path / "yugawa-flood.geojson", flood_features())
    river = YUGAWA[3]
    args = ("import", "hazards", str(floods), "--type", "flood", "--rank-property", "rank")

    # when they are imported
    code, output = kizuna(cli_env, *args)

    # then the zones are stored and found at a point on the river
    assert code == 0, output
    assert "imported 3 flood zones from 1 files" in output
    assert "repaired 0 features; replaced 0 zones" in output
    assert in_database(cli_env, *river) == [("flood", 3)]

    # importing the same source again is refused unless replacing is asked for
    code, output = kizuna(cli_env, *args)
    assert code == 1 and "exist already; pass --replace-source" in output
    code, output = kizuna(cli_env, *args, "--replace-source")
    assert code == 0 and "replaced 3 zones" in output
    assert in_database(cli_env, *river) == [("flood", 3)]


def test_invalid_polygons_are_repaired_and_reported(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    bowtie = {
        "type": "Feature",
        "properties": {"name": "蝶ネクタイ", "level": 2},
        "geometry": {"type": "Polygon", "coordinates": [BOWTIE]},
    }
    path = write(tmp_path / "bowtie.geojson", [bowtie])
    code, output = kizuna(
        cli_env, "import", "hazards", str(path), "--type", "landslide", "--rank-property", "level"
    )
    assert code == 0, output
    assert "repaired 1 features" in output and "Self-intersection" in output
    # the repaired zone is the two triangles of the bow-tie (parse it the way the CLI did)
    (record,) = parse_hazard_geojson(path, "landslide", "level")
    inside = record.geometry.representative_point()
    assert in_database(cli_env, inside.x, inside.y) == [("landslide", 2)]
    assert not record.geometry.covers(Point(139.905, 37.5085))  # the pinched top is outside


def test_bad_files_are_refused_whole(cli_env: dict[str, str], tmp_path: Path) -> None:
    # given a good file and one with a point geometry and an impossible landslide rank
    good = write(tmp_path / "good.geojson", flood_features()[:1])
    bad = write(
        tmp_path / "bad.geojson",
        [
            {
                "type": "Feature",
                "properties": {"rank": 1},
                "geometry": {"type": "Point", "coordinates": [139.9, 37.5]},
            },
            {
                "type": "Feature",
                "properties": {"rank": 7},
                "geometry": {"type": "Polygon", "coordinates": [BOWTIE[:3] + BOWTIE[:1]]},
            },
        ],
    )
    before = in_database(cli_env, *YUGAWA[3])

    # when both are imported in one command
    code, output = kizuna(
        cli_env,
        "import",
        "hazards",
        str(good),
        str(bad),
        "--type",
        "landslide",
        "--rank-property",
        "rank",
    )

    # then every problem is named by feature and nothing was written
    assert code == 1
    assert "features[0]: geometry must be a Polygon or MultiPolygon, got 'Point'" in output
    assert "features[1]: rank 7 is outside 1..2 for landslide zones" in output
    assert in_database(cli_env, *YUGAWA[3]) == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--type", "quake"), "unknown hazard type 'quake'"),
        (("--type", "landslide", "--depth-property", "d"), "depth ranks do not apply"),
        (("--type", "flood", "--rank-property", "r", "--depth-property", "d"), "not both"),
        (("--type", "flood", "--municipality", "99999"), "municipality not found"),
    ],
    ids=["type", "depth-landslide", "both", "municipality"],
)
def test_bad_options_are_refused(
    cli_env: dict[str, str], tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    path = write(tmp_path / "zones.geojson", flood_features()[:1])
    code, output = kizuna(cli_env, "import", "hazards", str(path), *args)
    assert code == 1 and message in output


def test_seed_demo_loads_zones_and_shelters(cli_env: dict[str, str]) -> None:
    # given a database without residents, when the demo data is loaded
    code, output = kizuna(cli_env, "seed-demo")
    assert code == 0 and "demo-hanako" in output

    # then the synthetic zones and shelters are there for `kizuna serve` to show
    river = in_database(cli_env, *YUGAWA[3])
    assert river.count(("flood", 3)) == 2  # the imported band and the demo band

    async def demo_shelters() -> int:
        database = Database.from_url(cli_env["KIZUNA_DATABASE_URL"])
        try:
            async with database.session() as session:
                return await shelters_service.count_shelters(session, municipality_code="07202")
        finally:
            await database.dispose()

    assert asyncio.run(demo_shelters()) == len(DEMO_SHELTERS)


@pytest.fixture
def fresh_env(database_url: str, tmp_path: Path) -> Iterator[dict[str, str]]:
    yield asyncio.run(fresh_cli_env(database_url, "hazards_demo", tmp_path))
    get_settings.cache_clear()


CASTLE = (139.9298, 37.4876)  # 鶴ヶ城, inside 会津若松市
KITAKATA_STATION = (139.8860, 37.6520)  # 喜多方駅, outside 会津若松市's boundary


def square_around(lon: float, lat: float, half: float = 0.002) -> dict[str, Any]:
    ring = [
        [lon - half, lat - half],
        [lon + half, lat - half],
        [lon + half, lat + half],
        [lon - half, lat + half],
        [lon - half, lat - half],
    ]
    return {
        "type": "Feature",
        "properties": {"rank": 2},
        "geometry": {"type": "Polygon", "coordinates": [ring]},
    }


def import_zones(env: dict[str, str], path: Path, *extra: str) -> tuple[int, str]:
    return kizuna(
        env, "import", "hazards", str(path), "--type", "flood", "--rank-property", "rank", *extra
    )


DEMO_ZONES = len(demo_hazard_zones())


@pytest.mark.parametrize("how", ["--municipality", "boundary"])
def test_real_zones_replace_the_demo_zones_of_their_municipality(
    fresh_env: dict[str, str], tmp_path: Path, how: str
) -> None:
    # given the demo data, and zones of 喜多方 (no --municipality, no boundary of 会津若松市)
    code, output = kizuna(fresh_env, "seed-demo")
    assert code == 0, output
    code, output = import_zones(
        fresh_env, write(tmp_path / "kitakata.geojson", [square_around(*KITAKATA_STATION)])
    )

    # then nothing tells they are not 会津若松市's: its demo zones are kept, and the notice says why
    assert code == 0, output
    assert (
        f"kept the {DEMO_ZONES} demo zones of 会津若松市 (07202): give --municipality 07202"
    ) in output
    assert ("flood", 3) in in_database(fresh_env, *YUGAWA[3])

    # when real zones of 会津若松市 are imported: tagged with --municipality, or found inside
    # its boundary (imported first), without --municipality
    castle = write(tmp_path / "castle.geojson", [square_around(*CASTLE)])
    if how == "boundary":
        boundary = require_shared("boundaries", "07202.json")
        code, output = kizuna(fresh_env, "import", "boundaries", str(boundary))
        assert code == 0, output
        code, output = import_zones(
            fresh_env, write(tmp_path / "far.geojson", [square_around(*KITAKATA_STATION)])
        )
        assert code == 0 and "demo" not in output  # outside the boundary: not 会津若松市's
        code, output = import_zones(fresh_env, castle)
        reason = "zones lie inside its boundary"
    else:
        code, output = import_zones(fresh_env, castle, "--municipality", "07202")
        reason = "imported with --municipality 07202"

    # then every demo zone of 会津若松市 is gone, and the summary says which and why
    assert code == 0, output
    assert output.splitlines()[-1] == (
        f"replaced the {DEMO_ZONES} demo hazard zones of 会津若松市 (07202) with real ones: "
        f"{reason}"
    )
    assert in_database(fresh_env, *YUGAWA[3]) == []
    assert in_database(fresh_env, *CASTLE) == [("flood", 2)]


def test_demo_zones_are_not_loaded_beside_real_ones(
    fresh_env: dict[str, str], tmp_path: Path
) -> None:
    # given real zones of 会津若松市 imported into a new database
    castle = write(tmp_path / "castle.geojson", [square_around(*CASTLE)])
    code, output = import_zones(fresh_env, castle, "--municipality", "07202")
    assert code == 0, output

    # when the demo data is loaded
    code, output = kizuna(fresh_env, "seed-demo")

    # then no synthetic zone joins the real one
    assert code == 0 and "demo-hanako" in output
    assert in_database(fresh_env, *YUGAWA[3]) == []
    assert in_database(fresh_env, *CASTLE) == [("flood", 2)]
