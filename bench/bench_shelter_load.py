"""What counting shelter load costs evacuationRoute, and how well a burst spreads (in process,
demo world, SQLite or PostgreSQL).

Run: .venv/bin/python bench/bench_shelter_load.py [--requests 500] [--concurrency 50]
     [--database-url postgresql+asyncpg://postgres@127.0.0.1:5432/kizuna_bench]

Nearest earthquake-shelter requests from random points of the demo walk network, the demo
shelters given capacity for 1.2 times the requests in all, so the nearest ones fill:
1. Sequential: requests/s, p50/p95 latency and SQL statements per request, without load
   counting (the request carries no party: nothing read or recorded), with it for anonymous
   callers, and with it for signed-in residents (one keyed row each, replaced on re-asking).
2. A burst (`concurrency` in flight), with and without counting: wall time and rate, and how
   far beyond capacity any shelter was planned while another candidate still had room
   (concurrent requests read the same counts; sequential ones never overshoot).
Every phase starts with no assignments. Fixed seed.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx  # noqa: E402
from demo_world import demo_world  # noqa: E402  (bench/, the script's folder)
from sqlalchemy import delete, event, func, select, update  # noqa: E402

from backend.app import create_app  # noqa: E402
from backend.auth.tokens import TokenVerifier  # noqa: E402
from backend.bootstrap import sync_reference_data  # noqa: E402
from backend.db.migrate import upgrade  # noqa: E402
from backend.db.session import Database  # noqa: E402
from backend.hazards import service as hazards_service  # noqa: E402
from backend.routing import load  # noqa: E402
from backend.routing.demo import build_demo_graph  # noqa: E402
from backend.routing.models import RouteAssignment  # noqa: E402
from backend.shelters import service as shelters_service  # noqa: E402
from backend.shelters.models import Shelter  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
QUERY = (REPO / "graphql" / "operations" / "EvacuationRoute.graphql").read_text()
SEED = 7202


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


@contextmanager
def without_load_counting() -> Iterator[None]:
    """Requests carry no party: the route reads and records no load (as before this)."""
    original = load.party_of
    load.party_of = lambda *_args: None  # type: ignore[assignment,return-value]
    try:
        yield
    finally:
        load.party_of = original


@contextmanager
def statements(database: Database) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(*args: Any) -> None:
        seen.append(args[2])

    event.listen(database.engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(database.engine.sync_engine, "before_cursor_execute", record)


async def main(requests: int, concurrency: int, database_url: str | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings, database = await demo_world(tmp)
        if database_url:
            # The same world in an (empty, or earlier bench) PostgreSQL database instead.
            await database.dispose()
            settings = settings.model_copy(update={"database_url": database_url})
            database = Database.from_url(database_url)
            await upgrade(database.engine)
            async with database.session() as session:
                await sync_reference_data(session)
                await hazards_service.load_demo_zones(session)
                await shelters_service.load_demo_shelters(session)
        verifier = TokenVerifier(settings)
        app = create_app(settings, database=database, verifier=verifier)
        graph = build_demo_graph()
        rng = np.random.default_rng(SEED)
        nodes = rng.integers(0, graph.node_count, size=requests).tolist()
        origins = [
            {"latitude": float(graph.lat[n]), "longitude": float(graph.lon[n])} for n in nodes
        ]
        async with database.session() as session:
            designated = Shelter.for_earthquake.is_(True)
            shelters = int(await session.scalar(select(func.count()).where(designated)) or 0)
            # Room for 1.2 times the requests in all: the nearest shelters fill, the rest spread.
            capacity = max(1, round(requests * 1.2 / shelters))
            await session.execute(update(Shelter).values(capacity=capacity))
        tokens = [
            verifier.dev_signer.sign(f"bench-{i}", ttl=timedelta(hours=1)) for i in range(requests)
        ]
        print(
            f"demo network: {graph.node_count:,} nodes; {shelters} earthquake shelters of "
            f"capacity {capacity}; {requests} nearest-shelter requests per phase\n"
        )
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:

            async def call(origin: dict[str, float], bearer: str | None) -> dict[str, Any]:
                headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}
                variables = {"input": {"from": origin, "hazardType": "EARTHQUAKE"}}
                response = await client.post(
                    "/graphql", json={"query": QUERY, "variables": variables}, headers=headers
                )
                result: dict[str, Any] = response.json()["data"]["evacuationRoute"]
                assert result["__typename"] == "EvacuationRoute", result
                return result

            await call(origins[0], None)  # warm-up
            await call(origins[0], tokens[0])
            print(
                f"{'sequential':<34}{'req/s':>8}{'p50 ms':>9}{'p95 ms':>9}{'SQL/req':>9}"
                "  sent per shelter"
            )
            for label, counting, signed_in in (
                ("without load counting", False, False),
                ("with load counting, anonymous", True, False),
                ("with load counting, signed in", True, True),
            ):
                await clear(database)
                latencies: list[float] = []
                with statements(database) as seen, _maybe(counting):
                    started = time.perf_counter()
                    results = []
                    for i, origin in enumerate(origins):
                        t0 = time.perf_counter()
                        results.append(await call(origin, tokens[i] if signed_in else None))
                        latencies.append((time.perf_counter() - t0) * 1000.0)
                    wall = time.perf_counter() - started
                sent = Counter(r["shelter"]["id"] for r in results)
                print(
                    f"{label:<34}{len(origins) / wall:8.0f}{pct(latencies, 50):9.2f}"
                    f"{pct(latencies, 95):9.2f}{len(seen) / len(origins):9.1f}"
                    f"  {sorted(sent.values(), reverse=True)}"
                )
            print()
            for label, counting in (("without", False), ("with", True)):
                await clear(database)
                with _maybe(counting):
                    await burst(client, database, origins, concurrency, capacity, label)
        await database.dispose()


@contextmanager
def _maybe(counting: bool) -> Iterator[None]:
    if counting:
        yield
    else:
        with without_load_counting():
            yield


async def clear(database: Database) -> None:
    async with database.session() as session:
        await session.execute(delete(RouteAssignment))


async def burst(
    client: httpx.AsyncClient,
    database: Database,
    origins: list[dict[str, float]],
    concurrency: int,
    capacity: int,
    label: str,
) -> None:
    """Everyone asks at once; then how far the most loaded shelter went past its capacity."""
    semaphore = asyncio.Semaphore(concurrency)
    chosen: Counter[str] = Counter()

    async def one(origin: dict[str, float]) -> float:
        variables = {"input": {"from": origin, "hazardType": "EARTHQUAKE"}}
        async with semaphore:
            started = time.perf_counter()
            response = await client.post("/graphql", json={"query": QUERY, "variables": variables})
            elapsed = (time.perf_counter() - started) * 1000.0
        result = response.json()["data"]["evacuationRoute"]
        assert result["__typename"] == "EvacuationRoute", result
        chosen[result["shelter"]["id"]] += 1
        return elapsed

    started = time.perf_counter()
    latencies = await asyncio.gather(*(one(o) for o in origins))
    wall = time.perf_counter() - started
    print(
        f"burst {label} load counting: {len(origins)} requests, {concurrency} at a time: "
        f"{wall:.2f} s, {len(origins) / wall:,.0f} req/s, p95 {pct(list(latencies), 95):.1f} ms; "
        f"sent per shelter {sorted(chosen.values(), reverse=True)} for {capacity} places each "
        f"({max(0, max(chosen.values()) - capacity)} beyond)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument(
        "--database-url", help="e.g. postgresql+asyncpg://... (default: SQLite in a temp folder)"
    )
    args = parser.parse_args()
    asyncio.run(main(args.requests, args.concurrency, args.database_url))
