"""Benchmark the pedestrian routing engine against a naive networkx implementation.

Usage: python bench/bench_routing.py [--pbf PATH] [--pairs 200] [--grid N]

Measures graph build/save/load time, then route latency (p50/p95) for random node pairs
with 0, 10 and 100 random avoid circles (20-60 m), against networkx Dijkstra on a
restricted view of a prebuilt graph without the intersecting edges. Fixed seed.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PBF = REPO_ROOT.parent / "shared" / "data" / "osm" / "Helsinki.osm.pbf"
POLYGON_COUNTS = (0, 10, 100)
SEED = 42
TARGET_P95_MS = 50.0


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    """Run fn once and return (result, elapsed milliseconds)."""
    start = time.perf_counter()
    result = fn()
    return result, (time.perf_counter() - start) * 1000.0


def circles(lon: np.ndarray, lat: np.ndarray, radius_m: np.ndarray) -> list[Any]:
    """Metric circles (32-gons) around lon/lat centres."""
    from shapely.geometry import Polygon

    angles = np.linspace(0.0, 2.0 * math.pi, 33)[:-1]
    r_lat = np.degrees(radius_m / 6_371_008.8)
    r_lon = r_lat / np.cos(np.radians(lat))
    return [
        Polygon(np.column_stack((x + rx * np.cos(angles), y + ry * np.sin(angles))))
        for x, y, rx, ry in zip(lon, lat, r_lon, r_lat, strict=True)
    ]


def synthetic_grid(n: int) -> Any:
    """An n x n street grid with ~100 m spacing (for scaling runs)."""
    from backend.routing.graph import WalkGraph

    idx = np.arange(n * n).reshape(n, n)
    u = np.concatenate([idx[:, :-1].ravel(), idx[:-1, :].ravel()])
    v = np.concatenate([idx[:, 1:].ravel(), idx[1:, :].ravel()])
    lat = 37.45 + (idx // n).ravel() * 0.0009
    lon = 139.90 + (idx % n).ravel() * 0.00113
    return WalkGraph.from_edges(lon, lat, u, v)


def main() -> int:
    """Run the benchmark and print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pbf", type=Path, default=DEFAULT_PBF)
    parser.add_argument("--pairs", type=int, default=200)
    parser.add_argument("--grid", type=int, default=0, help="use an N x N synthetic grid")
    args = parser.parse_args()

    sys.path.insert(0, str(REPO_ROOT))
    import networkx as nx
    import shapely

    from backend.routing.engine import RoutingEngine
    from backend.routing.graph import WalkGraph
    from backend.routing.osm import build_walk_graph_from_pbf

    if args.grid:
        graph, build_ms = timed(lambda: synthetic_grid(args.grid))
        source = f"synthetic {args.grid}x{args.grid} grid"
    else:
        if not args.pbf.exists():
            print(f"benchmark skipped: {args.pbf} not found (pass --pbf PATH)")
            return 0
        graph, build_ms = timed(lambda: build_walk_graph_from_pbf(args.pbf))
        source = args.pbf.name
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "graph.npz"
        _, save_ms = timed(lambda: graph.save(path))
        size_kb = path.stat().st_size / 1024
        graph, load_ms = timed(lambda: WalkGraph.load(path))
    engine, init_ms = timed(lambda: RoutingEngine(graph))

    print(
        f"graph: {source}  nodes={graph.node_count:,} edges={graph.edge_count:,} "
        f"length={graph.total_length_m / 1000:.1f} km"
    )
    print(f"build graph    {build_ms:8.1f} ms")
    print(f"save .npz      {save_ms:8.1f} ms  ({size_kb:,.0f} KiB)")
    print(f"load .npz      {load_ms:8.1f} ms")
    print(f"engine init    {init_ms:8.1f} ms  (KD-tree, STRtree, CSR layout; once per process)")

    rng = np.random.default_rng(SEED)
    pairs = rng.integers(0, graph.node_count, size=(args.pairs, 2))
    points = [(float(graph.lon[i]), float(graph.lat[i])) for i in range(graph.node_count)]

    # Baseline: networkx graph built once; per request a restricted view without the
    # edges found (with the same kind of STRtree) to intersect the polygons.
    nx_graph = nx.Graph()
    nx_graph.add_weighted_edges_from(
        zip(graph.u.tolist(), graph.v.tolist(), graph.length_m.tolist(), strict=True),
        weight="length",
    )
    edge_lines = shapely.linestrings(
        np.stack(
            [
                np.column_stack((graph.lon[graph.u], graph.lat[graph.u])),
                np.column_stack((graph.lon[graph.v], graph.lat[graph.v])),
            ],
            axis=1,
        )
    )
    edge_tree = shapely.STRtree(edge_lines)
    edge_list = list(zip(graph.u.tolist(), graph.v.tolist(), strict=True))

    def naive(s: int, t: int, avoid: list[Any]) -> float | None:
        removed: list[tuple[int, int]] = []
        if avoid:
            hit = np.unique(edge_tree.query(avoid, predicate="intersects")[1])
            removed = [edge_list[e] for e in hit.tolist()]
        view = nx.restricted_view(nx_graph, [], removed)
        try:
            path = nx.shortest_path(view, s, t, weight="length")
        except nx.NetworkXNoPath:
            return None
        return float(nx.path_weight(view, path, weight="length"))

    engine.route(points[0], points[-1])  # warm-up
    rows = []
    for count in POLYGON_COUNTS:
        ours: list[float] = []
        base: list[float] = []
        fallback: list[float] = []
        mismatches = 0
        for s, t in pairs.tolist():
            centres = rng.integers(0, graph.node_count, size=count)
            offset = rng.uniform(-0.0003, 0.0003, size=(2, count))
            avoid = circles(
                graph.lon[centres] + offset[0],
                graph.lat[centres] + offset[1] / 2,
                rng.uniform(20.0, 60.0, size=count),
            )
            route, ms = timed(
                lambda s=s, t=t, avoid=avoid: engine.route(points[s], points[t], avoid)
            )
            ours.append(ms)
            if not route.safe:
                fallback.append(ms)
            expected, ms = timed(lambda s=s, t=t, avoid=avoid: naive(s, t, avoid))
            base.append(ms)
            if route.safe and (expected is None or abs(expected - route.distance_m) > 1e-6):
                mismatches += 1
            if not route.safe and expected is not None:
                mismatches += 1
        op50, op95 = np.percentile(ours, [50, 95])
        np50, np95 = np.percentile(base, [50, 95])
        fb95 = float(np.percentile(fallback, 95)) if fallback else float("nan")
        rows.append((count, op50, op95, np50, np95, len(fallback), fb95, mismatches))

    print(f"\nroute latency, {args.pairs} random node pairs (ms)")
    header = (
        "polygons",
        "ours p50",
        "ours p95",
        "nx p50",
        "nx p95",
        "x p50",
        "x p95",
        "fallback",
        "fb p95",
        "mismatch",
    )
    print("  ".join(f"{h:>8}" for h in header))
    for count, op50, op95, np50, np95, n_fb, fb95, mismatches in rows:
        print(
            f"{count:>8}  {op50:8.2f}  {op95:8.2f}  {np50:8.2f}  {np95:8.2f}  "
            f"{np50 / op50:8.1f}  {np95 / op95:8.1f}  {n_fb:>8}  {fb95:8.2f}  {mismatches:>8}"
        )
    p95_100 = rows[-1][2]
    verdict = "PASS" if p95_100 < TARGET_P95_MS else "FAIL"
    print(f"\ntarget p95 < {TARGET_P95_MS:.0f} ms with 100 polygons: {verdict} ({p95_100:.2f} ms)")
    print("x = networkx time / ours. fallback = requests with no clear path, answered with the")
    print("least-exposed route (networkx just reports no path for those; fb p95 = our p95 on")
    print("them). mismatch = safe route length != networkx optimum (> 1e-6 m), or networkx")
    print("found a clear path where we fell back; should be 0.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
