"""Offline packs: a municipality's walk graph, shelters and hazard zones in one compact,
versioned document, so the app can plan an evacuation route when the network is down.

The format is docs/offline-pack.md: JSON with integer coordinates (1e-6 degree), columns of
delta-encoded integers for nodes and edges, and per edge the flags the WALK and STEP_FREE
profiles read plus one bit per hazard type whose zones the edge meets (computed here on the
exact zones, so a search over the pack removes the same edges as the server's does); the
zones themselves come simplified, for the map. Nothing in a pack is personal: the graph, the
designated shelters and the hazard maps are public data.

A pack depends on the installed graph files, the shelters, the hazard zones and the
municipality's boundary; each process keeps the packs it built under those stamps, so a
repeated download costs three primary-key reads. Builds run one at a time in a worker thread.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import json
import math
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Hashable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry
from sqlalchemy.ext.asyncio import AsyncSession

from ..api.ids import encode_id
from ..config import Settings
from ..db.versions import data_stamp
from ..errors import ValidationFailed
from ..geo import MEAN_EARTH_RADIUS_M, METRES_PER_DEGREE, padded_box
from ..hazards import service as hazards_service
from ..hazards.service import ZoneInfo
from ..hazards.sources import polygonal_part
from ..hazards.types import HazardType
from ..municipalities import service as municipalities_service
from ..municipalities.reference import normalize_code
from ..shelters import service as shelters_service
from . import policy
from .engine import (
    LOCAL_TIME,
    OFF_STREET_SNAP_PENALTY_M,
    POCKET_SNAP_PENALTY_M,
    private_polygons,
)
from .errors import AreaNotRouted, RoutingUnavailable
from .graph import WalkGraph
from .network import RoadNetworks, graph_stamps, road_networks

PACK_FORMAT = "kizuna-offline-pack"
PACK_VERSION = 1
# Coordinates are integers of 1e-6 degree: 0.11 m north-south, less east-west in Japan.
SCALE = 1_000_000
# Hazard zones are simplified this much for the map (the edges' hazard bits are exact).
ZONE_TOLERANCE_M = 3.0
# A municipality's boundary is simplified this much before it is grown by the margin.
BOUNDARY_TOLERANCE_M = 10.0
# Shelters are read by box; the shelter map's limit on a box's span applies.
MAX_SHELTER_BOX_DEGREES = shelters_service.MAX_BBOX_SPAN_DEGREES
MAX_SHELTERS = 50_000
_CODE = re.compile(r"[0-9]{5,6}")

EDGE_FLAGS = {
    "STEPS": policy.STEPS,
    "ESCALATOR": policy.ESCALATOR,
    "ELEVATOR": policy.ELEVATOR,
    "WHEELCHAIR_NO": policy.WHEELCHAIR_NO,
    "OFF_STREET_LEVEL": policy.OFF_STREET_LEVEL,
    "FORWARD_ONLY": policy.FORWARD_ONLY,
    "BACKWARD_ONLY": policy.BACKWARD_ONLY,
    "RAMP": policy.RAMP,
}
NODE_FLAGS = {
    "TICKET_GATE": policy.TICKET_GATE,
    "NOT_STEP_FREE": policy.NOT_STEP_FREE,
    "ELEVATOR_NODE": policy.ELEVATOR_NODE,
}
# Bit i of an edge's ``hazards`` is HAZARD_BITS[i].
HAZARD_BITS: tuple[HazardType, ...] = tuple(HazardType)
_HAZARD_BIT = {hazard: 1 << i for i, hazard in enumerate(HAZARD_BITS)}


@dataclass(frozen=True, slots=True)
class PackStats:
    """What a pack holds and what it cost to build."""

    nodes: int
    edges: int
    shelters: int
    zones: int
    json_bytes: int
    gzip_bytes: int
    build_seconds: float


@dataclass(frozen=True, slots=True)
class OfflinePack:
    """A built pack: the gzip-compressed JSON document and the hash of the document."""

    municipality_code: str
    digest: str  # hex SHA-256 of the JSON document (its first 32 digits make the ETag)
    gzip_body: bytes
    stats: PackStats

    def json_body(self) -> bytes:
        """The uncompressed JSON document (for clients that do not take gzip)."""
        return gzip.decompress(self.gzip_body)


@dataclass(frozen=True, slots=True)
class _PackShelter:
    """A shelter as a pack lists it (public data only), read on the event loop."""

    id: str
    common_id: str
    name: str
    address: str | None
    municipality_code: str
    lon: float
    lat: float
    kinds: tuple[str, ...]
    hazards: tuple[str, ...]
    capacity: int | None
    elevation_m: float | None


@dataclass(frozen=True, slots=True)
class PackInputs:
    """Everything a pack is built from, read before the build (which needs no database)."""

    key: Hashable
    municipality: dict[str, Any]
    boundary_geojson: str | None
    area_box: tuple[float, float, float, float]  # (min_lon, min_lat, max_lon, max_lat)
    margin_m: float
    networks: RoadNetworks
    shelters: tuple[_PackShelter, ...]
    zones: tuple[tuple[ZoneInfo, Polygon | MultiPolygon], ...]
    routing: dict[str, Any]
    cache_size: int


# ------------------------------------------------------------------------------- reading


def _routing_parameters(settings: Settings) -> dict[str, Any]:
    """The knobs a search over the pack needs to give the server's answers."""
    return {
        "maxSnapM": settings.route_max_snap_m,
        "offStreetSnapPenaltyM": OFF_STREET_SNAP_PENALTY_M,
        "pocketSnapPenaltyM": POCKET_SNAP_PENALTY_M,
        "stepFreeMaxInclinePct": settings.route_step_free_max_incline_pct,
        "walkingSpeedMps": settings.walking_speed_mps,
        "supportWalkingSpeedMps": settings.support_walking_speed_mps,
        "shelterCandidates": settings.route_shelter_candidates,
        "shelterRadiusM": settings.route_shelter_radius_m,
        "earthRadiusM": MEAN_EARTH_RADIUS_M,
        "timeZone": str(LOCAL_TIME),
    }


async def pack_inputs(
    session: AsyncSession, settings: Settings, code: str
) -> OfflinePack | PackInputs:
    """The cached pack of a municipality (5-digit code, or 6 with its check digit), or what
    building it needs; raises a DomainError (malformed or unknown code, area not routed)."""
    # A path segment: ASCII digits only, exactly (normalize_code would strip spaces).
    normalized = normalize_code(code) if _CODE.fullmatch(code) else None
    if normalized is None:
        raise ValidationFailed.at(
            "municipality",
            "a municipality code has 5 digits (or 6 with its check digit), e.g. 07202",
            "市区町村コードは5桁（検査数字付きは6桁）で指定してください（例: 07202）",
        )
    municipality = await municipalities_service.get_municipality(
        session, normalized, field="municipality"
    )
    # The stamps are read before what they guard: a pack is never older than its key.
    routing = _routing_parameters(settings)
    key = (
        municipality.code,
        municipality.updated_at,
        graph_stamps(settings),
        await data_stamp(session, "shelters"),
        await data_stamp(session, "hazard_zones"),
        settings.offline_pack_margin_m,
        tuple(routing.values()),
    )
    cached = _cache.get(key)
    if cached is not None:
        return cached
    networks = await road_networks.get(settings)
    margin = settings.offline_pack_margin_m
    box: tuple[float, float, float, float] | None = None
    boundary = None
    west, south = municipality.min_lon, municipality.min_lat
    east, north = municipality.max_lon, municipality.max_lat
    if west is not None and south is not None and east is not None and north is not None:
        boundary = await municipalities_service.boundary_geojson(session, municipality.code)
        box = (west, south, east, north) if boundary is not None else None
    if box is None:
        box = await _data_box(session, municipality.code)
    name = f"{municipality.prefecture_name_ja}{municipality.name_ja}"
    if box is None:
        raise AreaNotRouted(
            f"the area of municipality {municipality.code} ({name}) is unknown: import its "
            "boundary (kizuna import boundaries), shelters or hazard zones",
            f"{name}の区域が不明です（境界・避難所・ハザード区域のいずれも取り込まれていません）",
            municipality_code=municipality.code,
        )
    min_lat, min_lon, max_lat, max_lon = padded_box(box[1], box[0], box[3], box[2], margin)
    area_box = (min_lon, min_lat, max_lon, max_lat)
    _check_covered(networks, area_box, municipality.code, name)

    if max_lon - min_lon <= MAX_SHELTER_BOX_DEGREES and max_lat - min_lat <= (
        MAX_SHELTER_BOX_DEGREES
    ):
        rows, _ = await shelters_service.shelters_in_area(
            session, bbox=area_box, limit=MAX_SHELTERS
        )
    else:  # a vast area: its own shelters only
        rows, _ = await shelters_service.shelters_in_area(
            session, municipality_code=municipality.code, limit=MAX_SHELTERS
        )
    shelters = tuple(
        _PackShelter(
            id=encode_id("Shelter", row.id),
            common_id=row.common_id,
            name=row.name,
            address=row.address,
            municipality_code=row.municipality_code,
            lon=row.longitude,
            lat=row.latitude,
            kinds=tuple(kind.value for kind in row.kinds),
            hazards=tuple(hazard.value for hazard in row.hazard_types),
            capacity=row.capacity,
            elevation_m=row.elevation_m,
        )
        for row in rows
    )
    lookup = await hazards_service.zone_lookup(session)
    zones = tuple(lookup.zones_meeting(shapely.box(*area_box)))
    return PackInputs(
        key=key,
        municipality={
            "code": municipality.code,
            "nameJa": municipality.name_ja,
            "nameEn": municipality.name_en,
            "prefectureJa": municipality.prefecture_name_ja,
        },
        boundary_geojson=boundary,
        area_box=area_box,
        margin_m=margin,
        networks=networks,
        shelters=shelters,
        zones=zones,
        routing=routing,
        cache_size=settings.offline_pack_cache_size,
    )


async def _data_box(session: AsyncSession, code: str) -> tuple[float, float, float, float] | None:
    """Where a municipality without a boundary is: the box of its shelters and zones."""
    rows, _ = await shelters_service.shelters_in_area(
        session, municipality_code=code, limit=MAX_SHELTERS
    )
    boxes = [(r.longitude, r.latitude, r.longitude, r.latitude) for r in rows]
    zones = await hazards_service.zones_extent(session, code)
    if zones is not None:
        boxes.append(zones)
    if not boxes:
        return None
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


def _check_covered(
    networks: RoadNetworks, box: tuple[float, float, float, float], code: str, name: str
) -> None:
    """A typed error unless some region's graph reaches into the area's box."""
    for region in networks.regions:
        min_lon, min_lat, max_lon, max_lat = region.engine.graph.bbox
        if min_lon <= box[2] and max_lon >= box[0] and min_lat <= box[3] and max_lat >= box[1]:
            return
    if networks.broken:
        raise RoutingUnavailable(
            "a walk graph file cannot be loaded: " + "; ".join(networks.broken),
            "道路網のファイルを読み込めないため、オフライン用データを作成できません",
        )
    raise AreaNotRouted(
        f"no walk graph covers municipality {code} ({name})",
        f"{name}の区域には経路案内用の道路網がありません",
        municipality_code=code,
    )


# ------------------------------------------------------------------------------ building


# Packs are built on a thread of their own: downloads waiting for a build queue here
# instead of holding the shared worker threads route searches run on.
_builder = ThreadPoolExecutor(max_workers=1, thread_name_prefix="offline-pack")


async def build_pack(inputs: PackInputs) -> OfflinePack:
    """The pack for these inputs (from the cache when another request built it meanwhile),
    built on the pack builder's thread; AreaNotRouted when the area holds no walkable edge."""
    return await asyncio.get_running_loop().run_in_executor(_builder, _cache.build, inputs)


class _PackCache:
    """The packs this process built, by what they depend on (least recently used go first);
    an area with no walkable way is remembered too, so asking again costs no build.

    Builds take one lock (and run on one thread), so concurrent downloads of a pack not built
    yet build it once and a burst of different municipalities costs one build at a time.
    """

    def __init__(self) -> None:
        self._packs: OrderedDict[Hashable, OfflinePack | AreaNotRouted] = OrderedDict()
        self._index = threading.Lock()
        self._building = threading.Lock()

    def get(self, key: Hashable) -> OfflinePack | None:
        """The pack built under ``key`` (raises the refusal remembered under it)."""
        with self._index:
            found = self._packs.get(key)
            if found is not None:
                self._packs.move_to_end(key)
        if isinstance(found, AreaNotRouted):
            raise found.again()
        return found

    def build(self, inputs: PackInputs) -> OfflinePack:
        """The pack for ``inputs``, built unless another request did it meanwhile."""
        with self._building:
            pack = self.get(inputs.key)
            if pack is not None:
                return pack
            code = inputs.municipality["code"]
            try:
                built: OfflinePack | AreaNotRouted = _build(inputs)
            except AreaNotRouted as refused:
                built = refused
            with self._index:
                # Older versions of the same municipality's pack are never asked for again.
                for key in [k for k, p in self._packs.items() if p.municipality_code == code]:
                    del self._packs[key]
                self._packs[inputs.key] = built
                while len(self._packs) > inputs.cache_size:
                    self._packs.popitem(last=False)
        if isinstance(built, AreaNotRouted):
            raise built
        return built

    def clear(self) -> None:
        """Forget every pack (tests)."""
        with self._index:
            self._packs.clear()


_cache = _PackCache()


def clear_cache() -> None:
    """Forget the packs this process built (tests that swap files)."""
    _cache.clear()


def _local_metres(lon0: float, lat0: float) -> tuple[Any, Any]:
    """Forward and inverse maps between lon/lat and metres east/north of (lon0, lat0)."""
    kx = math.cos(math.radians(lat0)) * METRES_PER_DEGREE
    ky = METRES_PER_DEGREE

    def forward(coords: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.column_stack(((coords[:, 0] - lon0) * kx, (coords[:, 1] - lat0) * ky))

    def inverse(coords: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.column_stack((coords[:, 0] / kx + lon0, coords[:, 1] / ky + lat0))

    return forward, inverse


def _area(inputs: PackInputs) -> BaseGeometry:
    """The municipality's boundary grown by the margin, or its data box (already grown)."""
    if inputs.boundary_geojson is None:
        return shapely.box(*inputs.area_box)
    boundary = shapely.from_geojson(inputs.boundary_geojson)
    if not boundary.is_valid:
        boundary = shapely.make_valid(boundary)
    min_lon, min_lat, max_lon, max_lat = boundary.bounds
    forward, inverse = _local_metres((min_lon + max_lon) / 2, (min_lat + max_lat) / 2)
    metres = shapely.transform(boundary, forward)
    grown = metres.simplify(BOUNDARY_TOLERANCE_M).buffer(inputs.margin_m, quad_segs=4)
    return shapely.transform(grown, inverse)


def _build(inputs: PackInputs) -> OfflinePack:
    started = time.perf_counter()
    area = _area(inputs)
    shapely.prepare(area)  # this thread's own geometry
    graph, regions = _area_graph(inputs, area)
    if graph is None:
        raise AreaNotRouted(
            f"no walkable way of the walk graphs lies in municipality "
            f"{inputs.municipality['code']}",
            f"{inputs.municipality['prefectureJa']}{inputs.municipality['nameJa']}の区域には"
            "歩行できる道がありません",
            municipality_code=inputs.municipality["code"],
        )
    # Private copies: the zone index shares its (prepared) geometries with other threads.
    zone_info = [info for info, _ in inputs.zones]
    polygons, _ = private_polygons([p for _, p in inputs.zones])
    hazards = _edge_hazards(graph, zone_info, polygons)
    shelters = _shelters_document(inputs.shelters, area)
    zones = _zones_document(zone_info, polygons, area)
    document = {
        "format": PACK_FORMAT,
        "version": PACK_VERSION,
        "municipality": inputs.municipality,
        "area": {
            "source": "boundary" if inputs.boundary_geojson is not None else "data",
            "marginM": inputs.margin_m,
            "bbox": _q(np.asarray(area.bounds)).tolist(),
        },
        "scale": SCALE,
        "routing": inputs.routing,
        "edgeFlags": EDGE_FLAGS,
        "nodeFlags": NODE_FLAGS,
        "hazardBits": [hazard.value for hazard in HAZARD_BITS],
        "graph": _graph_document(graph, hazards, regions),
        "shelters": shelters,
        "zoneToleranceM": ZONE_TOLERANCE_M,
        "zones": zones,
    }
    body = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
    packed = gzip.compress(body, compresslevel=9, mtime=0)
    return OfflinePack(
        municipality_code=inputs.municipality["code"],
        digest=hashlib.sha256(body).hexdigest(),
        gzip_body=packed,
        stats=PackStats(
            nodes=graph.node_count,
            edges=graph.edge_count,
            shelters=len(shelters),
            zones=len(zones),
            json_bytes=len(body),
            gzip_bytes=len(packed),
            build_seconds=time.perf_counter() - started,
        ),
    )


def _area_graph(
    inputs: PackInputs, area: BaseGeometry
) -> tuple[WalkGraph | None, list[dict[str, Any]]]:
    """The nodes of every region's graph inside the area and the edges between them, the
    regions side by side in one graph (they never connect: a walk stays in one region)."""
    min_lon, min_lat, max_lon, max_lat = area.bounds
    parts: list[WalkGraph] = []
    regions: list[dict[str, Any]] = []
    for region in inputs.networks.regions:
        g = region.engine.graph
        inside = (g.lon >= min_lon) & (g.lon <= max_lon) & (g.lat >= min_lat) & (g.lat <= max_lat)
        candidates = np.flatnonzero(inside)
        inside[candidates] = shapely.contains_xy(area, g.lon[candidates], g.lat[candidates])
        if not inside.any():
            continue
        part = g.subgraph(inside).without_isolated_nodes()
        if part.edge_count:
            parts.append(part)
            regions.append(
                {"name": region.name, "nodes": part.node_count, "edges": part.edge_count}
            )
    if not parts:
        return None, regions
    record_index: dict[str, int] = {}
    conditional: list[NDArray[np.int32]] = []
    for part in parts:
        remap = np.array(
            [record_index.setdefault(r, len(record_index)) for r in part.conditional_records]
            or [0],
            dtype=np.int32,
        )
        conditional.append(np.where(part.conditional >= 0, remap[part.conditional], -1))
    offsets = np.cumsum([0] + [p.node_count for p in parts])
    merged = WalkGraph(
        lon=np.concatenate([p.lon for p in parts]),
        lat=np.concatenate([p.lat for p in parts]),
        u=np.concatenate([p.u + o for p, o in zip(parts, offsets, strict=False)]).astype(np.int32),
        v=np.concatenate([p.v + o for p, o in zip(parts, offsets, strict=False)]).astype(np.int32),
        length_m=np.concatenate([p.length_m for p in parts]),
        highway=np.concatenate([p.highway for p in parts]),
        way_id=np.concatenate([p.way_id for p in parts]),
        node_id=np.concatenate([p.node_id for p in parts]),
        flags=np.concatenate([p.flags for p in parts]),
        incline=np.concatenate([p.incline for p in parts]),
        conditional=np.concatenate(conditional).astype(np.int32),
        node_flags=np.concatenate([p.node_flags for p in parts]),
        conditional_records=tuple(record_index),
    )
    return merged, regions


def _edge_hazards(
    graph: WalkGraph, zones: Sequence[ZoneInfo], polygons: NDArray[np.object_]
) -> NDArray[np.uint8]:
    """Per edge, one bit per hazard type whose zones the edge meets: the test the engine
    makes to remove an edge from a search avoiding those zones, on the exact polygons."""
    bits = np.zeros(graph.edge_count, dtype=np.uint8)
    if not len(zones):
        return bits
    zone_idx, edge_idx = shapely.STRtree(graph.edge_lines()).query(polygons, predicate="intersects")
    zone_bits = np.array([_HAZARD_BIT[zone.hazard_type] for zone in zones], dtype=np.uint8)
    np.bitwise_or.at(bits, edge_idx, zone_bits[zone_idx])
    return bits


def _q(degrees: NDArray[np.float64]) -> NDArray[np.int64]:
    """Degrees as integers of 1/SCALE degree."""
    return np.round(np.asarray(degrees, dtype=np.float64) * SCALE).astype(np.int64)


def _deltas(values: NDArray[np.int64]) -> list[int]:
    """The first value, then each value minus the one before (small numbers compress)."""
    values = np.asarray(values, dtype=np.int64)
    if not len(values):
        return []
    return np.concatenate([values[:1], np.diff(values)]).tolist()


def _sparse(mask: NDArray[np.bool_], values: NDArray[Any]) -> dict[str, list[Any]]:
    """Where a mostly-empty column is set: delta-encoded indices and their values."""
    where = np.flatnonzero(mask)
    return {"index": _deltas(where), "value": np.asarray(values)[where].tolist()}


def _morton(x: NDArray[np.int64], y: NDArray[np.int64]) -> NDArray[np.uint64]:
    """Z-order key of non-negative integer coordinates: nodes near in space get near
    numbers, so coordinate and index deltas stay small."""

    def spread(values: NDArray[np.int64]) -> NDArray[np.uint64]:
        s = np.clip(values, 0, (1 << 32) - 1).astype(np.uint64)
        for shift, mask in (
            (16, 0x0000FFFF0000FFFF),
            (8, 0x00FF00FF00FF00FF),
            (4, 0x0F0F0F0F0F0F0F0F),
            (2, 0x3333333333333333),
            (1, 0x5555555555555555),
        ):
            s = (s | (s << np.uint64(shift))) & np.uint64(mask)
        return s

    return spread(x) | (spread(y) << np.uint64(1))


def _graph_document(
    graph: WalkGraph, hazards: NDArray[np.uint8], regions: list[dict[str, Any]]
) -> dict[str, Any]:
    qlon, qlat = _q(graph.lon), _q(graph.lat)
    # Nodes in Z-order; every edge from its lower node to its higher one (direction flags
    # swapped with it), edges sorted by their lower node.
    order = np.argsort(_morton(qlon - qlon.min(), qlat - qlat.min()), kind="stable")
    position = np.empty(graph.node_count, dtype=np.int64)
    position[order] = np.arange(graph.node_count)
    u, v = position[graph.u], position[graph.v]
    flags = graph.flags.astype(np.int64)
    swap = u > v
    directed = policy.FORWARD_ONLY | policy.BACKWARD_ONLY
    swapped = (flags & ~directed) | np.where(flags & policy.FORWARD_ONLY, policy.BACKWARD_ONLY, 0)
    swapped |= np.where(flags & policy.BACKWARD_ONLY, policy.FORWARD_ONLY, 0)
    flags = np.where(swap, swapped, flags)
    u, v = np.where(swap, v, u), np.where(swap, u, v)
    edges = np.lexsort((v, u))
    u, v, flags = u[edges], v[edges], flags[edges]
    incline = graph.incline[edges]
    conditional = graph.conditional[edges]
    return {
        "regions": regions,
        "nodes": {
            "count": graph.node_count,
            "lon": _deltas(qlon[order]),
            "lat": _deltas(qlat[order]),
            "flags": _sparse(graph.node_flags[order] > 0, graph.node_flags[order]),
        },
        "edges": {
            "count": graph.edge_count,
            "u": _deltas(u),
            "v": (v - u).tolist(),
            "lengthDm": np.round(graph.length_m[edges] * 10).astype(np.int64).tolist(),
            "flags": flags.tolist(),
            "hazards": hazards[edges].tolist(),
            "inclineDeciPct": _sparse(
                ~np.isnan(incline), np.round(np.nan_to_num(incline) * 10).astype(np.int64)
            ),
            "conditional": _sparse(conditional >= 0, conditional),
        },
        "conditionalRecords": list(graph.conditional_records),
    }


def _shelters_document(shelters: Sequence[_PackShelter], area: BaseGeometry) -> list[Any]:
    if not shelters:
        return []
    lon = np.array([s.lon for s in shelters])
    lat = np.array([s.lat for s in shelters])
    inside = shapely.contains_xy(area, lon, lat)
    qlon, qlat = _q(lon), _q(lat)
    return [
        {
            "id": s.id,
            "commonId": s.common_id,
            "name": s.name,
            "address": s.address,
            "municipality": s.municipality_code,
            "lon": int(qlon[i]),
            "lat": int(qlat[i]),
            "kinds": list(s.kinds),
            "hazards": list(s.hazards),
            "capacity": s.capacity,
            "elevationM": None if s.elevation_m is None else round(s.elevation_m, 1),
        }
        for i, s in enumerate(shelters)
        if inside[i]
    ]


def _zones_document(
    zones: Sequence[ZoneInfo], polygons: NDArray[np.object_], area: BaseGeometry
) -> list[Any]:
    """Zones meeting the area, cut to its box, simplified by ZONE_TOLERANCE_M and put on the
    1e-6 degree grid."""
    if not len(zones):
        return []
    meets = shapely.intersects(area, polygons)
    clipped = shapely.clip_by_rect(polygons, *area.bounds)
    tolerance = ZONE_TOLERANCE_M / METRES_PER_DEGREE
    simplified = shapely.set_precision(
        shapely.simplify(clipped, tolerance, preserve_topology=True), 1.0 / SCALE
    )
    found: list[Any] = []
    for info, meeting, geometry in zip(zones, meets, simplified, strict=True):
        shape = polygonal_part(geometry) if meeting else None
        if shape is None:
            continue
        parts = shape.geoms if isinstance(shape, MultiPolygon) else [shape]
        found.append(
            {
                "hazard": info.hazard_type.value,
                "rank": info.rank,
                "depthM": info.depth_m,
                "name": info.name,
                "polygons": [
                    [_ring(part.exterior.coords)] + [_ring(r.coords) for r in part.interiors]
                    for part in parts
                ],
            }
        )
    return found


def _ring(coords: Any) -> list[int]:
    """A ring as [x0, y0, dx1, dy1, ...] in 1e-6 degree, its closing point left out."""
    points = _q(np.asarray(coords)[:-1])
    first = points[:1]
    return np.concatenate([first, np.diff(points, axis=0)]).ravel().tolist()
