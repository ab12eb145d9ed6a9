"""The walk graph: compact numpy arrays of nodes and undirected edges, persisted as one .npz.

Edges carry flags (steps, escalator, level, direction: backend/routing/policy.py) and nodes
barrier flags, so every walking profile is read from the one imported graph. Format 2 added
them; files of format 1 still load (no flags: every edge is plain walkable).
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from backend.geo import MEAN_EARTH_RADIUS_M, haversine_m_array

FORMAT_VERSION = 2
READABLE_VERSIONS = (1, 2)
# IUGG mean radius; haversine error vs the ellipsoid is < 0.5 %
EARTH_RADIUS_M = MEAN_EARTH_RADIUS_M

# Per-edge highway class codes. Files store the names, so codes may be reordered safely.
HIGHWAY_CLASSES: tuple[str, ...] = (
    "other",
    "footway",
    "path",
    "pedestrian",
    "steps",
    "corridor",
    "platform",
    "cycleway",
    "bridleway",
    "living_street",
    "residential",
    "service",
    "track",
    "unclassified",
    "road",
    "tertiary",
    "tertiary_link",
    "secondary",
    "secondary_link",
    "primary",
    "primary_link",
    "trunk",
    "trunk_link",
    "elevator",
)
HIGHWAY_CODE: dict[str, int] = {name: code for code, name in enumerate(HIGHWAY_CLASSES)}

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int32]


def _array(values: ArrayLike | None, size: int, default: float, dtype: type) -> Any:
    """``values`` as an array of ``dtype``, or ``size`` times ``default`` when None."""
    return np.full(size, default, dtype) if values is None else np.asarray(values, dtype)


@dataclass(frozen=True, eq=False)
class WalkGraph:
    """An undirected pedestrian graph; edges are straight segments between consecutive nodes."""

    lon: FloatArray
    lat: FloatArray
    u: IntArray
    v: IntArray
    length_m: FloatArray
    highway: NDArray[np.uint8]
    way_id: NDArray[np.int64]
    node_id: NDArray[np.int64]
    # Edge flags (policy.STEPS ...), absolute incline in percent (NaN: not tagged), index into
    # ``conditional_records`` of time-dependent access (-1: none), and node flags.
    flags: NDArray[np.uint8]
    incline: NDArray[np.float32]
    conditional: NDArray[np.int32]
    node_flags: NDArray[np.uint8]
    conditional_records: tuple[str, ...] = ()
    # What the import said about the source (the import report): shown by `roads list`.
    metadata: dict[str, Any] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        n, m = len(self.lon), len(self.u)
        if len(self.lat) != n or len(self.node_id) != n or len(self.node_flags) != n:
            raise ValueError("node arrays must have the same length")
        edge_arrays = (
            self.v, self.length_m, self.highway, self.way_id, self.flags, self.incline,
            self.conditional,
        )  # fmt: skip
        if any(len(a) != m for a in edge_arrays):
            raise ValueError("edge arrays must have the same length")
        if m and int(self.conditional.max()) >= len(self.conditional_records):
            raise ValueError("conditional index out of range")
        if m and (min(self.u.min(), self.v.min()) < 0 or max(self.u.max(), self.v.max()) >= n):
            raise ValueError("edge endpoint out of range")

    @classmethod
    def from_edges(
        cls,
        lon: ArrayLike,
        lat: ArrayLike,
        u: ArrayLike,
        v: ArrayLike,
        *,
        highway: ArrayLike | None = None,
        way_id: ArrayLike | None = None,
        node_id: ArrayLike | None = None,
        flags: ArrayLike | None = None,
        incline: ArrayLike | None = None,
        conditional: ArrayLike | None = None,
        node_flags: ArrayLike | None = None,
        conditional_records: tuple[str, ...] = (),
    ) -> WalkGraph:
        """Build a clean graph: lengths computed, self-loops and duplicate edges dropped."""
        lon_a = np.ascontiguousarray(lon, dtype=np.float64)
        lat_a = np.ascontiguousarray(lat, dtype=np.float64)
        u_a = np.asarray(u, dtype=np.int64)
        v_a = np.asarray(v, dtype=np.int64)
        m = len(u_a)
        hw = np.zeros(m, np.uint8) if highway is None else np.asarray(highway, np.uint8)
        wid = np.zeros(m, np.int64) if way_id is None else np.asarray(way_id, np.int64)
        nid = np.zeros(len(lon_a), np.int64) if node_id is None else np.asarray(node_id, np.int64)
        fl = _array(flags, m, 0, np.uint8)
        inc = _array(incline, m, np.nan, np.float32)
        cond = _array(conditional, m, -1, np.int32)
        nfl = _array(node_flags, len(lon_a), 0, np.uint8)
        length = haversine_m_array(lat_a[u_a], lon_a[u_a], lat_a[v_a], lon_a[v_a])

        # Parallel edges (two ways sharing a segment) are the same straight segment: keep one,
        # the one open to the most people (fewest flags, no time condition).
        lo, hi = np.minimum(u_a, v_a), np.maximum(u_a, v_a)
        key = lo * len(lon_a) + hi
        order = np.lexsort((cond >= 0, fl, key))
        first = np.ones(m, dtype=bool)
        first[1:] = key[order][1:] != key[order][:-1]
        sel = np.sort(order[first & (lo != hi)[order]])
        return cls(
            lon=lon_a,
            lat=lat_a,
            u=u_a[sel].astype(np.int32),
            v=v_a[sel].astype(np.int32),
            length_m=length[sel],
            highway=hw[sel],
            way_id=wid[sel],
            node_id=nid,
            flags=fl[sel],
            incline=inc[sel],
            conditional=cond[sel],
            node_flags=nfl,
            conditional_records=tuple(conditional_records),
        )

    @property
    def node_count(self) -> int:
        """Number of nodes."""
        return len(self.lon)

    @property
    def edge_count(self) -> int:
        """Number of undirected edges."""
        return len(self.u)

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        """Bounding box of the nodes as (min_lon, min_lat, max_lon, max_lat)."""
        if not self.node_count:
            raise ValueError("empty graph has no bounding box")
        return (
            float(self.lon.min()),
            float(self.lat.min()),
            float(self.lon.max()),
            float(self.lat.max()),
        )

    @property
    def total_length_m(self) -> float:
        """Sum of all edge lengths in metres."""
        return float(self.length_m.sum())

    def component_labels(self, usable: NDArray[np.bool_] | None = None) -> tuple[int, IntArray]:
        """Connected components as (count, label per node), over the ``usable`` edges only
        when given."""
        n = self.node_count
        u, v = (self.u, self.v) if usable is None else (self.u[usable], self.v[usable])
        adj = coo_matrix((np.ones(len(u), np.int8), (u, v)), shape=(n, n))
        count, labels = connected_components(adj, directed=False)
        return int(count), labels.astype(np.int32)

    def edge_lines(self) -> NDArray[np.object_]:
        """Every edge as a shapely LineString in (lon, lat)."""
        return shapely.linestrings(
            np.stack(
                [
                    np.column_stack((self.lon[self.u], self.lat[self.u])),
                    np.column_stack((self.lon[self.v], self.lat[self.v])),
                ],
                axis=1,
            )
        )

    def subgraph(self, node_mask: NDArray[np.bool_]) -> WalkGraph:
        """The graph induced by the masked nodes, renumbered compactly."""
        new_index = np.full(self.node_count, -1, dtype=np.int64)
        new_index[node_mask] = np.arange(int(node_mask.sum()))
        edge_keep = node_mask[self.u] & node_mask[self.v]
        return WalkGraph(
            lon=self.lon[node_mask],
            lat=self.lat[node_mask],
            u=new_index[self.u[edge_keep]].astype(np.int32),
            v=new_index[self.v[edge_keep]].astype(np.int32),
            length_m=self.length_m[edge_keep],
            highway=self.highway[edge_keep],
            way_id=self.way_id[edge_keep],
            node_id=self.node_id[node_mask],
            flags=self.flags[edge_keep],
            incline=self.incline[edge_keep],
            conditional=self.conditional[edge_keep],
            node_flags=self.node_flags[node_mask],
            conditional_records=self.conditional_records,
        )

    def without_isolated_nodes(self) -> WalkGraph:
        """Drop nodes that no edge uses."""
        used = np.zeros(self.node_count, dtype=bool)
        used[self.u] = True
        used[self.v] = True
        return self if used.all() else self.subgraph(used)

    def largest_component(self) -> WalkGraph:
        """The largest connected component only (by node count)."""
        return self.split_largest_component()[0]

    def split_largest_component(self) -> tuple[WalkGraph, int, float]:
        """The largest connected component, and the islands left out (count, metres)."""
        count, labels = self.component_labels()
        if count <= 1:
            return self, 0, 0.0
        biggest = int(np.argmax(np.bincount(labels)))
        keep = labels == biggest
        dropped_m = float(self.length_m[~keep[self.u]].sum())
        return self.subgraph(keep), count - 1, dropped_m

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the graph atomically to a single uncompressed .npz file (fast to load)."""
        target = Path(path)
        fd, tmp = tempfile.mkstemp(prefix=target.name, suffix=".tmp", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                np.savez(
                    fh,
                    format_version=np.int32(FORMAT_VERSION),
                    highway_classes=np.array(HIGHWAY_CLASSES),
                    lon=self.lon,
                    lat=self.lat,
                    u=self.u,
                    v=self.v,
                    length_m=self.length_m,
                    highway=self.highway,
                    way_id=self.way_id,
                    node_id=self.node_id,
                    flags=self.flags,
                    incline=self.incline,
                    conditional=self.conditional,
                    node_flags=self.node_flags,
                    conditional_records=np.array(self.conditional_records, dtype=np.str_),
                    metadata=np.array(json.dumps(self.metadata, ensure_ascii=False)),
                )
            # mkstemp makes the file private; the server may run as another user.
            os.chmod(tmp, 0o644)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> WalkGraph:
        """Read a graph written by `save`; raises ValueError on an unknown format version."""
        with np.load(path, allow_pickle=False) as data:
            if "format_version" not in data:
                raise ValueError(f"{path} is not a walk graph file")
            version = int(data["format_version"])
            if version not in READABLE_VERSIONS:
                raise ValueError(f"{path}: unsupported walk graph format version {version}")
            # Remap stored class names onto the current code table (unknown names -> "other").
            stored = [str(name) for name in data["highway_classes"]]
            remap = np.array([HIGHWAY_CODE.get(name, 0) for name in stored], dtype=np.uint8)
            m, n = len(data["u"]), len(data["lon"])
            # Format 1 had no flags: every edge plain walkable, no barriers.
            extra: dict[str, Any] = {
                "flags": _array(None, m, 0, np.uint8),
                "incline": _array(None, m, np.nan, np.float32),
                "conditional": _array(None, m, -1, np.int32),
                "node_flags": _array(None, n, 0, np.uint8),
            }
            if version >= 2:
                extra = {
                    "flags": data["flags"].astype(np.uint8, copy=False),
                    "incline": data["incline"].astype(np.float32, copy=False),
                    "conditional": data["conditional"].astype(np.int32, copy=False),
                    "node_flags": data["node_flags"].astype(np.uint8, copy=False),
                    "conditional_records": tuple(str(r) for r in data["conditional_records"]),
                    "metadata": json.loads(str(data["metadata"])),
                }
            return cls(
                lon=data["lon"].astype(np.float64, copy=False),
                lat=data["lat"].astype(np.float64, copy=False),
                u=data["u"].astype(np.int32, copy=False),
                v=data["v"].astype(np.int32, copy=False),
                length_m=data["length_m"].astype(np.float64, copy=False),
                highway=remap[data["highway"]],
                way_id=data["way_id"].astype(np.int64, copy=False),
                node_id=data["node_id"].astype(np.int64, copy=False),
                **extra,
            )
