"""Which residents' places lie in an alert's areas, and which alerts concern given places.

Municipality-wide areas match places by municipality code (and, for a 町丁目, by the town
name in the place's address). Polygon areas match through the H3 res-7 cells stored with
both: a place in an interior cell is inside without further work; only places in edge cells
get an exact point-in-polygon test, vectorised with shapely and run off the event loop when
there are many.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import h3
import numpy as np
import shapely
from shapely.geometry import shape
from sqlalchemy.ext.asyncio import AsyncSession

from ..residents import service as residents_service
from ..residents.service import PlaceSpot
from . import repository
from .areas import CELL_RESOLUTION
from .repository import AreaCover

# Below this many points the exact test runs inline: a thread hop costs more than the test.
_INLINE_TESTS = 2_000


@dataclass(frozen=True, slots=True)
class Concern:
    """One place lying in one area of an alert."""

    spot: PlaceSpot
    area: AreaCover


def _inside(geojson: str, spots: Sequence[PlaceSpot]) -> list[bool]:
    geometry = shape(json.loads(geojson))
    lons = np.fromiter((s.longitude for s in spots), float, len(spots))
    lats = np.fromiter((s.latitude for s in spots), float, len(spots))
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


def _town_matches(spot: PlaceSpot, town: str) -> bool:
    return not town or (spot.address is not None and town in spot.address)


async def places_in_areas(session: AsyncSession, areas: Sequence[AreaCover]) -> list[Concern]:
    """Every place lying in any of these areas (one Concern per place and area)."""
    by_id = {a.area_id: a for a in areas}
    area_ids = list(by_id)
    concerns: list[Concern] = []

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
                    concerns.append(Concern(spot, by_id[area_id]))

    cells = await repository.cell_links(session, area_ids)
    areas_by_cell: dict[int, list[tuple[uuid.UUID, bool]]] = defaultdict(list)
    for area_id, cell, interior in cells:
        areas_by_cell[cell].append((area_id, interior))
    if areas_by_cell:
        spots = await residents_service.place_spots_in_cells(session, sorted(areas_by_cell))
        edge: dict[uuid.UUID, tuple[AreaCover, list[PlaceSpot]]] = {}
        for spot in spots:
            cell = h3.str_to_int(h3.latlng_to_cell(spot.latitude, spot.longitude, CELL_RESOLUTION))
            for area_id, interior in areas_by_cell.get(cell, ()):
                if interior:
                    concerns.append(Concern(spot, by_id[area_id]))
                else:
                    edge.setdefault(area_id, (by_id[area_id], []))[1].append(spot)
        concerns.extend(await _exact(edge))
    return concerns


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
