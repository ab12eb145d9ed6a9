"""Route time with approved danger spots in the city: 0 spots (baseline) and 500, one run.

Run: .venv/bin/python bench/bench_danger_spots_routing.py [--requests 200] [--spots 500]

The same evacuationRoute requests (random pairs of demo-network nodes to a point, and from
random nodes to the nearest flood shelter) are timed through the GraphQL API (in process,
demo world, SQLite) with no danger spot, then after residents have reported and staff have
approved ``--spots`` spots (80 % points on random paths, 20 % small polygons) across the
demo city. Printed: p50/p95 per kind, how many routes went around a spot, how many had to
cross one. Fixed seed.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx  # noqa: E402
from demo_world import demo_world  # noqa: E402  (bench/, the script's folder)

from backend.app import create_app  # noqa: E402
from backend.config import Settings  # noqa: E402
from backend.dangerspots import service as spots_service  # noqa: E402
from backend.dangerspots.models import SpotKind  # noqa: E402
from backend.db.session import Database  # noqa: E402
from backend.principal import Principal, PrincipalKind, Role, RoleGrant, Viewer  # noqa: E402
from backend.residents import service as residents_service  # noqa: E402
from backend.routing.demo import build_demo_graph  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
QUERY = (REPO / "graphql" / "operations" / "EvacuationRoute.graphql").read_text()
SEED = 7202
AIZU = "07202"


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


async def _viewer(session: Any, subject: str, *, staff: bool = False) -> Viewer:
    roles = frozenset({RoleGrant(Role.CITY_STAFF, AIZU)}) if staff else frozenset()
    principal = Principal(kind=PrincipalKind.RESIDENT, subject=subject, issuer="bench", roles=roles)
    resident = await residents_service.get_or_create_resident(session, principal)
    await residents_service.update_profile(
        session, resident, changes=residents_service.ProfileChanges(municipality_code=AIZU)
    )
    return Viewer(principal=principal, resident_id=resident.id)


async def report_spots(settings: Settings, database: Database, count: int) -> float:
    """Report and approve ``count`` spots through the service; returns seconds taken."""
    graph = build_demo_graph()
    rng = np.random.default_rng(SEED + 1)
    started = time.perf_counter()
    async with database.session() as session:
        reporter = await _viewer(session, "bench-reporter")
        staff = await _viewer(session, "bench-staff", staff=True)
        for i, node in enumerate(rng.integers(0, graph.node_count, count).tolist()):
            lon, lat = float(graph.lon[node]), float(graph.lat[node])
            if i % 5 == 4:
                d = 0.0003  # ~30 x 25 m
                ring = [[lon - d, lat - d], [lon + d, lat - d], [lon + d, lat + d],
                        [lon - d, lat + d], [lon - d, lat - d]]  # fmt: skip
                geometry: dict[str, Any] = {"type": "Polygon", "coordinates": [ring]}
            else:
                geometry = {"type": "Point", "coordinates": [lon, lat]}
            view = await spots_service.report_spot(
                session,
                settings,
                reporter,
                spots_service.SpotReport(kind=SpotKind.BLOCKED_ROAD, geometry=geometry),
            )
            await spots_service.moderate(
                session,
                settings,
                staff,
                spot_id=view.spot.id,
                action=spots_service.ModerationAction.APPROVE,
            )
    return time.perf_counter() - started


async def timed_routes(
    client: httpx.AsyncClient, requests: list[dict[str, Any]]
) -> tuple[list[float], int, int]:
    """Per-request ms, routes that went around a spot, routes that crossed one."""
    times: list[float] = []
    around = crossed = 0
    for variables in requests:
        started = time.perf_counter()
        response = await client.post("/graphql", json={"query": QUERY, "variables": variables})
        times.append((time.perf_counter() - started) * 1000.0)
        result = response.json()["data"]["evacuationRoute"]
        assert result["__typename"] == "EvacuationRoute", result
        around += bool(result["dangerSpotsAvoided"])
        crossed += any(c["dangerSpotId"] for c in result["crossings"])
    return times, around, crossed


async def main(requests: int, spots: int) -> None:
    graph = build_demo_graph()
    rng = np.random.default_rng(SEED)
    pairs = rng.integers(0, graph.node_count, size=(requests, 2)).tolist()

    def at(node: int) -> dict[str, float]:
        return {"latitude": float(graph.lat[node]), "longitude": float(graph.lon[node])}

    kinds = {
        "to a point": [{"input": {"from": at(a), "toPoint": at(b)}} for a, b in pairs],
        "nearest flood shelter": [
            {"input": {"from": at(a), "hazardType": "FLOOD"}} for a, _ in pairs
        ],
    }
    with tempfile.TemporaryDirectory() as tmp:
        settings, database = await demo_world(tmp)
        settings = settings.model_copy(update={"danger_spot_posts_per_hour": spots + 1})
        app = create_app(settings, database=database)
        transport = httpx.ASGITransport(app=app)
        print(
            f"demo network: {graph.node_count:,} nodes, {graph.edge_count:,} edges; "
            f"{requests} requests per kind, sequential, through GraphQL (SQLite)\n"
        )
        print(f"{'request':<24}{'spots':>7}{'p50 ms':>9}{'p95 ms':>9}{'around':>8}{'crossed':>9}")
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            await timed_routes(client, kinds["to a point"][:5])  # warm-up
            baseline = {kind: await timed_routes(client, reqs) for kind, reqs in kinds.items()}
            seconds = await report_spots(settings, database, spots)
            await timed_routes(client, kinds["to a point"][:5])  # warm the engine's area cache
            loaded = {kind: await timed_routes(client, reqs) for kind, reqs in kinds.items()}
            for kind in kinds:
                for count, (times, around, crossed) in ((0, baseline[kind]), (spots, loaded[kind])):
                    print(
                        f"{kind:<24}{count:>7}{pct(times, 50):9.2f}{pct(times, 95):9.2f}"
                        f"{around:>8}{crossed:>9}"
                    )
            for kind in kinds:
                ratio = pct(loaded[kind][0], 50) / pct(baseline[kind][0], 50)
                print(f"\n{kind}: p50 with {spots} spots is x{ratio:.2f} the 0-spot baseline")
        print(f"reporting and approving {spots} spots took {seconds:.1f} s")
        await database.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--spots", type=int, default=500)
    args = parser.parse_args()
    asyncio.run(main(args.requests, args.spots))
