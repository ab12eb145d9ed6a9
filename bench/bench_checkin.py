"""Shelter check-ins per second on PostgreSQL, and what the shelters' data stamp costs them.

Run: .venv/bin/python bench/bench_checkin.py [--residents 3000] [--shelters 50]
     [--concurrency 16] [--database-url postgresql+asyncpg://...]

PostgreSQL only. Without --database-url a scratch database ``kizuna_bench_checkin`` is created
on 127.0.0.1:5432 (user postgres) and dropped at the end.

Every check-in updates its shelter's occupancy, and every write to ``shelters`` moves the
table's data stamp (migration 0006: a statement trigger updating one row of data_versions),
so all check-ins, whatever the shelter, queue on that row's lock until they commit; and each
empties every process's nearest-shelter cache. The run times ``--residents`` first
check-ins (``checkin.check_in`` in one transaction each, as a request does) spread over
``--shelters`` open shelters by ``--concurrency`` workers, twice:

1. as shipped (the stamp trigger in place);
2. the baseline: the same with the trigger dropped (no shared lock; the cache would go stale).

It prints check-ins per second and p50/p95 latency of each, and checks that occupancy equals
the stays of each shelter after both.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
import uuid
from pathlib import Path

import asyncpg
import numpy as np
from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from backend.assembly import assemble  # noqa: E402
from backend.bootstrap import sync_reference_data  # noqa: E402
from backend.db.migrate import upgrade  # noqa: E402
from backend.db.session import Database  # noqa: E402
from backend.principal import Principal, PrincipalKind, RequestMeta, Viewer  # noqa: E402
from backend.residents.models import Resident  # noqa: E402
from backend.shelters import checkin  # noqa: E402
from backend.shelters.models import Shelter, ShelterStay  # noqa: E402

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
SCRATCH = "kizuna_bench_checkin"
SEED = 59
RESTAMP = (
    "CREATE TRIGGER shelters_restamp BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE "
    "ON shelters FOR EACH STATEMENT EXECUTE FUNCTION kizuna_restamp()"
)


People = list[tuple[uuid.UUID, str]]


async def fill(database: Database, residents: int, shelters: int) -> tuple[list[uuid.UUID], People]:
    """Open shelters with room for everyone, and residents who signed in before."""
    shelter_ids = [uuid.uuid4() for _ in range(shelters)]
    people = [(uuid.uuid4(), f"bench-{i}") for i in range(residents)]
    async with database.session() as session:
        await sync_reference_data(session)
        await session.execute(
            insert(Shelter),
            [
                {
                    "id": shelter_id,
                    "common_id": f"BENCH-{n:04d}",
                    "name": f"ベンチ避難所{n}",
                    "municipality_code": "07202",
                    "latitude": 37.49 + n * 1e-3,
                    "longitude": 139.93,
                    "h3_res7": 0,
                    "h3_res9": 0,
                    "is_evacuation_shelter": True,
                    "status": "open",
                    "capacity": residents,
                    "occupancy": 0,
                }
                for n, shelter_id in enumerate(shelter_ids)
            ],
        )
        await session.execute(
            insert(Resident), [{"id": rid, "subject": subject} for rid, subject in people]
        )
    return shelter_ids, people


async def reset(database: Database) -> None:
    async with database.session() as session:
        await session.execute(delete(ShelterStay))
        await session.execute(update(Shelter).values(occupancy=0))


async def timed_run(
    database: Database, shelter_ids: list[uuid.UUID], people: People, concurrency: int
) -> tuple[float, list[float]]:
    rng = random.Random(SEED)
    work = [(rid, subject, rng.choice(shelter_ids)) for rid, subject in people]
    queue: asyncio.Queue[tuple[uuid.UUID, str, uuid.UUID]] = asyncio.Queue()
    for item in work:
        queue.put_nowait(item)
    latencies: list[float] = []

    async def worker() -> None:
        while not queue.empty():
            resident_id, subject, shelter_id = queue.get_nowait()
            viewer = Viewer(Principal(PrincipalKind.RESIDENT, subject=subject), resident_id)
            started = time.perf_counter()
            async with database.session() as session:
                await checkin.check_in(
                    session,
                    viewer,
                    shelter_id=shelter_id,
                    resident_id=resident_id,
                    meta=RequestMeta(),
                )
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - started, latencies


async def consistent(database: Database) -> bool:
    """Whether every shelter's occupancy equals its current stays."""
    stays = (
        select(func.count())
        .select_from(ShelterStay)
        .where(ShelterStay.shelter_id == Shelter.id, ShelterStay.checked_out_at.is_(None))
        .scalar_subquery()
    )
    async with database.session() as session:
        wrong = await session.scalar(
            select(func.count()).select_from(Shelter).where(Shelter.occupancy != stays)
        )
    return wrong == 0


def report(label: str, elapsed: float, latencies: list[float]) -> float:
    rate = len(latencies) / elapsed
    p50, p95 = (float(np.percentile(latencies, q)) * 1000 for q in (50, 95))
    print(f"{label:<28} {rate:7.0f} check-ins/s   p50 {p50:6.1f} ms   p95 {p95:6.1f} ms")
    return rate


async def run(url: str, residents: int, shelters: int, concurrency: int) -> None:
    assemble()
    database = Database.from_url(url)
    try:
        await upgrade(database.engine)
        shelter_ids, people = await fill(database, residents, shelters)
        print(
            f"{residents} first check-ins into {shelters} open shelters, "
            f"{concurrency} at a time (one transaction each)"
        )
        elapsed, latencies = await timed_run(database, shelter_ids, people, concurrency)
        shipped = report("as shipped (stamp trigger)", elapsed, latencies)
        ok = await consistent(database)
        await reset(database)
        async with database.session() as session:
            await session.execute(text("DROP TRIGGER shelters_restamp ON shelters"))
        elapsed, latencies = await timed_run(database, shelter_ids, people, concurrency)
        baseline = report("baseline (no stamp trigger)", elapsed, latencies)
        ok = ok and await consistent(database)
        async with database.session() as session:
            await session.execute(text(RESTAMP))
        print(f"shipped / baseline: {shipped / baseline:.2f}   occupancy exact: {ok}")
    finally:
        await database.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--residents", type=int, default=3000)
    parser.add_argument("--shelters", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    url = args.database_url
    scratch = url is None
    if scratch:
        admin = await asyncpg.connect(ADMIN_URL)
        await admin.execute(f'DROP DATABASE IF EXISTS "{SCRATCH}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{SCRATCH}"')
        await admin.close()
        url = make_url(ADMIN_URL).set(drivername="postgresql+asyncpg", database=SCRATCH)
        url = url.render_as_string(hide_password=False)
    try:
        await run(url, args.residents, args.shelters, args.concurrency)
    finally:
        if scratch:
            admin = await asyncpg.connect(ADMIN_URL)
            await admin.execute(f'DROP DATABASE IF EXISTS "{SCRATCH}" WITH (FORCE)')
            await admin.close()


if __name__ == "__main__":
    asyncio.run(main())
