"""Which residents' places lie in an alert's areas, and which alerts concern given places.

Municipality-wide areas match places by municipality code (and, for a 町丁目, by the town
name in the place's address). Polygon areas match through the H3 cells stored with places:
a place in an interior res-7 cell of the area is inside without further work; edge res-7
cells are refined into their res-9 children, and a place in a child wholly inside is inside
too; only the places left near the boundary get an exact point-in-polygon test, vectorised
with shapely and run off the event loop when there are many.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import h3
import numpy as np
import shapely
from shapely.geometry import shape
from sqlalchemy.ext.asyncio import AsyncSession

from ..residents import service as residents_service
from ..residents.service import PlacePoints, PlaceSpot
from . import repository
from .areas import CELL_RESOLUTION, refine_edge
from .repository import AreaCover

# Below this many points the exact test runs inline: a thread hop costs more than the test.
_INLINE_TESTS = 2_000
# Up to this many edge cells their refinement runs inline (49 children each, about 10 µs a
# child: a millisecond or two).
_INLINE_REFINE = 4


@dataclass(frozen=True, slots=True)
class Concern:
    """One place lying in one area of an alert."""

    spot: PlaceSpot
    area: AreaCover


class Reach(NamedTuple):
    """The residents with places in one area of an alert, as telling them needs it: per
    resident the kinds of those places (a home and a school: ["home", "school"]; a place found
    both by its municipality and by the area's polygon is named twice)."""

    area: AreaCover
    kinds_by_resident: dict[uuid.UUID, list[str]]


def _inside(geojson: str, points: Sequence[PlaceSpot]) -> list[bool]:
    geometry = shape(json.loads(geojson))
    lons = np.fromiter((s.longitude for s in points), float, len(points))
    lats = np.fromiter((s.latitude for s in points), float, len(points))
    return [bool(v) for v in shapely.intersects_xy(geometry, lons, lats)]


async def _exact(
    candidates: dict[uuid.UUID, tuple[AreaCover, list[PlaceSpot]]],
) -> list[Concern]:
    """Keep the edge-cell places that really lie in their area's polygon."""

    def run() -> list[Concern]:
        found = []
        for area, spots in candidates.values():
            if area.geometry_geojson is None or not spots:
                continue
            for spot, inside in zip(spots, _inside(area.geometry_geojson, spots), strict=True):
                if inside:
                    found.append(Concern(spot, area))
        return found

    total = sum(len(spots) for _, spots in candidates.values())
    return run() if total <= _INLINE_TESTS else await asyncio.to_thread(run)


async def _exact_points(geojson: str, points: PlacePoints) -> list[bool]:
    """For each point, whether it really lies in the area's polygon."""

    def run() -> list[bool]:
        geometry = shapely.from_geojson(geojson)
        lons = np.array(points.longitudes, float)
        lats = np.array(points.latitudes, float)
        return [bool(v) for v in shapely.intersects_xy(geometry, lons, lats).tolist()]

    if not points.kinds:
        return []
    return run() if len(points.kinds) <= _INLINE_TESTS else await asyncio.to_thread(run)


def _town_matches(spot: PlaceSpot, town: str) -> bool:
    return not town or (spot.address is not None and town in spot.address)


async def places_in_areas(session: AsyncSession, areas: Sequence[AreaCover]) -> list[Reach]:
    """Every resident with places in these areas: one Reach per area that has any.

    Polygon areas read only what telling residents needs: per resident the kinds of their
    places known to be inside, and positions only for the places the exact test decides.
    """
    by_id = {a.area_id: a for a in areas}
    area_ids = list(by_id)
    found: dict[uuid.UUID, dict[uuid.UUID, list[str]]] = defaultdict(dict)

    links = await repository.municipality_links(session, area_ids)
    towns_by_code: dict[str, list[tuple[uuid.UUID, str]]] = defaultdict(list)
    for area_id, code, town in links:
        towns_by_code[code].append((area_id, town))
    if towns_by_code:
        spots = await residents_service.place_spots_in_municipalities(
            session, sorted(towns_by_code)
        )
        for spot in spots:
            seen: set[uuid.UUID] = set()
            for area_id, town in towns_by_code.get(spot.municipality_code or "", ()):
                if area_id not in seen and _town_matches(spot, town):
                    seen.add(area_id)
                    found[area_id].setdefault(spot.resident_id, []).append(spot.kind)

    cells: dict[uuid.UUID, tuple[list[int], list[int]]] = defaultdict(lambda: ([], []))
    for area_id, cell, interior in await repository.cell_links(session, area_ids):
        cells[area_id][0 if interior else 1].append(cell)
    for area_id, (inner, edge) in cells.items():
        geojson = by_id[area_id].geometry_geojson
        if geojson is None:
            continue
        if len(edge) <= _INLINE_REFINE:
            inside9, outside9 = refine_edge(geojson, edge)
        else:
            inside9, outside9 = await asyncio.to_thread(refine_edge, geojson, edge)
        kinds = await residents_service.place_kinds_in_cells(session, inner, inside9, within7=edge)
        points = await residents_service.place_points_in_cells(
            session, edge, except9=inside9 + outside9
        )
        inside = await _exact_points(geojson, points)
        for resident_id, kind, yes in zip(points.resident_ids, points.kinds, inside, strict=True):
            if yes:
                kinds.setdefault(resident_id, []).append(kind)
        if area_id not in found:
            found[area_id] = kinds
            continue
        # An area named by code may carry a polygon too: its residents are found either way.
        for resident_id, place_kinds in kinds.items():
            found[area_id].setdefault(resident_id, []).extend(place_kinds)
    # One mapping per area, not an object per resident: a large area has 200,000 of them.
    return [Reach(by_id[area_id], residents) for area_id, residents in found.items() if residents]


async def areas_at_places(session: AsyncSession, spots: Iterable[PlaceSpot]) -> list[Concern]:
    """Every live area (active, actual alerts) that any of these places lies in."""
    spots = list(spots)
    concerns: list[Concern] = []
    codes = sorted({s.municipality_code for s in spots if s.municipality_code})
    for area, code, town in await repository.live_areas_in_municipalities(session, codes):
        concerns.extend(
            Concern(s, area)
            for s in spots
            if s.municipality_code == code and _town_matches(s, town)
        )
    cell_of = {
        s.id: h3.str_to_int(h3.latlng_to_cell(s.latitude, s.longitude, CELL_RESOLUTION))
        for s in spots
    }
    edge: dict[uuid.UUID, tuple[AreaCover, list[PlaceSpot]]] = {}
    for area, cell, interior in await repository.live_areas_in_cells(
        session, sorted(set(cell_of.values()))
    ):
        for spot in spots:
            if cell_of[spot.id] != cell:
                continue
            if interior:
                concerns.append(Concern(spot, area))
            else:
                edge.setdefault(area.area_id, (area, []))[1].append(spot)
    concerns.extend(await _exact(edge))
    # One concern per (place, area), however many routes found it.
    unique = {(c.spot.id, c.area.area_id): c for c in concerns}
    return list(unique.values())
