"""Alert-to-inbox latency: a CAP document in, 10,000 residents' outbox rows, then their pushes.

Run: .venv/bin/python bench/bench_alert_latency.py [--recipients 10000] [--runs 5]
     [--database-url postgresql+asyncpg://...] [--poll-seconds 1.0] [--outbox-only]

PostgreSQL only. Without --database-url a scratch database ``kizuna_bench_latency`` is created
on 127.0.0.1:5432 (user postgres) and dropped at the end.

Fill (COPY): N residents with a home inside a polygon over 郡山 (an irregular 48-vertex
outline) and one active Android device each, as many neighbours with a home just around it
(not concerned), and 100 residents inside the same outline moved to 会津若松 (the baseline).
Each run writes a new CAP 1.2 evacuation order (避難指示, level 4: category EMERGENCY, no
preference filters it) with that polygon and hands it to ``alerts.ingest.ingest_document``
as the HTTP relay and the feed poller do, timing:

1. ingest -> outbox: from the call to its return, when the alert, N inbox rows and N outbox
   rows are committed (parse and schema check, areas -> cells, targeting, notify);
2. -> first / last push delivered: when ``backend/push/worker.py`` is in the tree, a
   ``kizuna worker`` process (default settings: batches of 500, 2 in flight, idle poll
   every --poll-seconds) sends to the fake FCM server (``python -m tests.fake_fcm``) with the
   real firebase-admin client; the time of the first and of the last DeliveryRecord written
   for the alert (their ``at``, taken by the worker as it records the batch).
Runs alternate between the N-recipient alert and the same alert over the 100-recipient
outline (the baseline), ``--runs`` of each; p50/p95 per step.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import math
import os
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import h3
import numpy as np
import shapely
from h3.api import basic_int
from shapely.affinity import translate
from shapely.geometry import Polygon
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from backend.alerts.ingest import ingest_document  # noqa: E402
from backend.bootstrap import sync_reference_data  # noqa: E402
from backend.config import Settings  # noqa: E402
from backend.db.migrate import upgrade  # noqa: E402
from backend.db.session import Database, RequestDatabase  # noqa: E402

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
SCRATCH = "kizuna_bench_latency"
SEED = 1010
BASELINE_RECIPIENTS = 100
# Over the west of 郡山市, and the same outline over 会津若松市 for the baseline.
CENTRE = (140.345, 37.405)
BASELINE_SHIFT = (139.93 - CENTRE[0], 37.495 - CENTRE[1])
HAS_WORKER = (
    importlib.util.find_spec("backend.push.worker") is not None
    and (ROOT / "tests" / "fake_fcm.py").is_file()
)


def outline() -> Polygon:
    """An irregular outline about 4.5 x 3 km (48 vertices), as a city would draw it."""
    points = []
    for k in range(48):
        theta = 2 * math.pi * k / 48
        r = 1 + 0.12 * math.sin(3 * theta) + 0.06 * math.sin(7 * theta + 0.5)
        x, y = 0.025 * r * math.cos(theta), 0.014 * r * math.sin(theta)
        points.append((CENTRE[0] + x, CENTRE[1] + y))
    return shapely.set_precision(Polygon(points), 1e-6)


def points_in(
    rng: np.random.Generator, polygon: Polygon, n: int, *, inside: bool
) -> list[tuple[float, float]]:
    """n random (lon, lat) inside the polygon, or in its bounding box grown by half outside."""
    min_x, min_y, max_x, max_y = polygon.bounds
    if not inside:
        dx, dy = (max_x - min_x) / 2, (max_y - min_y) / 2
        min_x, min_y, max_x, max_y = min_x - dx, min_y - dy, max_x + dx, max_y + dy
    shapely.prepare(polygon)
    found: list[tuple[float, float]] = []
    while len(found) < n:
        xs = rng.uniform(min_x, max_x, 4 * n)
        ys = rng.uniform(min_y, max_y, 4 * n)
        keep = shapely.contains_xy(polygon, xs, ys) == inside
        found.extend(zip(xs[keep].tolist(), ys[keep].tolist(), strict=True))
    return found[:n]


async def fill(dsn: str, polygon: Polygon, baseline: Polygon, recipients: int) -> float:
    """Residents with a home (and a device when inside an outline), written with COPY."""
    rng = np.random.default_rng(SEED)
    now = datetime.now(UTC)
    homes = (
        [(p, True) for p in points_in(rng, polygon, recipients, inside=True)]
        + [(p, False) for p in points_in(rng, polygon, recipients, inside=False)]
        + [(p, True) for p in points_in(rng, baseline, BASELINE_RECIPIENTS, inside=True)]
    )
    residents, places, devices = [], [], []
    for i, ((lon, lat), device) in enumerate(homes):
        resident_id = uuid.uuid4()
        residents.append((resident_id, f"bench-latency-{i}", "unspecified", "ja", False, now, now))
        cells = [basic_int.latlng_to_cell(lat, lon, r) for r in Settings().place_h3_resolutions]
        places.append((uuid.uuid4(), resident_id, "home", "自宅", lat, lon, *cells, now, now))
        if device:
            token = f"bench-{i:07d}-" + "x" * 150  # FCM registration tokens run ~160 chars
            devices.append((uuid.uuid4(), resident_id, token, "android", "ja", True, now, now, now))
    started = time.perf_counter()
    connection = await asyncpg.connect(dsn)
    try:
        async with connection.transaction():
            await connection.copy_records_to_table(
                "residents",
                records=residents,
                columns=[
                    "id",
                    "subject",
                    "gender",
                    "preferred_language",
                    "municipality_chosen",
                    "created_at",
                    "updated_at",
                ],
            )
            await connection.copy_records_to_table(
                "places",
                records=places,
                columns=[
                    "id",
                    "resident_id",
                    "kind",
                    "label",
                    "latitude",
                    "longitude",
                    "h3_res7",
                    "h3_res9",
                    "h3_res11",
                    "created_at",
                    "updated_at",
                ],
            )
            await connection.copy_records_to_table(
                "devices",
                records=devices,
                columns=[
                    "id",
                    "resident_id",
                    "token",
                    "platform",
                    "locale",
                    "active",
                    "last_seen_at",
                    "created_at",
                    "updated_at",
                ],
            )
        await connection.execute("ANALYZE")
    finally:
        await connection.close()
    assert h3.is_valid_cell(h3.int_to_str(places[0][6]))
    return time.perf_counter() - started


def cap_document(polygon: Polygon, run: str, sent: datetime) -> bytes:
    """A CAP 1.2 evacuation order over ``polygon`` (CAP lists points latitude first)."""
    ring = " ".join(f"{lat:.6f},{lon:.6f}" for lon, lat in polygon.exterior.coords)
    stamp = sent.astimezone(UTC).replace(microsecond=0).isoformat()
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>kizuna-bench-latency-{run}</identifier>
  <sender>bench@kizuna.invalid</sender>
  <sent>{stamp}</sent>
  <status>Actual</status>
  <msgType>Alert</msgType>
  <scope>Public</scope>
  <info>
    <language>ja-JP</language>
    <category>Met</category>
    <event>避難指示</event>
    <urgency>Immediate</urgency>
    <severity>Severe</severity>
    <certainty>Likely</certainty>
    <senderName>郡山市（ベンチマーク・架空）</senderName>
    <headline>【ベンチマーク】郡山市西部の一部に避難指示（警戒レベル4）を発令しました（架空）</headline>
    <description>これは性能測定のための架空の情報です。</description>
    <instruction>危険な場所から全員避難してください。</instruction>
    <area>
      <areaDesc>郡山市西部の一部（ベンチマーク）</areaDesc>
      <polygon>{ring}</polygon>
    </area>
  </info>
</alert>
""".encode()


async def deliveries(dsn: str, alert_id: uuid.UUID) -> tuple[int, datetime | None, datetime | None]:
    """(records written, first and last ``at``) for the pushes of one alert."""
    connection = await asyncpg.connect(dsn)
    try:
        row = await connection.fetchrow(
            """SELECT count(*), min(d.at), max(d.at)
               FROM push_deliveries d
               JOIN push_outbox o ON o.id = d.outbox_id
               JOIN notifications n ON n.id = o.notification_id
               WHERE n.dedupe_key LIKE $1""",
            f"alert:{alert_id}:%",
        )
    finally:
        await connection.close()
    return int(row[0]), row[1], row[2]


async def outbox_rows(dsn: str, alert_id: uuid.UUID) -> int:
    connection = await asyncpg.connect(dsn)
    try:
        return int(
            await connection.fetchval(
                """SELECT count(*) FROM push_outbox o
                   JOIN notifications n ON n.id = o.notification_id
                   WHERE n.dedupe_key LIKE $1""",
                f"alert:{alert_id}:%",
            )
        )
    finally:
        await connection.close()


def start_fake(folder: Path) -> tuple[subprocess.Popen[str], str, Path]:
    credentials = folder / "service-account.json"
    fake = subprocess.Popen(
        [sys.executable, "-m", "tests.fake_fcm", "--project", "kizuna-bench", "--credentials",
         str(credentials)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    assert fake.stdout is not None
    line = fake.stdout.readline()
    if "listening on" not in line:
        raise SystemExit(f"the fake FCM server did not start: {line}")
    return fake, line.split("listening on ")[1].split()[0], credentials


def start_worker(
    url: str, folder: Path, fcm_url: str, credentials: Path, poll: float
) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIZUNA_")}
    env.update(
        {
            "KIZUNA_DATABASE_URL": url,
            "KIZUNA_DATA_DIR": str(folder / "state"),
            "KIZUNA_ENVIRONMENT": "development",
            "KIZUNA_LOG_LEVEL": "WARNING",
            "KIZUNA_FCM_CREDENTIALS_FILE": str(credentials),
            "KIZUNA_FCM_ENDPOINT": fcm_url,
            "KIZUNA_PUSH_POLL_SECONDS": str(poll),
        }
    )
    return subprocess.Popen(
        [sys.executable, "-m", "backend.cli", "worker"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


async def one_run(
    database: Database,
    dsn: str,
    polygon: Polygon,
    expected: int,
    worker: subprocess.Popen[bytes] | None,
    wait_at_most: float,
) -> dict[str, float]:
    run = uuid.uuid4().hex[:12]
    document = cap_document(polygon, run, datetime.now(UTC))
    settings = Settings()
    session = database.new_session()
    try:
        started_at = datetime.now(UTC)
        started = time.perf_counter()
        report = await ingest_document(
            RequestDatabase(session), settings, document, f"bench-{run}.xml", via="bench"
        )
        ingest_s = time.perf_counter() - started
    finally:
        await session.close()
    [(_, outcome)] = report.outcomes
    assert outcome.alert_id is not None
    assert outcome.concerned_residents == expected, (outcome.concerned_residents, expected)
    assert await outbox_rows(dsn, outcome.alert_id) == expected
    figures = {"ingest → outbox committed": ingest_s}
    if worker is None:
        return figures
    deadline = time.perf_counter() + wait_at_most
    while True:
        count, first, last = await deliveries(dsn, outcome.alert_id)
        if count >= expected:
            break
        if worker.poll() is not None:
            errors = worker.stderr.read().decode() if worker.stderr else ""
            raise SystemExit(
                f"the worker stopped ({count}/{expected} delivered):\n{errors[-3000:]}"
            )
        if time.perf_counter() > deadline:
            raise SystemExit(f"only {count}/{expected} delivered after {wait_at_most:.0f} s")
        await asyncio.sleep(0.1)
    assert first is not None and last is not None
    figures["ingest → first push delivered"] = (first - started_at) / timedelta(seconds=1)
    figures["ingest → last push delivered"] = (last - started_at) / timedelta(seconds=1)
    return figures


async def run(url: str, args: argparse.Namespace) -> None:
    database = Database.from_url(url)
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    polygon = outline()
    baseline = translate(polygon, *BASELINE_SHIFT)
    folder = Path(tempfile.mkdtemp(prefix="kizuna-latency-"))
    fake = worker = None
    use_worker = HAS_WORKER and not args.outbox_only
    try:
        await upgrade(database.engine)
        async with database.session() as session:
            await sync_reference_data(session)
        fill_s = await fill(dsn, polygon, baseline, args.recipients)
        if use_worker:
            fake, fcm_url, credentials = start_fake(folder)
            worker = start_worker(url, folder, fcm_url, credentials, args.poll_seconds)
        # One alert of each first, untimed: imports, caches, the worker's first FCM token.
        await one_run(database, dsn, polygon, args.recipients, worker, args.timeout)
        await one_run(database, dsn, baseline, BASELINE_RECIPIENTS, worker, args.timeout)
        results: dict[int, list[dict[str, float]]] = {args.recipients: [], BASELINE_RECIPIENTS: []}
        for index in range(args.runs):
            for shape, expected in ((polygon, args.recipients), (baseline, BASELINE_RECIPIENTS)):
                figures = await one_run(database, dsn, shape, expected, worker, args.timeout)
                results[expected].append(figures)
                print(
                    f"run {index + 1}, {expected:,} recipients: "
                    + ", ".join(f"{k} {v:.2f} s" for k, v in figures.items()),
                    flush=True,
                )
    finally:
        for process in (worker, fake):
            if process is not None:
                process.terminate()
                process.wait(30)
        await database.dispose()

    print()
    print(
        f"PostgreSQL; {args.recipients:,} recipients (+{args.recipients:,} neighbours outside, "
        f"+{BASELINE_RECIPIENTS} for the baseline) filled in {fill_s:.1f} s; "
        f"{args.runs} runs each, alternating; {os.cpu_count()} CPUs"
    )
    if use_worker:
        print(
            f"push: kizuna worker (1 process, default batches) → fake FCM on loopback; "
            f"idle poll every {args.poll_seconds:g} s"
        )
    elif args.outbox_only:
        print("push: not measured (--outbox-only)")
    else:
        print("push: backend/push/worker.py is not in this tree: measured to the outbox only")
    print()
    steps = list(results[args.recipients][0])
    print(
        f"| step | {args.recipients:,} recipients p50 | p95 "
        f"| {BASELINE_RECIPIENTS} recipients p50 | p95 |"
    )
    print("|---|---|---|---|---|")
    for step in steps:
        big = [r[step] for r in results[args.recipients]]
        small = [r[step] for r in results[BASELINE_RECIPIENTS]]
        print(
            f"| {step} | {percentile(big, 50):.2f} s | {percentile(big, 95):.2f} s "
            f"| {percentile(small, 50):.2f} s | {percentile(small, 95):.2f} s |"
        )
    if use_worker:
        big = [
            r["ingest → last push delivered"] - r["ingest → outbox committed"]
            for r in results[args.recipients]
        ]
        print(
            f"| outbox → last push ({args.recipients:,}), per message | "
            f"{percentile(big, 50) / args.recipients * 1000:.2f} ms | "
            f"{args.recipients / percentile(big, 50):,.0f} messages/s | | |"
        )


async def main(args: argparse.Namespace) -> None:
    if args.database_url:
        await run(args.database_url, args)
        return
    admin = await asyncpg.connect(ADMIN_URL)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{SCRATCH}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{SCRATCH}"')
    finally:
        await admin.close()
    try:
        await run(f"postgresql+asyncpg://postgres@127.0.0.1:5432/{SCRATCH}", args)
    finally:
        admin = await asyncpg.connect(ADMIN_URL)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{SCRATCH}" WITH (FORCE)')
        finally:
            await admin.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--database-url", help="postgresql+asyncpg URL of an empty database")
    parser.add_argument(
        "--poll-seconds", type=float, default=1.0, help="the worker's idle poll (its default)"
    )
    parser.add_argument("--outbox-only", action="store_true", help="do not start a worker")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per run at most")
    asyncio.run(main(parser.parse_args()))
