"""Alert areas made ready to store: geometry checked and cut into H3 cells, keys for updates.

Runs off the event loop (``prepare_areas`` is plain CPU work). A polygon area becomes the H3
res-7 cells it overlaps, each marked interior (the whole cell lies inside: every place in it
is concerned) or edge (an exact point-in-polygon test decides, for the few places there).
When targeting, edge cells are refined into their res-9 children (``refine_edge``), so that
only the places near the boundary itself need the exact test.
Input is bounded before any of this: vertices and the number of cells the area can cover.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass

import h3
import numpy as np
import shapely
from h3.api import basic_int
from shapely.geometry import Polygon, mapping
from shapely.geometry.base import BaseGeometry
from shapely.prepared import prep

from ..errors import ValidationFailed
from .drafts import AlertArea, AreaScheme

# Resolution of the cells stored with places (Place.h3_res7) and with alert areas.
CELL_RESOLUTION = 7
# Resolution edge cells are refined to (Place.h3_res9): 49 children of about 0.1 km² each.
REFINED_RESOLUTION = 9
# An area larger than this many res-7 cells (about 5.2 km² each: ~260,000 km², far more than
# a prefecture) is refused rather than computed.
MAX_CELLS = 50_000
MAX_VERTICES = 100_000
MAX_REPAIRED_VERTICES = 2_000
_CELL_KM2 = 5.16
_DEG2_KM2_AT_EQUATOR = 111.32 * 111.32


@dataclass(frozen=True, slots=True)
class PreparedArea:
    """An area as stored: its key, its GeoJSON and, for polygons, its cells."""

    area: AlertArea
    key: str
    geojson: str | None
    cells: tuple[tuple[int, bool], ...]


def area_key(area: AlertArea) -> str:
    """How a later telegram names the same area: by code, by name, or by its geometry."""
    if area.scheme is AreaScheme.GEOMETRY or area.code is None and area.geometry is not None:
        assert area.geometry is not None
        digest = hashlib.sha256(shapely.to_wkb(area.geometry, output_dimension=2)).hexdigest()
        return f"geometry:{digest[:32]}"
    if area.scheme is AreaScheme.TOWN:
        return f"town:{area.code}:{area.name}"
    return f"{area.scheme.value}:{area.code or area.name}"


def _checked_geometry(geometry: BaseGeometry) -> BaseGeometry:
    if shapely.get_num_coordinates(geometry) > MAX_VERTICES:
        raise ValidationFailed(
            f"an alert area has more than {MAX_VERTICES} vertices",
            f"警報の区域の頂点が多すぎます（上限 {MAX_VERTICES}）",
        )
    if geometry.geom_type not in {"Polygon", "MultiPolygon"}:
        raise ValidationFailed(
            "an alert area must be a polygon", "警報の区域は多角形で指定してください"
        )
    min_x, min_y, max_x, max_y = geometry.bounds
    if not (-180 <= min_x <= max_x <= 180 and -90 <= min_y <= max_y <= 90):
        raise ValidationFailed(
            "an alert area lies outside longitude -180..180 / latitude -90..90",
            "警報の区域が経度・緯度の範囲外です",
        )
    if not geometry.is_valid:
        # make_valid grows about n^3.4 on a self-intersecting ring: repair small areas only.
        if shapely.get_num_coordinates(geometry) > MAX_REPAIRED_VERTICES:
            raise ValidationFailed(
                "an alert area is not a valid polygon (it crosses itself)",
                "警報の区域の多角形が正しくありません（自己交差しています）",
            )
        geometry = shapely.make_valid(geometry)
        polygons = [g for g in getattr(geometry, "geoms", [geometry]) if g.area > 0]
        geometry = shapely.union_all(polygons) if polygons else geometry
    if geometry.is_empty or geometry.area == 0:
        raise ValidationFailed("an alert area is empty", "警報の区域の面積がありません")
    return geometry


def _estimated_cells(geometry: BaseGeometry) -> float:
    min_x, min_y, max_x, max_y = geometry.bounds
    mid_lat = (min_y + max_y) / 2
    shrink = max(0.01, math.cos(math.radians(mid_lat)))
    km2 = (max_x - min_x) * (max_y - min_y) * _DEG2_KM2_AT_EQUATOR * shrink
    return km2 / _CELL_KM2


def cells_of(geometry: BaseGeometry) -> tuple[tuple[int, bool], ...]:
    """The res-7 cells the geometry overlaps, each with True when it lies wholly inside."""
    if _estimated_cells(geometry) > MAX_CELLS:
        raise ValidationFailed(
            "an alert area is too large (more than a prefecture's size)",
            "警報の区域が広すぎます（県の範囲を大きく超えています）",
        )
    shape = h3.geo_to_h3shape(mapping(geometry))
    cells = h3.polygon_to_cells_experimental(shape, CELL_RESOLUTION, contain="overlap")
    inside = prep(geometry)
    result = []
    for cell in cells:
        boundary = Polygon([(lng, lat) for lat, lng in h3.cell_to_boundary(cell)])
        result.append((h3.str_to_int(cell), bool(inside.contains(boundary))))
    return tuple(sorted(result))


def refine_edge(geojson: str, edge_cells: Sequence[int]) -> tuple[list[int], list[int]]:
    """The res-9 children of these edge res-7 cells lying wholly inside the area, and those
    lying wholly outside it (CPU work: off the event loop when there are many).

    A place in an edge cell whose res-9 cell is in neither list (a child the boundary crosses,
    or a neighbour's child: H3 children do not tile their parent exactly) gets the exact test.
    """
    children = [
        c for cell in edge_cells for c in basic_int.cell_to_children(cell, REFINED_RESOLUTION)
    ]
    # (lat, lng) boundaries as (lng, lat) closed rings; a res-9 cell is a hexagon unless it
    # is one of the twelve pentagons, which lie in the oceans (those stay unclassified).
    hexagons = [c for c in children if not basic_int.is_pentagon(c)]
    if not hexagons:
        return [], []
    rings = np.array([basic_int.cell_to_boundary(c) for c in hexagons])[:, :, ::-1]
    cells = shapely.polygons(np.concatenate([rings, rings[:, :1]], axis=1))
    # Prepared here, in the thread that uses it: prepared geometries are not thread-safe.
    geometry = shapely.from_geojson(geojson)
    shapely.prepare(geometry)
    inside = shapely.contains(geometry, cells)
    outside = ~shapely.intersects(geometry, cells)
    return (
        [c for c, yes in zip(hexagons, inside.tolist(), strict=True) if yes],
        [c for c, yes in zip(hexagons, outside.tolist(), strict=True) if yes],
    )


def prepare_areas(areas: tuple[AlertArea, ...]) -> list[PreparedArea]:
    """Check and cut every area of a draft (CPU work: call it off the event loop)."""
    prepared = []
    for area in areas:
        if area.geometry is None:
            prepared.append(PreparedArea(area, area_key(area), None, ()))
            continue
        if area.geometry.geom_type == "Point":
            # A CAP circle of radius 0 (an epicentre): shown on the map, contains no place.
            point = json.dumps(mapping(area.geometry), separators=(",", ":"))
            prepared.append(PreparedArea(area, area_key(area), point, ()))
            continue
        geometry = _checked_geometry(area.geometry)
        prepared.append(
            PreparedArea(
                area,
                area_key(area),
                json.dumps(mapping(geometry), separators=(",", ":")),
                cells_of(geometry),
            )
        )
    return prepared
