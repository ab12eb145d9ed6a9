"""The offline pack (GET /offline/{municipality}): download, caching, refusals, and the proof
that the app can plan the server's route from the pack alone.

The proof: tests/routing/offline_reference.py searches the downloaded pack in plain Python;
for seeded origin/destination pairs its walks are compared with evacuationRoute's answers
through the GraphQL API (same profile, same time, with and without a hazard, to a point and
to the nearest suitable shelter), on the demo network of 会津若松市 and on the real street
network of 渋谷区 (../shared/data/osm/shibuya.osm.pbf).
"""

from __future__ import annotations

import asyncio
import json
import math
import random
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import shapely
from shapely.geometry import MultiPolygon, Polygon

from backend.app import create_app
from backend.auth.tokens import TokenVerifier
from backend.config import Environment, Settings
from backend.hazards import service as hazards_service
from backend.municipalities import service as municipality_service
from backend.routing import offline, policy
from backend.routing.engine import LOCAL_TIME
from backend.shelters import service as shelters_service
from tests.cli import cli_env, kizuna
from tests.conftest import GraphQLClient, RollbackDatabase
from tests.routing import offline_reference as ref
from tests.routing.test_api import ADD_PLACE, HANAKO_HOME, circle, route
from tests.shared_data import require_shared

DEPART = datetime(2026, 6, 1, 10, 0, tzinfo=LOCAL_TIME)
PROFILES = ("WALK", "STEP_FREE")


@pytest.fixture(autouse=True)
def fresh_packs() -> Iterator[None]:
    offline.clear_cache()
    yield
    offline.clear_cache()


@pytest.fixture
async def demo_world(session: Any) -> None:
    await hazards_service.load_demo_zones(session)
    await shelters_service.load_demo_shelters(session)
    await session.commit()


async def download(client: httpx.AsyncClient, code: str) -> tuple[httpx.Response, dict[str, Any]]:
    response = await client.get(f"/offline/{code}")
    assert response.status_code == 200, response.text
    return response, response.json()


def close(offline_m: float, server_m: float) -> bool:
    """Equal within 0.5 m or 0.1 % (coordinates in the pack are rounded to 1e-6 degree)."""
    return math.isclose(offline_m, server_m, rel_tol=1e-3, abs_tol=0.5)


def conditional_open(pack: ref.Pack, at: datetime) -> Any:
    # The pack carries the opening-hours records; an app evaluates them with its own
    # opening_hours library, as the server does with its own.
    minute = at.astimezone(LOCAL_TIME).replace(second=0, microsecond=0, tzinfo=None)
    rules = [policy.Conditional.parse(record) for record in pack.conditional_records]
    return lambda index: rules[index].allowed_at(minute)


def point(lon: float, lat: float) -> dict[str, float]:
    return {"longitude": lon, "latitude": lat}


async def compare_routes(
    gql: GraphQLClient,
    pack: ref.Pack,
    pairs: list[tuple[tuple[float, float], tuple[float, float]]],
    hazards: list[str | None],
) -> dict[str, int]:
    """Every pair with each profile and hazard, offline and online; asserts they agree."""
    counts = {"compared": 0, "no_clear_walk": 0}
    worst = 0.0
    for profile in PROFILES:
        searcher = ref.Searcher(pack, profile, conditional_open(pack, DEPART))
        for hazard in hazards:
            for origin, destination in pairs:
                extra = {"hazardType": hazard.upper()} if hazard else {}
                online = await route(
                    gql,
                    **{"from": point(*origin), "toPoint": point(*destination)},
                    profile=profile,
                    departAt=DEPART.isoformat(),
                    **extra,
                )
                assert online["__typename"] == "EvacuationRoute", online
                walk = searcher.route(origin, destination, hazard)
                case = f"{profile} {hazard} {origin} -> {destination}"
                if walk is None:
                    # No walk keeps clear of the zones: the server falls back to the
                    # least-exposed walk, which the reference leaves out. That walk may
                    # still be safe when only the unwalked part of an end's edge meets a zone.
                    assert hazard is not None, case
                    if online["safe"]:
                        assert ends_meet_zone(searcher, origin, destination, hazard), case
                    counts["no_clear_walk"] += 1
                    continue
                # (A clear network walk is found by both; ``safe`` also weighs the straight
                # steps to and from the network, which may start or end in a zone.)
                assert close(walk.distance_m, online["distanceMeters"]), (
                    case,
                    walk.distance_m,
                    online["distanceMeters"],
                )
                assert walk.origin_snap_m == pytest.approx(online["originSnapMeters"], abs=0.3)
                worst = max(worst, abs(walk.distance_m - online["distanceMeters"]))
                counts["compared"] += 1
    print(f"offline vs server: {counts}, largest difference {worst:.3f} m")
    return counts


def ends_meet_zone(
    searcher: ref.Searcher,
    origin: tuple[float, float],
    destination: tuple[float, float],
    hazard: str,
) -> bool:
    pack, bit = searcher.pack, searcher.pack.hazard_bits[hazard]
    return any(pack.hazards[searcher.snap(*end).edge] & bit for end in (origin, destination))


async def compare_nearest_shelters(
    gql: GraphQLClient, pack: ref.Pack, origins: list[tuple[float, float]], hazards: list[str]
) -> int:
    compared = 0
    for profile in PROFILES:
        searcher = ref.Searcher(pack, profile, conditional_open(pack, DEPART))
        for hazard in hazards:
            for origin in origins:
                online = await route(
                    gql,
                    **{"from": point(*origin)},
                    hazardType=hazard.upper(),
                    profile=profile,
                    departAt=DEPART.isoformat(),
                )
                found = searcher.nearest_shelter(origin, hazard)
                case = (profile, hazard, origin, online)
                if found is None:
                    # No clear walk to any candidate: the server's fallback (left out).
                    if online["__typename"] == "EvacuationRoute" and online["safe"]:
                        there = (online["shelter"]["longitude"], online["shelter"]["latitude"])
                        assert ends_meet_zone(searcher, origin, there, hazard), case
                    continue
                assert online["__typename"] == "EvacuationRoute", case
                shelter, metres = found
                assert shelter["id"] == online["shelter"]["id"], (profile, hazard, origin)
                assert close(metres, online["distanceMeters"]), (metres, online["distanceMeters"])
                compared += 1
    return compared


# ------------------------------------------------------------------ the demo network


def demo_pairs(pack: ref.Pack, count: int, seed: int) -> list[tuple[tuple[float, float], ...]]:
    """Points spread over the demo network, 300 m to 3 km apart (seeded)."""
    rng = random.Random(seed)
    min_lon, min_lat, max_lon, max_lat = pack.bbox
    pairs: list[tuple[tuple[float, float], ...]] = []
    while len(pairs) < count:
        a = (rng.uniform(min_lon, max_lon), rng.uniform(min_lat, max_lat))
        b = (rng.uniform(min_lon, max_lon), rng.uniform(min_lat, max_lat))
        if 300 < ref.haversine_m(pack, a[1], a[0], b[1], b[0]) < 3000:
            pairs.append((a, b))
    return pairs


async def test_demo_pack_routes_as_the_server_does(
    client: httpx.AsyncClient, gql: GraphQLClient, demo_world: None
) -> None:
    # given the pack of 会津若松市 downloaded as the app does
    response, document = await download(client, "07202")
    pack = ref.decode(document)
    assert document["municipality"]["nameJa"] == "会津若松市"
    assert document["area"]["source"] == "data"  # no boundary imported: shelters and zones
    assert pack.node_count > 1000 and len(pack.shelters) == 5 and len(pack.zones) == 11
    print(f"demo pack: {response.headers['content-length']} B gzip, {len(response.content)} B")

    # when routes are planned offline and online, then they agree
    pairs = demo_pairs(pack, 20, seed=7202)
    counts = await compare_routes(gql, pack, pairs, [None, "flood", "inland_flood"])
    assert counts["compared"] >= 80
    origins = [a for a, _ in demo_pairs(pack, 12, seed=1)]
    shelters = await compare_nearest_shelters(gql, pack, origins, ["flood", "landslide"])
    print(f"nearest shelters compared: {shelters}")
    assert shelters >= 30


async def test_hazard_bits_are_the_edges_meeting_the_zones(
    client: httpx.AsyncClient, demo_world: None
) -> None:
    # given the demo pack
    _, document = await download(client, "07202")
    pack = ref.decode(document)
    tolerance_deg = (document["zoneToleranceM"] + 0.2) / ref.metres_per_degree(pack)
    total = 0
    for hazard, bit in pack.hazard_bits.items():
        zones = [z for z in pack.zones if z["hazard"] == hazard]
        marked = {e for e in range(pack.edge_count) if pack.hazards[e] & bit}
        # when the edges meeting the simplified zones are found from their geometry
        met: set[int] = set()
        for zone in zones:
            met |= ref.edges_meeting(pack, zone)
        # then they are the marked ones, but for edges within the simplification of a border
        outlines = shapely.union_all([zone_shape(pack, z).boundary for z in zones])
        for e in met ^ marked:
            a, b = pack.u[e], pack.v[e]
            edge = shapely.LineString([(pack.lon[a], pack.lat[a]), (pack.lon[b], pack.lat[b])])
            assert edge.distance(outlines) <= tolerance_deg, (hazard, e)
        assert len(met ^ marked) <= 0.05 * len(marked), (hazard, len(met ^ marked))
        total += len(marked)
    assert total > 500


def zone_shape(pack: ref.Pack, zone: dict[str, Any]) -> MultiPolygon:
    scale = pack.document["scale"]
    return MultiPolygon(
        [
            Polygon(ref.ring_points(p[0], scale), [ref.ring_points(r, scale) for r in p[1:]])
            for p in zone["polygons"]
        ]
    )


# ------------------------------------------------------------- download and caching


async def test_gzip_etag_and_not_modified(client: httpx.AsyncClient, demo_world: None) -> None:
    # given a first download, gzip-encoded as phones ask for it
    first = await client.get("/offline/07202", headers={"Accept-Encoding": "gzip"})
    assert first.status_code == 200
    assert first.headers["content-encoding"] == "gzip"
    assert first.headers["content-type"] == "application/json"
    assert first.headers["cache-control"] == "public, max-age=300"
    assert "accept-encoding" in first.headers["vary"].lower()
    etag = first.headers["etag"]
    assert etag.startswith('"') and etag.endswith('-gzip"') and not etag.startswith("W/")
    wire = int(first.headers["content-length"])

    # when the app asks again with the ETag, then nothing is sent
    again = await client.get(
        "/offline/07202", headers={"Accept-Encoding": "gzip", "If-None-Match": etag}
    )
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag

    # a client without gzip gets the same document plain, under its own ETag
    plain = await client.get("/offline/07202", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert plain.headers["etag"] == etag.replace("-gzip", "")
    assert json.loads(plain.content) == first.json()
    assert len(plain.content) > 2 * wire
    # ... and the 6-digit code with its check digit is the same pack
    six = await client.get("/offline/072028", headers={"If-None-Match": plain.headers["etag"]})
    assert six.status_code == 304
    head = await client.head("/offline/07202")
    assert head.status_code == 200 and head.content == b"" and head.headers["etag"] == etag


async def test_a_pack_is_built_once_for_many_downloads(
    client: httpx.AsyncClient,
    session: Any,
    settings: Settings,
    demo_world: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given a process that has not built the pack yet
    builds: list[str] = []
    build = offline._build

    def counted(inputs: offline.PackInputs) -> offline.OfflinePack:
        builds.append(inputs.municipality["code"])
        return build(inputs)

    monkeypatch.setattr(offline, "_build", counted)
    inputs = await offline.pack_inputs(session, settings, "07202")
    assert isinstance(inputs, offline.PackInputs)
    # when many downloads ask for it at once, and more come later
    packs = await asyncio.gather(*(offline.build_pack(inputs) for _ in range(8)))
    later = [await client.get(code) for code in ("/offline/07202", "/offline/072028")]
    # then it was built once, and every download is the same pack
    assert builds == ["07202"]
    assert len({p.digest for p in packs}) == 1
    assert {r.headers["etag"] for r in later} == {f'"{packs[0].digest[:32]}-gzip"'}


async def test_the_pack_changes_with_the_hazard_zones(
    client: httpx.AsyncClient, session: Any, demo_world: None, tmp_path: Path
) -> None:
    # given a downloaded pack
    first = await client.get("/offline/07202")
    etag = first.headers["etag"]
    # when the city imports another hazard zone
    path = tmp_path / "fire.geojson"
    zone = circle(139.930, 37.500, 120.0)
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {},
                        "geometry": shapely.geometry.mapping(zone),
                    }
                ],
            }
        )
    )
    await hazards_service.import_hazard_files(
        session, [path], hazard_type="large_fire", municipality_code="07202"
    )
    await session.commit()
    # then the old ETag no longer matches and the new pack has the zone and its edges
    second = await client.get("/offline/07202", headers={"If-None-Match": etag})
    assert second.status_code == 200 and second.headers["etag"] != etag
    document = second.json()
    assert [z["hazard"] for z in document["zones"]].count("large_fire") == 1
    fire = 1 << document["hazardBits"].index("large_fire")
    assert any(h & fire for h in document["graph"]["edges"]["hazards"])


async def test_a_boundary_gives_the_area(
    client: httpx.AsyncClient, session: Any, demo_world: None
) -> None:
    # given the real boundary of 会津若松市 (the demo network is its centre)
    await municipality_service.import_boundary(session, require_shared("boundaries", "07202.json"))
    await session.commit()
    # when the pack is downloaded, then its area is the boundary, grown by the margin
    _, document = await download(client, "07202")
    assert document["area"]["source"] == "boundary"
    assert document["area"]["marginM"] == 1000.0
    min_lon, min_lat, max_lon, max_lat = (x / 1e6 for x in document["area"]["bbox"])
    assert min_lon < 139.839 and max_lon > 140.113 and min_lat < 37.323 and max_lat > 37.583


# ----------------------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    "code",
    ["abc", "0720", "0720x", "072027", "07202 ", "０７２０２", "1" * 300, "%00", "-7202"],
)
async def test_a_malformed_code_is_refused(client: httpx.AsyncClient, code: str) -> None:
    response = await client.get(f"/offline/{code}")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "VALIDATION"
    assert response.json()["error"]["messageJa"]


async def test_an_unknown_code_is_not_found(client: httpx.AsyncClient) -> None:
    response = await client.get("/offline/99999")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NOT_FOUND"


async def test_a_municipality_no_graph_covers(
    client: httpx.AsyncClient, session: Any, tmp_path: Path
) -> None:
    # given 渋谷区 with no boundary, shelters or zones: where it is is unknown
    unknown = await client.get("/offline/13113")
    assert unknown.status_code == 409
    assert unknown.json()["error"]["code"] == "OUTSIDE_ROUTING_AREA"
    assert "unknown" in unknown.json()["error"]["message"]

    # given 福島市 with a boundary, far from the (demo) walk graph of 会津若松市
    path = tmp_path / "07201.json"
    path.write_text(json.dumps(shapely.geometry.mapping(shapely.box(140.44, 37.73, 140.50, 37.78))))
    await municipality_service.import_boundary(session, path)
    await session.commit()
    outside = await client.get("/offline/07201")
    assert outside.status_code == 409
    assert outside.json()["error"]["code"] == "OUTSIDE_ROUTING_AREA"
    assert "no walk graph covers municipality 07201" in outside.json()["error"]["message"]


async def test_no_walk_graph_in_production_is_routing_unavailable(
    settings: Settings, db: RollbackDatabase, verifier: TokenVerifier, tmp_path: Path
) -> None:
    production = settings.model_copy(
        update={"environment": Environment.PRODUCTION, "road_graph_path": tmp_path / "none.npz"}
    )
    app = create_app(production, database=db, verifier=verifier)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://kizuna.test"
    ) as client:
        response = await client.get("/offline/07202")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "ROUTING_UNAVAILABLE"


async def test_the_pack_has_no_personal_data(
    client: httpx.AsyncClient, gql: GraphQLClient, demo_world: None, token: Any
) -> None:
    # given a resident who saved their home in the demo area
    hanako = token("offline-hanako", name="会津 花子")
    body = await gql(
        ADD_PLACE, {"input": {"kind": "HOME", "label": "花子の家", **HANAKO_HOME}}, token=hanako
    )
    assert body["data"]["addPlace"]["place"]["id"]
    # when anyone (no sign-in) downloads the pack
    _, document = await download(client, "07202")
    text = json.dumps(document, ensure_ascii=False)
    # then it holds the graph, the shelters' public designation data and the zones only
    assert set(document) == {
        "format", "version", "municipality", "area", "scale", "routing", "edgeFlags",
        "nodeFlags", "hazardBits", "graph", "shelters", "zoneToleranceM", "zones",
    }  # fmt: skip
    public = {
        "id", "commonId", "name", "address", "municipality", "lon", "lat", "kinds", "hazards",
        "capacity", "elevationM",
    }  # fmt: skip
    assert all(set(s) == public for s in document["shelters"])
    assert "花子" not in text and "offline-hanako" not in text
    home = (round(HANAKO_HOME["longitude"] * 1e6), round(HANAKO_HOME["latitude"] * 1e6))
    assert str(home[0]) not in text


# ------------------------------------------------------------------------- 渋谷区 (real)

# A part of 渋谷区 (the Shibuya extract covers lon 139.679-139.711, lat 35.648-35.672); the
# 1 km margin takes in the whole extract.
SHIBUYA_BOX = (139.690, 35.655, 139.702, 35.665)


@pytest.fixture(scope="module")
def shibuya_dir(tmp_path_factory: pytest.TempPathFactory, database_url: str) -> Path:
    """A data directory where `kizuna import roads --region shibuya` installed the graph."""
    pbf = require_shared("osm", "shibuya.osm.pbf")
    directory = tmp_path_factory.mktemp("offline-shibuya")
    code, output = kizuna(
        cli_env(database_url, directory), "import", "roads", str(pbf), "--region", "shibuya"
    )
    assert code == 0, output
    return directory


@pytest.fixture
async def shibuya(
    settings: Settings,
    db: RollbackDatabase,
    verifier: TokenVerifier,
    shibuya_dir: Path,
    session: Any,
    tmp_path: Path,
) -> AsyncIterator[httpx.AsyncClient]:
    """The API on the Shibuya graph, with a boundary, flood zones and shelters of 渋谷区."""
    boundary = tmp_path / "13113.json"
    boundary.write_text(json.dumps(shapely.geometry.mapping(shapely.box(*SHIBUYA_BOX))))
    await municipality_service.import_boundary(session, boundary)
    floods = tmp_path / "shibuya-flood.geojson"
    features = [
        {
            "type": "Feature",
            "properties": {"rank": rank},
            "geometry": shapely.geometry.mapping(circle(lon, lat, radius)),
        }
        for lon, lat, radius, rank in (
            (139.6990, 35.6590, 180.0, 2),  # 渋谷駅 (the valley)
            (139.6925, 35.6625, 120.0, 1),
            (139.7030, 35.6540, 150.0, 3),
        )
    ]
    floods.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    await hazards_service.import_hazard_files(
        session, [floods], hazard_type="flood", rank_property="rank", municipality_code="13113"
    )
    await shelters_service.import_shelter_files(session, [shelter_file(tmp_path)])
    await session.commit()
    on_shibuya = settings.model_copy(update={"data_dir": shibuya_dir})
    app = create_app(on_shibuya, database=db, verifier=verifier)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://kizuna.test"
    ) as client:
        yield client


SHIBUYA_SHELTERS = (
    ("代々木公園（テスト）", 139.6940, 35.6700, "1", "1"),
    ("宮下公園（テスト）", 139.7020, 35.6625, "", "1"),
    ("渋谷区役所（テスト）", 139.6980, 35.6640, "1", "1"),
    ("鉢山中学校（テスト）", 139.6905, 35.6535, "1", ""),
    ("広尾（テスト）", 139.7090, 35.6500, "1", "1"),
    ("恵比寿（テスト）", 139.7080, 35.6480, "", "1"),
)


def shelter_file(folder: Path) -> Path:
    """A GSI-format file of made-up 指定緊急避難場所 in 渋谷区 (for these tests only)."""
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [lon, lat]},
            "properties": {
                "NO": i,
                "共通ID": f"E13113000{i:05d}",
                "都道府県名及び市町村名": "東京都渋谷区",
                "施設・場所名": name,
                "住所": "東京都渋谷区",
                "洪水": flood,
                "崖崩れ、土石流及び地滑り": "",
                "高潮": "",
                "地震": quake,
                "津波": "",
                "大規模な火事": "",
                "内水氾濫": "",
                "火山現象": "",
                "指定避難所との住所同一": "",
                "備考": "",
            },
        }
        for i, (name, lon, lat, flood, quake) in enumerate(SHIBUYA_SHELTERS, start=1)
    ]
    path = folder / "131130.json"
    path.write_text(
        json.dumps({"type": "FeatureCollection", "name": "131130", "features": features}),
        encoding="utf-8",
    )
    return path


async def test_shibuya_pack_routes_as_the_server_does(shibuya: httpx.AsyncClient) -> None:
    # given the pack of 渋谷区 from the real street network
    response, document = await download(shibuya, "13113")
    pack = ref.decode(document)
    assert document["area"]["source"] == "boundary"
    assert [r["name"] for r in document["graph"]["regions"]] == ["shibuya"]
    gate = pack.node_bits["TICKET_GATE"]
    assert sum(1 for f in pack.node_flags if f & gate) >= 10  # the stations' ticket gates
    steps = pack.edge_bits["STEPS"] | pack.edge_bits["ESCALATOR"]
    assert sum(1 for f in pack.flags if f & steps) > 100
    assert len(pack.shelters) == len(SHIBUYA_SHELTERS) and len(pack.zones) == 3
    print(f"shibuya pack: {response.headers['content-length']} B gzip, {len(response.content)} B")

    # when routes are planned offline and online, then they agree
    rng = random.Random(13113)
    min_lon, min_lat, max_lon, max_lat = SHIBUYA_BOX
    pairs: list[tuple[tuple[float, float], tuple[float, float]]] = []
    while len(pairs) < 30:
        a = (rng.uniform(min_lon, max_lon), rng.uniform(min_lat, max_lat))
        b = (rng.uniform(min_lon, max_lon), rng.uniform(min_lat, max_lat))
        if ref.haversine_m(pack, a[1], a[0], b[1], b[0]) > 300:
            pairs.append((a, b))
    gql = GraphQLClient(shibuya)
    counts = await compare_routes(gql, pack, pairs, [None, "flood"])
    assert counts["compared"] >= 100
    origins = [a for a, _ in pairs[:12]]
    shelters = await compare_nearest_shelters(gql, pack, origins, ["flood", "earthquake"])
    print(f"nearest shelters compared: {shelters}")
    assert shelters >= 30
