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
from typing import NamedTuple

import h3
import numpy as np
import shapely
from shapely.geometry import shape
from sqlalchemy.ext.asyncio import AsyncSession

from ..residents import service as residents_service
from ..residents.service import PlacePin, PlaceSpot
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


class Reach(NamedTuple):
    """One place lying in one area of an alert, as telling its resident needs it."""

    place_id: uuid.UUID
    resident_id: uuid.UUID
    kind: str
    area: AreaCover


def _inside(geojson: str, points: Sequence[PlaceSpot] | Sequence[PlacePin]) -> list[bool]:
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


async def _exact_pins(candidates: dict[uuid.UUID, tuple[AreaCover, list[PlacePin]]]) -> list[Reach]:
    """Keep the edge-cell places that really lie in their area's polygon."""

    def run() -> list[Reach]:
        found = []
        for area, pins in candidates.values():
            if area.geometry_geojson is None or not pins:
                continue
            for pin, inside in zip(pins, _inside(area.geometry_geojson, pins), strict=True):
                if inside:
                    found.append(Reach(pin.id, pin.resident_id, pin.kind, area))
        return found

    total = sum(len(pins) for _, pins in candidates.values())
    return run() if total <= _INLINE_TESTS else await asyncio.to_thread(run)


def _town_matches(spot: PlaceSpot, town: str) -> bool:
    return not town or (spot.address is not None and town in spot.address)


async def places_in_areas(session: AsyncSession, areas: Sequence[AreaCover]) -> list[Reach]:
    """Every place lying in any of these areas (one Reach per place and area).

    Polygon areas read only what telling residents needs: whose place, what kind, its cell,
    and the position only in edge cells, where the exact test needs it.
    """
    by_id = {a.area_id: a for a in areas}
    area_ids = list(by_id)
    reaches: list[Reach] = []

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
                    reaches.append(Reach(spot.id, spot.resident_id, spot.kind, by_id[area_id]))

    # cell -> the areas it lies wholly inside / the areas whose edge crosses it
    interior_of: dict[int, list[AreaCover]] = defaultdict(list)
    edge_of: dict[int, list[AreaCover]] = defaultdict(list)
    for area_id, cell, interior in await repository.cell_links(session, area_ids):
        (interior_of if interior else edge_of)[cell].append(by_id[area_id])
    if interior_of:
        pins = await residents_service.place_pins_in_cells(
            session, sorted(interior_of), positions=False
        )
        for pin in pins:
            for area in interior_of[pin.h3_res7]:
                reaches.append(Reach(pin.id, pin.resident_id, pin.kind, area))
    if edge_of:
        pins = await residents_service.place_pins_in_cells(session, sorted(edge_of), positions=True)
        edge: dict[uuid.UUID, tuple[AreaCover, list[PlacePin]]] = {}
        for pin in pins:
            for area in edge_of[pin.h3_res7]:
                edge.setdefault(area.area_id, (area, []))[1].append(pin)
        reaches.extend(await _exact_pins(edge))
    return reaches


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
