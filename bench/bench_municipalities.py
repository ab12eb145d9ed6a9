"""Time the municipality sync run at every start, and locating many places after a boundary import.

Run: .venv/bin/python bench/bench_municipalities.py [--places 50000] [--database-url URL]

1. Sync of the national list (1,918 municipalities) into a fresh database: the first sync,
   then the sync every later start runs (nothing changed: one SELECT), against two baselines
   measured in the same run: upserting every row at each start, and the 59-row Fukushima
   upsert that started the server before.
2. ``kizuna import boundaries`` of all 59 Fukushima boundaries with N saved places (homes of
   N residents, random in and around 会津若松市) stored before: the bulk relocation (SQL box
   prefilter, one exact pass in a worker thread, grouped UPDATEs; every place moves), the
   same once more (nothing moves), against the per-place ``locate`` a simple loop would
   run, timed on a sample and scaled to N; both must agree. Writing 2 x N rows with their
   indexes is most of the first figure.
Uses ../shared/data/boundaries (or $KIZUNA_SHARED_DATA/boundaries); skips part 2 when absent.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from backend.db.base import utcnow  # noqa: E402
from backend.db.migrate import upgrade  # noqa: E402
from backend.db.session import Database  # noqa: E402
from backend.municipalities import repository as municipality_repository  # noqa: E402
from backend.municipalities import service as municipality_service  # noqa: E402
from backend.municipalities.reference import national_reference, served_codes  # noqa: E402
from backend.residents import service as residents_service  # noqa: E402
from backend.residents.models import Place, Resident  # noqa: E402
from tests.shared_data import shared_data_dir  # noqa: E402

# Around 会津若松市 (its boundary spans lon 139.839-140.113, lat 37.323-37.583) and beyond.
AREA = (139.75, 37.25, 140.20, 37.65)
SEED = 7202
SAMPLE = 2_000


def reference_rows(codes: set[str] | None = None) -> list[dict[str, object]]:
    served = served_codes(["07"])
    return [
        {
            "code": ref.code,
            "prefecture_code": ref.prefecture_code,
            "prefecture_name_ja": ref.prefecture_name_ja,
            "name_ja": ref.name_ja,
            "name_kana": ref.name_kana,
            "name_en": ref.name_en,
            "designated_city_code": ref.designated_city_code,
            "served": ref.code in served,
        }
        for ref in national_reference()
        if codes is None or ref.code in codes
    ]


async def timed(database: Database, work, repeat: int = 5) -> float:  # type: ignore[no-untyped-def]
    """Median milliseconds of ``work(session)`` in its own committed transaction."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        async with database.session() as session:
            await work(session)
        times.append((time.perf_counter() - started) * 1000.0)
    return statistics.median(times)


async def bench_sync(database: Database) -> None:
    started = time.perf_counter()
    async with database.session() as session:
        written = await municipality_service.sync_reference(session, served_selection=["07"])
    first = (time.perf_counter() - started) * 1000.0
    steady = await timed(
        database,
        lambda s: municipality_service.sync_reference(s, served_selection=["07"]),
    )
    every_row = await timed(
        database, lambda s: municipality_repository.upsert_reference(s, reference_rows())
    )
    fukushima = {code for code in served_codes(["07"])}
    old = await timed(
        database,
        lambda s: municipality_repository.upsert_reference(s, reference_rows(fukushima)),
    )
    print(f"sync, first start: {first:8.1f} ms ({written} rows written)")
    print(f"sync, every later start: {steady:8.1f} ms (median of 5; nothing to write)")
    print(f"  baseline, upsert all {len(reference_rows())} rows each start: {every_row:8.1f} ms")
    print(f"  baseline, the former 59-row Fukushima upsert: {old:8.1f} ms")


async def store_places(database: Database, count: int) -> list[tuple[float, float]]:
    rng = np.random.default_rng(SEED)
    lons = rng.uniform(AREA[0], AREA[2], count)
    lats = rng.uniform(AREA[1], AREA[3], count)
    now = utcnow()
    residents, places = [], []
    for i, (lat, lon) in enumerate(zip(lats.tolist(), lons.tolist(), strict=True)):
        resident_id = uuid.uuid4()
        residents.append(
            {
                "id": resident_id,
                "subject": f"bench-{i}",
                "gender": "unspecified",
                "preferred_language": "ja",
                "municipality_chosen": False,
                "created_at": now,
                "updated_at": now,
            }
        )
        places.append(
            {
                "id": uuid.uuid4(),
                "resident_id": resident_id,
                "kind": "home",
                "label": "自宅",
                "latitude": lat,
                "longitude": lon,
                "h3_res7": 0,
                "h3_res9": 0,
                "h3_res11": 0,
                "created_at": now,
                "updated_at": now,
            }
        )
    async with database.session() as session:
        for table, rows in ((Resident.__table__, residents), (Place.__table__, places)):
            for start in range(0, len(rows), 5_000):
                await session.execute(table.insert(), rows[start : start + 5_000])
    return list(zip(lats.tolist(), lons.tolist(), strict=True))


async def bench_relocation(database: Database, boundaries: list[Path], count: int) -> None:
    points = await store_places(database, count)
    started = time.perf_counter()
    async with database.session() as session:
        imported = [await municipality_service.import_boundary(session, p) for p in boundaries]
    import_s = time.perf_counter() - started

    started = time.perf_counter()
    async with database.session() as session:
        report = await residents_service.relocate_places(session, imported)
    bulk_s = time.perf_counter() - started
    started = time.perf_counter()
    async with database.session() as session:
        again = await residents_service.relocate_places(session, imported)
    again_s = time.perf_counter() - started
    assert again.moved == 0
    async with database.session() as session:
        started = time.perf_counter()
        bulk_codes = await municipality_service.locate_many(session, points)
        exact_s = time.perf_counter() - started

    # Baseline: one locate() per place (SQL candidates + cached prepared geometry), on a sample.
    sample = points[:SAMPLE]
    async with database.session() as session:
        await municipality_service.locate(session, lat=sample[0][0], lon=sample[0][1])  # warm
        started = time.perf_counter()
        loop_codes = [
            await municipality_service.locate(session, lat=lat, lon=lon) for lat, lon in sample
        ]
        loop_s = (time.perf_counter() - started) * len(points) / len(sample)
    assert loop_codes == bulk_codes[:SAMPLE], "bulk and per-place look-ups disagree"
    located = sum(code is not None for code in bulk_codes)
    print(
        f"import of {len(boundaries)} boundaries: {import_s:.2f} s; then {count:,} places: "
        f"{report.examined:,} examined, {report.moved:,} located ({located:,} inside a "
        f"boundary), {report.residents_updated:,} residents updated"
    )
    print(f"relocation, bulk (SQL + worker thread + UPDATEs): {bulk_s:6.2f} s")
    print(f"  of which the exact look-up of all points (locate_many): {exact_s:6.2f} s")
    print(f"relocation after importing the same boundaries again (nothing moves): {again_s:6.2f} s")
    print(
        f"  baseline, locate() per place: {loop_s:6.2f} s for {count:,} "
        f"(measured on {len(sample):,})"
    )


async def main(url: str | None, count: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        database = Database.from_url(url or f"sqlite+aiosqlite:///{tmp}/bench.sqlite3")
        try:
            await upgrade(database.engine)
            print(f"database: {database.engine.dialect.name}")
            await bench_sync(database)
            shared = shared_data_dir()
            if shared is None or not (shared / "boundaries").is_dir():
                print("relocation skipped: ../shared/data/boundaries is absent")
                return
            boundaries = sorted((shared / "boundaries").glob("07*.json"))
            await bench_relocation(database, boundaries, count)
        finally:
            await database.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--places", type=int, default=50_000)
    parser.add_argument("--database-url", help="an empty database (default: a temporary SQLite)")
    args = parser.parse_args()
    asyncio.run(main(args.database_url, args.places))
