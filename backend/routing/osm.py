"""Build a pedestrian WalkGraph from an OpenStreetMap .osm.pbf extract with pyosmium.

Tag policy (documented here because it decides who can be routed where):

* kept highway classes: footway, path, pedestrian, steps, corridor, platform, cycleway,
  bridleway, living_street, residential, service, track, unclassified, road and
  tertiary/secondary/primary/trunk (+ ``_link``). Pedestrians may legally walk along
  ordinary roads, including trunk roads, so ``sidewalk=*`` is ignored; cycleways are kept
  because most allow walking (shared paths) and ``foot=no`` still removes the others;
* never kept: motorway(+_link), construction, proposed, planned, abandoned, disused,
  raceway, bus_guideway, busway, escape, and any ``area=yes`` (plazas would otherwise be
  routed along their outline only);
* ``foot=no|private|use_sidepath`` removes a way; ``access=no|private`` removes it unless
  ``foot=yes|designated|permissive|official``; an explicit foot permission also admits an
  otherwise unknown highway value (e.g. ``highway=trail``), classified as "other";
* the graph is undirected: one-way rules do not apply to people on foot.

Ways are split at every node so edge geometry is exact; ways crossing the extract border
are cut where node locations are missing. Distinct OSM nodes at identical coordinates are
merged into one graph node (duplicate nodes are a mapping error). By default only the
largest connected component is kept: islands in OSM data are mostly mapping gaps or closed
courtyards, and a single component guarantees that any two snapped points are connected.
"""

from __future__ import annotations

import os
from typing import Protocol

import numpy as np
import osmium

from backend.routing.graph import HIGHWAY_CODE, WalkGraph

EXCLUDED_HIGHWAYS = frozenset(
    {
        "motorway",
        "motorway_link",
        "construction",
        "proposed",
        "planned",
        "abandoned",
        "disused",
        "razed",
        "raceway",
        "bus_guideway",
        "busway",
        "escape",
    }
)
WALKABLE_HIGHWAYS = frozenset(HIGHWAY_CODE) - {"other"}
FOOT_ALLOWED = frozenset({"yes", "designated", "permissive", "official"})
FOOT_DENIED = frozenset({"no", "private", "use_sidepath"})
ACCESS_DENIED = frozenset({"no", "private"})


class TagLookup(Protocol):
    """Anything with dict-like ``get`` (a dict or a pyosmium TagList)."""

    def get(self, key: str, default: str | None = None, /) -> str | None: ...


def walkable_highway_code(tags: TagLookup) -> int | None:
    """Highway class code if a way with these tags is walkable, else None."""
    highway = tags.get("highway")
    if highway is None or highway in EXCLUDED_HIGHWAYS or tags.get("area") == "yes":
        return None
    foot = tags.get("foot")
    if foot in FOOT_DENIED:
        return None
    if foot in FOOT_ALLOWED:
        return HIGHWAY_CODE.get(highway, 0)
    if tags.get("access") in ACCESS_DENIED:
        return None
    return HIGHWAY_CODE[highway] if highway in WALKABLE_HIGHWAYS else None


def build_walk_graph_from_pbf(
    path: str | os.PathLike[str], *, largest_component: bool = True
) -> WalkGraph:
    """Read an .osm.pbf and build the pedestrian graph (see module docstring for the policy)."""
    refs: list[int] = []
    xs: list[int] = []
    ys: list[int] = []
    way_of_ref: list[int] = []
    way_codes: list[int] = []
    way_ids: list[int] = []

    processor = (
        osmium.FileProcessor(os.fspath(path), osmium.osm.NODE | osmium.osm.WAY)
        .with_locations()
        .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
        .with_filter(osmium.filter.KeyFilter("highway"))
    )
    invalid = np.iinfo(np.int32).max
    for way in processor:
        if not isinstance(way, osmium.osm.Way):  # the entity filter already ensures this
            continue
        code = walkable_highway_code(way.tags)
        if code is None:
            continue
        index = len(way_codes)
        way_codes.append(code)
        way_ids.append(way.id)
        for node in way.nodes:
            loc = node.location
            refs.append(node.ref)
            if loc.valid():
                xs.append(loc.x)
                ys.append(loc.y)
            else:
                xs.append(invalid)
                ys.append(invalid)
            way_of_ref.append(index)

    ref_a = np.asarray(refs, dtype=np.int64)
    x_a = np.asarray(xs, dtype=np.int64)
    y_a = np.asarray(ys, dtype=np.int64)
    way_a = np.asarray(way_of_ref, dtype=np.int64)
    valid = x_a != invalid
    # An edge joins consecutive refs of the same way whose locations are both known.
    starts = np.flatnonzero((way_a[1:] == way_a[:-1]) & valid[1:] & valid[:-1])
    ends = starts + 1
    # Nodes are identified by location, not OSM id: distinct nodes at the very same spot are
    # a common mapping error and would otherwise make one point snap to an isolated twin.
    endpoint_pos = np.concatenate([starts, ends])
    location_key = (x_a[endpoint_pos] << 32) | (y_a[endpoint_pos] & 0xFFFFFFFF)
    _, first, inverse = np.unique(location_key, return_index=True, return_inverse=True)
    first_pos = endpoint_pos[first]
    edge_way = way_a[starts]

    graph = WalkGraph.from_edges(
        lon=x_a[first_pos] / 1e7,  # libosmium stores fixed-point 1e-7 degrees
        lat=y_a[first_pos] / 1e7,
        u=inverse[: len(starts)],
        v=inverse[len(starts) :],
        highway=np.asarray(way_codes, dtype=np.uint8)[edge_way],
        way_id=np.asarray(way_ids, dtype=np.int64)[edge_way],
        node_id=ref_a[first_pos],
    ).without_isolated_nodes()
    return graph.largest_component() if largest_component else graph
