"""What one request costs the server, over real HTTP: CPU per request and requests per second.

Run: .venv/bin/python bench/bench_request_cost.py [--requests 300] [--rounds 3]
         [--concurrency 4] [--before-ref 3d40132 | --before-ref ''] [--database-url URL]

Three requests the app sends all the time, each with the app's own document from
graphql/operations/: the five shelters nearest to a real Aizu-Wakamatsu address
(`NearestShelters`, first: 5), the route to the nearest flood shelter from an address on the
demo walk network (`EvacuationRoute`), and the signed-in profile screen (`Me`).

Each variant is a `uvicorn` server process on a free port of 127.0.0.1 with its own SQLite
database (or PostgreSQL database <name>_bench_<variant> with --database-url), prepared by that
variant's own CLI: the demo data plus, when ../shared/data is present, every real GSI shelter
of Fukushima (4,083 after merging). Variants, measured in the same run and interleaved round
by round so that the machine's load hits them alike:
- before: the code at --before-ref (default: main before this work), extracted with
  `git archive` and run with the same interpreter; the app sends query texts.
- after, plain: this checkout with the nearest-shelter cache switched off by its setting and
  query texts sent in full (no persisted queries).
- after: this checkout as configured by default; the app sends persisted-query hashes.
CPU is the server process's user + system time (from /proc: Linux) over the requests of a
round, so the client's own work is not counted; req/s is the round's wall-clock rate with
--concurrency keep-alive connections. The figures printed are medians over the rounds.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import h3  # noqa: E402

from backend.shelters.nearby import CELL_RESOLUTION  # noqa: E402
from tests.shared_data import shared_data_dir  # noqa: E402

OPERATIONS = REPO / "graphql" / "operations"
BEFORE_REF = "3d40132"
# The demo walk network's extent (backend/routing/demo.py): route origins are addresses in it.
DEMO_NETWORK = (139.905, 37.475, 139.955, 37.515)
SEED = 7202


@dataclass
class Variant:
    """One server under test: its source tree, settings and how its client sends documents."""

    name: str
    source: Path
    env: dict[str, str]
    persisted: bool
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    token: str = ""
    cpu_ms: dict[str, list[float]] = field(default_factory=dict)
    rate: dict[str, list[float]] = field(default_factory=dict)


@dataclass(frozen=True)
class RequestKind:
    name: str
    operation_file: str
    operation_name: str | None
    signed_in: bool
    variables: Callable[[dict[str, float]], dict[str, Any]]
    origins: list[dict[str, float]]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_cli(variant: Variant, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "backend.cli", *args],
        cwd=variant.source,
        env=variant.env,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise SystemExit(f"{variant.name}: kizuna {args[0]} failed:\n{result.stderr[-2000:]}")
    return result.stdout


def prepare(variant: Variant, shelter_files: list[Path]) -> None:
    """Demo data and the real shelters, by the variant's own CLI (its own schema)."""
    run_cli(variant, "seed-demo")
    if shelter_files:
        run_cli(variant, "import", "shelters", *map(str, shelter_files))
    variant.token = run_cli(variant, "dev-token", "demo-hanako").strip().splitlines()[-1]


@contextmanager
def serving(variant: Variant, log_dir: Path) -> Iterator[None]:
    variant.port = free_port()
    log = (log_dir / f"{variant.name.replace(' ', '-').replace(',', '')}.log").open("wb")
    variant.process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "backend.app:create_worker_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(variant.port),
            "--no-access-log",
        ],
        cwd=variant.source,
        env=variant.env,
        stdout=log,
        stderr=log,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", variant.port, timeout=5)
                connection.request("GET", "/healthz")
                if connection.getresponse().status == 200:
                    break
            except OSError:
                if variant.process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(
                        f"{variant.name}: server did not start, see {log.name}"
                    ) from None
                time.sleep(0.1)
        yield
    finally:
        variant.process.terminate()
        variant.process.wait(timeout=30)
        log.close()


def request_bodies(
    variant: Variant, kind: RequestKind, origins: list[dict[str, float]]
) -> list[bytes]:
    document = (OPERATIONS / kind.operation_file).read_text()
    digest = hashlib.sha256(document.encode()).hexdigest()
    bodies = []
    for origin in origins:
        body: dict[str, Any] = {"variables": kind.variables(origin)}
        if kind.operation_name:
            body["operationName"] = kind.operation_name
        if variant.persisted:
            body["extensions"] = {"persistedQuery": {"version": 1, "sha256Hash": digest}}
        else:
            body["query"] = document
        bodies.append(json.dumps(body).encode())
    return bodies


def post_all(variant: Variant, kind: RequestKind, bodies: list[bytes], concurrency: int) -> float:
    """Send the bodies over ``concurrency`` keep-alive connections; returns the wall time."""
    headers = {"content-type": "application/json"}
    if kind.signed_in:
        headers["authorization"] = f"Bearer {variant.token}"
    failures: list[str] = []

    def worker(share: list[bytes]) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", variant.port, timeout=60)
        for body in share:
            connection.request("POST", "/graphql", body, headers)
            response = connection.getresponse()
            data = response.read()
            if response.status != 200 or b'"errors"' in data or b"RouteError" in data:
                failures.append(f"{response.status} {data[:300]!r}")
                return
        connection.close()

    shares = [bodies[i::concurrency] for i in range(concurrency)]
    threads = [threading.Thread(target=worker, args=(share,)) for share in shares]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if failures:
        raise SystemExit(f"{variant.name}, {kind.name}: request failed: {failures[0]}")
    return elapsed


def measure(
    variant: Variant, kind: RequestKind, origins: list[dict[str, float]], concurrency: int
) -> None:
    post_all(variant, kind, request_bodies(variant, kind, origins[:20]), 1)  # warm-up
    bodies = request_bodies(variant, kind, origins)
    assert variant.process is not None
    cpu_before = cpu_seconds(variant.process.pid)
    wall = post_all(variant, kind, bodies, concurrency)
    cpu = cpu_seconds(variant.process.pid) - cpu_before
    variant.cpu_ms.setdefault(kind.name, []).append(cpu / len(bodies) * 1000)
    variant.rate.setdefault(kind.name, []).append(len(bodies) / wall)


def extract(ref: str, into: Path) -> Path | None:
    """The repository's tree at ``ref`` in a folder (None when git or the ref is missing)."""
    archive = into / "before.tar"
    result = subprocess.run(
        ["git", "-C", str(REPO), "archive", "--format=tar", "-o", str(archive), ref],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        print(f"note: no 'before' variant, git archive {ref} failed: {result.stderr.strip()}")
        return None
    source = into / "before-src"
    with tarfile.open(archive) as tar:
        tar.extractall(source, filter="data")
    return source


def database_url(base: str | None, folder: Path, suffix: str, stack: ExitStack) -> str:
    """SQLite in the variant's folder, or a fresh PostgreSQL database <name>_bench_<suffix>
    on the server of ``base``, dropped at the end."""
    if base is None:
        return f"sqlite+aiosqlite:///{folder / 'kizuna.sqlite3'}"
    import asyncio

    from sqlalchemy import text
    from sqlalchemy.engine import make_url
    from sqlalchemy.ext.asyncio import create_async_engine

    url = make_url(base)
    name = f"{url.database}_bench_{suffix}"
    admin_url = url.set(database="postgres").render_as_string(hide_password=False)

    async def run(*statements: str) -> None:
        admin = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
        async with admin.connect() as connection:
            for statement in statements:
                await connection.execute(text(statement))
        await admin.dispose()

    drop = f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
    asyncio.run(run(drop, f'CREATE DATABASE "{name}"'))
    stack.callback(lambda: asyncio.run(run(drop)))
    return url.set(database=name).render_as_string(hide_password=False)


def request_kinds(addresses: list[dict[str, float]]) -> list[RequestKind]:
    min_lon, min_lat, max_lon, max_lat = DEMO_NETWORK
    on_network = [
        a for a in addresses if min_lon <= a["lon"] <= max_lon and min_lat <= a["lat"] <= max_lat
    ]
    return [
        RequestKind(
            "shelters(near:), 5 nearest",
            "Shelters.graphql",
            "NearestShelters",
            False,
            lambda a: {"near": {"latitude": a["lat"], "longitude": a["lon"]}, "first": 5},
            addresses,
        ),
        RequestKind(
            "evacuationRoute, nearest shelter",
            "EvacuationRoute.graphql",
            None,
            False,
            lambda a: {
                "input": {
                    "from": {"latitude": a["lat"], "longitude": a["lon"]},
                    "hazardType": "FLOOD",
                }
            },
            on_network,
        ),
        RequestKind("me (signed in)", "Me.graphql", None, True, lambda _: {}, [{}]),
    ]


def load_addresses() -> list[dict[str, float]]:
    """Real addresses of Aizu-Wakamatsu (705), or points of the demo network without them."""
    shared = shared_data_dir()
    path = shared / "addresses" / "aizuwakamatsu.json" if shared else None
    if path is not None and path.exists():
        rows = json.loads(path.read_text())
        return [{"lat": float(r["lat"]), "lon": float(r["lng"])} for r in rows]
    rng = random.Random(SEED)
    min_lon, min_lat, max_lon, max_lat = DEMO_NETWORK
    return [
        {"lat": rng.uniform(min_lat, max_lat), "lon": rng.uniform(min_lon, max_lon)}
        for _ in range(300)
    ]


def shelter_files() -> list[Path]:
    shared = shared_data_dir()
    if shared is None:
        print("note: ../shared/data absent: demo shelters only")
        return []
    folder = shared / "gsi-shelters"
    return sorted(folder.glob("emergency/07*.json")) + sorted(folder.glob("evacuation/07*.json"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300, help="per request kind and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--before-ref", default=BEFORE_REF, help="'' to skip the before variant")
    parser.add_argument("--database-url", help="PostgreSQL server to create databases on")
    args = parser.parse_args()

    rng = random.Random(SEED)
    files = shelter_files()
    kinds = request_kinds(load_addresses())
    with tempfile.TemporaryDirectory(prefix="kizuna-bench-") as tmp, ExitStack() as stack:
        root = Path(tmp)
        sources: list[tuple[str, Path | None, dict[str, str], bool]] = [
            ("before", extract(args.before_ref, root) if args.before_ref else None, {}, False),
            ("after, plain", REPO, {"KIZUNA_NEAREST_SHELTER_CACHE_SIZE": "0"}, False),
            ("after", REPO, {}, True),
        ]
        variants = []
        for index, (name, source, extra, persisted) in enumerate(sources):
            if source is None:
                continue
            folder = root / f"variant-{index}"
            env = {key: value for key, value in os.environ.items() if not key.startswith("KIZUNA_")}
            env.update(
                KIZUNA_DATA_DIR=str(folder),
                KIZUNA_DATABASE_URL=database_url(args.database_url, folder, str(index), stack),
                KIZUNA_ENVIRONMENT="development",
                **extra,
            )
            variants.append(Variant(name, source, env, persisted))
        print(f"preparing {len(variants)} databases ({len(files)} GSI shelter files each)...")
        for variant in variants:
            prepare(variant, files)
            stack.enter_context(serving(variant, root))
        for round_number in range(args.rounds):
            for kind in kinds:
                # The same requests for every variant; the order alternates round by round.
                origins = [rng.choice(kind.origins) for _ in range(args.requests)]
                for variant in variants if round_number % 2 == 0 else variants[::-1]:
                    measure(variant, kind, origins, args.concurrency)
        report(variants, kinds, args)


def report(variants: list[Variant], kinds: list[RequestKind], args: argparse.Namespace) -> None:
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    database = "SQLite" if args.database_url is None else "PostgreSQL"
    print(
        f"\n{args.requests} requests x {args.rounds} rounds per kind and variant, "
        f"{args.concurrency} connections, {database}; medians over rounds. "
        f"{os.cpu_count()} CPUs, load average {load} (other processes skew CPU times)\n"
    )
    names = [v.name for v in variants]
    width = max(14, *(len(n) + 2 for n in names))
    for kind in kinds[:2]:
        cells = {h3.latlng_to_cell(o["lat"], o["lon"], CELL_RESOLUTION) for o in kind.origins}
        print(
            f"{kind.name}: {len(kind.origins)} origins in {len(cells)} H3 cells "
            f"(the nearest-shelter cache keeps candidates per cell)"
        )
    print(f"\n{'server CPU per request (ms)':<36}" + "".join(f"{n:>{width}}" for n in names))
    for kind in kinds:
        cells = [statistics.median(v.cpu_ms[kind.name]) for v in variants]
        print(f"{kind.name:<36}" + "".join(f"{c:>{width}.2f}" for c in cells))
    print(f"\n{'requests per second':<36}" + "".join(f"{n:>{width}}" for n in names))
    for kind in kinds:
        cells = [statistics.median(v.rate[kind.name]) for v in variants]
        print(f"{kind.name:<36}" + "".join(f"{c:>{width}.0f}" for c in cells))


if __name__ == "__main__":
    main()
