"""Time the database import of every Fukushima GSI shelter file and the nearest-shelter search.

Run: .venv/bin/python bench/bench_shelters_db.py [--points 200] [--database-url URL]

1. Imports all 118 files (59 municipalities x emergency/evacuation) into a fresh SQLite
   database in one transaction, then re-imports them (idempotent: everything unchanged).
2. Runs the nearest-10 search (bounding-box prefilter on the lat/lon index, geodesic in Python)
   at random points of Fukushima prefecture, with and without a hazard filter, against a naive
   baseline that loads every shelter and sorts by geodesic distance; prints p50/p95 and the
   ratio, and checks both return the same shelters. Fixed seed.
Uses ../shared/data/gsi-shelters (or $KIZUNA_SHARED_DATA/gsi-shelters); skips when absent.
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
from geopy.distance import geodesic
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from backend.bootstrap import sync_reference_data  # noqa: E402
from backend.db.migrate import upgrade  # noqa: E402
from backend.db.session import Database  # noqa: E402
from backend.hazards.types import HazardType  # noqa: E402
from backend.shelters import service  # noqa: E402
from backend.shelters.models import HAZARD_COLUMNS, Shelter  # noqa: E402
from backend.shelters.sources import parse_shelter_file  # noqa: E402
from tests.shared_data import shared_data_dir  # noqa: E402

# Fukushima prefecture's extent (lon 139.16-141.05, lat 36.79-37.98).
FUKUSHIMA_BOX = (139.16, 36.79, 141.05, 37.98)
SEED = 59


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


async def nearest_shelters_naive(
    session: AsyncSession, *, lat: float, lon: float, hazard_type: HazardType | None, limit: int
) -> list[tuple[uuid.UUID, float]]:
    """The baseline: load every shelter (for the hazard) and sort by geodesic distance."""
    statement = select(Shelter.id, Shelter.latitude, Shelter.longitude)
    if hazard_type is not None:
        statement = statement.where(getattr(Shelter, HAZARD_COLUMNS[hazard_type]).is_(True))
    ranked = sorted(
        (geodesic((lat, lon), (p_lat, p_lon)).meters, sid)
        for sid, p_lat, p_lon in await session.execute(statement)
    )
    return [(sid, distance) for distance, sid in ranked[:limit]]


async def run(paths: list[Path], url: str, points: int) -> None:
    database = Database.from_url(url)
    try:
        await upgrade(database.engine)
        async with database.session() as session:
            await sync_reference_data(session)

        started = time.perf_counter()
        rows = sum(len(parse_shelter_file(p).records) for p in paths)
        parse_s = time.perf_counter() - started
        for label in ("first import", "re-import"):
            started = time.perf_counter()
            async with database.session() as session:
                report = await service.import_shelter_files(session, paths)
            elapsed = time.perf_counter() - started
            print(
                f"{label:<13} {elapsed:6.2f} s  {report.rows} rows -> {report.places} shelters "
                f"({report.stored.inserted} new, {report.stored.updated} updated, "
                f"{report.stored.unchanged} "
                f"unchanged); {report.rows / elapsed:,.0f} rows/s; parsing alone {parse_s:.2f} s"
            )
        assert rows == report.rows

        rng = np.random.default_rng(SEED)
        lons = rng.uniform(FUKUSHIMA_BOX[0], FUKUSHIMA_BOX[2], points)
        lats = rng.uniform(FUKUSHIMA_BOX[1], FUKUSHIMA_BOX[3], points)
        async with database.session() as session:
            for hazard in (None, HazardType.FLOOD, HazardType.TSUNAMI):
                fast: list[float] = []
                naive: list[float] = []
                mismatches = 0
                for lat, lon in zip(lats.tolist(), lons.tolist(), strict=True):
                    started = time.perf_counter()
                    found = await service.nearest_shelters(
                        session, lat=lat, lon=lon, hazard_type=hazard, limit=10
                    )
                    fast.append((time.perf_counter() - started) * 1000.0)
                    started = time.perf_counter()
                    baseline = await nearest_shelters_naive(
                        session, lat=lat, lon=lon, hazard_type=hazard, limit=10
                    )
                    naive.append((time.perf_counter() - started) * 1000.0)
                    if [n.shelter.id for n in found] != [sid for sid, _ in baseline]:
                        mismatches += 1
                name = hazard.value if hazard else "any"
                print(
                    f"nearest-10 {name:<8} p50 {statistics.median(fast):6.2f} ms  "
                    f"p95 {percentile(fast, 95):6.2f} ms | naive p50 "
                    f"{statistics.median(naive):7.2f} ms  p95 {percentile(naive, 95):7.2f} ms | "
                    f"p50 ratio {statistics.median(naive) / statistics.median(fast):5.1f}x | "
                    f"mismatches {mismatches}/{points}"
                )
    finally:
        await database.dispose()


def main() -> int:
    """Import into a fresh database, then time nearest-shelter queries against the baseline."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=200)
    parser.add_argument("--database-url", help="an empty database (default: a temp SQLite file)")
    args = parser.parse_args()

    root = shared_data_dir()
    folder = root / "gsi-shelters" if root else None
    if folder is None or not folder.is_dir():
        print("skipped: shared data folder with gsi-shelters/ is absent (set KIZUNA_SHARED_DATA)")
        return 0
    paths = sorted(folder.glob("*/07*.json"))
    with tempfile.TemporaryDirectory(prefix="kizuna-bench-") as tmp:
        url = args.database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.sqlite3'}"
        print(f"database {url.split('@')[-1]}; files {len(paths)}; points {args.points}")
        asyncio.run(run(paths, url, args.points))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
