"""What metrics and tracing cost per request: CPU time with them off, on, and tracing too.

Run: .venv/bin/python bench/bench_observability.py [--requests 50] [--rounds 20]
(with PROMETHEUS_MULTIPROC_DIR=<an empty folder>, values are file-backed as under
`kizuna serve`)

Three apps on one demo database (SQLite, in process, Aizu-Wakamatsu demo shelters, zones
and walk network), each answering the same requests:
  off      KIZUNA_METRICS_ENABLED=false (the baseline; route searches are still timed)
  metrics  the default: request and operation metrics, pool sampling
  tracing  metrics plus OpenTelemetry spans (HTTP, GraphQL, SQL, route search) into a batch
           processor whose exporter drops them: span creation, not OTLP encoding
Three requests: `viewer` (nearly no work), `shelters(near:)` (five shelters) and the
nearest flood shelter route. Process CPU time (all threads: route searches run in worker
threads) per request, in many short rounds that rotate the apps' order; the added cost is
the median of the differences within a round, so drift of a busy machine cancels out. The
client's own CPU is in every figure alike. Last, the recording calls a GraphQL request makes
(request and operation metrics, pool sample) alone in a loop: the floor of the added cost,
free of the noise of whole requests.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx  # noqa: E402
from demo_world import demo_world  # noqa: E402  (bench/, the script's folder)
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider  # noqa: E402
from opentelemetry.sdk.trace.export import (  # noqa: E402
    BatchSpanProcessor,
    SpanExporter,
    SpanExportResult,
)

from backend.app import create_app  # noqa: E402
from backend.db.session import Database  # noqa: E402
from backend.observability import metrics, tracing  # noqa: E402
from backend.routing.demo import TSURUGA_CASTLE  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
OPERATIONS = REPO / "graphql" / "operations"
CASTLE = {"latitude": TSURUGA_CASTLE[1], "longitude": TSURUGA_CASTLE[0]}
REQUESTS: dict[str, dict[str, Any]] = {
    "viewer": {"query": "query Viewer { viewer { kind } }"},
    "shelters(near:), 5": {
        "query": (OPERATIONS / "Shelters.graphql").read_text(),
        "operationName": "NearestShelters",
        "variables": {"near": CASTLE, "first": 5},
    },
    "route, nearest flood shelter": {
        "query": (OPERATIONS / "EvacuationRoute.graphql").read_text(),
        "variables": {"input": {"from": CASTLE, "hazardType": "FLOOD"}},
    },
}


class DroppingExporter(SpanExporter):
    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.SUCCESS


async def cpu_per_request(client: httpx.AsyncClient, body: dict[str, Any], n: int) -> float:
    """Microseconds of process CPU per request, over n sequential requests."""
    started = time.process_time()
    for _ in range(n):
        response = await client.post("/graphql", json=body)
        assert response.status_code == 200 and "errors" not in response.json(), response.text
    return (time.process_time() - started) / n * 1e6


async def main(requests: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        base, database = await demo_world(tmp)
        provider = TracerProvider()
        provider.add_span_processor(BatchSpanProcessor(DroppingExporter()))
        tracing.use_tracer_provider(provider)
        variants = {
            "off": base.model_copy(update={"metrics_enabled": False}),
            "metrics": base,
            "tracing": base.model_copy(update={"otel_endpoint": "http://127.0.0.1:4318"}),
        }
        clients = {
            name: httpx.AsyncClient(
                transport=httpx.ASGITransport(app=create_app(settings, database=database)),
                base_url="http://bench",
            )
            for name, settings in variants.items()
        }
        figures: dict[tuple[str, str], list[float]] = {}
        for kind, body in REQUESTS.items():
            for client in clients.values():
                await cpu_per_request(client, body, 20)  # warm-up: caches, graph, pool
            for r in range(rounds):
                names = list(clients)
                for name in names[r % len(names) :] + names[: r % len(names)]:
                    cpu = await cpu_per_request(clients[name], body, requests)
                    figures.setdefault((kind, name), []).append(cpu)
        for client in clients.values():
            await client.aclose()
        provider.shutdown()
        recording = recording_alone(database)
        await database.dispose()

    print(f"CPU per request, µs (medians of {rounds} rounds of {requests} requests; in process)\n")
    print(f"{'request':<30}{'off':>9}{'metrics':>9}{'added':>14}{'tracing':>10}{'added':>14}")
    for kind in REQUESTS:
        off = statistics.median(figures[kind, "off"])
        row = f"{kind:<30}{off:9.0f}"
        for name in ("metrics", "tracing"):
            pairs = zip(figures[kind, name], figures[kind, "off"], strict=True)
            added = statistics.median(on - base for on, base in pairs)
            row += f"{statistics.median(figures[kind, name]):9.0f}"
            row += f"{added:+8.0f} ({added / off:+4.0%})"
        print(row)
    print(f"\nrecording alone (what the metrics add to any GraphQL request): {recording:.1f} µs")


def recording_alone(database: Database, n: int = 20_000) -> float:
    """Microseconds of CPU for the metric updates of one request, in a tight loop."""
    pool = metrics.PoolGauges(database.engine)
    started = time.process_time()
    for _ in range(n):
        record = metrics.OperationRecord()
        token = metrics.current_operation.set(record)
        metrics.current_operation.reset(token)
        metrics.observe_operation("Viewer", "query", 0.004, record.codes)
        metrics.observe_request("/graphql", "POST", 200, 0.005)
        pool.sample()
    return (time.process_time() - started) / n * 1e6


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=20)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.requests, arguments.rounds))
