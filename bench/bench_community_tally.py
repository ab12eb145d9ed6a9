"""Community tally at 100,000 answers in one event: the leader's service call and its counts.

Run: .venv/bin/python bench/bench_community_tally.py [--answered 100000] [--sizes 30,1000,10000]
     [--repeat 30] [--consenting 0.3] [--database-url URL] [--sqlite]

PostgreSQL by default: without --database-url a scratch database ``kizuna_bench_tally`` is
created on 127.0.0.1:5432 (user postgres) and dropped at the end. --sqlite runs the same on a
SQLite file afterwards.

Fill (bulk, not through the API): --answered residents who answered in the open event, 1-3
answers each (history in safety_answers, the counting one in safety_latest), 5 % more who did
not; an older closed event with half as many answers; one community per --sizes entry, its
members drawn at random from everyone (so about 5 % have not answered), the first one its
leader, and --consenting of the members sharing name, phone and safety status with their
community's leaders (community_safety).

Timed per community size, --repeat times each, interleaved, each on a session whose
connection is already open (so pool checkout is not counted):
- service: ``safety.service.community_tally`` as the leader (leadership check, member ids,
  counts, the consenting members' data read through consent and the reads logged; rolled back);
- counts query: ``safety.repository.status_counts`` over the member ids (safety_latest);
- naive recount: the same counts from the history, the newest answer per member picked with
  ROW_NUMBER() over safety_answers (what the tally would cost without safety_latest).
Then the PostgreSQL plan (EXPLAIN ANALYZE, BUFFERS) of the counts query and the naive recount
for the largest community.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import event as sa_event
from sqlalchemy import func, insert, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from backend.assembly import assemble  # noqa: E402
from backend.bootstrap import sync_reference_data  # noqa: E402
from backend.communities.models import Community, CommunityMembership  # noqa: E402
from backend.consent.models import ConsentGrant  # noqa: E402
from backend.db.dialect import chunked, one_of  # noqa: E402
from backend.db.migrate import upgrade  # noqa: E402
from backend.db.session import Database  # noqa: E402
from backend.principal import Principal, PrincipalKind, RequestMeta, Viewer  # noqa: E402
from backend.residents.models import Resident  # noqa: E402
from backend.safety import repository as safety_repository  # noqa: E402
from backend.safety import service as safety_service  # noqa: E402
from backend.safety.models import DisasterEvent, SafetyAnswer, SafetyLatest  # noqa: E402

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
SCRATCH = "kizuna_bench_tally"
SEED = 100_000
AIZU = "07202"
UUID_ARRAY = re.compile(r"'\{[0-9a-f,-]{36,}\}'")
STATUSES = [("safe", 0.80), ("evacuated_to_shelter", 0.10), ("injured", 0.05), ("needs_help", 0.05)]


@dataclass
class Town:
    event_id: uuid.UUID
    # size -> (community id, its leader, its member ids)
    communities: dict[int, tuple[uuid.UUID, uuid.UUID, list[uuid.UUID]]]
    answered: int
    answers: int
    fill_s: float


async def bulk(
    database: Database, dsn: str | None, table: Any, columns: list[str], rows: list[tuple[Any, ...]]
) -> None:
    """COPY on PostgreSQL; executemany on SQLite."""
    if dsn is not None:
        connection = await asyncpg.connect(dsn)
        try:
            await connection.copy_records_to_table(table.name, records=rows, columns=columns)
        finally:
            await connection.close()
        return
    async with database.session() as session:
        for batch in chunked(rows, 20_000):
            await session.execute(
                insert(table), [dict(zip(columns, r, strict=True)) for r in batch]
            )


def answer_rows(
    rng: random.Random, event_id: uuid.UUID, residents: Sequence[uuid.UUID], start: datetime
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """1-3 answers per resident over the first hours of the event, and the newest of each."""
    statuses = [s for s, _ in STATUSES]
    weights = [w for _, w in STATUSES]
    history, latest = [], []
    for k, resident_id in enumerate(residents):
        given = rng.choices((1, 2, 3), (0.6, 0.3, 0.1))[0]
        at = start + timedelta(seconds=rng.uniform(0, 3_600))
        for n in range(given):
            answer_id = uuid.uuid4()
            status = rng.choices(statuses, weights)[0]
            history.append(
                (answer_id, event_id, resident_id, status, "self", f"bench-{k}", "app",
                 f"tally-{event_id.hex[:8]}-{k}-{n}", at, at)
            )  # fmt: skip
            last = (event_id, resident_id, answer_id, status, at, AIZU)
            at += timedelta(minutes=rng.uniform(5, 120))
        latest.append(last)
    return history, latest


async def fill(
    database: Database, dsn: str | None, answered: int, sizes: list[int], consenting: float
) -> Town:
    rng = random.Random(SEED)
    now = datetime.now(UTC)
    started = time.perf_counter()
    async with database.session() as session:
        await sync_reference_data(session)
    everyone = [uuid.uuid4() for _ in range(answered + answered // 20)]
    await bulk(
        database,
        dsn,
        Resident.__table__,
        ["id", "subject", "family_name", "given_name", "phone", "gender", "preferred_language",
         "home_municipality_code", "municipality_chosen", "created_at", "updated_at"],
        [(rid, f"tally-{k}", "会津", f"住民{k}", "0242-00-0000", "unspecified", "ja", AIZU, True,
          now, now) for k, rid in enumerate(everyone)],
    )  # fmt: skip
    old_event, event_id = uuid.uuid4(), uuid.uuid4()
    await bulk(
        database,
        dsn,
        DisasterEvent.__table__,
        ["id", "name", "state", "started_at", "closed_at", "opened_by", "created_at"],
        [
            (old_event, "前回の地震", "closed", now - timedelta(days=200),
             now - timedelta(days=190), "bench", now),
            (event_id, "ベンチ地震", "open", now - timedelta(hours=6), None, "bench", now),
        ],
    )  # fmt: skip
    answers = 0
    for which, residents, start in (
        (old_event, rng.sample(everyone, answered // 2), now - timedelta(days=200)),
        (event_id, rng.sample(everyone, answered), now - timedelta(hours=6)),
    ):
        history, latest = answer_rows(rng, which, residents, start)
        answers += len(history) if which == event_id else 0
        await bulk(
            database,
            dsn,
            SafetyAnswer.__table__,
            ["id", "event_id", "resident_id", "status", "answered_by", "recorded_by", "source",
             "idempotency_key", "answered_at", "recorded_at"],
            history,
        )  # fmt: skip
        await bulk(
            database,
            dsn,
            SafetyLatest.__table__,
            ["event_id", "resident_id", "answer_id", "status", "answered_at", "municipality_code"],
            latest,
        )
    communities: dict[int, tuple[uuid.UUID, uuid.UUID, list[uuid.UUID]]] = {}
    community_rows: list[tuple[Any, ...]] = []
    member_rows: list[tuple[Any, ...]] = []
    grant_rows: list[tuple[Any, ...]] = []
    for size in sizes:
        community_id = uuid.uuid4()
        members = rng.sample(everyone, size)
        communities[size] = (community_id, members[0], members)
        community_rows.append((community_id, AIZU, f"町内会{size}", "town_association", now))
        for k, rid in enumerate(members):
            role = "leader" if k == 0 else "member"
            member_rows.append((uuid.uuid4(), community_id, rid, role, now))
            if k and rng.random() < consenting:
                grant_rows.append(
                    (uuid.uuid4(), rid, "community_safety", "role", "community",
                     ["name", "phone", "safety_status"], uuid.uuid4(), now, "consent", "bench",
                     "bench", now)
                )  # fmt: skip
    await bulk(
        database,
        dsn,
        Community.__table__,
        ["id", "municipality_code", "name", "kind", "created_at"],
        community_rows,
    )
    await bulk(
        database,
        dsn,
        CommunityMembership.__table__,
        ["id", "community_id", "resident_id", "role", "joined_at"],
        member_rows,
    )
    if dsn is not None:
        # COPY takes the JSON column as text.
        grant_rows = [
            (*g[:5], f'["{g[5][0]}","{g[5][1]}","{g[5][2]}"]', *g[6:]) for g in grant_rows
        ]
    await bulk(
        database,
        dsn,
        ConsentGrant.__table__,
        ["id", "resident_id", "purpose_code", "recipient_kind", "recipient_role", "items",
         "acceptance_id", "valid_from", "legal_basis", "text_version", "recorded_by",
         "created_at"],
        grant_rows,
    )  # fmt: skip
    if dsn is not None:
        connection = await asyncpg.connect(dsn)
        try:
            await connection.execute("VACUUM ANALYZE")
        finally:
            await connection.close()
    else:
        async with database.session() as session:
            await session.execute(select(func.count()).select_from(SafetyLatest))  # warm
    return Town(event_id, communities, answered, answers, time.perf_counter() - started)


async def naive_counts(
    session: AsyncSession, event_id: uuid.UUID, member_ids: Sequence[uuid.UUID]
) -> dict[str, int]:
    """The counts from the history alone: each member's newest answer by ROW_NUMBER()."""
    batches = [list(member_ids)] if session.get_bind().dialect.name == "postgresql" else None
    counts: dict[str, int] = {}
    for batch in batches or chunked(list(member_ids)):
        ranked = (
            select(
                SafetyAnswer.status,
                func.row_number()
                .over(
                    partition_by=SafetyAnswer.resident_id,
                    order_by=(SafetyAnswer.answered_at.desc(), SafetyAnswer.recorded_at.desc()),
                )
                .label("rank"),
            )
            .where(
                SafetyAnswer.event_id == event_id,
                one_of(session, SafetyAnswer.resident_id, batch),
            )
            .subquery()
        )
        rows = await session.execute(
            select(ranked.c.status, func.count())
            .where(ranked.c.rank == 1)
            .group_by(ranked.c.status)
        )
        for status, count in rows:
            counts[status] = counts.get(status, 0) + count
    return counts


Timed = Callable[[AsyncSession], Awaitable[Any]]


async def timed(database: Database, work: Timed) -> tuple[float, Any]:
    """Milliseconds of ``work`` on a session whose connection is open; rolled back after."""
    async with database.sessionmaker() as session:
        await session.connection()
        started = time.perf_counter()
        result = await work(session)
        elapsed = (time.perf_counter() - started) * 1000
        await session.rollback()
    return elapsed, result


async def explain(database: Database, work: Timed, title: str) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) of the statement ``work`` sends (PostgreSQL)."""
    seen: list[tuple[str, Any]] = []

    def record(_c: Any, _cur: Any, statement: str, parameters: Any, *_rest: Any) -> None:
        seen.append((statement, parameters))

    async with database.sessionmaker() as session:
        connection = await session.connection()
        sa_event.listen(database.engine.sync_engine, "before_cursor_execute", record)
        try:
            await work(session)
        finally:
            sa_event.remove(database.engine.sync_engine, "before_cursor_execute", record)
        statement, parameters = seen[-1]
        raw = (await connection.get_raw_connection()).driver_connection
        assert raw is not None
        rows = await raw.fetch("EXPLAIN (ANALYZE, BUFFERS) " + statement, *parameters)
        await session.rollback()
    print(f"\n{title}:\n  " + " ".join(statement.split()))
    for row in rows:
        # The member ids are one array literal of 36 characters each: say how many instead.
        line = UUID_ARRAY.sub(lambda m: f"'{{{m.group(0).count(',') + 1:,} uuids}}'", row[0])
        print("  " + line)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


async def measure(database: Database, town: Town, repeat: int, label: str) -> None:
    meta = RequestMeta(request_id="bench-tally")
    variants: dict[str, Callable[[int], Timed]] = {}

    def service(size: int) -> Timed:
        community_id, leader, _members = town.communities[size]
        viewer = Viewer(
            principal=Principal(kind=PrincipalKind.RESIDENT, subject=f"leader-{size}"),
            resident_id=leader,
        )
        return lambda s: safety_service.community_tally(
            s, viewer, community_id=community_id, event_id=town.event_id, meta=meta
        )

    def counts(size: int) -> Timed:
        members = town.communities[size][2]
        return lambda s: safety_repository.status_counts(s, town.event_id, members)

    def naive(size: int) -> Timed:
        members = town.communities[size][2]
        return lambda s: naive_counts(s, town.event_id, members)

    variants = {
        "service: community_tally": service,
        "counts query (safety_latest)": counts,
        "naive recount (history)": naive,
    }
    sizes = sorted(town.communities)
    results: dict[tuple[str, int], list[float]] = {}
    tallies: dict[tuple[str, int], dict[str, int]] = {}
    for size in sizes:  # untimed warm-up: statement caches, consent catalog
        for name, make in variants.items():
            _ms, result = await timed(database, make(size))
            tallies[(name, size)] = _as_counts(result)
    for _ in range(repeat):
        for size in sizes:
            for name, make in variants.items():
                ms, _result = await timed(database, make(size))
                results.setdefault((name, size), []).append(ms)
    print(
        f"\n{label}: {town.answered:,} residents answered in the event ({town.answers:,} "
        f"answers in its history), {repeat} runs each (ms)\n"
    )
    header = "".join(f" | {s:,} members p50 | p95" for s in sizes)
    print(f"| variant{header} |")
    print("|---" + "|---|---" * len(sizes) + "|")
    for name in variants:
        runs = [results[(name, s)] for s in sizes]
        cells = "".join(f" | {percentile(r, 50):.1f} | {percentile(r, 95):.1f}" for r in runs)
        print(f"| {name}{cells} |")
    for size in sizes:
        same = {json_key(tallies[(n, size)]) for n in variants}
        _c, _l, members = town.communities[size]
        view = tallies[("service: community_tally", size)]
        print(
            f"{size:,} members: {view} "
            f"({'all three agree' if len(same) == 1 else 'MISMATCH: ' + str(same)})"
        )


def _as_counts(result: Any) -> dict[str, int]:
    if isinstance(result, dict):
        return {k: v for k, v in result.items() if v}
    tally = result.tally
    named = {
        "safe": tally.safe,
        "injured": tally.injured,
        "needs_help": tally.needs_help,
        "evacuated_to_shelter": tally.evacuated,
    }
    return {k: v for k, v in named.items() if v}


def json_key(counts: dict[str, int]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(counts.items()))


async def run(url: str, args: argparse.Namespace, label: str) -> None:
    assemble()
    database = Database.from_url(url)
    backend = make_url(url).get_backend_name()
    dsn = (
        make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        if backend == "postgresql"
        else None
    )
    try:
        await upgrade(database.engine)
        sizes = [int(s) for s in args.sizes.split(",")]
        town = await fill(database, dsn, args.answered, sizes, args.consenting)
        print(f"{label}: filled in {town.fill_s:.1f} s", flush=True)
        await measure(database, town, args.repeat, label)
        if dsn is not None:
            largest = max(sizes)
            members = town.communities[largest][2]
            await explain(
                database,
                lambda s: safety_repository.status_counts(s, town.event_id, members),
                f"counts query, {largest:,} members",
            )
            await explain(
                database,
                lambda s: naive_counts(s, town.event_id, members),
                f"naive recount, {largest:,} members",
            )
    finally:
        await database.dispose()


async def main(args: argparse.Namespace) -> None:
    if args.database_url:
        await run(args.database_url, args, "PostgreSQL")
    else:
        admin = await asyncpg.connect(ADMIN_URL)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{SCRATCH}" WITH (FORCE)')
            await admin.execute(f'CREATE DATABASE "{SCRATCH}"')
        finally:
            await admin.close()
        try:
            url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{SCRATCH}"
            await run(url, args, "PostgreSQL 15")
        finally:
            admin = await asyncpg.connect(ADMIN_URL)
            try:
                await admin.execute(f'DROP DATABASE IF EXISTS "{SCRATCH}" WITH (FORCE)')
            finally:
                await admin.close()
    if args.sqlite:
        with tempfile.TemporaryDirectory(prefix="kizuna-tally-") as folder:
            await run(f"sqlite+aiosqlite:///{folder}/tally.sqlite3", args, "SQLite")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answered", type=int, default=100_000, help="residents who answered")
    parser.add_argument("--sizes", default="30,1000,10000", help="community sizes")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument(
        "--consenting", type=float, default=0.3, help="share of members who consented"
    )
    parser.add_argument("--database-url", help="postgresql+asyncpg URL of an empty database")
    parser.add_argument("--sqlite", action="store_true", help="also run on a SQLite file")
    asyncio.run(main(parser.parse_args()))
