"""In-memory spatial index of hazard zones: which zones cover a point, which touch a map view.

Built once (e.g. at start-up or after an import) from plain zones; queries use an STRtree for
bounding-box candidates and prepared geometries for the exact test, so a point lookup costs a
few microseconds even with thousands of detailed polygons.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from .sources import HazardZoneRecord, polygonal_part
from .types import HazardType

# Default simplification tolerance for ``intersecting``: this fraction of the bbox width, so a
# city-wide view gets ~1000 "pixels" across and detail finer than that is dropped.
SIMPLIFY_FRACTION = 1 / 1000

_TYPE_CODES = {t: i for i, t in enumerate(HazardType)}


@dataclass(frozen=True, slots=True)
class IndexedZone:
    """A zone as the index needs it; ``zone_id`` is the caller's (e.g. database) id."""

    zone_id: int | str
    hazard_type: HazardType
    rank: int | None
    geometry: Polygon | MultiPolygon


class ZoneHit(NamedTuple):
    """A zone covering a queried point."""

    zone_id: int | str
    hazard_type: HazardType
    rank: int | None


class ZoneShape(NamedTuple):
    """A zone clipped to a bbox and simplified for display."""

    zone_id: int | str
    hazard_type: HazardType
    rank: int | None
    geometry: Polygon | MultiPolygon


class HazardIndex:
    """Immutable spatial index over hazard zones; results keep the order zones were given in."""

    def __init__(self, zones: Iterable[IndexedZone]) -> None:
        self._zones: tuple[IndexedZone, ...] = tuple(zones)
        for zone in self._zones:
            if not isinstance(zone.geometry, Polygon | MultiPolygon) or zone.geometry.is_empty:
                raise ValueError(f"zone {zone.zone_id!r} needs a non-empty (Multi)Polygon")
        self._geoms = np.array([z.geometry for z in self._zones], dtype=object)
        # Prepared geometries make the exact point/bbox tests fast; prepare is in place.
        shapely.prepare(self._geoms)
        self._tree = shapely.STRtree(self._geoms)
        self._type_codes = np.array(
            [_TYPE_CODES[z.hazard_type] for z in self._zones], dtype=np.int16
        )

    @classmethod
    def from_records(
        cls, records: Iterable[HazardZoneRecord], ids: Iterable[int | str] | None = None
    ) -> HazardIndex:
        """Index parsed records, with ``ids`` (default: their position) as zone ids."""
        records = list(records)
        zone_ids = list(ids) if ids is not None else list(range(len(records)))
        if len(zone_ids) != len(records):
            raise ValueError("ids and records differ in length")
        return cls(
            IndexedZone(zone_id, r.hazard_type, r.rank, r.geometry)
            for zone_id, r in zip(zone_ids, records, strict=True)
        )

    def __len__(self) -> int:
        return len(self._zones)

    def zones_at(
        self, lon: float, lat: float, types: Iterable[HazardType] | None = None
    ) -> list[ZoneHit]:
        """Zones covering (lon, lat); a point on a zone's boundary counts as inside."""
        _check_lon_lat(lon, lat)
        point = shapely.Point(lon, lat)
        candidates = self._filter_types(np.sort(self._tree.query(point)), types)
        hits = candidates[shapely.intersects(self._geoms[candidates], point)]
        return [self._hit(i) for i in hits]

    def zones_at_many(
        self,
        points: Sequence[tuple[float, float]] | np.ndarray,
        types: Iterable[HazardType] | None = None,
    ) -> list[list[ZoneHit]]:
        """``zones_at`` for many (lon, lat) points at once, vectorized; one list per point."""
        coords = np.asarray(points, dtype=float).reshape(-1, 2)
        if not np.all(np.isfinite(coords)) or (
            np.any(np.abs(coords[:, 0]) > 180) or np.any(np.abs(coords[:, 1]) > 90)
        ):
            raise ValueError("points must be finite (lon, lat) pairs within -180..180, -90..90")
        result: list[list[ZoneHit]] = [[] for _ in range(len(coords))]
        if not len(coords) or not self._zones:
            return result
        geoms = shapely.points(coords)
        point_idx, zone_idx = self._tree.query(geoms)
        mask = self._type_mask(types)
        if mask is not None:
            keep = mask[zone_idx]
            point_idx, zone_idx = point_idx[keep], zone_idx[keep]
        inside = shapely.intersects(self._geoms[zone_idx], geoms[point_idx])
        point_idx, zone_idx = point_idx[inside], zone_idx[inside]
        order = np.lexsort((zone_idx, point_idx))
        for p, z in zip(point_idx[order].tolist(), zone_idx[order].tolist(), strict=True):
            result[p].append(self._hit(z))
        return result

    def intersecting(
        self,
        bbox: tuple[float, float, float, float],
        types: Iterable[HazardType] | None = None,
        tolerance: float | None = None,
    ) -> list[ZoneShape]:
        """Zones meeting bbox (minlon, minlat, maxlon, maxlat), clipped to it and simplified.

        The default tolerance is the bbox width times ``SIMPLIFY_FRACTION`` (degrees); the
        simplification preserves topology so polygons neither collapse nor self-intersect.
        """
        min_lon, min_lat, max_lon, max_lat = (float(v) for v in bbox)
        _check_lon_lat(min_lon, min_lat)
        _check_lon_lat(max_lon, max_lat)
        if not (min_lon < max_lon and min_lat < max_lat):
            raise ValueError(f"bbox must have min < max on both axes, got {bbox!r}")
        if tolerance is None:
            tolerance = (max_lon - min_lon) * SIMPLIFY_FRACTION
        elif not (math.isfinite(tolerance) and tolerance >= 0):
            raise ValueError(f"tolerance must be a finite number >= 0, got {tolerance!r}")
        box = shapely.box(min_lon, min_lat, max_lon, max_lat)
        candidates = self._filter_types(np.sort(self._tree.query(box)), types)
        candidates = candidates[shapely.intersects(self._geoms[candidates], box)]
        clipped = shapely.intersection(self._geoms[candidates], box)
        shapes: list[ZoneShape] = []
        for i, geometry in zip(candidates.tolist(), clipped, strict=True):
            # A zone merely touching the bbox edge clips to a line or point: nothing to draw.
            polygon = polygonal_part(geometry)
            if polygon is None:
                continue
            if tolerance > 0:
                simplified = shapely.simplify(polygon, tolerance, preserve_topology=True)
                polygon = polygonal_part(simplified)
                if polygon is None:
                    continue
            zone = self._zones[i]
            shapes.append(ZoneShape(zone.zone_id, zone.hazard_type, zone.rank, polygon))
        return shapes

    def zones_meeting(
        self, geometry: BaseGeometry, types: Iterable[HazardType] | None = None
    ) -> list[IndexedZone]:
        """Zones (whole, unsimplified) that intersect a geometry, e.g. a route's search area."""
        candidates = self._filter_types(np.sort(self._tree.query(geometry)), types)
        hits = candidates[shapely.intersects(self._geoms[candidates], geometry)]
        return [self._zones[i] for i in hits.tolist()]

    def _hit(self, i: int) -> ZoneHit:
        zone = self._zones[i]
        return ZoneHit(zone.zone_id, zone.hazard_type, zone.rank)

    def _type_mask(self, types: Iterable[HazardType] | None) -> np.ndarray | None:
        if types is None:
            return None
        codes = [_TYPE_CODES[HazardType(t)] for t in types]
        return np.isin(self._type_codes, codes)

    def _filter_types(
        self, candidates: np.ndarray, types: Iterable[HazardType] | None
    ) -> np.ndarray:
        mask = self._type_mask(types)
        return candidates if mask is None else candidates[mask[candidates]]


def _check_lon_lat(lon: float, lat: float) -> None:
    if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
        raise ValueError(f"invalid coordinate (lon={lon!r}, lat={lat!r})")


def geometry_vertex_count(geometry: BaseGeometry) -> int:
    """Number of coordinate positions in a geometry (handy to check simplification)."""
    return int(shapely.get_num_coordinates(geometry))
