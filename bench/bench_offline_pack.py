"""Size and cost of the offline pack (GET /offline/{municipality}), in process on SQLite.

Run: .venv/bin/python bench/bench_offline_pack.py [--downloads 50]

For 会津若松市 on the demo network (demo shelters and hazard zones, area from them) and for
渋谷区 on the Shibuya extract (../shared/data/osm/shibuya.osm.pbf, imported into a temporary
data directory; area: a boundary box inside it, grown by the 1 km margin): the pack's
contents, its size as raw JSON and gzipped (what is sent), what each part of the document
takes, the build time (first download, cold cache), and the cost of later downloads from the
process cache and of a 304 revalidation with If-None-Match.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx  # noqa: E402
import shapely  # noqa: E402
from demo_world import demo_world  # noqa: E402  (bench/, the script's folder)

from backend.app import create_app  # noqa: E402
from backend.config import Settings  # noqa: E402
from backend.db.session import Database  # noqa: E402
from backend.municipalities import service as municipality_service  # noqa: E402
from backend.routing import offline  # noqa: E402
from backend.routing.osm import import_walk_graph  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
SHIBUYA_PBF = REPO.parent / "shared" / "data" / "osm" / "shibuya.osm.pbf"
SHIBUYA_BOX = (139.690, 35.655, 139.702, 35.665)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


async def measure(
    label: str, settings: Settings, database: Database, code: str, downloads: int
) -> None:
    offline.clear_cache()
    app = create_app(settings, database=database)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        started = time.perf_counter()
        first = await client.get(f"/offline/{code}", headers={"Accept-Encoding": "gzip"})
        cold = time.perf_counter() - started
        assert first.status_code == 200, first.text
        etag = first.headers["etag"]
        warm: list[float] = []
        for _ in range(downloads):
            started = time.perf_counter()
            again = await client.get(f"/offline/{code}", headers={"Accept-Encoding": "gzip"})
            warm.append(time.perf_counter() - started)
            assert again.headers["etag"] == etag
        revalidate: list[float] = []
        for _ in range(downloads):
            started = time.perf_counter()
            same = await client.get(
                f"/offline/{code}", headers={"Accept-Encoding": "gzip", "If-None-Match": etag}
            )
            revalidate.append(time.perf_counter() - started)
            assert same.status_code == 304
    document = first.json()
    raw = len(json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode())
    wire = int(first.headers["content-length"])
    graph = document["graph"]
    print(f"\n{label} (GET /offline/{code})")
    print(
        f"  contents: {graph['nodes']['count']:,} nodes, {graph['edges']['count']:,} edges, "
        f"{len(document['shelters'])} shelters, {len(document['zones'])} hazard zones "
        f"(area from {document['area']['source']})"
    )
    print(f"  size: raw JSON {raw:,} B, gzip {wire:,} B (sent), {raw / wire:.1f}x")
    print(f"  per edge: {raw / graph['edges']['count']:.1f} B raw, "
          f"{wire / graph['edges']['count']:.1f} B gzip (whole pack)")  # fmt: skip
    for part in ("graph", "shelters", "zones"):
        text = json.dumps(document[part], ensure_ascii=False, separators=(",", ":")).encode()
        print(f"    {part:<9} {len(text):>9,} B raw")
    print(f"  first download (builds the pack): {ms(cold)}")
    print(
        f"  cached download: p50 {ms(statistics.median(warm))}, max {ms(max(warm))} "
        f"({downloads} downloads)"
    )
    print(f"  304 revalidation: p50 {ms(statistics.median(revalidate))}, max {ms(max(revalidate))}")


async def main(downloads: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings, database = await demo_world(tmp)
        await measure("会津若松市, demo network", settings, database, "07202", downloads)

        if not SHIBUYA_PBF.is_file():
            print(f"\n渋谷区: skipped, {SHIBUYA_PBF} is absent")
        else:
            roads = Path(tmp) / "shibuya" / "roads"
            roads.mkdir(parents=True)
            started = time.perf_counter()
            graph, _ = import_walk_graph(SHIBUYA_PBF)
            graph.save(roads / "shibuya.npz")
            print(f"\n(imported {SHIBUYA_PBF.name} in {time.perf_counter() - started:.1f} s)")
            boundary = Path(tmp) / "13113.json"
            boundary.write_text(json.dumps(shapely.geometry.mapping(shapely.box(*SHIBUYA_BOX))))
            async with database.session() as session:
                await municipality_service.import_boundary(session, boundary)
            on_shibuya = settings.model_copy(update={"data_dir": roads.parent})
            await measure("渋谷区, Shibuya extract", on_shibuya, database, "13113", downloads)
        await database.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--downloads", type=int, default=50)
    asyncio.run(main(parser.parse_args().downloads))
