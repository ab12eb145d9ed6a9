"""Walk routes on a Japanese street network: the previous engine against the new one, one run.

Run: .venv/bin/python bench/bench_routing_japan.py [--pbf PATH] [--pairs 200]
     [--baseline-rev d63f635] [--polygons 0,10,100] [--seed 13]

The previous engine (backend/routing/{graph,osm,engine}.py at ``--baseline-rev``, and any
backend.routing module they import that changed since) is read with ``git show`` into a
temporary package and imported beside the current one, so nothing is copied into the repo.
Both build their graph from the same extract (default: the Shibuya file of issue 13). The
same seeded pairs of street-level points (300 m - 2 km apart, both engines snap them) are
routed by the previous engine (WALK, its only behaviour), the new one with WALK and with
STEP_FREE, each with 0, 10 and 100 avoid circles (50-150 m, around the straight line of the
pair but not over its ends, the same circles for every engine). Printed per row: routes/s,
p50/p95 ms, and apart clear routes (safe), fallbacks (least-exposed, safe=False) and no
route, with the median length and time of each; then what the routes walk, read from the
file's tags (the issue's findings): ticket gates, road tunnels without a pedestrian right,
trunk/primary carriageways, carriageways whose sidewalks are separate ways, steps, escalators
(and against their direction), and how far, and where, the points snapped. Timings are
printed, not asserted.
"""

from __future__ import annotations

import argparse
import importlib
import math
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import osmium
from numpy.typing import NDArray

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from bench_routing import circles  # noqa: E402  (bench/, the script's folder)

from backend.geo import MEAN_EARTH_RADIUS_M, haversine_m_array  # noqa: E402
from backend.routing import errors as routing_errors  # noqa: E402
from backend.routing.engine import Profile, RoutingEngine, SearchOptions  # noqa: E402
from backend.routing.osm import import_walk_graph  # noqa: E402

DEFAULT_PBF = REPO_ROOT.parent / "shared" / "data" / "osm" / "shibuya.osm.pbf"
BASELINE_REV = "d63f635"
ROUTING_DIR = "backend/routing"
BASELINE_MODULES = ("graph", "osm", "engine")
SEED = 13
# Conditional access is evaluated at the request time: a fixed weekday morning, so runs agree.
AT = datetime(2026, 12, 1, 10, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
PAIR_MIN_M, PAIR_MAX_M = 300.0, 2000.0
POINT_OFFSET_M = 15.0  # street-level points lie up to this far from a street's centre line
RADIUS_M = (50.0, 150.0)
LATERAL_M = 200.0  # circle centres up to this far either side of the pair's straight line
ENDS_CLEAR_M = 20.0  # and no circle within this of the origin or the destination
METRES_PER_DEGREE = math.radians(1.0) * MEAN_EARTH_RADIUS_M

# Tags the quality columns read (the file's own, not either engine's policy).
MAIN_ROADS = frozenset({"trunk", "trunk_link", "primary", "primary_link"})
CAR_ROADS = MAIN_ROADS | {
    "secondary", "secondary_link", "tertiary", "tertiary_link", "unclassified",
}  # fmt: skip
CARRIAGEWAYS = CAR_ROADS | {"residential", "service", "living_street", "road"}
FOOT_RIGHT = frozenset({"yes", "designated", "permissive", "official"})
ATTACHED_SIDEWALK = frozenset({"yes", "both", "left", "right"})
SIDEWALK_KEYS = ("sidewalk", "sidewalk:both", "sidewalk:left", "sidewalk:right")
WAY_KEYS = frozenset(
    {
        "highway", "tunnel", "foot", "conveying", "escalator", "indoor", "location", "level",
        "layer", *SIDEWALK_KEYS,
    }
)  # fmt: skip
SPEED_LEGEND = """\
clear = safe route (touches no circle); fallbk = least-exposed route (safe=False); none = no
route (the new engine: nothing step-free connects the points). med m = median route length;
p50 ms = median time of that group's requests.
"""
QUALITY_LEGEND = """\
Over the routes returned (clear and fallback), how many pass: gates = a barrier=turnstile node,
fee = a fee gate; tunnel = a tunnel=yes trunk..unclassified way with neither foot right nor
attached sidewalk (tun km: their metres); sw=sep = a carriageway tagged sidewalk=separate;
steps, escal = steps, escalators; wrong = an escalator against its conveying direction.
tr+pr % = share of route metres on trunk/primary ways (no sw: on those with no sidewalk tag).
snap p50/max = metres from the origin and destination points to the network; below = ends
snapped to an underground or indoor way (previous engine: a node only such ways reach)."""


def ms_since(started: float) -> float:
    return (time.perf_counter() - started) * 1000.0


def median_of(work: Callable[[], Any], repeat: int) -> tuple[Any, float]:
    """The result of the last run and the median milliseconds over ``repeat`` runs."""
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = work()
        times.append(ms_since(started))
    return result, statistics.median(times)


# ------------------------------------------------------------------ the previous engine


@dataclass
class Baseline:
    """The previous routing modules, imported from a temporary package."""

    rev: str
    osm: ModuleType
    engine: ModuleType
    errors: type[Exception]
    copied: list[str]


def _git(*args: str) -> str | None:
    try:
        result = subprocess.run(
            ["git", "-C", str(REPO_ROOT), *args], capture_output=True, text=True, check=False
        )
    except OSError:
        return None
    return result.stdout if result.returncode == 0 else None


_ROUTING_IMPORT = re.compile(
    r"backend\.routing\.(\w+)|from backend\.routing import \(?([\w, ]+)|from \.(\w+) import"
)


def _rewrite(source: str, package: str, copied: set[str]) -> str:
    """Point the module's imports of copied routing modules at the temporary package."""
    source = re.sub(
        r"backend\.routing\.(\w+)",
        lambda m: f"{package}.{m[1]}" if m[1] in copied else m[0],
        source,
    )

    def from_routing(match: re.Match[str]) -> str:
        names = [n.strip() for n in match[2].split(",") if n.strip()]
        ours = [n for n in names if n in copied]
        theirs = [n for n in names if n not in copied]
        lines = [f"{match[1]}from {package} import {', '.join(ours)}"] if ours else []
        if theirs:
            lines.append(f"{match[1]}from backend.routing import {', '.join(theirs)}")
        return "\n".join(lines)

    source = re.sub(r"^([ \t]*)from backend\.routing import ([\w, ]+)$", from_routing, source,
                    flags=re.M)  # fmt: skip
    # Relative imports: siblings that were not copied, and the parent package, are backend's.
    source = re.sub(
        r"from \.(\w+) import",
        lambda m: m[0] if m[1] in copied else f"from backend.routing.{m[1]} import",
        source,
    )
    return re.sub(r"from \.\.(\w*)", lambda m: f"from backend.{m[1]}".rstrip("."), source)


def load_baseline(rev: str, into: Path) -> Baseline | None:
    """The previous engine as a package in ``into`` (None, with a note, when git or the
    revision is missing)."""
    commit = _git("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
    if commit is None:
        print(f"note: no previous engine: git or revision {rev!r} unavailable; new engine only")
        return None
    sources: dict[str, str] = {}
    queue = list(BASELINE_MODULES)
    while queue:
        name = queue.pop(0)
        if name in sources:
            continue
        text = _git("show", f"{commit.strip()}:{ROUTING_DIR}/{name}.py")
        if text is None:
            if name in BASELINE_MODULES:
                print(f"note: no previous engine: {ROUTING_DIR}/{name}.py missing at {rev}")
                return None
            continue
        current = REPO_ROOT / ROUTING_DIR / f"{name}.py"
        if name not in BASELINE_MODULES and current.exists() and current.read_text() == text:
            continue  # unchanged since: the current module serves both (one set of errors)
        sources[name] = text
        for found in _ROUTING_IMPORT.finditer(text):
            names = found[2].split(",") if found[2] else [found[1] or found[3]]
            queue += [n.strip() for n in names if n.strip()]
    package = "routing_before_" + re.sub(r"\W", "_", rev)
    folder = into / package
    folder.mkdir()
    (folder / "__init__.py").write_text("")
    for name, text in sources.items():
        (folder / f"{name}.py").write_text(_rewrite(text, package, set(sources)))
    sys.path.insert(0, str(into))
    errors = importlib.import_module(f"{package}.errors") if "errors" in sources else routing_errors
    return Baseline(
        rev=rev,
        osm=importlib.import_module(f"{package}.osm"),
        engine=importlib.import_module(f"{package}.engine"),
        errors=errors.RoutingError,
        copied=sorted(sources),
    )


# ------------------------------------------------------------------ what the file says


@dataclass
class OsmFacts:
    """Tags of the file's highway ways, and where its gates are (fixed-point 1e-7 keys)."""

    way_tags: dict[int, dict[str, str]] = field(default_factory=dict)
    turnstiles: set[int] = field(default_factory=set)
    fee_gates: set[int] = field(default_factory=set)
    bbox: tuple[float, float, float, float] | None = None


def location_key(x: NDArray[np.int64] | int, y: NDArray[np.int64] | int) -> Any:
    return (np.int64(x) << 32) | (np.int64(y) & 0xFFFFFFFF)


def read_osm(path: Path) -> OsmFacts:
    """The tags the quality columns need, read once with pyosmium."""
    facts = OsmFacts()
    processor = osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY).with_filter(
        osmium.filter.KeyFilter("highway", "barrier")
    )
    box = processor.header.box()
    if box.valid():
        corners = box.bottom_left, box.top_right
        facts.bbox = (corners[0].lon, corners[0].lat, corners[1].lon, corners[1].lat)
    for entity in processor:
        tags = entity.tags
        if isinstance(entity, osmium.osm.Node):
            barrier = tags.get("barrier")
            key = int(location_key(entity.location.x, entity.location.y))
            if barrier in ("turnstile", "full-height_turnstile"):
                facts.turnstiles.add(key)
            elif barrier is not None and (tags.get("fee") == "yes" or barrier == "toll_booth"):
                facts.fee_gates.add(key)
        elif isinstance(entity, osmium.osm.Way) and "highway" in tags:
            facts.way_tags[entity.id] = {t.k: t.v for t in tags if t.k in WAY_KEYS}
    return facts


def _sidewalks(tags: dict[str, str]) -> set[str]:
    return {tags[key] for key in SIDEWALK_KEYS if key in tags}


def tunnel_without_pedestrian_right(tags: dict[str, str]) -> bool:
    return (
        tags.get("tunnel") == "yes"
        and tags.get("highway") in CAR_ROADS
        and tags.get("foot") not in FOOT_RIGHT
        and not _sidewalks(tags) & ATTACHED_SIDEWALK
    )


def sidewalk_separate_carriageway(tags: dict[str, str]) -> bool:
    both = tags.get("sidewalk:left") == tags.get("sidewalk:right") == "separate"
    return tags.get("highway") in CARRIAGEWAYS and (
        "separate" in (tags.get("sidewalk"), tags.get("sidewalk:both")) or both
    )


def escalator_direction(tags: dict[str, str]) -> int | None:
    """None: not an escalator; +1 / -1: moves along / against the way; 0: either way."""
    conveying = tags.get("conveying")
    moving = conveying not in (None, "no")
    if not ((tags.get("highway") == "steps" and moving) or tags.get("escalator") == "yes"):
        return None
    return {"forward": 1, "backward": -1}.get(conveying or "", 0)


def underground_or_indoor(tags: dict[str, str]) -> bool:
    if tags.get("indoor") not in (None, "no") or tags.get("highway") == "corridor":
        return True
    if tags.get("location") in ("underground", "indoor") or tags.get("tunnel") == "yes":
        return True
    levels = re.split(r"[;,]", tags.get("level", "").replace(" ", ""))
    if any(level.startswith("-") for level in levels):
        return True
    try:
        return float(tags.get("layer", "0")) < 0
    except ValueError:
        return False


@dataclass
class GraphFacts:
    """Per-edge and per-node facts of one graph, from the file's tags."""

    graph: Any  # a WalkGraph of either version
    edge_of: dict[tuple[int, int], int]
    tunnel: NDArray[np.bool_]
    main_road: NDArray[np.bool_]
    untagged: NDArray[np.bool_]  # a main road with no sidewalk tag at all
    separate: NDArray[np.bool_]
    steps: NDArray[np.bool_]
    escalator: NDArray[np.int8]  # -2: not one, else escalator_direction
    below: NDArray[np.bool_]  # underground or indoor
    node_below: NDArray[np.bool_]  # only underground or indoor edges reach the node
    turnstile: NDArray[np.bool_]
    fee_gate: NDArray[np.bool_]

    @classmethod
    def of(cls, graph: Any, facts: OsmFacts) -> GraphFacts:
        tags = [facts.way_tags.get(int(w), {}) for w in graph.way_id]

        def mask(test: Callable[[dict[str, str]], bool]) -> NDArray[np.bool_]:
            return np.fromiter((test(t) for t in tags), bool, len(tags))

        escalator = np.array(
            [-2 if (d := escalator_direction(t)) is None else d for t in tags], np.int8
        )
        steps = mask(lambda t: t.get("highway") == "steps") & (escalator == -2)
        below = mask(underground_or_indoor)
        street = np.zeros(graph.node_count, bool)
        street[graph.u[~below]] = True
        street[graph.v[~below]] = True
        keys = location_key(
            np.rint(graph.lon * 1e7).astype(np.int64), np.rint(graph.lat * 1e7).astype(np.int64)
        )
        edge_of = {
            (min(a, b), max(a, b)): e
            for e, (a, b) in enumerate(zip(graph.u.tolist(), graph.v.tolist(), strict=True))
        }
        return cls(
            graph=graph,
            edge_of=edge_of,
            tunnel=mask(tunnel_without_pedestrian_right),
            main_road=mask(lambda t: t.get("highway") in MAIN_ROADS),
            untagged=mask(lambda t: t.get("highway") in MAIN_ROADS and not _sidewalks(t)),
            separate=mask(sidewalk_separate_carriageway),
            steps=steps,
            escalator=escalator,
            below=below,
            node_below=~street,
            turnstile=np.isin(keys, list(facts.turnstiles)),
            fee_gate=np.isin(keys, list(facts.fee_gates)),
        )


# ------------------------------------------------------------------ pairs and avoid areas


def street_points(facts: GraphFacts, bbox: tuple[float, ...] | None) -> Callable[[Any], Any]:
    """A sampler of street-level points: on an outdoor way of the previous policy's graph
    (every street, sidewalk=separate carriageways included) inside the file's box, then up
    to POINT_OFFSET_M off it, as a doorstep is."""
    g = facts.graph
    ok = ~facts.below & ~facts.steps & (facts.escalator == -2)
    if bbox is not None:
        mid_lon, mid_lat = (g.lon[g.u] + g.lon[g.v]) / 2, (g.lat[g.u] + g.lat[g.v]) / 2
        ok &= (bbox[0] <= mid_lon) & (mid_lon <= bbox[2]) & (bbox[1] <= mid_lat)
        ok &= mid_lat <= bbox[3]
    edges = np.flatnonzero(ok)
    weight = g.length_m[edges] / g.length_m[edges].sum()

    def sample(rng: np.random.Generator) -> tuple[float, float]:
        e = int(rng.choice(edges, p=weight))
        t = rng.uniform()
        lon = g.lon[g.u[e]] + t * (g.lon[g.v[e]] - g.lon[g.u[e]])
        lat = g.lat[g.u[e]] + t * (g.lat[g.v[e]] - g.lat[g.u[e]])
        angle, offset = rng.uniform(0.0, 2 * math.pi), rng.uniform(0.0, POINT_OFFSET_M)
        dlat = offset * math.sin(angle) / METRES_PER_DEGREE
        dlon = offset * math.cos(angle) / (METRES_PER_DEGREE * math.cos(math.radians(lat)))
        return float(lon + dlon), float(lat + dlat)

    return sample


def make_pairs(
    count: int, sample: Callable[[Any], Any], snappers: Iterable[Callable[[Any], Any]], seed: int
) -> list[tuple[tuple[float, float], tuple[float, float]]]:
    """Seeded pairs PAIR_MIN_M..PAIR_MAX_M apart whose points every snapper accepts."""
    rng = np.random.default_rng(seed)
    snappers = list(snappers)
    pairs: list[tuple[tuple[float, float], tuple[float, float]]] = []
    while len(pairs) < count:
        a, b = sample(rng), sample(rng)
        crow = float(haversine_m_array(a[1], a[0], b[1], b[0]))
        if not PAIR_MIN_M <= crow <= PAIR_MAX_M:
            continue
        try:
            for snap in snappers:
                snap(a)
                snap(b)
        except Exception:  # noqa: BLE001 - either engine's off-network error: another pair
            continue
        pairs.append((a, b))
    return pairs


def avoid_sets(pairs: list[Any], count: int, seed: int) -> list[list[Any]]:
    """Per pair, ``count`` circles of RADIUS_M around its straight line (seeded per count),
    none over the origin or the destination: those would make every walk a fallback."""
    rng = np.random.default_rng([seed, count])
    result = []
    for (alon, alat), (blon, blat) in pairs:
        cos = math.cos(math.radians((alat + blat) / 2))
        # A local plane in metres, origin at a: the line runs from (0, 0) to (bx, by).
        bx, by = (blon - alon) * cos * METRES_PER_DEGREE, (blat - alat) * METRES_PER_DEGREE
        length = math.hypot(bx, by)
        x, y, radius = np.zeros(count), np.zeros(count), np.zeros(count)
        todo = np.ones(count, dtype=bool)
        while todo.any():
            k = int(todo.sum())
            t, side = rng.uniform(-0.1, 1.1, k), rng.uniform(-LATERAL_M, LATERAL_M, k)
            x[todo] = t * bx - side * by / length
            y[todo] = t * by + side * bx / length
            radius[todo] = rng.uniform(*RADIUS_M, k)
            near = np.minimum(np.hypot(x, y), np.hypot(x - bx, y - by)) < radius + ENDS_CLEAR_M
            todo &= near
        lon = alon + x / (cos * METRES_PER_DEGREE)
        lat = alat + y / METRES_PER_DEGREE
        result.append(circles(lon, lat, radius) if count else [])
    return result


# ------------------------------------------------------------------ one row


@dataclass
class Row:
    """One engine and profile with one number of avoid circles over every pair."""

    name: str
    polygons: int
    times_ms: list[float] = field(default_factory=list)
    clear: list[float] = field(default_factory=list)
    fallback: list[float] = field(default_factory=list)
    none: int = 0
    clear_ms: list[float] = field(default_factory=list)
    fallback_ms: list[float] = field(default_factory=list)
    none_ms: list[float] = field(default_factory=list)
    lengths: list[float] = field(default_factory=list)  # per pair, NaN: no route
    # Quality, over the routes returned.
    routes: int = 0
    turnstile: int = 0
    fee_gate: int = 0
    tunnel_routes: int = 0
    tunnel_m: float = 0.0
    main_road_m: float = 0.0
    untagged_m: float = 0.0
    route_m: float = 0.0
    separate: int = 0
    steps: int = 0
    escalator: int = 0
    wrong_way: int = 0
    snaps_m: list[float] = field(default_factory=list)
    ends_below: int = 0


def walked(
    facts: GraphFacts, nodes: list[int], ends: tuple[Any, Any] | None
) -> list[tuple[int, float, bool | None]]:
    """(edge, metres, along the way's direction or None) of every edge walked: between the
    nodes, and for the new engine the snapped edges' parts up to the first and last node."""
    g = facts.graph
    parts: list[tuple[int, float, bool | None]] = []
    for a, b in zip(nodes, nodes[1:], strict=False):
        e = facts.edge_of[(min(a, b), max(a, b))]
        parts.append((e, float(g.length_m[e]), bool(g.u[e] == a)))
    if ends is not None:
        o, d = ends

        def metres(snap: Any, node: int) -> float:
            return float(haversine_m_array(snap.lat, snap.lon, g.lat[node], g.lon[node]))

        if nodes:
            parts.append((o.edge, metres(o, nodes[0]), None))
            parts.append((d.edge, metres(d, nodes[-1]), None))
        else:  # along the one edge both points snapped to
            parts.append((o.edge, float(haversine_m_array(o.lat, o.lon, d.lat, d.lon)), None))
    return parts


def record(row: Row, facts: GraphFacts, route: Any, ends: tuple[Any, Any] | None) -> None:
    """Add one route's quality figures to the row."""
    nodes = list(route.nodes)
    parts = walked(facts, nodes, ends)
    edges = np.array([p[0] for p in parts], np.intp)
    metres = np.array([p[1] for p in parts])
    row.routes += 1
    row.route_m += route.distance_m
    node_idx = np.array(nodes, np.intp)
    row.turnstile += bool(facts.turnstile[node_idx].any()) if nodes else 0
    row.fee_gate += bool(facts.fee_gate[node_idx].any()) if nodes else 0
    if len(edges):
        tunnel = facts.tunnel[edges]
        row.tunnel_routes += bool(tunnel.any())
        row.tunnel_m += float(metres[tunnel].sum())
        row.main_road_m += float(metres[facts.main_road[edges]].sum())
        row.untagged_m += float(metres[facts.untagged[edges]].sum())
        row.separate += bool(facts.separate[edges].any())
        row.steps += bool(facts.steps[edges].any())
        row.escalator += bool((facts.escalator[edges] > -2).any())
    row.wrong_way += any(
        along is not None and facts.escalator[e] in (1, -1) and along != (facts.escalator[e] == 1)
        for e, _, along in parts
    )
    row.snaps_m += [route.origin_snap_m, route.destination_snap_m]
    if ends is not None:
        row.ends_below += int(facts.below[ends[0].edge]) + int(facts.below[ends[1].edge])
    elif nodes:
        row.ends_below += int(facts.node_below[nodes[0]]) + int(facts.node_below[nodes[-1]])


def run_row(row: Row, lane: Lane, pairs: list[Any], avoids: list[list[Any]]) -> Row:
    """Route every pair (each timed alone), then read what each route walks (untimed)."""
    for (origin, destination), avoid in zip(pairs, avoids, strict=True):
        started = time.perf_counter()
        try:
            found = lane.route(origin, destination, avoid)
        except lane.no_route:
            found = None
        elapsed = ms_since(started)
        row.times_ms.append(elapsed)
        row.lengths.append(math.nan if found is None else found.distance_m)
        if found is None:
            row.none += 1
            row.none_ms.append(elapsed)
            continue
        (row.clear if found.safe else row.fallback).append(found.distance_m)
        (row.clear_ms if found.safe else row.fallback_ms).append(elapsed)
        ends = (lane.snap(origin), lane.snap(destination)) if lane.new else None
        record(row, lane.facts, found, ends)
    return row


# ------------------------------------------------------------------ report


def fmt_median(values: list[float], digits: int = 0) -> str:
    return f"{statistics.median(values):,.{digits}f}" if values else "-"


def print_speed(rows: list[Row]) -> None:
    print(
        f"\n{'engine / profile':<20}{'avoid':>6}{'routes/s':>10}{'p50 ms':>8}{'p95 ms':>8}"
        f"  |{'clear':>6}{'med m':>7}{'p50 ms':>7}  |{'fallbk':>7}{'med m':>7}{'p50 ms':>7}"
        f"  |{'none':>5}{'p50 ms':>7}"
    )
    for r in rows:
        p50, p95 = np.percentile(r.times_ms, [50, 95])
        rate = len(r.times_ms) / (sum(r.times_ms) / 1000.0)
        print(
            f"{r.name:<20}{r.polygons:>6}{rate:>10,.0f}{p50:>8.2f}{p95:>8.2f}"
            f"  |{len(r.clear):>6}{fmt_median(r.clear):>7}{fmt_median(r.clear_ms, 2):>7}"
            f"  |{len(r.fallback):>7}{fmt_median(r.fallback):>7}"
            f"{fmt_median(r.fallback_ms, 2):>7}  |{r.none:>5}{fmt_median(r.none_ms, 2):>7}"
        )


def print_quality(rows: list[Row]) -> None:
    print(
        f"\n{'engine / profile':<20}{'avoid':>6}{'routes':>7}{'gates':>6}{'fee':>4}"
        f"{'tunnel':>7}{'tun km':>7}{'tr+pr %':>8}{'no sw':>6}{'sw=sep':>7}{'steps':>6}{'escal':>6}"
        f"{'wrong':>6}{'snap p50':>9}{'snap max':>9}{'below':>6}"
    )
    for r in rows:
        share = 100.0 * r.main_road_m / r.route_m if r.route_m else 0.0
        untagged = 100.0 * r.untagged_m / r.route_m if r.route_m else 0.0
        snaps = np.asarray(r.snaps_m) if r.snaps_m else np.zeros(1)
        below = 100.0 * r.ends_below / max(len(r.snaps_m), 1)
        print(
            f"{r.name:<20}{r.polygons:>6}{r.routes:>7}{r.turnstile:>6}{r.fee_gate:>4}"
            f"{r.tunnel_routes:>7}{r.tunnel_m / 1000:>7.2f}{share:>8.1f}{untagged:>6.1f}"
            f"{r.separate:>7}"
            f"{r.steps:>6}{r.escalator:>6}{r.wrong_way:>6}{np.median(snaps):>9.1f}"
            f"{snaps.max():>9.1f}{below:>5.1f}%"
        )


def print_ratios(rows: list[Row]) -> None:
    """Route lengths pair by pair without avoid circles: what the new policy costs."""
    plain = {r.name: np.asarray(r.lengths) for r in rows if r.polygons == 0}
    for name, base in (("new WALK", "previous WALK"), ("new STEP_FREE", "new WALK")):
        if name not in plain or base not in plain:
            continue
        ratio = plain[name] / plain[base]
        ratio = ratio[np.isfinite(ratio)]
        p50, p95 = np.percentile(ratio, [50, 95])
        print(
            f"{name} / {base}, same pair, no circles ({len(ratio)} pairs): length x{p50:.3f} "
            f"median, x{p95:.3f} p95, x{ratio.max():.2f} max; {int((ratio > 1.05).sum())} "
            f"pairs over 5 % longer, {int((ratio < 0.95).sum())} over 5 % shorter"
        )


def time_snaps(snappers: dict[str, Callable[[Any], Any]], points: list[Any]) -> None:
    """Milliseconds per snapped point, per engine."""
    figures = []
    for name, snap in snappers.items():
        times = []
        for point in points:
            started = time.perf_counter()
            snap(point)
            times.append(ms_since(started))
        figures.append(f"{name} p50 {np.median(times):.3f} ms, p95 {np.percentile(times, 95):.3f}")
    print(f"snap per point ({len(points)} points): " + "; ".join(figures))


@dataclass
class Lane:
    """One engine with one profile: how it routes and snaps, and its graph's facts."""

    name: str
    route: Callable[[Any, Any, list[Any]], Any]
    no_route: type[Exception]
    facts: GraphFacts
    snap: Callable[[Any], Any]
    new: bool  # the new engine's routes walk parts of the snapped edges


def new_lane(engine: RoutingEngine, profile: Profile, facts: GraphFacts) -> Lane:
    options = SearchOptions(profile=profile, at=AT)
    return Lane(
        f"new {profile.name}",
        lambda o, d, avoid: engine.route(o, d, avoid, options=options),
        routing_errors.RoutingError,
        facts,
        lambda point: engine.snap(point, options),
        new=True,
    )


def print_import(name: str, ms: float, graph: Any) -> None:
    print(
        f"{name:<30}{ms:>8.1f}{graph.node_count:>8,}{graph.edge_count:>8,}"
        f"{graph.total_length_m / 1000:>7.1f}"
    )


def main() -> int:
    """Build both graphs, route the same pairs through every lane, print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pbf", type=Path, default=DEFAULT_PBF)
    parser.add_argument("--pairs", type=int, default=200)
    parser.add_argument("--baseline-rev", default=BASELINE_REV)
    parser.add_argument("--polygons", default="0,10,100", help="avoid circles per row")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--repeat", type=int, default=3, help="imports timed (median)")
    args = parser.parse_args()
    counts = [int(c) for c in args.polygons.split(",")]
    if not args.pbf.exists():
        print(f"benchmark skipped: {args.pbf} not found (pass --pbf PATH)")
        return 0

    with tempfile.TemporaryDirectory() as tmp:
        before = load_baseline(args.baseline_rev, Path(tmp))
        facts = read_osm(args.pbf)
        print(f"extract: {args.pbf.name} ({len(facts.way_tags):,} highway ways)")
        print(f"{'import (median of ' + str(args.repeat) + ')':<30}{'ms':>8}{'nodes':>8}"
              f"{'edges':>8}{'km':>7}")  # fmt: skip
        lanes: list[Lane] = []
        init: list[str] = []
        if before is not None:
            old_graph, ms = median_of(
                lambda: before.osm.build_walk_graph_from_pbf(args.pbf), args.repeat
            )
            print_import(f"previous ({before.rev})", ms, old_graph)
            old_engine, ms = median_of(lambda: before.engine.RoutingEngine(old_graph), 1)
            init.append(f"previous {ms:.1f} ms")
            old_facts = GraphFacts.of(old_graph, facts)
            lanes.append(
                Lane("previous WALK", old_engine.route, before.errors, old_facts,
                     old_engine.snap, new=False)
            )  # fmt: skip
        (graph, report), ms = median_of(lambda: import_walk_graph(args.pbf), args.repeat)
        print_import("new (one graph, both profiles)", ms, graph)
        new_facts = GraphFacts.of(graph, facts)
        for profile in Profile:
            # An engine per lane, so no lane finds the avoid circles analysed by another.
            engine, ms = median_of(lambda: RoutingEngine(graph), 1)
            lanes.append(new_lane(engine, profile, new_facts))
        init.append(f"new {ms:.1f} ms")
        excluded = ", ".join(f"{k} {n} ({km:.2f} km)" for k, (n, km) in report.excluded.items())
        print(
            f"new import report: {report.islands_dropped} islands dropped "
            f"({report.islands_km:.2f} km), {report.ticket_gates} ticket gates, "
            f"{report.conditional_ways} conditional ways; excluded: {excluded}"
        )
        if before is not None:
            print(
                f"previous engine: {', '.join(m + '.py' for m in before.copied)} of "
                f"backend/routing at {before.rev} (git show), as a temporary package"
            )
        print(f"engine init: {'; '.join(init)}")

        sample = street_points(lanes[0].facts, facts.bbox)
        walkers = [lane for lane in lanes if lane.name.endswith("WALK")]
        pairs = make_pairs(args.pairs, sample, [lane.snap for lane in walkers], args.seed)
        crow = [float(haversine_m_array(a[1], a[0], b[1], b[0])) for a, b in pairs]
        print(
            f"{len(pairs)} pairs of street-level points, straight line median "
            f"{statistics.median(crow):,.0f} m ({min(crow):,.0f}-{max(crow):,.0f}); avoid "
            f"circles {RADIUS_M[0]:.0f}-{RADIUS_M[1]:.0f} m within {LATERAL_M:.0f} m of each "
            f"pair's line, none within {ENDS_CLEAR_M:.0f} m of its ends; conditional access at "
            f"{AT:%Y-%m-%d %H:%M} JST; ticket gates closed"
        )
        time_snaps({lane.name: lane.snap for lane in walkers}, [p for pair in pairs for p in pair])
        for lane in lanes:  # warm-up
            lane.route(*pairs[0], [])

        rows: list[Row] = []
        for count in counts:
            avoids = avoid_sets(pairs, count, args.seed)
            rows += [run_row(Row(lane.name, count), lane, pairs, avoids) for lane in lanes]

    print_speed(rows)
    print(SPEED_LEGEND)
    print_ratios(rows)
    print_quality(rows)
    print(QUALITY_LEGEND)
    return 0


if __name__ == "__main__":
    sys.exit(main())
