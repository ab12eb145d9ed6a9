"""Time evacuationRoute end to end through the GraphQL API (in process, demo world, SQLite).

Run: .venv/bin/python bench/bench_route_api.py [--requests 200] [--concurrency 50]

1. Sequential latency (p50/p95) of three request kinds from random points of the demo walk
   network: to a point, to a point with 10 random avoid areas, and to the nearest
   flood-designated shelter. Baseline in the same process: the engine call alone (what the
   API adds is validation, the shelter and hazard look-ups, and JSON).
2. Nearest-suitable choice among 8 candidates (the default): one multi-target Dijkstra
   (`walk_costs_from`) then one route, against the naive way, one full route per candidate,
   on the same requests around the flood zones; both must pick the same candidate.
3. A burst of concurrent requests (a disaster: everyone asks at once): wall time and rate.
   With --url, only this burst, over HTTP against a running `kizuna serve [--workers N]`.
Fixed seed.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx  # noqa: E402
from demo_world import demo_world  # noqa: E402  (bench/, the script's folder)
from shapely.geometry import Point, mapping  # noqa: E402

from backend.app import create_app  # noqa: E402
from backend.hazards.demo import demo_hazard_zones  # noqa: E402
from backend.hazards.types import HazardType  # noqa: E402
from backend.routing.demo import build_demo_graph  # noqa: E402
from backend.routing.engine import RoutingEngine  # noqa: E402
from backend.routing.service import rank_key  # noqa: E402
from backend.shelters.demo import demo_shelter_records  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
QUERY = (REPO / "graphql" / "operations" / "EvacuationRoute.graphql").read_text()
SEED = 7202


def circle(lon: float, lat: float, radius_m: float) -> Any:
    r_lat = math.degrees(radius_m / 6_371_008.8)
    disk = Point(lon, lat).buffer(r_lat, quad_segs=8)
    from shapely import affinity

    return affinity.scale(disk, xfact=1.0 / math.cos(math.radians(lat)), yfact=1.0)


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


async def main(requests: int, concurrency: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings, database = await demo_world(tmp)
        app = create_app(settings, database=database)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            await run(client, requests, concurrency)
        await database.dispose()


async def run(client: httpx.AsyncClient, requests: int, concurrency: int) -> None:
    graph = build_demo_graph()
    engine = RoutingEngine(graph)
    flood = [z.geometry for z in demo_hazard_zones() if z.hazard_type is HazardType.FLOOD]
    rng = np.random.default_rng(SEED)
    nodes = rng.integers(0, graph.node_count, size=(requests, 2))
    origins = [(float(graph.lat[a]), float(graph.lon[a])) for a, _ in nodes.tolist()]
    targets = [(float(graph.lat[b]), float(graph.lon[b])) for _, b in nodes.tolist()]
    candidate_sets = [
        [(float(graph.lon[c]), float(graph.lat[c])) for c in rng.integers(0, graph.node_count, 8)]
        for _ in range(requests)
    ]
    avoid_sets = []
    for _ in range(requests):
        centres = rng.integers(0, graph.node_count, size=10)
        avoid_sets.append(
            [
                circle(float(graph.lon[c]), float(graph.lat[c]), float(rng.uniform(20, 60)))
                for c in centres
            ]
        )

    async def call(variables: dict[str, Any]) -> tuple[dict[str, Any], float]:
        started = time.perf_counter()
        response = await client.post("/graphql", json={"query": QUERY, "variables": variables})
        elapsed = (time.perf_counter() - started) * 1000.0
        body = response.json()
        result = body["data"]["evacuationRoute"]
        assert result["__typename"] == "EvacuationRoute", result
        return result, elapsed

    def point(lat_lon: tuple[float, float]) -> dict[str, float]:
        return {"latitude": lat_lon[0], "longitude": lat_lon[1]}

    await call({"input": {"from": point(origins[0]), "hazardType": "FLOOD"}})  # warm-up
    print(
        f"demo network: {graph.node_count:,} nodes, {graph.edge_count:,} edges; "
        f"{requests} requests per kind\n"
    )
    print(f"{'request':<34}{'API p50':>9}{'API p95':>9}{'engine p50':>12}{'engine p95':>12}")
    kinds = ("to a point", "to a point, 10 avoid areas", "nearest flood shelter")
    shelters = [
        (r.lon, r.lat) for r in demo_shelter_records() if HazardType.FLOOD in r.hazard_types
    ]
    choice_fast: list[float] = []
    choice_naive: list[float] = []
    disagreements = 0
    for kind in kinds:
        api: list[float] = []
        direct: list[float] = []
        for i in range(requests):
            o = (origins[i][1], origins[i][0])
            if kind == kinds[2]:
                _, ms = await call({"input": {"from": point(origins[i]), "hazardType": "FLOOD"}})
                started = time.perf_counter()
                costs = engine.walk_costs_from(o, shelters, flood)
                best = min((rank_key(c), j) for j, c in enumerate(costs) if c is not None)[1]
                engine.route(o, shelters[best], flood)
                direct.append((time.perf_counter() - started) * 1000.0)
                # The choice among 8 candidates (the default), as in a real city.
                candidates = candidate_sets[i]
                started = time.perf_counter()
                costs = engine.walk_costs_from(o, candidates, flood)
                best = min((rank_key(c), j) for j, c in enumerate(costs) if c is not None)[1]
                engine.route(o, candidates[best], flood)
                fast = (time.perf_counter() - started) * 1000.0
                started = time.perf_counter()
                routes = [engine.route(o, c, flood) for c in candidates]
                naive_best = min(
                    range(len(routes)),
                    key=lambda j: (round(routes[j].exposure_m), routes[j].distance_m),
                )
                naive = (time.perf_counter() - started) * 1000.0
                disagreements += naive_best != best
                choice_fast.append(fast)
                choice_naive.append(naive)
            else:
                avoid = avoid_sets[i] if kind == kinds[1] else []
                variables = {
                    "input": {
                        "from": point(origins[i]),
                        "toPoint": point(targets[i]),
                        "avoid": [mapping(a) for a in avoid],
                    }
                }
                _, ms = await call(variables)
                started = time.perf_counter()
                engine.route(o, (targets[i][1], targets[i][0]), avoid)
                direct.append((time.perf_counter() - started) * 1000.0)
            api.append(ms)
        print(
            f"{kind:<34}{pct(api, 50):9.2f}{pct(api, 95):9.2f}"
            f"{pct(direct, 50):12.2f}{pct(direct, 95):12.2f}"
        )

    print(
        "\nnearest-shelter choice among 8 candidates: one Dijkstra + route "
        f"p50 {pct(choice_fast, 50):.2f} ms, p95 {pct(choice_fast, 95):.2f} ms; one route per "
        f"candidate p50 {pct(choice_naive, 50):.2f} ms, p95 {pct(choice_naive, 95):.2f} ms "
        f"(x{pct(choice_naive, 50) / pct(choice_fast, 50):.1f} at p50); different choices: "
        f"{disagreements}"
    )

    await burst(client, origins, concurrency)


async def burst(
    client: httpx.AsyncClient, origins: list[tuple[float, float]], concurrency: int
) -> None:
    """Everyone asks at once: nearest flood shelter from every origin, `concurrency` in flight."""
    semaphore = asyncio.Semaphore(concurrency)

    async def one(lat_lon: tuple[float, float]) -> float:
        variables = {
            "input": {
                "from": {"latitude": lat_lon[0], "longitude": lat_lon[1]},
                "hazardType": "FLOOD",
            }
        }
        async with semaphore:
            started = time.perf_counter()
            response = await client.post("/graphql", json={"query": QUERY, "variables": variables})
            elapsed = (time.perf_counter() - started) * 1000.0
        result = response.json()["data"]["evacuationRoute"]
        assert result["__typename"] == "EvacuationRoute", result
        return elapsed

    started = time.perf_counter()
    latencies = await asyncio.gather(*(one(o) for o in origins))
    wall = time.perf_counter() - started
    print(
        f"burst: {len(origins)} nearest-shelter requests, {concurrency} at a time: "
        f"{wall:.2f} s wall, {len(origins) / wall:,.0f} req/s, "
        f"p95 {pct(list(latencies), 95):.1f} ms per request"
    )


async def burst_over_http(url: str, requests: int, concurrency: int) -> None:
    """The burst against a running `kizuna serve` (demo data), e.g. to compare --workers."""
    graph = build_demo_graph()
    rng = np.random.default_rng(SEED)
    nodes = rng.integers(0, graph.node_count, size=requests).tolist()
    origins = [(float(graph.lat[n]), float(graph.lon[n])) for n in nodes]
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=120) as client:
        await burst(client, origins[:concurrency], concurrency)  # warm every worker up
        await burst(client, origins, concurrency)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--url", help="only the burst, against a running server (demo data)")
    args = parser.parse_args()
    if args.url:
        asyncio.run(burst_over_http(args.url, args.requests, args.concurrency))
    else:
        asyncio.run(main(args.requests, args.concurrency))
