"""Time who an alert polygon concerns among a million residents, against loading every place.

Run: .venv/bin/python bench/bench_alert_targeting.py [--residents 1000000 | --quick]
     [--database-url postgresql+asyncpg://...] [--keep] [--profile]

PostgreSQL only. Without --database-url a scratch database ``kizuna_bench_targeting`` is
created on 127.0.0.1:5432 (user postgres) and dropped at the end (``--keep`` keeps it, and a
later run with the same --residents reuses the fill instead of writing it again).

1. Fill: N synthetic residents with a home, a workplace and a school each (3N places), spread
   over Fukushima prefecture's bounding box in clusters around its thirteen cities (weighted
   by population, a dense core and wider suburbs) over a rural background; the places of a
   city's area carry its municipality code (about four in five), H3 res-7/9/11 are computed
   in bulk. Written with COPY (asyncpg), secondary indexes and foreign keys built afterwards.
2. The alert: a corridor along the Abukuma river (a meandering line through 白河, 須賀川,
   郡山, 本宮, 二本松, 福島 and 伊達, buffered: an irregular polygon of a few hundred
   vertices), its width chosen so that it covers about 10 % of the places. Stored with
   ``alerts.service.store`` as an exercise (nobody is notified); then timed apart:
   ``prepare`` (area -> H3 res-7 cells, interior/edge) and ``places_in_areas`` over the
   stored area (edge cells refined to res-9 cells; cells -> residents and the kinds of their
   places; exact test only for places in res-9 cells the boundary crosses).
3. Baselines in the same run: one SELECT of every place's id, resident and lon/lat, then
   ``shapely.contains_xy`` over all of them, and a per-point ``polygon.contains(Point)`` loop
   timed on a 100,000-point sample and scaled up. The recipients and the kinds of their places
   found must be equal (targeting names no place ids: the notices need residents and kinds).
Also prints EXPLAIN (ANALYZE, BUFFERS) of the cells queries and where the targeting time goes.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import math
import pstats
import re
import statistics
import sys
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import h3
import numpy as np
import shapely
from h3.api import basic_int
from shapely.geometry import LineString, Point, Polygon
from shapely.geometry.base import BaseGeometry
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from backend.alerts import repository as alerts_repository  # noqa: E402
from backend.alerts import service as alerts_service  # noqa: E402
from backend.alerts.areas import refine_edge  # noqa: E402
from backend.alerts.drafts import (  # noqa: E402
    AlertAction,
    AlertArea,
    AlertDraft,
    AlertKind,
    AlertSource,
    AlertStatus,
    AreaScheme,
)
from backend.alerts.repository import AreaCover  # noqa: E402
from backend.alerts.targeting import places_in_areas  # noqa: E402
from backend.bootstrap import sync_reference_data  # noqa: E402
from backend.config import Settings  # noqa: E402
from backend.db.base import utcnow  # noqa: E402
from backend.db.migrate import upgrade  # noqa: E402
from backend.db.session import Database  # noqa: E402
from backend.residents import service as residents_service  # noqa: E402
from backend.residents.models import Place, Resident  # noqa: E402
from backend.residents.repository import _SPOT_COLUMNS, PlaceSpot  # noqa: E402

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
SCRATCH = "kizuna_bench_targeting"
SEED = 907
# Fukushima prefecture's extent (lon 139.16-141.05, lat 36.79-37.98).
BOX = (139.16, 36.79, 141.05, 37.98)
# (code, lon, lat, population in thousands): the prefecture's thirteen cities.
CITIES = (
    ("07201", 140.4748, 37.7608, 282),  # 福島市
    ("07202", 139.9298, 37.4947, 117),  # 会津若松市
    ("07203", 140.3597, 37.4004, 327),  # 郡山市
    ("07204", 140.8877, 37.0505, 332),  # いわき市
    ("07205", 140.2109, 37.1263, 60),  # 白河市
    ("07207", 140.3727, 37.2864, 75),  # 須賀川市
    ("07208", 139.8745, 37.6509, 47),  # 喜多方市
    ("07209", 140.9196, 37.7967, 34),  # 相馬市
    ("07210", 140.4310, 37.5848, 53),  # 二本松市
    ("07211", 140.5755, 37.4437, 36),  # 田村市
    ("07212", 140.9575, 37.6420, 59),  # 南相馬市
    ("07213", 140.5626, 37.8191, 60),  # 伊達市
    ("07214", 140.3940, 37.5130, 30),  # 本宮市
)
RURAL_THOUSANDS = 320  # towns and villages: spread evenly over the box
# The Abukuma river from 白河 to the Miyagi border, roughly (lon, lat).
ABUKUMA = (
    (140.13, 37.17),
    (140.21, 37.145),
    (140.30, 37.22),
    (140.36, 37.29),
    (140.385, 37.36),
    (140.38, 37.41),
    (140.40, 37.47),
    (140.41, 37.52),
    (140.44, 37.58),
    (140.46, 37.66),
    (140.48, 37.74),
    (140.53, 37.80),
    (140.58, 37.85),
    (140.63, 37.90),
    (140.70, 37.96),
)
TARGET_SHARE = 0.10
LOOP_SAMPLE = 100_000
TARGET_SECONDS = 2.0
BATCH = 100_000  # residents per COPY batch


# --- synthetic residents -------------------------------------------------------------------


def h3_columns(lats: np.ndarray, lons: np.ndarray) -> list[list[int]]:
    """The cells of every point at Settings.place_h3_resolutions, as geo.h3_cells gives them.

    One C call per point and resolution through h3's integer API (no string round trip).
    Parents of the finest cell are not used: H3 children do not tile their parent exactly,
    and about 6 % of points lie in a res-7 cell other than their res-11 cell's parent.
    """
    lat_list, lon_list = lats.tolist(), lons.tolist()
    cell = basic_int.latlng_to_cell
    return [
        [cell(a, b, res) for a, b in zip(lat_list, lon_list, strict=True)]
        for res in Settings().place_h3_resolutions
    ]


def city_points(
    rng: np.random.Generator, n: int, *, core_only: bool = False
) -> tuple[np.ndarray, np.ndarray, list[str | None]]:
    """n points: a city's dense core or its suburbs, or the rural background."""
    pops = np.array([c[3] for c in CITIES] + [RURAL_THOUSANDS], float)
    if core_only:
        pops[-1] = RURAL_THOUSANDS / 4
    which = rng.choice(len(pops), n, p=pops / pops.sum())
    lons = rng.uniform(BOX[0], BOX[2], n)
    lats = rng.uniform(BOX[1], BOX[3], n)
    codes: list[str | None] = [None] * n
    for index, (code, lon, lat, pop) in enumerate(CITIES):
        members = np.flatnonzero(which == index)
        scale = 0.018 * math.sqrt(pop / 100)
        core = rng.random(len(members)) < (0.8 if core_only else 0.55)
        sigma = np.where(core, scale, scale * 3.0)
        dx = rng.normal(0, 1, len(members)) * sigma / math.cos(math.radians(lat))
        dy = rng.normal(0, 1, len(members)) * sigma
        lons[members] = lon + dx
        lats[members] = lat + dy
        within = np.hypot(dx * math.cos(math.radians(lat)), dy) < scale * 4.5
        for i in members[within].tolist():
            codes[i] = code
    np.clip(lons, BOX[0], BOX[2], out=lons)
    np.clip(lats, BOX[1], BOX[3], out=lats)
    return lons, lats, codes


def batch_places(
    rng: np.random.Generator, n: int
) -> tuple[np.ndarray, np.ndarray, list[str | None], np.ndarray]:
    """Home, workplace and school of n residents, as arrays of 3n (kind index 0/1/2 per place)."""
    home_lon, home_lat, home_code = city_points(rng, n)
    work_lon, work_lat, work_code = city_points(rng, n, core_only=True)
    # Three in ten work near home.
    near = rng.random(n) < 0.3
    work_lon[near] = home_lon[near] + rng.normal(0, 0.02, near.sum())
    work_lat[near] = home_lat[near] + rng.normal(0, 0.015, near.sum())
    for i in np.flatnonzero(near).tolist():
        work_code[i] = home_code[i]
    school_lon = home_lon + rng.normal(0, 0.012, n)
    school_lat = home_lat + rng.normal(0, 0.009, n)
    lons = np.stack([home_lon, np.clip(work_lon, BOX[0], BOX[2]), school_lon], axis=1).ravel()
    lats = np.stack([home_lat, np.clip(work_lat, BOX[1], BOX[3]), school_lat], axis=1).ravel()
    np.clip(lons, BOX[0], BOX[2], out=lons)
    np.clip(lats, BOX[1], BOX[3], out=lats)
    codes = [c for triple in zip(home_code, work_code, home_code, strict=True) for c in triple]
    kinds = np.tile(np.arange(3), n)
    return lons, lats, codes, kinds


KINDS = (("home", "自宅"), ("workplace", "勤務先"), ("school", "学校"))
CITY_NAMES = {
    "07201": "福島市",
    "07202": "会津若松市",
    "07203": "郡山市",
    "07204": "いわき市",
    "07205": "白河市",
    "07207": "須賀川市",
    "07208": "喜多方市",
    "07209": "相馬市",
    "07210": "二本松市",
    "07211": "田村市",
    "07212": "南相馬市",
    "07213": "伊達市",
    "07214": "本宮市",
}


async def secondary_schema(connection: asyncpg.Connection) -> tuple[list[str], list[str]]:
    """Drop the secondary indexes and foreign keys of residents/places; return how to rebuild."""
    tables = ["residents", "places"]
    indexes = await connection.fetch(
        """SELECT indexname, indexdef FROM pg_indexes
           WHERE tablename = ANY($1::text[])
             AND indexname NOT IN (SELECT conname FROM pg_constraint)""",
        tables,
    )
    foreign = await connection.fetch(
        """SELECT conname, conrelid::regclass::text AS tbl, pg_get_constraintdef(oid) AS def
           FROM pg_constraint
           WHERE contype = 'f' AND conrelid::regclass::text = ANY($1::text[])""",
        tables,
    )
    for row in foreign:
        await connection.execute(f'ALTER TABLE {row["tbl"]} DROP CONSTRAINT "{row["conname"]}"')
    for row in indexes:
        await connection.execute(f'DROP INDEX "{row["indexname"]}"')
    return (
        [row["indexdef"] for row in indexes],
        [f'ALTER TABLE {r["tbl"]} ADD CONSTRAINT "{r["conname"]}" {r["def"]}' for r in foreign],
    )


async def fill(dsn: str, residents: int) -> dict[str, float]:
    """Write the residents and places with COPY; returns the seconds of each step."""
    rng = np.random.default_rng(SEED)
    now = datetime.now(UTC)
    steps = {"generate + h3": 0.0, "copy": 0.0, "indexes + keys": 0.0, "analyze": 0.0}
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute("SET synchronous_commit = off")
        await connection.execute("SET maintenance_work_mem = '512MB'")
        index_sql, key_sql = await secondary_schema(connection)
        for start in range(0, residents, BATCH):
            n = min(BATCH, residents - start)
            started = time.perf_counter()
            lons, lats, codes, kinds = batch_places(rng, n)
            r7, r9, r11 = h3_columns(lats, lons)
            resident_ids = [uuid.uuid4() for _ in range(n)]
            resident_rows = [
                (
                    rid,
                    f"bench-{start + i}",
                    "unspecified",
                    "ja",
                    codes[3 * i],
                    False,
                    now,
                    now,
                )
                for i, rid in enumerate(resident_ids)
            ]
            place_rows = []
            for j, (lon, lat, code, kind, c7, c9, c11) in enumerate(
                zip(
                    lons.tolist(),
                    lats.tolist(),
                    codes,
                    kinds.tolist(),
                    r7,
                    r9,
                    r11,
                    strict=True,
                )
            ):
                name, label = KINDS[kind]
                address = f"福島県{CITY_NAMES[code]}" if code and kind == 0 else None
                place_rows.append(
                    (
                        uuid.uuid4(),
                        resident_ids[j // 3],
                        name,
                        label,
                        address,
                        lat,
                        lon,
                        code,
                        c7,
                        c9,
                        c11,
                        now,
                        now,
                    )
                )
            steps["generate + h3"] += time.perf_counter() - started
            started = time.perf_counter()
            async with connection.transaction():
                await connection.copy_records_to_table(
                    "residents",
                    records=resident_rows,
                    columns=[
                        "id",
                        "subject",
                        "gender",
                        "preferred_language",
                        "home_municipality_code",
                        "municipality_chosen",
                        "created_at",
                        "updated_at",
                    ],
                )
                await connection.copy_records_to_table(
                    "places",
                    records=place_rows,
                    columns=[
                        "id",
                        "resident_id",
                        "kind",
                        "label",
                        "address",
                        "latitude",
                        "longitude",
                        "municipality_code",
                        "h3_res7",
                        "h3_res9",
                        "h3_res11",
                        "created_at",
                        "updated_at",
                    ],
                )
            steps["copy"] += time.perf_counter() - started
            done = start + n
            if done % (BATCH * 5) == 0 or done == residents:
                print(f"  filled {done:,} residents ({sum(steps.values()):.0f} s)", flush=True)
        started = time.perf_counter()
        for statement in index_sql + key_sql:
            await connection.execute(statement)
        steps["indexes + keys"] = time.perf_counter() - started
        started = time.perf_counter()
        await connection.execute("VACUUM ANALYZE residents")
        await connection.execute("VACUUM ANALYZE places")
        steps["analyze"] = time.perf_counter() - started
    finally:
        await connection.close()
    return steps


# --- the alert polygon ----------------------------------------------------------------------


def meandering_river() -> LineString:
    """The Abukuma line, densified and given bends of a few hundred metres."""
    line = LineString(ABUKUMA)
    steps = 1500
    points = []
    for i in range(steps + 1):
        d = line.length * i / steps
        here = line.interpolate(d)
        ahead = line.interpolate(min(line.length, d + 1e-3))
        behind = line.interpolate(max(0.0, d - 1e-3))
        tx, ty = ahead.x - behind.x, ahead.y - behind.y
        norm = math.hypot(tx, ty) or 1.0
        bend = 0.006 * math.sin(d * 90) + 0.003 * math.sin(d * 37 + 1.0)
        points.append((here.x - ty / norm * bend, here.y + tx / norm * bend))
    return LineString(points)


RIVER = meandering_river()


def corridor(width: float) -> BaseGeometry:
    """The river's flood plain: ``width`` degrees either side on average, three times wider in
    the basins than in the gorges (a union of buffered stretches), a few hundred vertices."""
    coords = list(RIVER.coords)
    stretches = []
    for i in range(0, len(coords) - 1, 10):
        stretch = LineString(coords[i : i + 11])
        along = i / len(coords)
        factor = 0.5 + 1.0 * math.sin(math.pi * along * 3) ** 2
        stretches.append(stretch.buffer(width * factor, quad_segs=4))
    polygon = shapely.union_all(stretches).simplify(0.0004)
    return shapely.set_precision(polygon, 1e-6)


def ellipse(scale: float) -> BaseGeometry:
    """A tilted, wobbly ellipse of 720 vertices over the west of 郡山 (a storm cell, a plume)."""
    lon0, lat0, tilt = 140.33, 37.42, math.radians(35)
    points = []
    for k in range(720):
        theta = 2 * math.pi * k / 720
        r = (
            1
            + 0.08 * math.sin(5 * theta)
            + 0.05 * math.sin(11 * theta + 1)
            + 0.02 * math.sin(23 * theta)
        )
        x, y = 1.6 * scale * r * math.cos(theta), scale * r * math.sin(theta)
        x, y = x * math.cos(tilt) - y * math.sin(tilt), x * math.sin(tilt) + y * math.cos(tilt)
        points.append((lon0 + x / math.cos(math.radians(lat0)), lat0 + y))
    return shapely.set_precision(Polygon(points), 1e-6)


def fit(make, lons: np.ndarray, lats: np.ndarray) -> tuple[BaseGeometry, float]:  # type: ignore[no-untyped-def]
    """Bisect the shape's size so that it holds TARGET_SHARE of the points."""
    low, high = 0.001, 0.5
    mid = high
    polygon = make(mid)
    for _ in range(20):
        mid = (low + high) / 2
        polygon = make(mid)
        shapely.prepare(polygon)
        share = float(shapely.contains_xy(polygon, lons, lats).mean())
        if abs(share - TARGET_SHARE) < 0.002:
            break
        low, high = (mid, high) if share < TARGET_SHARE else (low, mid)
    return polygon, mid


def draft_for(name: str, polygon: BaseGeometry) -> AlertDraft:
    tag = uuid.uuid4().hex[:12]
    return AlertDraft(
        source=AlertSource.CAP,
        source_id=f"bench-{tag}",
        event_key=f"bench-targeting-{tag}",
        kind=AlertKind.EVACUATION,
        action=AlertAction.ISSUE,
        # An exercise: stored and targeted like an actual alert, but nobody is notified.
        status=AlertStatus.EXERCISE,
        headline_ja=f"{name}に避難指示（ベンチマーク）",
        issued_at=utcnow(),
        areas=(AlertArea(AreaScheme.GEOMETRY, f"{name}（ベンチマーク）", geometry=polygon),),
        issuer="bench",
        level=4,
    )


# --- measurement ----------------------------------------------------------------------------


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms" if seconds < 10 else f"{seconds:,.1f} s"


# The two statements places_in_areas sends per polygon area on PostgreSQL (as the repository
# builds them): the residents and kinds of the places known to be inside, then the places
# left for the exact test, each as one row of arrays.
_KINDS_SQL = (
    "SELECT array_agg(resident_id), array_agg(kind) FROM places WHERE h3_res7 = ANY($1::bigint[])"
    " OR (h3_res9 = ANY($2::bigint[]) AND h3_res7 = ANY($3::bigint[]))"
)
_POINTS_SQL = (
    "SELECT array_agg(resident_id), array_agg(kind), array_agg(latitude), array_agg(longitude)"
    " FROM places WHERE h3_res7 = ANY($1::bigint[]) AND h3_res9 <> ALL($2::bigint[])"
)


@dataclass
class Cells:
    """An area's cells as places_in_areas uses them."""

    interior: list[int]
    edge: list[int]
    inside9: list[int]
    outside9: list[int]

    def kinds_args(self) -> tuple[list[int], list[int], list[int]]:
        return self.interior, self.inside9, self.edge

    def points_args(self) -> tuple[list[int], list[int]]:
        return self.edge, self.inside9 + self.outside9


async def explain_cells(dsn: str, cells: Cells) -> list[str]:
    """EXPLAIN (ANALYZE, BUFFERS) of the two statements places_in_areas sends."""
    connection = await asyncpg.connect(dsn)
    lines = []
    try:
        for label, sql, args in (
            ("places inside, by resident", _KINDS_SQL, cells.kinds_args()),
            ("places for the exact test", _POINTS_SQL, cells.points_args()),
        ):
            sizes = "/".join(str(len(a)) for a in args)
            lines.append(f"-- {label} (cells {sizes}): {sql}")
            rows = await connection.fetch("EXPLAIN (ANALYZE, BUFFERS) " + sql, *args)
            # The cell list itself says nothing: shorten it.
            lines.extend(re.sub(r"\{[0-9,]{40,}\}", "{…}", row[0]) for row in rows)
    finally:
        await connection.close()
    return lines


async def places_in_areas_before(session: AsyncSession, covers: list[AreaCover]) -> list[Any]:
    """places_in_areas as on main before this change (151e071), for polygon areas: every
    column of every place in the cells (IN lists of 900 through the ORM session), the cell
    recomputed from lat/lon, the exact test in edge cells."""
    by_id = {c.area_id: c for c in covers}
    areas_by_cell: dict[int, list[tuple[uuid.UUID, bool]]] = defaultdict(list)
    for area_id, cell, interior in await alerts_repository.cell_links(session, list(by_id)):
        areas_by_cell[cell].append((area_id, interior))
    cells = sorted(areas_by_cell)
    spots: list[PlaceSpot] = []
    for start in range(0, len(cells), 900):
        rows = await session.execute(
            select(*_SPOT_COLUMNS).where(Place.h3_res7.in_(cells[start : start + 900]))
        )
        spots.extend(PlaceSpot(*row) for row in rows)
    found: list[Any] = []
    edge: dict[uuid.UUID, list[PlaceSpot]] = defaultdict(list)
    for spot in spots:
        cell = h3.str_to_int(h3.latlng_to_cell(spot.latitude, spot.longitude, 7))
        for area_id, interior in areas_by_cell.get(cell, ()):
            if interior:
                found.append((spot, area_id))
            else:
                edge[area_id].append(spot)

    def exact() -> list[Any]:
        hits = []
        for area_id, candidates in edge.items():
            geometry = shapely.from_geojson(by_id[area_id].geometry_geojson)
            xs = np.fromiter((s.longitude for s in candidates), float, len(candidates))
            ys = np.fromiter((s.latitude for s in candidates), float, len(candidates))
            inside = shapely.intersects_xy(geometry, xs, ys)
            hits.extend((s, area_id) for s, ok in zip(candidates, inside, strict=True) if ok)
        return hits

    found.extend(await asyncio.to_thread(exact))
    return found


@dataclass
class Scenario:
    name: str
    polygon: BaseGeometry
    size: float
    prepare_s: float = 0.0
    store_s: float = 0.0
    target_times: list[float] = field(default_factory=list)
    before_times: list[float] = field(default_factory=list)
    cells: int = 0
    interior: int = 0
    inside9: int = 0
    outside9: int = 0
    exact_tests: int = 0
    # (resident, kind) -> places; ids as bytes: uuid.UUID objects would be walked by every
    # full collection
    places: Counter[tuple[bytes, str]] = field(default_factory=Counter)
    residents: set[bytes] = field(default_factory=set)
    same_before: bool = False
    steps: dict[str, tuple[float, int | None]] = field(default_factory=dict)
    plan: list[str] = field(default_factory=list)
    profile: str = ""
    base: dict[str, float] = field(default_factory=dict)
    same: bool = False

    @property
    def target_s(self) -> float:
        return statistics.median(self.target_times)

    @property
    def before_s(self) -> float:
        return statistics.median(self.before_times)


async def breakdown(
    database: Database, covers: list[AreaCover], dsn: str
) -> tuple[dict[str, tuple[float, int | None]], Cells]:
    """Where places_in_areas spends its time, step by step (same statements, timed apart)."""
    steps: dict[str, tuple[float, int | None]] = {}
    geojson = covers[0].geometry_geojson
    assert geojson is not None
    async with database.session() as session:
        started = time.perf_counter()
        links = await alerts_repository.cell_links(session, [c.area_id for c in covers])
        steps["cell links (SQL)"] = (time.perf_counter() - started, len(links))
        interior = sorted({cell for _, cell, inside in links if inside})
        edge = sorted({cell for _, cell, inside in links if not inside})
        started = time.perf_counter()
        inside9, outside9 = refine_edge(geojson, edge)
        steps["edge res-7 cells → res-9 children inside / outside"] = (
            time.perf_counter() - started,
            len(inside9) + len(outside9),
        )
        cells = Cells(interior, edge, inside9, outside9)
        started = time.perf_counter()
        kinds = await residents_service.place_kinds_in_cells(
            session, interior, inside9, within7=edge
        )
        steps["places inside: SQL (2 arrays) → kinds per resident"] = (
            time.perf_counter() - started,
            len(kinds),
        )
        started = time.perf_counter()
        points = await residents_service.place_points_in_cells(
            session, edge, except9=inside9 + outside9
        )
        steps["places left: SQL → PlacePoints (4 arrays)"] = (
            time.perf_counter() - started,
            len(points.kinds),
        )
    connection = await asyncpg.connect(dsn)
    try:
        started = time.perf_counter()
        await connection.fetch(_KINDS_SQL, *cells.kinds_args())
        await connection.fetch(_POINTS_SQL, *cells.points_args())
        steps["  both statements alone, bare asyncpg (no grouping)"] = (
            time.perf_counter() - started,
            None,
        )
        started = time.perf_counter()
        await connection.fetch(
            "SELECT count(*) FROM places WHERE h3_res7 = ANY($1::bigint[])", interior + edge
        )
        steps["  count(*) of the places in the res-7 cells (the server's share)"] = (
            time.perf_counter() - started,
            None,
        )
    finally:
        await connection.close()
    geometry = shapely.from_geojson(geojson)
    started = time.perf_counter()
    xs = np.array(points.longitudes, float)
    ys = np.array(points.latitudes, float)
    shapely.intersects_xy(geometry, xs, ys)
    steps["exact test of the places left (numpy + shapely)"] = (
        time.perf_counter() - started,
        len(points.kinds),
    )
    return steps, cells


async def target(
    database: Database, dsn: str, scenario: Scenario, args: argparse.Namespace
) -> None:
    """(a): the real code path over one polygon, and what it found."""
    draft = draft_for(scenario.name, scenario.polygon)
    prepare_times = []
    for _ in range(3):
        started = time.perf_counter()
        prepared = alerts_service.prepare([draft])
        prepare_times.append(time.perf_counter() - started)
    scenario.prepare_s = statistics.median(prepare_times)
    cells = prepared[0].areas[0].cells
    scenario.cells = len(cells)
    scenario.interior = sum(1 for _, inside in cells if inside)
    async with database.session() as session:
        started = time.perf_counter()
        outcome = await alerts_service.store(session, prepared[0], via="bench")
        scenario.store_s = time.perf_counter() - started
    assert outcome.alert_id is not None and outcome.concerned_residents == 0
    async with database.session() as session:
        areas = await alerts_service.areas_of(session, [outcome.alert_id])
    covers = [AreaCover(a.id, a.alert_id, a.level, a.intensity, a.geometry_geojson) for a in areas]
    reaches: list[Any] = []
    for _ in range(args.repeat):
        # Not kept alive while timing the next run: a caller drops it once notified, and
        # 200,000 residents' results would make the collector's full passes longer.
        del reaches
        async with database.session() as session:
            started = time.perf_counter()
            reaches = await places_in_areas(session, covers)
            scenario.target_times.append(time.perf_counter() - started)
    scenario.places = Counter(
        (resident_id.bytes, kind)
        for reach in reaches
        for resident_id, kinds in reach.kinds_by_resident.items()
        for kind in kinds
    )
    scenario.residents = {resident_id for resident_id, _ in scenario.places}
    del reaches
    before: list[Any] = []
    for _ in range(args.repeat):
        del before
        async with database.session() as session:
            started = time.perf_counter()
            before = await places_in_areas_before(session, covers)
            scenario.before_times.append(time.perf_counter() - started)
    scenario.same_before = (
        Counter((spot.resident_id.bytes, spot.kind) for spot, _ in before) == scenario.places
    )
    del before
    scenario.steps, refined = await breakdown(database, covers, dsn)
    scenario.inside9, scenario.outside9 = len(refined.inside9), len(refined.outside9)
    scenario.exact_tests = scenario.steps["places left: SQL → PlacePoints (4 arrays)"][1] or 0
    scenario.plan = await explain_cells(dsn, refined)
    if args.profile:
        profiler = cProfile.Profile()
        async with database.session() as session:
            profiler.enable()
            await places_in_areas(session, covers)
            profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(12)
        scenario.profile = out.getvalue()


async def coordinates(dsn: str) -> tuple[np.ndarray, np.ndarray]:
    connection = await asyncpg.connect(dsn)
    try:
        rows = await connection.fetch("SELECT longitude, latitude FROM places")
    finally:
        await connection.close()
    lons = np.fromiter((r[0] for r in rows), float, len(rows))
    lats = np.fromiter((r[1] for r in rows), float, len(rows))
    return lons, lats


async def load_every_place(database: Database) -> tuple[float, list[Any], np.ndarray, np.ndarray]:
    """(b), first step: one SELECT of every place (id, resident, kind, lon/lat) and numpy
    arrays."""
    async with database.session() as session:
        started = time.perf_counter()
        rows = (
            await session.execute(
                select(Place.id, Place.resident_id, Place.longitude, Place.latitude, Place.kind)
            )
        ).all()
        lons = np.fromiter((r[2] for r in rows), float, len(rows))
        lats = np.fromiter((r[3] for r in rows), float, len(rows))
        return time.perf_counter() - started, rows, lons, lats


def naive(scenario: Scenario, rows: list[Any], lons: np.ndarray, lats: np.ndarray) -> int:
    """(b): point-in-polygon over every place, vectorised and in a per-point loop (sampled)."""
    plain = shapely.from_wkb(shapely.to_wkb(scenario.polygon))  # not prepared
    started = time.perf_counter()
    mask = shapely.contains_xy(plain, lons, lats)
    scenario.base["contains_xy"] = time.perf_counter() - started
    prepared = shapely.from_wkb(shapely.to_wkb(scenario.polygon))
    started = time.perf_counter()
    shapely.prepare(prepared)
    prepared_mask = shapely.contains_xy(prepared, lons, lats)
    scenario.base["contains_xy prepared"] = time.perf_counter() - started
    assert (mask == prepared_mask).all()
    sample = min(LOOP_SAMPLE, len(rows))
    started = time.perf_counter()
    loop = [plain.contains(Point(x, y)) for x, y in zip(lons[:sample], lats[:sample], strict=True)]
    scenario.base["loop"] = (time.perf_counter() - started) * len(rows) / sample
    assert loop == mask[:sample].tolist(), "the per-point loop and contains_xy disagree"
    inside = np.flatnonzero(mask).tolist()
    places = Counter((rows[i][1].bytes, rows[i][4]) for i in inside)
    residents = {rows[i][1].bytes for i in inside}
    scenario.same = places == scenario.places and residents == scenario.residents
    if not scenario.same:
        print(
            f"MISMATCH ({scenario.name}): targeting found {scenario.places.total():,} places, "
            f"the baseline {places.total():,}; {(scenario.places - places).total()} only in "
            f"targeting, {(places - scenario.places).total()} only in the baseline"
        )
    return sample


async def run(url: str, residents: int, args: argparse.Namespace) -> None:
    database = Database.from_url(url)
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        await upgrade(database.engine)
        async with database.session() as session:
            await sync_reference_data(session)
            stored = int(
                await session.scalar(
                    select(func.count())
                    .select_from(Resident)
                    .where(Resident.subject.like("bench-%"))
                )
                or 0
            )
            places_total = int(await session.scalar(select(func.count()).select_from(Place)) or 0)
        fill_steps: dict[str, float] = {}
        if stored == residents and places_total == 3 * residents:
            print(f"reusing the {residents:,} residents filled before")
        elif stored or places_total:
            raise SystemExit(
                f"the database holds {stored:,} bench residents and {places_total:,} places, "
                f"not {residents:,}: give an empty one"
            )
        else:
            print(f"filling {residents:,} residents, {3 * residents:,} places ...", flush=True)
            fill_steps = await fill(dsn, residents)
        size = await database_size(dsn)

        # The shapes are sized on the places as stored (not timed).
        lons, lats = await coordinates(dsn)
        scenarios = []
        for name, make in (("阿武隈川沿い", corridor), ("郡山西部の楕円", ellipse)):
            polygon, size_deg = fit(make, lons, lats)
            scenarios.append(Scenario(name, polygon, size_deg))
        del lons, lats
        # (a) first, while the process holds no million-row result (the collector would walk it).
        for scenario in scenarios:
            print(f"targeting: {scenario.name} ...", flush=True)
            await target(database, dsn, scenario, args)
        print("baseline: every place ...", flush=True)
        load_s, rows, lons, lats = await load_every_place(database)
        for scenario in scenarios:
            sample = naive(scenario, rows, lons, lats)
        version = await server_version(dsn)
    finally:
        await database.dispose()
    report(residents, version, size, fill_steps, load_s, sample, scenarios)


def report(
    residents: int,
    version: str,
    size: str,
    fill_steps: dict[str, float],
    load_s: float,
    sample: int,
    scenarios: list[Scenario],
) -> None:
    print()
    print(
        f"PostgreSQL {version}, database {size}; {residents:,} residents, {3 * residents:,} places"
    )
    if fill_steps:
        print(
            "fill: "
            + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in fill_steps.items())
            + f" (total {sum(fill_steps.values()):.0f} s)"
        )
    for s in scenarios:
        kind = "half-width" if s.name == "阿武隈川沿い" else "semi-minor axis"
        print(
            f"{s.name}: {kind} {s.size * 111:.2f} km, {shapely.get_num_coordinates(s.polygon)} "
            f"vertices, {shapely.area(s.polygon) * 111 * 111 * 0.79:,.0f} km²"
        )
    print()
    names = [s.name for s in scenarios]
    rows: list[list[object]] = []

    def row(label: str, values: Sequence[object]) -> None:
        rows.append([label, *values])

    row("prepare: area → res-7 cells (median of 3)", [ms(s.prepare_s) for s in scenarios])
    row("store as an exercise (once, not in the total)", [ms(s.store_s) for s in scenarios])
    row(
        "places_in_areas (median; first)",
        [f"{ms(s.target_s)}; {ms(s.target_times[0])}" for s in scenarios],
    )
    row(
        "places_in_areas before this change (median)",
        [ms(s.before_s) for s in scenarios],
    )
    row(
        f"**targeting: prepare + places_in_areas** (target < {TARGET_SECONDS:.0f} s)",
        [
            f"**{ms(s.prepare_s + s.target_s)}** "
            + ("met" if s.prepare_s + s.target_s < TARGET_SECONDS else "MISSED")
            for s in scenarios
        ],
    )
    row(
        "baseline: SELECT every place (id, resident, kind, lon, lat) → numpy",
        [ms(load_s)] * len(scenarios),
    )
    row(
        "baseline: shapely.contains_xy over every place",
        [ms(s.base["contains_xy"]) for s in scenarios],
    )
    row("  the same, polygon prepared", [ms(s.base["contains_xy prepared"]) for s in scenarios])
    row(
        f"  polygon.contains(Point) per place (scaled from {sample:,})",
        [ms(s.base["loop"]) for s in scenarios],
    )
    row(
        "**baseline: SELECT + contains_xy**",
        [f"**{ms(load_s + s.base['contains_xy'])}**" for s in scenarios],
    )
    row(
        "baseline / targeting",
        [
            f"{(load_s + s.base['contains_xy']) / (s.prepare_s + s.target_s):.1f}×"
            for s in scenarios
        ],
    )
    print(table(["", *names], rows))
    print()
    total = 3 * residents
    found: list[list[object]] = []
    found.append(
        [
            "places found",
            *[f"{s.places.total():,} ({s.places.total() / total:.1%})" for s in scenarios],
        ]
    )
    found.append(["residents concerned", *[f"{len(s.residents):,}" for s in scenarios]])
    found.append(
        [
            "res-7 cells: interior / edge",
            *[f"{s.interior} / {s.cells - s.interior}" for s in scenarios],
        ]
    )
    found.append(
        [
            "edge cells' res-9 children: wholly inside / wholly outside",
            *[f"{s.inside9:,} / {s.outside9:,}" for s in scenarios],
        ]
    )
    found.append(
        [
            "exact point tests (places left near the edge)",
            *[f"{s.exact_tests:,}" for s in scenarios],
        ]
    )
    found.append(
        [
            "same places as before this change",
            *["yes" if s.same_before else "NO" for s in scenarios],
        ]
    )
    found.append(
        [
            "same places and residents as the baseline",
            *["yes" if s.same else "NO" for s in scenarios],
        ]
    )
    print(table(["", *names], found))
    print()
    print("where places_in_areas spends it (each step timed on its own):")
    print()
    labels = list(scenarios[0].steps)
    steps = [
        [
            label,
            *[
                ms(s.steps[label][0])
                + (f" ({s.steps[label][1]:,} rows)" if s.steps[label][1] is not None else "")
                for s in scenarios
            ],
        ]
        for label in labels
    ]
    print(table(["step", *names], steps))
    for s in scenarios:
        print()
        print(f"EXPLAIN (ANALYZE, BUFFERS) of the cells query, {s.name}:")
        print("```")
        print("\n".join(s.plan))
        print("```")
        if s.profile:
            print("```")
            print(s.profile.strip())
            print("```")


async def database_size(dsn: str) -> str:
    connection = await asyncpg.connect(dsn)
    try:
        return str(
            await connection.fetchval("SELECT pg_size_pretty(pg_database_size(current_database()))")
        )
    finally:
        await connection.close()


async def server_version(dsn: str) -> str:
    connection = await asyncpg.connect(dsn)
    try:
        return str(await connection.fetchval("SHOW server_version")).split()[0]
    finally:
        await connection.close()


async def main(args: argparse.Namespace) -> None:
    residents = 100_000 if args.quick else args.residents
    if args.database_url:
        await run(args.database_url, residents, args)
        return
    admin = await asyncpg.connect(ADMIN_URL)
    try:
        exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", SCRATCH)
        if not exists:
            await admin.execute(f'CREATE DATABASE "{SCRATCH}"')
    finally:
        await admin.close()
    try:
        await run(f"postgresql+asyncpg://postgres@127.0.0.1:5432/{SCRATCH}", residents, args)
    finally:
        if not args.keep:
            admin = await asyncpg.connect(ADMIN_URL)
            try:
                await admin.execute(f'DROP DATABASE IF EXISTS "{SCRATCH}" WITH (FORCE)')
            finally:
                await admin.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true", help="100,000 residents")
    parser.add_argument(
        "--database-url",
        help="postgresql+asyncpg URL of an empty database (or one filled before with the same N)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of places_in_areas")
    parser.add_argument("--profile", action="store_true", help="cProfile one places_in_areas")
    asyncio.run(main(parser.parse_args()))
