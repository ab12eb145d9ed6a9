"""`kizuna serve --workers 2` as deployed: any worker's /metrics answers for all of them,
and for `kizuna import ...` runs on the same data directory."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from backend.hazards.demo import demo_feature_collection
from tests.conftest import fresh_database_url
from tests.observability.scrape import Samples, parse, series, value

REPO = Path(__file__).resolve().parents[2]
VIEWER = "query Viewer { viewer { kind } }"
REQUESTS = 20


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def environment(database_url: str, tmp_path: Path) -> dict[str, str]:
    import asyncio

    url = asyncio.run(fresh_database_url(database_url, "observability_workers", tmp_path))
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("KIZUNA_", "PROMETHEUS_"))},
        "KIZUNA_DATABASE_URL": url,
        "KIZUNA_DATA_DIR": str(tmp_path / "state"),
        "KIZUNA_ENVIRONMENT": "development",
        "KIZUNA_LOG_LEVEL": "WARNING",
    }


@pytest.fixture
def server(environment: dict[str, str], tmp_path: Path) -> Iterator[str]:
    port = free_port()
    log = (tmp_path / "server.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "backend.cli", "serve", "--workers", "2", "--port", str(port)],
        cwd=REPO,
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            pytest.fail(f"the server did not start:\n{(tmp_path / 'server.log').read_text()}")
        yield base
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def scrape(base: str) -> Samples:
    # A new connection each time: the kernel hands it to either worker.
    response = httpx.get(f"{base}/metrics", timeout=10)
    assert response.status_code == 200
    return parse(response.text)


def test_every_worker_reports_the_requests_of_all(
    server: str, environment: dict[str, str], tmp_path: Path
) -> None:
    # when requests arrive on new connections, spread over both workers
    for _ in range(REQUESTS):
        response = httpx.post(f"{server}/graphql", json={"query": VIEWER}, timeout=10)
        assert response.status_code == 200
    # then whichever worker is scraped counts all of them
    count = "kizuna_graphql_operation_duration_seconds_count"
    scrapes = [scrape(server) for _ in range(6)]
    for samples in scrapes:
        assert value(samples, count, operation="Viewer", type="query") == REQUESTS
    # and the pool is reported per worker process
    pids = {s["pid"] for samples in scrapes for s in series(samples, "kizuna_db_pool_size")}
    assert len(pids) == 2

    # when an operator imports hazard zones on the same data directory
    demo = demo_feature_collection()
    floods = [f for f in demo["features"] if f["properties"]["hazard_type"] == "flood"]
    path = tmp_path / "flood.geojson"
    path.write_text(json.dumps({**demo, "features": floods}), encoding="utf-8")
    imported = subprocess.run(
        [sys.executable, "-m", "backend.cli", "import", "hazards", str(path), "--type", "flood"],
        cwd=REPO,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert imported.returncode == 0, imported.stderr
    # then the server's metrics show the run
    samples = scrape(server)
    runs = "kizuna_import_duration_seconds_count"
    assert value(samples, runs, source="hazards", outcome="ok") == 1
    items = "kizuna_import_items_total"
    assert value(samples, items, source="hazards", item="zones") == len(floods)
