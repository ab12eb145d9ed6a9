"""Build a pedestrian WalkGraph from an OpenStreetMap extract (.osm.pbf or .osm) with pyosmium.

Which ways are kept, and the flags their edges carry, is the tag policy of
backend/routing/policy.py. Ways are split at every node so edge geometry is exact; ways
crossing the extract border are cut where node locations are missing. Distinct OSM nodes at
identical coordinates are merged into one graph node (duplicate nodes are a mapping error;
their barrier flags add up). By default only the largest connected component is kept: islands
in OSM data are mostly mapping gaps or closed courtyards, and a single component guarantees
that any two snapped points are connected. The import report says what was left out.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import osmium

from backend.geo import haversine_m_array
from backend.routing import policy
from backend.routing.graph import WalkGraph


@dataclass
class ImportReport:
    """What an import kept and left out, for the operator (and the graph file's metadata)."""

    nodes: int = 0
    edges: int = 0
    length_km: float = 0.0
    walkable_bbox: tuple[float, float, float, float] | None = None
    file_bbox: tuple[float, float, float, float] | None = None
    islands_dropped: int = 0
    islands_km: float = 0.0
    ways_kept: int = 0
    excluded: dict[str, tuple[int, float]] = field(default_factory=dict)  # rule -> (ways, km)
    flagged: dict[str, int] = field(default_factory=dict)  # edges with a flag
    ticket_gates: int = 0
    not_step_free_nodes: int = 0
    conditional_ways: int = 0
    unparsed_conditions: int = 0

    def as_metadata(self) -> dict[str, Any]:
        """A JSON-ready dict (stored in the graph file)."""
        return {
            "nodes": self.nodes,
            "edges": self.edges,
            "length_km": round(self.length_km, 3),
            "walkable_bbox": list(self.walkable_bbox) if self.walkable_bbox else None,
            "file_bbox": list(self.file_bbox) if self.file_bbox else None,
            "islands_dropped": self.islands_dropped,
            "islands_km": round(self.islands_km, 3),
            "ways_kept": self.ways_kept,
            "excluded": {k: [n, round(km, 3)] for k, (n, km) in self.excluded.items()},
            "flagged": self.flagged,
            "ticket_gates": self.ticket_gates,
            "not_step_free_nodes": self.not_step_free_nodes,
            "conditional_ways": self.conditional_ways,
            "unparsed_conditions": self.unparsed_conditions,
        }


_FLAG_NAMES = {
    "steps": policy.STEPS,
    "escalator": policy.ESCALATOR,
    "elevator": policy.ELEVATOR,
    "wheelchair_no": policy.WHEELCHAIR_NO,
    "off_street_level": policy.OFF_STREET_LEVEL,
    "one_direction": policy.FORWARD_ONLY | policy.BACKWARD_ONLY,
}


def build_walk_graph_from_pbf(
    path: str | os.PathLike[str], *, largest_component: bool = True
) -> WalkGraph:
    """Read an OSM extract and build the pedestrian graph (the report is in its metadata)."""
    return import_walk_graph(path, largest_component=largest_component)[0]


def import_walk_graph(
    path: str | os.PathLike[str], *, largest_component: bool = True
) -> tuple[WalkGraph, ImportReport]:
    """The pedestrian graph of an OSM extract and the report of what the policy did."""
    report = ImportReport()
    refs: list[int] = []
    xs: list[int] = []
    ys: list[int] = []
    way_of_ref: list[int] = []
    way_codes: list[int] = []
    way_ids: list[int] = []
    way_flags: list[int] = []
    way_incline: list[float] = []
    way_conditional: list[int] = []
    records: dict[str, int] = {}
    node_flag_of: dict[int, int] = {}
    # Excluded ways: their node locations, to measure the km each rule removed.
    excluded_rule_of_ref: list[int] = []
    ex_xs: list[int] = []
    ex_ys: list[int] = []
    ex_way: list[int] = []
    excluded_ways: Counter[str] = Counter()

    processor = (
        osmium.FileProcessor(os.fspath(path), osmium.osm.NODE | osmium.osm.WAY)
        .with_locations()
        .with_filter(osmium.filter.KeyFilter("highway", *policy.NODE_TAG_KEYS))
    )
    header_box = processor.header.box()
    if header_box.valid():
        report.file_bbox = (
            header_box.bottom_left.lon,
            header_box.bottom_left.lat,
            header_box.top_right.lon,
            header_box.top_right.lat,
        )
    invalid = np.iinfo(np.int32).max
    excluded_index = 0
    for entity in processor:
        if isinstance(entity, osmium.osm.Node):
            flags = policy.node_flags(entity.tags)
            if flags:
                node_flag_of[entity.id] = flags
            continue
        if not isinstance(entity, osmium.osm.Way) or "highway" not in entity.tags:
            continue
        tags = entity.tags
        rule = policy.excluding_rule(tags)
        if rule is not None:
            excluded_ways[rule.code] += 1
            for node in entity.nodes:
                loc = node.location
                ex_xs.append(loc.x if loc.valid() else invalid)
                ex_ys.append(loc.y if loc.valid() else invalid)
                ex_way.append(excluded_index)
                excluded_rule_of_ref.append(policy.RULE_CODES.index(rule.code))
            excluded_index += 1
            continue
        index = len(way_codes)
        way_codes.append(policy.highway_code(tags) or 0)
        way_ids.append(entity.id)
        way_flags.append(policy.edge_flags(tags))
        way_incline.append(policy.incline_percent(tags))
        record = policy.conditional_record(tags)
        way_conditional.append(-1 if record is None else records.setdefault(record, len(records)))
        for node in entity.nodes:
            loc = node.location
            refs.append(node.ref)
            if loc.valid():
                xs.append(loc.x)
                ys.append(loc.y)
            else:
                xs.append(invalid)
                ys.append(invalid)
            way_of_ref.append(index)

    report.ways_kept = len(way_codes)
    report.excluded = _excluded_km(excluded_ways, ex_xs, ex_ys, ex_way, excluded_rule_of_ref)
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
    # Barrier flags of every OSM node merged into a graph node add up.
    node_flags = np.zeros(len(first), dtype=np.uint8)
    if node_flag_of:
        endpoint_flags = np.array(
            [node_flag_of.get(int(ref), 0) for ref in ref_a[endpoint_pos]], dtype=np.uint8
        )
        np.bitwise_or.at(node_flags, inverse, endpoint_flags)

    graph = WalkGraph.from_edges(
        lon=x_a[first_pos] / 1e7,  # libosmium stores fixed-point 1e-7 degrees
        lat=y_a[first_pos] / 1e7,
        u=inverse[: len(starts)],
        v=inverse[len(starts) :],
        highway=np.asarray(way_codes, dtype=np.uint8)[edge_way],
        way_id=np.asarray(way_ids, dtype=np.int64)[edge_way],
        node_id=ref_a[first_pos],
        flags=np.asarray(way_flags, dtype=np.uint8)[edge_way],
        incline=np.asarray(way_incline, dtype=np.float32)[edge_way],
        conditional=np.asarray(way_conditional, dtype=np.int32)[edge_way],
        node_flags=node_flags,
        conditional_records=tuple(records),
    ).without_isolated_nodes()
    if largest_component:
        graph, report.islands_dropped, dropped_m = graph.split_largest_component()
        report.islands_km = dropped_m / 1000
    report.nodes, report.edges = graph.node_count, graph.edge_count
    report.length_km = graph.total_length_m / 1000
    report.walkable_bbox = graph.bbox if graph.node_count else None
    report.flagged = {
        name: int(np.count_nonzero(graph.flags & bit)) for name, bit in _FLAG_NAMES.items()
    }
    report.ticket_gates = int(np.count_nonzero(graph.node_flags & policy.TICKET_GATE))
    report.not_step_free_nodes = int(np.count_nonzero(graph.node_flags & policy.NOT_STEP_FREE))
    used = np.unique(graph.conditional[graph.conditional >= 0])
    report.conditional_ways = len(np.unique(graph.way_id[np.isin(graph.conditional, used)]))
    report.unparsed_conditions = sum(
        len(policy.Conditional.parse(graph.conditional_records[int(i)]).unparsed) for i in used
    )
    return replace(graph, metadata={"import": report.as_metadata()}), report


def _excluded_km(
    ways: Counter[str],
    xs: list[int],
    ys: list[int],
    way_of_ref: list[int],
    rule_of_ref: list[int],
) -> dict[str, tuple[int, float]]:
    """(ways, km) each rule excluded, in rule order (rules that excluded nothing omitted)."""
    km: dict[str, float] = dict.fromkeys(ways, 0.0)
    if xs:
        x = np.asarray(xs, dtype=np.float64) / 1e7
        y = np.asarray(ys, dtype=np.float64) / 1e7
        way = np.asarray(way_of_ref)
        rule = np.asarray(rule_of_ref)
        valid = np.asarray(xs) != np.iinfo(np.int32).max
        seg = np.flatnonzero((way[1:] == way[:-1]) & valid[1:] & valid[:-1])
        metres = haversine_m_array(y[seg], x[seg], y[seg + 1], x[seg + 1])
        per_rule = np.bincount(rule[seg], weights=metres, minlength=len(policy.RULE_CODES))
        for code_index, code in enumerate(policy.RULE_CODES):
            if code in km:
                km[code] = float(per_rule[code_index]) / 1000
    return {code: (ways[code], km[code]) for code in policy.RULE_CODES if code in ways}
