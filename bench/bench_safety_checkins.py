"""Safety check-in throughput over real HTTP: reportSafety on `kizuna serve --workers 2` + PG.

Run: .venv/bin/python bench/bench_safety_checkins.py [--residents 20000] [--duration 15]
     [--concurrency 64] [--workers 2] [--paced-rate 0] [--database-url URL]
     [--in-process-rounds 200]

PostgreSQL only. Without --database-url a scratch database ``kizuna_bench_checkins`` is created
on 127.0.0.1:5432 (user postgres) and dropped at the end.

Fill (COPY, not through HTTP): N residents of 会津若松市 (07202) with a home near a real
address (../shared/data/addresses when present), in town associations of 100 members and
family groups of 4; the real 07202 boundary when ../shared/data is present (answers with a
position are located in it). One event over 07202 is opened through the safety service (so
every resident gets an outbox row, as in a disaster). Then `kizuna serve --workers W` runs as a
subprocess on a free port with its own data directory, whose development signing key the
bench uses to sign one token per resident.

Phases, each for --duration seconds with --concurrency requests in flight over keep-alive
HTTP/1.1 connections of one httpx.AsyncClient (closed loop: a connection sends its next
request when the answer arrives):
1. ``{ __typename }`` signed in: HTTP, GraphQL and token verification, no database (baseline);
2. ``myOpenEvents``: the check-in screen's read (resident, places, open events, own answer);
3. ``reportSafety``: each resident answers for themselves with an idempotency key, half with
   a position (their home, moved up to ~100 m), statuses mixed as after a quake;
4. ``reportSafety`` paced (open loop) at --paced-rate answers/s (default: 70 % of the rate of
   phase 3), latency counted from the moment a request was due, so queueing shows.
CPU per request: the server (supervisor + workers) and this database's PostgreSQL backends
from /proc, and this client process (time.process_time); PostgreSQL's transactions and new
sessions from pg_stat_database. Before the server starts, the same app runs in this process
(httpx ASGI transport) one request at a time: SQL statements per request (counted on the
engine), CPU per request without contention, and the SQL of one answer.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import numpy as np
import orjson
from h3.api import basic_int
from sqlalchemy import event
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from backend.api.ids import encode_id  # noqa: E402
from backend.assembly import assemble  # noqa: E402
from backend.auth.tokens import DevSigner  # noqa: E402
from backend.bootstrap import sync_reference_data  # noqa: E402
from backend.config import Environment, Settings  # noqa: E402
from backend.db.migrate import upgrade  # noqa: E402
from backend.db.session import Database  # noqa: E402
from backend.municipalities import service as municipality_service  # noqa: E402
from backend.principal import Principal, PrincipalKind, Role, RoleGrant  # noqa: E402
from backend.safety import service as safety_service  # noqa: E402
from tests.shared_data import shared_data_dir  # noqa: E402

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
SCRATCH = "kizuna_bench_checkins"
SEED = 7202
AIZU = "07202"
COMMUNITY_SIZE = 100
FAMILY_SIZE = 4
# 会津若松市's built-up area, for homes when ../shared/data/addresses is absent.
TOWN_BOX = (139.90, 37.47, 139.96, 37.52)
# After a large quake most people are fine; the rest is what leaders look for.
STATUSES = [("SAFE", 0.80), ("EVACUATED_TO_SHELTER", 0.10), ("INJURED", 0.05), ("NEEDS_HELP", 0.05)]

TYPENAME = "{ __typename }"
MY_EVENTS = "query MyOpenEvents { myOpenEvents { event { id name } myStatus myAnsweredAt } }"
REPORT = """mutation ReportSafety($input: ReportSafetyInput!) {
  reportSafety(input: $input) {
    answer { id status answeredAt }
    replayed
    errors { code field message }
  }
}"""


# --- fill ----------------------------------------------------------------------------------


def home_points(n: int, rng: random.Random) -> list[tuple[float, float]]:
    """(lat, lon) of n homes: around real addresses of the city when present."""
    shared = shared_data_dir()
    path = shared / "addresses" / "aizuwakamatsu.json" if shared else None
    if path is not None and path.exists():
        anchors = [(float(r["lat"]), float(r["lng"])) for r in json.loads(path.read_text())]
        return [
            (lat + rng.uniform(-0.002, 0.002), lon + rng.uniform(-0.002, 0.002))
            for lat, lon in (rng.choice(anchors) for _ in range(n))
        ]
    min_lon, min_lat, max_lon, max_lat = TOWN_BOX
    return [(rng.uniform(min_lat, max_lat), rng.uniform(min_lon, max_lon)) for _ in range(n)]


@dataclass
class World:
    subjects: list[str]
    homes: list[tuple[float, float]]
    event_id: uuid.UUID
    boundary: bool
    asked: int
    fill_s: float
    open_s: float


async def fill(database: Database, dsn: str, residents: int, settings: Settings) -> World:
    """Residents, homes, communities and families by COPY; the event through the service."""
    rng = random.Random(SEED)
    async with database.session() as session:
        await sync_reference_data(session, settings)
        shared = shared_data_dir()
        boundary = shared is not None and (shared / "boundaries" / f"{AIZU}.json").exists()
        if boundary and shared is not None:
            await municipality_service.import_boundary(
                session, shared / "boundaries" / f"{AIZU}.json"
            )
    now = datetime.now(UTC)
    homes = home_points(residents, rng)
    resolutions = settings.place_h3_resolutions
    resident_rows, place_rows, subjects, ids = [], [], [], []
    for i, (lat, lon) in enumerate(homes):
        resident_id, subject = uuid.uuid4(), f"bench-checkin-{i}"
        ids.append(resident_id)
        subjects.append(subject)
        resident_rows.append(
            (resident_id, subject, "会津", f"住民{i}", "unspecified", "ja", AIZU, True, now, now)
        )
        cells = [basic_int.latlng_to_cell(lat, lon, r) for r in resolutions]
        place_rows.append(
            (uuid.uuid4(), resident_id, "home", "自宅", lat, lon, AIZU, *cells, now, now)
        )
    communities, community_members, groups, family_members = [], [], [], []
    for start in range(0, residents, COMMUNITY_SIZE):
        community_id = uuid.uuid4()
        communities.append(
            (community_id, AIZU, f"町内会{start // COMMUNITY_SIZE}", "town_association", now)
        )
        for k, resident_id in enumerate(ids[start : start + COMMUNITY_SIZE]):
            role = "leader" if k == 0 else "member"
            community_members.append((uuid.uuid4(), community_id, resident_id, role, now))
    for start in range(0, residents, FAMILY_SIZE):
        group_id = uuid.uuid4()
        groups.append((group_id, f"家族{start // FAMILY_SIZE}", ids[start], now))
        for k, resident_id in enumerate(ids[start : start + FAMILY_SIZE]):
            role = "owner" if k == 0 else "member"
            family_members.append((uuid.uuid4(), group_id, resident_id, role, now))
    started = time.perf_counter()
    connection = await asyncpg.connect(dsn)
    try:
        async with connection.transaction():
            copy = connection.copy_records_to_table
            await copy(
                "residents",
                records=resident_rows,
                columns=["id", "subject", "family_name", "given_name", "gender",
                         "preferred_language", "home_municipality_code", "municipality_chosen",
                         "created_at", "updated_at"],
            )  # fmt: skip
            await copy(
                "places",
                records=place_rows,
                columns=["id", "resident_id", "kind", "label", "latitude", "longitude",
                         "municipality_code", "h3_res7", "h3_res9", "h3_res11", "created_at",
                         "updated_at"],
            )  # fmt: skip
            await copy(
                "communities",
                records=communities,
                columns=["id", "municipality_code", "name", "kind", "created_at"],
            )
            await copy(
                "community_memberships",
                records=community_members,
                columns=["id", "community_id", "resident_id", "role", "joined_at"],
            )
            await copy(
                "family_groups",
                records=groups,
                columns=["id", "name", "created_by_id", "created_at"],
            )
            await copy(
                "family_memberships",
                records=family_members,
                columns=["id", "group_id", "resident_id", "role", "joined_at"],
            )
        await connection.execute("ANALYZE")
    finally:
        await connection.close()
    fill_s = time.perf_counter() - started
    staff = Principal(
        kind=PrincipalKind.RESIDENT,
        subject="bench-staff",
        roles=frozenset({RoleGrant(Role.CITY_STAFF, AIZU)}),
    )
    started = time.perf_counter()
    async with database.session() as session:
        event_row, asked = await safety_service.open_event(
            session,
            staff,
            safety_service.EventRequest(name="ベンチ地震", municipality_codes=[AIZU]),
        )
    open_s = time.perf_counter() - started
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute("ANALYZE")
    finally:
        await connection.close()
    return World(subjects, homes, event_row.id, boundary, asked, fill_s, open_s)


# --- server ----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (Linux /proc); 0 when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def kizuna_command() -> list[str]:
    script = Path(sys.executable).parent / "kizuna"
    return [str(script)] if script.exists() else [sys.executable, "-m", "backend.cli"]


@contextmanager
def serving(url: str, folder: Path, workers: int) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`kizuna serve --workers N` on a free port; yields its base URL and process."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIZUNA_")}
    env.update(
        KIZUNA_DATABASE_URL=url,
        KIZUNA_DATA_DIR=str(folder),
        KIZUNA_ENVIRONMENT="development",
        # A disaster-time deployment delivers pushes from `kizuna worker` processes, not from
        # the API workers; the 20,000 outbox rows of the event stay queued here.
        KIZUNA_PUSH_WORKER_IN_PROCESS="false",
    )
    log = (folder / "server.log").open("wb")
    command = [*kizuna_command(), "serve", "--no-migrate", "--port", str(port)]
    process = subprocess.Popen(
        [*command, "--workers", str(workers)], cwd=ROOT, env=env, stdout=log, stderr=log
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the server did not start; see {folder / 'server.log'}")
            time.sleep(0.2)
        yield base, process
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


# --- load ------------------------------------------------------------------------------------


@dataclass
class Phase:
    name: str
    concurrency: str
    latencies: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    wall: float = 0.0
    server_cpu: float = 0.0
    pg_cpu: float = 0.0
    client_cpu: float = 0.0
    sessions: int = 0
    transactions: int = 0
    statements: float | None = None

    @property
    def done(self) -> int:
        return len(self.latencies)

    def ms(self, q: float) -> float:
        return float(np.percentile(np.asarray(self.latencies), q)) * 1000 if self.latencies else 0


Body = Callable[[], tuple[dict[str, str], bytes, str | None]]


def failure(response: httpx.Response, field_name: str | None) -> str | None:
    """Why an answer is not a success (None when it is)."""
    if response.status_code != 200:
        return f"HTTP {response.status_code}"
    document = orjson.loads(response.content)
    if document.get("errors"):
        return str(document["errors"][0].get("message"))[:60]
    if field_name is not None:
        payload = document["data"][field_name]
        if payload["errors"]:
            return str(payload["errors"][0]["code"])
    return None


class Load:
    """The server's processes and database backends, and how to drive requests at them.

    One httpx.AsyncClient per connection: a single client's pool walks all its connections
    for every request, which at 64 connections cost the client ~3 ms of CPU per request
    (measured) and made the client, not the server, the bottleneck.
    """

    def __init__(
        self,
        clients: list[httpx.AsyncClient],
        server: subprocess.Popen[bytes],
        dsn: str,
        database: str,
    ) -> None:
        self.clients = clients
        self.server = server
        self.dsn = dsn
        self.database = database

    async def _database_state(self) -> tuple[list[int], dict[str, int]]:
        """This database's backend pids, and its counters (sessions opened, transactions)."""
        connection = await asyncpg.connect(self.dsn)
        try:
            rows = await connection.fetch(
                "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
                self.database,
            )
            # The statistics collector reports what backends flushed; ask it for fresh figures.
            await connection.execute("SELECT pg_stat_clear_snapshot()")
            counters = await connection.fetchrow(
                "SELECT sessions, xact_commit + xact_rollback AS xacts "
                "FROM pg_stat_database WHERE datname = $1",
                self.database,
            )
        finally:
            await connection.close()
        return [int(r["pid"]) for r in rows], dict(counters)

    def server_pids(self) -> list[int]:
        return [self.server.pid, *children_of(self.server.pid)]

    async def measure(self, phase: Phase, drive: Callable[[], Any]) -> Phase:
        servers = self.server_pids()
        backends, counters = await self._database_state()
        server_before = sum(cpu_seconds(p) for p in servers)
        pg_before = {p: cpu_seconds(p) for p in backends}
        client_before = time.process_time()
        started = time.perf_counter()
        await drive()
        phase.wall = time.perf_counter() - started
        phase.client_cpu = time.process_time() - client_before
        phase.server_cpu = sum(cpu_seconds(p) for p in servers) - server_before
        if self.server_pids() != servers:
            # Its CPU figures would be wrong; seen when another job on the machine killed it.
            raise SystemExit(f"a server process stopped during {phase.name!r}: see server.log")
        # PostgreSQL writes its counters a little after the fact (at most every 0.5 s idle).
        await asyncio.sleep(1.0)
        backends_after, counters_after = await self._database_state()
        # Backends opened during the phase count whole (their CPU began within it); those
        # that also closed within it are missed (see "PG sessions opened").
        phase.pg_cpu = sum(cpu_seconds(p) - pg_before.get(p, 0.0) for p in backends_after)
        # Minus this bench's own two connections (before and after).
        phase.sessions = counters_after["sessions"] - counters["sessions"] - 1
        phase.transactions = counters_after["xacts"] - counters["xacts"] - 2
        return phase

    async def closed_loop(self, phase: Phase, body: Body, seconds: float) -> Phase:
        async def drive() -> None:
            deadline = time.perf_counter() + seconds

            async def connection(client: httpx.AsyncClient) -> None:
                while time.perf_counter() < deadline:
                    await self.one(client, phase, body, time.perf_counter())

            await asyncio.gather(*(connection(c) for c in self.clients))

        return await self.measure(phase, drive)

    async def paced(self, phase: Phase, body: Body, seconds: float, rate: float) -> Phase:
        idle: asyncio.Queue[httpx.AsyncClient] = asyncio.Queue()
        for client in self.clients:
            idle.put_nowait(client)

        async def send(due: float) -> None:
            # Waiting for a free connection counts: latency runs from when the answer was due.
            client = await idle.get()
            try:
                await self.one(client, phase, body, due)
            finally:
                idle.put_nowait(client)

        async def drive() -> None:
            started = time.perf_counter()
            tasks = []
            for k in range(int(rate * seconds)):
                due = started + k / rate
                delay = due - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                tasks.append(asyncio.create_task(send(due)))
            await asyncio.gather(*tasks)

        return await self.measure(phase, drive)

    async def one(self, client: httpx.AsyncClient, phase: Phase, body: Body, due: float) -> None:
        headers, content, field_name = body()
        try:
            response = await client.post("/graphql", content=content, headers=headers)
        except httpx.HTTPError as exc:
            phase.errors[type(exc).__name__] += 1
            return
        why = failure(response, field_name)
        if why is not None:
            phase.errors[why] += 1
            return
        phase.latencies.append(time.perf_counter() - due)


class Requests:
    """Request bodies: a signed-in resident each time, in turn; answers with fresh keys."""

    def __init__(self, world: World, tokens: list[str], run: str) -> None:
        self.world = world
        self.headers = [
            {"authorization": f"Bearer {t}", "content-type": "application/json"} for t in tokens
        ]
        self.event = encode_id("DisasterEvent", world.event_id)
        self.run = run
        self.rng = random.Random(SEED)
        self.next = 0
        self.answers = 0
        self.statuses = [s for s, _ in STATUSES]
        self.weights = [w for _, w in STATUSES]
        self.typename = orjson.dumps({"query": TYPENAME})
        self.my_events = orjson.dumps({"query": MY_EVENTS})

    def _who(self) -> int:
        index = self.next % len(self.headers)
        self.next += 1
        return index

    def plain(self) -> tuple[dict[str, str], bytes, str | None]:
        return self.headers[self._who()], self.typename, None

    def screen(self) -> tuple[dict[str, str], bytes, str | None]:
        return self.headers[self._who()], self.my_events, None

    def answer(self, located: bool | None = None) -> tuple[dict[str, str], bytes, str | None]:
        index = self._who()
        self.answers += 1
        status = self.rng.choices(self.statuses, self.weights)[0]
        answer: dict[str, Any] = {
            "eventId": self.event,
            "status": status,
            "idempotencyKey": f"{self.run}-{self.answers}",
        }
        if located if located is not None else self.rng.random() < 0.5:
            lat, lon = self.world.homes[index]
            answer["location"] = {
                "latitude": lat + self.rng.uniform(-0.0009, 0.0009),
                "longitude": lon + self.rng.uniform(-0.0011, 0.0011),
            }
        content = orjson.dumps({"query": REPORT, "variables": {"input": answer}})
        return self.headers[index], content, "reportSafety"


# --- statements per request (same app, in this process) ---------------------------------------


@dataclass
class InProcess:
    """One request kind sent to the app in this process, one at a time."""

    statements: float
    cpu_ms: float
    wall_ms: float


async def in_process(
    settings: Settings, url: str, requests: Requests, rounds: int
) -> dict[str, InProcess]:
    """SQL statements (counted on the engine) and CPU of each request kind, one at a time."""
    from backend.app import create_app

    database = Database.from_url(url)
    seen: list[str] = []

    def record(_c: Any, _cur: Any, statement: str, *_rest: Any) -> None:
        seen.append(statement)

    event.listen(database.engine.sync_engine, "before_cursor_execute", record)
    app = create_app(settings, database=database)
    found: dict[str, InProcess] = {}
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:

            async def send(body: Body) -> None:
                headers, content, field_name = body()
                response = await client.post("/graphql", content=content, headers=headers)
                assert failure(response, field_name) is None, response.text

            for name, body in (
                ("typename", requests.plain),
                ("screen", requests.screen),
                ("answer", requests.answer),
            ):
                for _ in range(10):  # warm: caches of the first request (purposes, boundary)
                    await send(body)
                seen.clear()
                cpu, wall = time.process_time(), time.perf_counter()
                for _ in range(rounds):
                    await send(body)
                found[name] = InProcess(
                    len(seen) / rounds,
                    (time.process_time() - cpu) / rounds * 1000,
                    (time.perf_counter() - wall) / rounds * 1000,
                )
            for located in (True, False):
                seen.clear()
                await send(lambda located=located: requests.answer(located))
                where = "with a position" if located else "without a position"
                print(f"\nSQL of one reportSafety {where} ({len(seen)} statements):")
                for statement in seen:
                    print("  " + " ".join(statement.split())[:150])
    finally:
        await database.dispose()
    return found


# --- main ------------------------------------------------------------------------------------


def table(phases: list[Phase]) -> None:
    print(
        "| phase | in flight | ok | errors | req/s | p50 ms | p95 ms | p99 ms | max ms "
        "| server CPU ms/req | PG CPU ms/req | client CPU ms/req | SQL stmts/req "
        "| PG xacts/req | PG sessions opened |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for p in phases:
        n = max(p.done, 1)
        stmts = f"{p.statements:.1f}" if p.statements is not None else ""
        print(
            f"| {p.name} | {p.concurrency} | {p.done:,} | {sum(p.errors.values())} "
            f"| {p.done / p.wall:,.0f} | {p.ms(50):.1f} | {p.ms(95):.1f} | {p.ms(99):.1f} "
            f"| {p.ms(100):.1f} | {p.server_cpu / n * 1000:.2f} | {p.pg_cpu / n * 1000:.2f} "
            f"| {p.client_cpu / n * 1000:.2f} | {stmts} | {p.transactions / n:.1f} "
            f"| {p.sessions:,} |"
        )
    for p in phases:
        if p.errors:
            print(f"errors in {p.name}: {dict(p.errors.most_common(5))}")


async def run(url: str, database_name: str, args: argparse.Namespace) -> None:
    # The server's data directory (signing key, metrics, its log): removed unless it failed.
    folder = Path(tempfile.mkdtemp(prefix="kizuna-checkins-"))
    try:
        await measure_all(url, database_name, args, folder)
    except BaseException:
        print(f"the server's log and data directory are kept in {folder}", file=sys.stderr)
        raise
    shutil.rmtree(folder, ignore_errors=True)


async def measure_all(url: str, database_name: str, args: argparse.Namespace, folder: Path) -> None:
    assemble()
    settings = Settings(
        data_dir=folder,
        database_url=url,
        environment=Environment.DEVELOPMENT,
        push_worker_in_process=False,
    )
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    database = Database.from_url(url)
    try:
        await upgrade(database.engine)
        world = await fill(database, dsn, args.residents, settings)
    finally:
        await database.dispose()
    signer = DevSigner(
        settings.dev_signing_key_path,
        issuer=settings.dev_token_issuer,
        audience=settings.dev_token_audience,
    )
    tokens = [signer.sign(s, ttl=timedelta(hours=2)) for s in world.subjects]
    print(
        f"filled {args.residents:,} residents (+ homes, {args.residents // COMMUNITY_SIZE} "
        f"communities of {COMMUNITY_SIZE}, families of {FAMILY_SIZE}) in {world.fill_s:.1f} s; "
        f"openDisasterEvent asked {world.asked:,} residents in {world.open_s:.1f} s; "
        f"07202 boundary {'imported' if world.boundary else 'absent (no ../shared/data)'}",
        flush=True,
    )
    requests = Requests(world, tokens, uuid.uuid4().hex[:8])
    # Before the server starts, so the two never share the CPUs.
    alone = await in_process(settings, url, requests, args.in_process_rounds)
    statements = {name: figures.statements for name, figures in alone.items()}
    phases: list[Phase] = []
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    timeout = httpx.Timeout(60.0, pool=None)
    with serving(url, folder, args.workers) as (base, server):
        clients = [
            httpx.AsyncClient(base_url=base, limits=limits, timeout=timeout)
            for _ in range(args.concurrency)
        ]
        load = Load(clients, server, dsn, database_name)
        # Untimed: opens the connections, fills both workers' pools and first-request caches.
        await load.closed_loop(Phase("warm-up", ""), requests.screen, 3)
        kinds = [
            ("{ __typename } (signed in)", requests.plain, "typename"),
            ("myOpenEvents", requests.screen, "screen"),
            ("reportSafety", requests.answer, "answer"),
        ]
        for name, body, key in kinds:
            phase = Phase(name, str(args.concurrency), statements=statements.get(key))
            phases.append(await load.closed_loop(phase, body, args.duration))
            print(f"  {name}: {phase.done / phase.wall:,.0f} req/s", flush=True)
        answers = phases[-1]
        rate = args.paced_rate or round(0.7 * answers.done / answers.wall)
        phase = Phase(f"reportSafety paced at {rate:g}/s", "open loop")
        phase.statements = statements.get("answer")
        phases.append(await load.paced(phase, requests.answer, args.duration, rate))
        for client in clients:
            await client.aclose()
    connection = await asyncpg.connect(dsn)
    try:
        stored = await connection.fetchval("SELECT count(*) FROM safety_answers")
        counted = await connection.fetchval("SELECT count(*) FROM safety_latest")
    finally:
        await connection.close()
    load_avg = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print()
    print(
        f"PostgreSQL 127.0.0.1, `kizuna serve --workers {args.workers}` (uvicorn, httptools, "
        f"uvloop; log level INFO to a file); client in this process (uvloop): "
        f"{args.concurrency} httpx.AsyncClient of one HTTP/1.1 keep-alive connection each. "
        f"{os.cpu_count()} CPUs shared by the client, the server workers and PostgreSQL (and "
        f"other users of the machine: load average {load_avg}). {args.duration:g} s per phase; "
        f"latency from send (closed loop) or from when due (open loop) to the parsed answer."
    )
    print()
    table(phases)
    print(
        "\nThe same app in this process (httpx ASGI transport), one request at a time, "
        f"{args.in_process_rounds} of each, before the server started:\n"
    )
    print("| request | SQL statements | CPU ms/req (app + client) | wall ms/req |")
    print("|---|---|---|---|")
    for name, figures in zip([p.name for p in phases[:3]], alone.values(), strict=True):
        print(
            f"| {name} | {figures.statements:.1f} | {figures.cpu_ms:.2f} | {figures.wall_ms:.2f} |"
        )
    print(
        f"\nstored: {stored:,} safety_answers rows ({requests.answers:,} answers sent), "
        f"{counted:,} residents with a counting answer"
    )


async def main(args: argparse.Namespace) -> None:
    if args.database_url:
        name = make_url(args.database_url).database or ""
        await run(args.database_url, name, args)
        return
    admin = await asyncpg.connect(ADMIN_URL)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{SCRATCH}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{SCRATCH}"')
    finally:
        await admin.close()
    try:
        await run(f"postgresql+asyncpg://postgres@127.0.0.1:5432/{SCRATCH}", SCRATCH, args)
    finally:
        admin = await asyncpg.connect(ADMIN_URL)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{SCRATCH}" WITH (FORCE)')
        finally:
            await admin.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=20_000)
    parser.add_argument("--duration", type=float, default=15.0, help="seconds per phase")
    parser.add_argument("--concurrency", type=int, default=64, help="requests in flight")
    parser.add_argument("--workers", type=int, default=2, help="kizuna serve --workers")
    parser.add_argument(
        "--paced-rate", type=float, default=0, help="answers/s of the open-loop phase"
    )
    parser.add_argument("--database-url", help="postgresql+asyncpg URL of an empty database")
    parser.add_argument(
        "--in-process-rounds", type=int, default=200, help="requests of each kind in process"
    )
    arguments = parser.parse_args()
    try:
        import uvloop

        uvloop.run(main(arguments))
    except ImportError:
        asyncio.run(main(arguments))
