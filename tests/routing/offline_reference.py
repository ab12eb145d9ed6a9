"""A reference route search over an offline pack, in plain Python (no numpy, no scipy).

It is what the app does with no network (docs/offline-pack.md), written from the pack alone
with the engine's rules (backend/routing/engine.py), so that tests can show the app finds the
route the server finds:

- profiles: STEP_FREE closes steps and escalators (unless they have a wheelchair ramp),
  ``wheelchair=no`` ways, ways steeper than the limit where tagged, and raised kerbs;
- ticket gates are closed (offline, nobody can say the city opened them);
- escalators and ``oneway:foot`` ways are walked in their direction only;
- ways closed at the walk's time (conditional access) are closed: the caller evaluates the
  pack's opening-hours records;
- a point snaps onto the nearest usable edge, preferring street level (unless a way off the
  street is ``offStreetSnapPenaltyM`` nearer) and ways a walk can leave from (over pockets
  that only closed gates lead out of, unless ``pocketSnapPenaltyM`` nearer);
- a hazard's zones are avoided by removing every edge that meets one of them (the pack marks
  them with the hazard's bit); when no walk keeps clear the server plans the least-exposed
  one instead: this search answers None there (the fallback is left out);
- the nearest suitable shelter is the nearest on foot among the ``shelterCandidates``
  nearest designated shelters within ``shelterRadiusM`` (straight line).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

INF = math.inf
_CELL_DEGREES = 0.002  # the grid that finds edges near a point


@dataclass
class Pack:
    """A decoded pack: node and edge columns as Python lists, coordinates in degrees."""

    document: dict[str, Any]
    lon: list[float]
    lat: list[float]
    node_flags: list[int]
    u: list[int]
    v: list[int]
    length_m: list[float]
    flags: list[int]
    hazards: list[int]
    incline_pct: list[float | None]
    conditional: list[int]
    conditional_records: list[str]
    shelters: list[dict[str, Any]]
    zones: list[dict[str, Any]]
    routing: dict[str, Any]
    edge_bits: dict[str, int]
    node_bits: dict[str, int]
    hazard_bits: dict[str, int]
    # Per node: (neighbour, edge) pairs.
    adjacency: list[list[tuple[int, int]]] = field(default_factory=list)
    grid: dict[tuple[int, int], list[int]] = field(default_factory=dict)
    bbox: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)

    @property
    def node_count(self) -> int:
        return len(self.lon)

    @property
    def edge_count(self) -> int:
        return len(self.u)


def _undelta(values: Sequence[int]) -> list[int]:
    out: list[int] = []
    total = 0
    for value in values:
        total += value
        out.append(total)
    return out


def _sparse(column: dict[str, list[Any]], size: int, empty: Any) -> list[Any]:
    out = [empty] * size
    for index, value in zip(_undelta(column["index"]), column["value"], strict=True):
        out[index] = value
    return out


def ring_points(ring: Sequence[int], scale: int) -> list[tuple[float, float]]:
    """A pack ring ([x0, y0, dx1, dy1, ...]) as (lon, lat) points, not closed."""
    xs = _undelta(ring[0::2])
    ys = _undelta(ring[1::2])
    return [(x / scale, y / scale) for x, y in zip(xs, ys, strict=True)]


def decode(document: dict[str, Any]) -> Pack:
    """A pack document (the JSON, parsed) as a searchable Pack."""
    assert document["format"] == "kizuna-offline-pack" and document["version"] == 1
    scale = document["scale"]
    nodes, edges = document["graph"]["nodes"], document["graph"]["edges"]
    n, m = nodes["count"], edges["count"]
    lon = [x / scale for x in _undelta(nodes["lon"])]
    lat = [y / scale for y in _undelta(nodes["lat"])]
    u = _undelta(edges["u"])
    v = [a + d for a, d in zip(u, edges["v"], strict=True)]
    incline = _sparse(edges["inclineDeciPct"], m, None)
    pack = Pack(
        document=document,
        lon=lon,
        lat=lat,
        node_flags=_sparse(nodes["flags"], n, 0),
        u=u,
        v=v,
        length_m=[dm / 10.0 for dm in edges["lengthDm"]],
        flags=list(edges["flags"]),
        hazards=list(edges["hazards"]),
        incline_pct=[None if x is None else x / 10.0 for x in incline],
        conditional=_sparse(edges["conditional"], m, -1),
        conditional_records=list(document["graph"]["conditionalRecords"]),
        shelters=[
            {**s, "lon": s["lon"] / scale, "lat": s["lat"] / scale} for s in document["shelters"]
        ],
        zones=document["zones"],
        routing=document["routing"],
        edge_bits=document["edgeFlags"],
        node_bits=document["nodeFlags"],
        hazard_bits={name: 1 << i for i, name in enumerate(document["hazardBits"])},
    )
    pack.adjacency = [[] for _ in range(n)]
    for e in range(m):
        pack.adjacency[u[e]].append((v[e], e))
        pack.adjacency[v[e]].append((u[e], e))
        for cell in _cells(*_edge_box(pack, e)):
            pack.grid.setdefault(cell, []).append(e)
    pack.bbox = (min(lon), min(lat), max(lon), max(lat))
    return pack


def _edge_box(pack: Pack, e: int) -> tuple[float, float, float, float]:
    a, b = pack.u[e], pack.v[e]
    return (
        min(pack.lon[a], pack.lon[b]),
        min(pack.lat[a], pack.lat[b]),
        max(pack.lon[a], pack.lon[b]),
        max(pack.lat[a], pack.lat[b]),
    )


def _cells(min_lon: float, min_lat: float, max_lon: float, max_lat: float) -> list[tuple[int, int]]:
    x0, x1 = math.floor(min_lon / _CELL_DEGREES), math.floor(max_lon / _CELL_DEGREES)
    y0, y1 = math.floor(min_lat / _CELL_DEGREES), math.floor(max_lat / _CELL_DEGREES)
    return [(x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]


# ---------------------------------------------------------------------------- geometry


def metres_per_degree(pack: Pack) -> float:
    return math.radians(1.0) * pack.routing["earthRadiusM"]


def haversine_m(pack: Pack, lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    h = (
        math.sin((p2 - p1) / 2.0) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2.0) ** 2
    )
    return 2.0 * pack.routing["earthRadiusM"] * math.asin(math.sqrt(min(max(h, 0.0), 1.0)))


# ---------------------------------------------------------------------------- closures


@dataclass(frozen=True)
class Closures:
    """What one search may not use: edges (profile, time, hazard) and nodes (gates, kerbs)."""

    edges: list[bool]
    nodes: list[bool]
    profile: str


def closures(
    pack: Pack,
    profile: str = "WALK",
    conditional_open: Callable[[int], bool] | None = None,
) -> Closures:
    """The closures of a profile at a time (``conditional_open(record)``: may people walk the
    ways of that conditional-access record then; None: always)."""
    edges = profile_edges(pack, profile)
    if conditional_open is not None:
        is_open = [conditional_open(i) for i in range(len(pack.conditional_records))]
        edges = [
            closed or (c >= 0 and not is_open[c])
            for closed, c in zip(edges, pack.conditional, strict=True)
        ]
    gate = pack.node_bits["TICKET_GATE"]
    nodes = [
        closed or bool(f & gate)
        for closed, f in zip(profile_nodes(pack, profile), pack.node_flags, strict=True)
    ]
    return Closures(edges, nodes, profile)


def profile_edges(pack: Pack, profile: str) -> list[bool]:
    if profile == "WALK":
        return [False] * pack.edge_count
    bits = pack.edge_bits
    not_step_free = bits["STEPS"] | bits["ESCALATOR"] | bits["WHEELCHAIR_NO"]
    limit = pack.routing["stepFreeMaxInclinePct"]
    return [
        (bool(f & not_step_free) and not f & bits["RAMP"]) or (inc is not None and inc > limit)
        for f, inc in zip(pack.flags, pack.incline_pct, strict=True)
    ]


def profile_nodes(pack: Pack, profile: str) -> list[bool]:
    if profile == "WALK":
        return [False] * pack.node_count
    bit = pack.node_bits["NOT_STEP_FREE"]
    return [bool(f & bit) for f in pack.node_flags]


def _components(pack: Pack, usable: list[bool]) -> list[int]:
    """Connected component label per node over the usable edges (union-find)."""
    parent = list(range(pack.node_count))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for e in range(pack.edge_count):
        if usable[e]:
            a, b = find(pack.u[e]), find(pack.v[e])
            if a != b:
                parent[max(a, b)] = min(a, b)
    return [find(x) for x in range(pack.node_count)]


def pockets(pack: Pack, profile: str) -> list[bool]:
    """Nodes only closed gates (or, for STEP_FREE, stairs) lead out of to the largest part of
    the network (a station's paid area, a terrace between stairways): joined to it by any
    walk at all, but not under the profile with the gates closed."""
    p_edges, p_nodes = profile_edges(pack, profile), profile_nodes(pack, profile)
    gate = pack.node_bits["TICKET_GATE"]
    closed = [c or bool(f & gate) for c, f in zip(p_nodes, pack.node_flags, strict=True)]

    def usable(closed_nodes: list[bool]) -> list[bool]:
        return [
            not p_edges[e] and not (closed_nodes[pack.u[e]] or closed_nodes[pack.v[e]])
            for e in range(pack.edge_count)
        ]

    shut = _components(pack, usable(closed))
    sizes: dict[int, int] = {}
    for label in shut:
        sizes[label] = sizes.get(label, 0) + 1
    mainland = max(sizes, key=lambda label: (sizes[label], -label))
    # Joined by any walk: every edge, as WALK with the gates open.
    opened = _components(pack, [True] * pack.edge_count)
    mainland_open = opened[shut.index(mainland)]
    return [o == mainland_open and s != mainland for o, s in zip(opened, shut, strict=True)]


# ---------------------------------------------------------------------------- snapping


class OffNetwork(Exception):
    """The point is outside the pack's area or too far from any usable way."""


@dataclass(frozen=True)
class Snap:
    edge: int
    fraction: float
    distance_m: float
    lon: float
    lat: float


def snap(pack: Pack, lon: float, lat: float, shut: Closures, pocket: list[bool]) -> Snap:
    """The point projected onto the nearest usable edge, street level and ways out of
    pockets preferred (the engine's scores)."""
    max_snap = pack.routing["maxSnapM"]
    mpd = metres_per_degree(pack)
    min_lon, min_lat, max_lon, max_lat = pack.bbox
    pad_lat = max_snap / mpd
    bbox_cos = max(math.cos(math.radians(max(abs(min_lat), abs(max_lat)))), 1e-6)
    pad_lon = pad_lat / bbox_cos
    if not (
        min_lon - pad_lon <= lon <= max_lon + pad_lon
        and min_lat - pad_lat <= lat <= max_lat + pad_lat
    ):
        raise OffNetwork("outside the pack's area")
    cos = max(math.cos(math.radians(lat)), 1e-6)
    box = (lon - pad_lat / cos, lat - pad_lat, lon + pad_lat / cos, lat + pad_lat)
    seen: set[int] = set()
    best: tuple[float, Snap] | None = None
    off_street = pack.edge_bits["OFF_STREET_LEVEL"]
    for cell in _cells(*box):
        for e in pack.grid.get(cell, ()):
            if e in seen:
                continue
            seen.add(e)
            e_box = _edge_box(pack, e)
            if e_box[0] > box[2] or e_box[2] < box[0] or e_box[1] > box[3] or e_box[3] < box[1]:
                continue
            a, b = pack.u[e], pack.v[e]
            if shut.edges[e] or (shut.nodes[a] and shut.nodes[b]):
                continue
            ax, ay = (pack.lon[a] - lon) * cos * mpd, (pack.lat[a] - lat) * mpd
            bx, by = (pack.lon[b] - lon) * cos * mpd, (pack.lat[b] - lat) * mpd
            dx, dy = bx - ax, by - ay
            seg2 = dx * dx + dy * dy
            t = min(max(-(ax * dx + ay * dy) / seg2, 0.0), 1.0) if seg2 > 0 else 0.0
            px, py = ax + t * dx, ay + t * dy
            distance = math.hypot(px, py)
            score = distance
            score += pack.routing["offStreetSnapPenaltyM"] if pack.flags[e] & off_street else 0.0
            score += pack.routing["pocketSnapPenaltyM"] if pocket[a] and pocket[b] else 0.0
            if best is None or score < best[0]:
                found = Snap(e, t, distance, lon + px / (cos * mpd), lat + py / mpd)
                best = (score, found)
    if best is None or best[1].distance_m > max_snap:
        raise OffNetwork("no usable way within the snapping distance")
    return best[1]


# ------------------------------------------------------------------------------ search


def weights(pack: Pack, shut: Closures, hazard: str | None = None) -> list[float]:
    """Edge lengths, infinite where closed or (with a hazard) meeting its zones."""
    bit = pack.hazard_bits[hazard] if hazard else 0
    return [
        INF if closed or (h & bit) else length
        for length, closed, h in zip(pack.length_m, shut.edges, pack.hazards, strict=True)
    ]


def _parts(
    pack: Pack, s: Snap, w: list[float], shut: Closures
) -> tuple[float, float, float, float]:
    """(point->u, point->v, u->point, v->point) along the snapped edge; INF where the
    direction, a closed end or the closed edge forbids it."""
    weight = w[s.edge]
    if weight == INF:
        return INF, INF, INF, INF
    flags = pack.flags[s.edge]
    forward = bool(flags & pack.edge_bits["FORWARD_ONLY"])
    backward = bool(flags & pack.edge_bits["BACKWARD_ONLY"])
    to_u = max(s.fraction * weight, 1e-9)
    to_v = max((1.0 - s.fraction) * weight, 1e-9)
    u_closed, v_closed = shut.nodes[pack.u[s.edge]], shut.nodes[pack.v[s.edge]]
    return (
        INF if forward or u_closed else to_u,
        INF if backward or v_closed else to_v,
        INF if backward or u_closed else to_u,
        INF if forward or v_closed else to_v,
    )


def dijkstra(
    pack: Pack, origin: Snap, w: list[float], shut: Closures
) -> tuple[list[float], list[int]]:
    """Walking metres from the snapped origin to every node, and each node's predecessor
    (-1: reached straight from the origin's edge, or not at all)."""
    dist = [INF] * pack.node_count
    pred = [-1] * pack.node_count
    to_u, to_v, _, _ = _parts(pack, origin, w, shut)
    heap: list[tuple[float, int]] = []
    for node, cost in ((pack.u[origin.edge], to_u), (pack.v[origin.edge], to_v)):
        if cost < dist[node]:
            dist[node] = cost
            heapq.heappush(heap, (cost, node))
    forward_only, backward_only = pack.edge_bits["FORWARD_ONLY"], pack.edge_bits["BACKWARD_ONLY"]
    done = [False] * pack.node_count
    while heap:
        d, a = heapq.heappop(heap)
        if done[a]:
            continue
        done[a] = True
        for b, e in pack.adjacency[a]:
            weight = w[e]
            if weight == INF or shut.nodes[a] or shut.nodes[b]:
                continue
            flags = pack.flags[e]
            along = pack.u[e] == a  # walking u -> v
            if (flags & forward_only and not along) or (flags & backward_only and along):
                continue
            if d + weight < dist[b]:
                dist[b] = d + weight
                pred[b] = a
                heapq.heappush(heap, (dist[b], b))
    return dist, pred


def _arrival(
    pack: Pack, origin: Snap, target: Snap, dist: list[float], w: list[float], shut: Closures
) -> tuple[float, int | None]:
    _, _, from_u, from_v = _parts(pack, target, w, shut)
    tu, tv = pack.u[target.edge], pack.v[target.edge]
    best: tuple[float, int | None] = min(
        [(dist[tu] + from_u, tu), (dist[tv] + from_v, tv)], key=lambda o: o[0]
    )
    if origin.edge == target.edge and w[origin.edge] != INF:
        flags = pack.flags[origin.edge]
        ahead = target.fraction >= origin.fraction
        allowed = not (flags & pack.edge_bits["FORWARD_ONLY"] and not ahead) and not (
            flags & pack.edge_bits["BACKWARD_ONLY"] and ahead
        )
        if allowed:
            direct = abs(target.fraction - origin.fraction) * w[origin.edge]
            if direct <= best[0]:
                best = (direct, None)
    return best


def _walk_back(pred: list[int], node: int) -> list[int]:
    path = [node]
    while pred[path[-1]] >= 0:
        path.append(pred[path[-1]])
    path.reverse()
    return path


@dataclass(frozen=True)
class OfflineRoute:
    coordinates: list[tuple[float, float]]
    distance_m: float
    nodes: list[int]
    origin_snap_m: float
    destination_snap_m: float


def _line_m(pack: Pack, coords: Sequence[tuple[float, float]]) -> float:
    return sum(
        haversine_m(pack, a[1], a[0], b[1], b[0]) for a, b in zip(coords, coords[1:], strict=False)
    )


@dataclass
class Searcher:
    """Searches of one profile at one time (closures and pockets computed once)."""

    pack: Pack
    profile: str = "WALK"
    conditional_open: Callable[[int], bool] | None = None

    def __post_init__(self) -> None:
        self.shut = closures(self.pack, self.profile, self.conditional_open)
        self.pocket = pockets(self.pack, self.profile)

    def snap(self, lon: float, lat: float) -> Snap:
        return snap(self.pack, lon, lat, self.shut, self.pocket)

    def route(
        self,
        origin: tuple[float, float],
        destination: tuple[float, float],
        hazard: str | None = None,
    ) -> OfflineRoute | None:
        """The shortest walk between two (lon, lat) points keeping out of the hazard's
        zones; None when there is none (the server then plans the least-exposed walk)."""
        pack = self.pack
        o_snap, d_snap = self.snap(*origin), self.snap(*destination)
        w = weights(pack, self.shut, hazard)
        dist, pred = dijkstra(pack, o_snap, w, self.shut)
        cost, via = _arrival(pack, o_snap, d_snap, dist, w, self.shut)
        if cost == INF or math.isnan(cost):
            return None
        nodes = [] if via is None else _walk_back(pred, via)
        coords = [origin, (o_snap.lon, o_snap.lat)]
        coords += [(pack.lon[i], pack.lat[i]) for i in nodes]
        coords += [(d_snap.lon, d_snap.lat), destination]
        coords = [c for i, c in enumerate(coords) if i == 0 or c != coords[i - 1]]
        return OfflineRoute(
            coords, _line_m(pack, coords), nodes, o_snap.distance_m, d_snap.distance_m
        )

    def nearest_shelter(
        self, origin: tuple[float, float], hazard: str
    ) -> tuple[dict[str, Any], float] | None:
        """The shelter designated for the hazard nearest on foot (among the nearest in a
        straight line) keeping out of its zones, and the walk's metres; None if none."""
        pack = self.pack
        lon, lat = origin
        radius = pack.routing["shelterRadiusM"]
        designated = [
            (haversine_m(pack, lat, lon, s["lat"], s["lon"]), i)
            for i, s in enumerate(pack.shelters)
            if hazard in s["hazards"]
        ]
        candidates = sorted(c for c in designated if c[0] <= radius)
        candidates = candidates[: pack.routing["shelterCandidates"]]
        o_snap = self.snap(lon, lat)
        w = weights(pack, self.shut, hazard)
        dist, pred = dijkstra(pack, o_snap, w, self.shut)
        best: tuple[float, int] | None = None
        for _, i in candidates:
            shelter = pack.shelters[i]
            try:
                t_snap = self.snap(shelter["lon"], shelter["lat"])
            except OffNetwork:
                continue
            cost, via = _arrival(pack, o_snap, t_snap, dist, w, self.shut)
            if cost == INF or math.isnan(cost):
                continue
            nodes = [] if via is None else _walk_back(pred, via)
            line = [(o_snap.lon, o_snap.lat), *((pack.lon[n], pack.lat[n]) for n in nodes)]
            line.append((t_snap.lon, t_snap.lat))
            metres = o_snap.distance_m + _line_m(pack, line) + t_snap.distance_m
            if best is None or metres < best[0]:
                best = (metres, i)
        if best is None:
            return None
        shelter = pack.shelters[best[1]]
        walk = self.route(origin, (shelter["lon"], shelter["lat"]), hazard)
        return (shelter, walk.distance_m) if walk is not None else None


# ------------------------------------------------------------------- zones as geometry


def _point_in_ring(x: float, y: float, ring: Sequence[tuple[float, float]]) -> bool:
    inside = False
    j = len(ring) - 1
    for i in range(len(ring)):
        xi, yi = ring[i]
        xj, yj = ring[j]
        if (yi > y) != (yj > y) and x < (xj - xi) * (y - yi) / (yj - yi) + xi:
            inside = not inside
        j = i
    return inside


def _orient(a: tuple[float, float], b: tuple[float, float], c: tuple[float, float]) -> float:
    return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])


def _segments_meet(
    p1: tuple[float, float],
    p2: tuple[float, float],
    q1: tuple[float, float],
    q2: tuple[float, float],
) -> bool:
    d1, d2 = _orient(q1, q2, p1), _orient(q1, q2, p2)
    d3, d4 = _orient(p1, p2, q1), _orient(p1, p2, q2)
    if ((d1 > 0) != (d2 > 0)) and ((d3 > 0) != (d4 > 0)) and d1 and d2 and d3 and d4:
        return True

    def on(a: tuple[float, float], b: tuple[float, float], c: tuple[float, float]) -> bool:
        return min(a[0], b[0]) <= c[0] <= max(a[0], b[0]) and min(a[1], b[1]) <= c[1] <= max(
            a[1], b[1]
        )

    return (
        (d1 == 0 and on(q1, q2, p1))
        or (d2 == 0 and on(q1, q2, p2))
        or (d3 == 0 and on(p1, p2, q1))
        or (d4 == 0 and on(p1, p2, q2))
    )


def edges_meeting(pack: Pack, zone: dict[str, Any]) -> set[int]:
    """The edges that meet a pack zone's (simplified) polygons: what an app would remove to
    avoid an area it only has as geometry (e.g. one drawn offline)."""
    scale = pack.document["scale"]
    found: set[int] = set()
    for polygon in zone["polygons"]:
        rings = [ring_points(r, scale) for r in polygon]
        xs = [p[0] for p in rings[0]]
        ys = [p[1] for p in rings[0]]
        box = (min(xs), min(ys), max(xs), max(ys))
        seen: set[int] = set()
        for cell in _cells(*box):
            for e in pack.grid.get(cell, ()):
                if e in seen or e in found:
                    continue
                seen.add(e)
                a = (pack.lon[pack.u[e]], pack.lat[pack.u[e]])
                b = (pack.lon[pack.v[e]], pack.lat[pack.v[e]])
                crosses = any(
                    _segments_meet(a, b, ring[i - 1], ring[i])
                    for ring in rings
                    for i in range(len(ring))
                )
                inside = _point_in_ring(*a, rings[0]) and not any(
                    _point_in_ring(*a, hole) for hole in rings[1:]
                )
                if crosses or inside:
                    found.add(e)
    return found
