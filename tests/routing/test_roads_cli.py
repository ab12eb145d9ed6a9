"""`kizuna import roads` on the real Helsinki extract, then evacuationRoute on that graph."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import networkx as nx
import numpy as np
import pytest
from shapely.geometry import LineString, mapping, shape
from typer.testing import CliRunner

from backend.app import create_app
from backend.auth.tokens import TokenVerifier
from backend.cli import app
from backend.config import Settings, get_settings
from backend.geo import haversine_m_array
from backend.routing.engine import RoutingEngine
from backend.routing.graph import WalkGraph
from backend.routing.osm import build_walk_graph_from_pbf
from tests.conftest import GraphQLClient, RollbackDatabase
from tests.routing.test_api import ROUTE, circle
from tests.shared_data import require_shared

runner = CliRunner()
SUMMARY = re.compile(r"imported walk graph: (\d+) nodes, (\d+) edges, ([\d.]+) km of ways")
# Two street points in central Helsinki, ~1 km apart.
ORIGIN = {"latitude": 60.1699, "longitude": 24.9384}
DESTINATION = {"latitude": 60.1750, "longitude": 24.9500}


def kizuna(env: dict[str, str], *args: str) -> tuple[int, str]:
    get_settings.cache_clear()
    try:
        result = runner.invoke(app, list(args), env=env)
    finally:
        get_settings.cache_clear()
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def helsinki_pbf() -> Path:
    return require_shared("osm", "Helsinki.osm.pbf")


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("roads")


@pytest.fixture(scope="module")
def imported(helsinki_pbf: Path, data_dir: Path) -> Iterator[Path]:
    """The graph file written by `kizuna import roads` into a fresh data directory."""
    code, output = kizuna({"KIZUNA_DATA_DIR": str(data_dir)}, "import", "roads", str(helsinki_pbf))
    assert code == 0, output
    target = data_dir / "roads" / "walk-graph.npz"
    assert str(target) in output
    yield target


def test_import_roads_writes_the_graph_the_server_loads(helsinki_pbf: Path, imported: Path) -> None:
    reference = build_walk_graph_from_pbf(helsinki_pbf)
    loaded = WalkGraph.load(imported)
    assert (loaded.node_count, loaded.edge_count) == (reference.node_count, reference.edge_count)
    assert np.array_equal(loaded.u, reference.u) and np.allclose(loaded.lon, reference.lon)
    # The command reports what it wrote.
    code, output = kizuna(
        {"KIZUNA_DATA_DIR": str(imported.parent.parent)},
        "import",
        "roads",
        str(helsinki_pbf),
        "--output",
        str(imported.parent / "again.npz"),
    )
    assert code == 0, output
    match = SUMMARY.search(output)
    assert match, output
    assert int(match[1]) == reference.node_count and int(match[2]) == reference.edge_count
    assert float(match[3]) == pytest.approx(reference.total_length_m / 1000, abs=0.05)


def test_import_roads_refuses_bad_files(tmp_path: Path) -> None:
    env = {"KIZUNA_DATA_DIR": str(tmp_path)}
    code, output = kizuna(env, "import", "roads", str(tmp_path / "missing.osm.pbf"))
    assert code == 1 and "no such file" in output
    garbage = tmp_path / "garbage.osm.pbf"
    garbage.write_bytes(b"\x00\x00\x00\x0fnot a protobuf blob header at all" * 10)
    code, output = kizuna(env, "import", "roads", str(garbage))
    assert code == 1 and "cannot read OpenStreetMap data" in output
    assert not (tmp_path / "roads").exists(), "a refused import writes nothing"


@pytest.fixture
async def helsinki_gql(
    settings: Settings, db: RollbackDatabase, verifier: TokenVerifier, imported: Path
) -> AsyncIterator[GraphQLClient]:
    on_helsinki = settings.model_copy(update={"road_graph_path": imported})
    app_ = create_app(on_helsinki, database=db, verifier=verifier)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app_), base_url="http://kizuna.test"
    ) as client:
        yield GraphQLClient(client)


async def route(gql: GraphQLClient, **input: Any) -> dict[str, Any]:
    body = await gql(ROUTE, {"input": input})
    result: dict[str, Any] = body["data"]["evacuationRoute"]
    return result


def networkx_optimum(graph: WalkGraph, origin: Any, destination: Any, avoid: Any) -> float:
    """Independent check: Dijkstra in networkx on the graph minus edges meeting the polygon."""
    engine = RoutingEngine(graph)
    o, d = engine.snap(origin), engine.snap(destination)
    g = nx.Graph()
    for u, v, length, lon_u, lat_u, lon_v, lat_v in zip(
        graph.u,
        graph.v,
        graph.length_m,
        graph.lon[graph.u],
        graph.lat[graph.u],
        graph.lon[graph.v],
        graph.lat[graph.v],
        strict=True,
    ):
        if not LineString([(lon_u, lat_u), (lon_v, lat_v)]).intersects(avoid):
            g.add_edge(int(u), int(v), weight=float(length))
    network = nx.dijkstra_path_length(g, o.node, d.node, weight="weight")
    return float(o.distance_m + network + d.distance_m)


async def test_helsinki_route_avoids_the_polygon_at_near_optimal_length(
    helsinki_gql: GraphQLClient, imported: Path
) -> None:
    plain = await route(helsinki_gql, **{"from": ORIGIN, "toPoint": DESTINATION})
    plain_line = shape(plain["path"])
    assert plain["safe"] is True
    assert 1000 < plain["distanceMeters"] < 1600
    # A 100 m danger spot across the middle of the shortest walk.
    middle = plain_line.interpolate(0.5, normalized=True)
    spot = circle(middle.x, middle.y, 100.0)
    detour = await route(
        helsinki_gql, **{"from": ORIGIN, "toPoint": DESTINATION, "avoid": [mapping(spot)]}
    )
    detour_line = shape(detour["path"])
    assert detour["safe"] is True and detour["crossings"] == []
    assert not detour_line.intersects(spot)
    # As short as possible: equal (within 1 %) to networkx on the same graph without the
    # edges meeting the spot, and longer than the unconstrained walk.
    graph = WalkGraph.load(imported)
    optimum = networkx_optimum(
        graph,
        (ORIGIN["longitude"], ORIGIN["latitude"]),
        (DESTINATION["longitude"], DESTINATION["latitude"]),
        spot,
    )
    assert detour["distanceMeters"] <= optimum * 1.01
    assert detour["distanceMeters"] >= optimum * 0.99
    assert detour["distanceMeters"] > plain["distanceMeters"]


async def test_helsinki_far_from_any_path_is_point_off_network(
    settings: Settings, db: RollbackDatabase, verifier: TokenVerifier, imported: Path
) -> None:
    graph = WalkGraph.load(imported)
    # The grid point of the graph's box that lies farthest from any walkable node.
    min_lon, min_lat, max_lon, max_lat = graph.bbox
    best, best_m = None, 0.0
    for lon in np.linspace(min_lon, max_lon, 40):
        for lat in np.linspace(min_lat, max_lat, 40):
            nearest = float(haversine_m_array(lat, lon, graph.lat, graph.lon).min())
            if nearest > best_m:
                best, best_m = (float(lon), float(lat)), nearest
    assert best is not None and best_m > 60, best_m
    strict = settings.model_copy(update={"road_graph_path": imported, "route_max_snap_m": 50.0})
    app_ = create_app(strict, database=db, verifier=verifier)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app_), base_url="http://kizuna.test"
    ) as client:
        gql = GraphQLClient(client)
        off = await route(
            gql, **{"from": ORIGIN, "toPoint": {"latitude": best[1], "longitude": best[0]}}
        )
        assert (off["code"], off["field"]) == ("POINT_OFF_NETWORK", "toPoint")
        assert off["message"] == f"nearest walkable path is {best_m:.0f} m away (limit 50 m)"


async def test_no_designated_shelter_near_helsinki(helsinki_gql: GraphQLClient) -> None:
    # Shelters are Japanese; from Helsinki there is none within the search radius.
    result = await route(helsinki_gql, **{"from": ORIGIN, "hazardType": "FLOOD"})
    assert result["code"] == "NO_SHELTER"
