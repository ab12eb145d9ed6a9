"""Push fan-out: messages per second from the outbox to a fake FCM server, 1 and 2 workers.

Run: .venv/bin/python bench/push_fanout.py [--messages 20000] [--database-url URL]
                                           [--fake-processes 2] [--gateways fcm,log]
                                           [--max-in-flight 16]

Fills the outbox with N messages (one device each), then for each gateway and worker count
starts that many `kizuna worker --once` processes and measures from the first claim to the
moment every row is SENT with its delivery record (worker start-up excluded, recording
included). ``fcm``: the real firebase-admin client against `python -m tests.fake_fcm` (several
processes sharing one port when --fake-processes > 1); ``log``: the log gateway, i.e. the
outbox machinery alone (claim, build, record) without HTTP. Default database: a temporary
SQLite file; PostgreSQL with --database-url (its push tables are emptied first).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import case, delete, func, insert, select, update

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from backend.db.base import utcnow  # noqa: E402
from backend.db.dialect import table_of  # noqa: E402
from backend.db.migrate import upgrade  # noqa: E402
from backend.db.session import Database  # noqa: E402
from backend.push.models import (  # noqa: E402
    DeliveryRecord,
    Device,
    Notification,
    OutboxMessage,
)
from backend.residents.models import Resident  # noqa: E402

OUTBOX = table_of(OutboxMessage)
PER_RESIDENT = 500


async def fill(database: Database, messages: int) -> None:
    """Empty the push tables and queue ``messages`` rows (one device each)."""
    now = utcnow()
    async with database.session() as session:
        for model in (DeliveryRecord, OutboxMessage, Notification, Device):
            await session.execute(delete(table_of(model)))
        await session.execute(
            delete(table_of(Resident)).where(table_of(Resident).c.subject.like("bench-push-%"))
        )
        for start in range(0, messages, PER_RESIDENT):
            resident_id, notification_id = uuid.uuid4(), uuid.uuid4()
            await session.execute(
                insert(table_of(Resident)).values(
                    id=resident_id,
                    subject=f"bench-push-{start}",
                    gender="unspecified",
                    preferred_language="ja",
                    municipality_chosen=False,
                    created_at=now,
                    updated_at=now,
                )
            )
            await session.execute(
                insert(table_of(Notification)).values(
                    id=notification_id,
                    resident_id=resident_id,
                    dedupe_key=f"bench:{start}",
                    category="emergency",
                    title_ja="避難指示",
                    body_ja="自宅が避難指示の対象区域です。直ちに避難してください。",
                    title_en="Evacuation order",
                    body_en="Your home is in the evacuation order area. Evacuate now.",
                    data={"alertId": "bench"},
                    created_at=now,
                )
            )
            devices: list[dict[str, Any]] = [
                {
                    "id": uuid.uuid4(),
                    "resident_id": resident_id,
                    "token": f"bench-{index:07d}-" + "x" * 140,  # FCM tokens are ~160 chars
                    "platform": "android" if index % 3 else "ios",
                    "locale": "en" if index % 10 == 0 else "ja",
                    "active": True,
                    "last_seen_at": now,
                    "created_at": now,
                    "updated_at": now,
                }
                for index in range(start, min(messages, start + PER_RESIDENT))
            ]
            await session.execute(insert(table_of(Device)), devices)
            await session.execute(
                insert(OUTBOX),
                [
                    {
                        "notification_id": notification_id,
                        "device_id": d["id"],
                        "idempotency_key": f"{notification_id}:{d['id']}",
                        "state": "pending",
                        "attempts": 0,
                        "next_attempt_at": now,
                        "created_at": now,
                    }
                    for d in devices
                ],
            )


async def reset(database: Database, *, due: bool = True) -> None:
    """Every row pending again, no records: the next run starts from the same outbox."""
    async with database.session() as session:
        await session.execute(delete(table_of(DeliveryRecord)))
        await session.execute(
            update(OUTBOX).values(
                state="pending",
                attempts=0,
                next_attempt_at=utcnow() + timedelta(days=0 if due else 1),
                lease_owner=None,
                lease_until=None,
                sent_at=None,
            )
        )


async def progress(database: Database) -> tuple[int, int]:
    """(rows touched by a worker, rows SENT)."""
    async with database.session() as session:
        found = await session.execute(
            select(
                func.sum(case((OUTBOX.c.attempts > 0, 1), else_=0)),
                func.sum(case((OUTBOX.c.state == "sent", 1), else_=0)),
            )
        )
        touched, sent = found.one()
        return int(touched or 0), int(sent or 0)


def _children_cpu() -> float:
    """CPU seconds of the finished child processes (the workers once they have exited)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def start(command: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    """A worker process (Popen returns at once: nothing to wait for on the event loop)."""
    return subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )


async def run_workers(
    database: Database, env: dict[str, str], workers: int, messages: int, args: argparse.Namespace
) -> tuple[float, float, float]:
    """Seconds from the first claim to all SENT, wall seconds including start-up, and the
    workers' CPU seconds."""
    command = [
        sys.executable,
        "-m",
        "backend.cli",
        "worker",
        "--once",
        "--batch-size",
        str(args.batch_size),
        "--concurrency",
        str(args.concurrency),
    ]
    before = _children_cpu()
    started = time.perf_counter()
    processes = [start(command, env) for _ in range(workers)]
    first = None if messages else started
    while True:
        touched, sent = await progress(database)
        now = time.perf_counter()
        if first is None and touched:
            first = now
        if sent >= messages and (messages or all(p.poll() is not None for p in processes)):
            break
        failed = [p for p in processes if p.poll() not in (None, 0)]
        if failed or (all(p.poll() == 0 for p in processes) and sent < messages):
            errors = b"".join(p.stderr.read() for p in processes if p.stderr).decode()
            raise SystemExit(f"workers stopped with {sent}/{messages} sent:\n{errors[-3000:]}")
        await asyncio.sleep(0.05)  # polling costs the database too: not too often
    done = time.perf_counter()
    for process in processes:
        process.wait(60)
    assert first is not None
    return done - first, done - started, _children_cpu() - before


def start_fake(processes: int, credentials: Path) -> tuple[subprocess.Popen[str], str]:
    fake = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.fake_fcm",
            "--processes",
            str(processes),
            "--project",
            "kizuna-bench",
            "--credentials",
            str(credentials),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert fake.stdout is not None
    line = fake.stdout.readline()
    if "listening on" not in line:
        raise SystemExit(f"the fake FCM server did not start: {line}")
    return fake, line.split("listening on ")[1].split()[0]


async def main(args: argparse.Namespace) -> None:
    folder = Path(tempfile.mkdtemp(prefix="kizuna-push-bench-"))
    url = args.database_url or f"sqlite+aiosqlite:///{folder / 'bench.sqlite3'}"
    database = Database.from_url(url)
    await upgrade(database.engine)
    started = time.perf_counter()
    await fill(database, args.messages)
    kind = database.dialect
    print(
        f"outbox: {args.messages:,} messages on {kind} "
        f"(filled in {time.perf_counter() - started:.1f} s); batches of {args.batch_size}, "
        f"{args.concurrency} in flight per worker; {os.cpu_count()} CPUs"
    )
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("KIZUNA_")}
    base_env.update(
        {
            "KIZUNA_DATABASE_URL": url,
            "KIZUNA_DATA_DIR": str(folder / "state"),
            "KIZUNA_ENVIRONMENT": "development",
            "KIZUNA_LOG_LEVEL": "WARNING",
        }
    )
    fake = None
    rows: list[tuple[str, int, float, float]] = []
    try:
        for gateway in args.gateways.split(","):
            env = dict(base_env)
            cpu_before, workers_cpu, sent = _children_cpu(), 0.0, 0
            if gateway == "fcm":
                credentials = folder / "service-account.json"
                fake, fake_url = start_fake(args.fake_processes, credentials)
                env["KIZUNA_FCM_CREDENTIALS_FILE"] = str(credentials)
                env["KIZUNA_FCM_ENDPOINT"] = fake_url
                if args.max_in_flight:
                    env["KIZUNA_FCM_MAX_IN_FLIGHT"] = str(args.max_in_flight)
            # What a worker process costs with nothing to do (imports, credentials, connecting):
            # subtracted, so the CPU figures say what each message costs the worker.
            await reset(database, due=False)
            _, _, startup_cpu = await run_workers(database, env, 1, 0, args)
            workers_cpu += startup_cpu
            for workers in (int(w) for w in args.workers.split(",")):
                await reset(database)
                seconds, wall, cpu = await run_workers(database, env, workers, args.messages, args)
                per_message = max(0.0, cpu - workers * startup_cpu) / args.messages
                workers_cpu, sent = workers_cpu + cpu, sent + args.messages
                rows.append((gateway, workers, seconds, per_message))
                print(
                    f"  {gateway:>3} gateway, {workers} worker(s): {args.messages / seconds:>8,.0f}"
                    f" messages/s ({seconds:.2f} s from first claim to all SENT; "
                    f"{wall:.2f} s with process start-up); worker CPU "
                    f"{per_message * 1e6:,.0f} us a message",
                    flush=True,
                )
            if fake is not None:
                fake.terminate()
                fake.wait(10)
                fake = None
                # The fake's processes, reaped: what the server side cost on the same cores.
                fake_cpu = _children_cpu() - cpu_before - workers_cpu
                print(f"  fake FCM server CPU {fake_cpu / sent * 1e6:,.0f} us a message")
    finally:
        if fake is not None:
            fake.terminate()
        await database.dispose()
    print()
    print("| gateway | workers | messages/s | seconds | worker CPU a message | per worker core |")
    print("|---|---|---|---|---|---|")
    for gateway, workers, seconds, per_message in rows:
        core = f"{1 / per_message:,.0f}/s" if per_message else "-"
        print(
            f"| {gateway} | {workers} | {args.messages / seconds:,.0f} | {seconds:.2f} | "
            f"{per_message * 1e6:,.0f} us | {core} |"
        )
    if args.gateways.count("fcm"):
        print(
            f"fcm: firebase-admin against the fake FCM server in {args.fake_processes} "
            "process(es) on the same machine"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--database-url", help="default: a temporary SQLite file")
    parser.add_argument("--workers", default="1,2", help="worker process counts to run")
    parser.add_argument("--gateways", default="log,fcm", help="log and/or fcm")
    parser.add_argument("--fake-processes", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--max-in-flight", type=int, help="FCM requests in flight per worker")
    asyncio.run(main(parser.parse_args()))
