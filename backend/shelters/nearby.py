"""Nearest shelters: an exact search, answered from a per-process cache of candidates.

The shelters nearest to any point p of an H3 cell lie within G_k(c) + 2r of the cell's
centre c, where G_k(c) is the distance from c to its k-th nearest shelter and r the cell's
radius (triangle inequality: G_k(p) <= G_k(c) + r, and p is within r of c). So a cell's
candidates, the shelters passing the filter within that reach, are loaded once, and each
request ranks only them by its own geodesic distance: the answer is the one a search from p
itself gives. Uncached, the same search runs from p with r = 0.

Entries belong to the shelters' data stamp (``backend/db/versions.py``), which the database
moves on every write to the shelters table: a shelter opening, filling or closing, or an
import, in any process, empties the cache at the next request that reads the new stamp.
Cached shelters are copies attached to no session, shared by the requests: read-only.
"""

from __future__ import annotations

import math
import uuid
import weakref
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass

import h3
import numpy as np
from geographiclib.geodesic import Geodesic
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncSession

from ..db.session import READ_BLOCK
from ..db.versions import data_stamp
from ..geo import haversine_m_array, padded_box
from . import repository
from .models import Shelter
from .repository import ShelterFilter

# Resolution 8 cells cover ~0.74 km^2 (radius ~0.5 km): a district's residents share one.
CELL_RESOLUTION = 8
# The box around a point starts at this radius and grows by GROWTH until it holds enough.
START_RADIUS_M = 2_000.0
GROWTH = 4.0
MAX_SEARCH_RADIUS_M = 1_000_000.0
# Geodesic (WGS 84) and spherical distances differ by < 0.6 %: candidates are kept by the
# vectorised haversine with this margin, and only those the margin cannot settle get the
# exact geodesic.
MARGIN = 1.01
_WORLD = (-90.0, -180.0, 90.0, 180.0)
_STAMP_MEMO = "kizuna_shelters_stamp"
_COLUMNS = tuple(attribute.key for attribute in inspect(Shelter).column_attrs)
# WGS 84 ellipsoid, for Vincenty's inverse formula.
_A = 6_378_137.0
_F = 1 / 298.257223563
_B = _A * (1 - _F)


@dataclass(frozen=True, slots=True)
class _Candidates:
    shelters: tuple[Shelter, ...]
    lats: np.ndarray
    lons: np.ndarray


class _Cache:
    """Candidates per key and open shelters per hazard, for one data stamp, LRU-bounded."""

    def __init__(self) -> None:
        self.stamp: int | None = None
        self.entries: OrderedDict[Hashable, _Candidates] = OrderedDict()
        # One copy of each shelter per stamp, shared by the entries holding it (and dropped
        # with the last of them).
        self.copies: weakref.WeakValueDictionary[uuid.UUID, Shelter] = weakref.WeakValueDictionary()

    def get(self, stamp: int, key: Hashable) -> _Candidates | None:
        if stamp != self.stamp:
            return None
        entry = self.entries.get(key)
        if entry is not None:
            self.entries.move_to_end(key)
        return entry

    def put(self, key: Hashable, entry: _Candidates, size: int) -> None:
        self.entries[key] = entry
        self.entries.move_to_end(key)
        while len(self.entries) > size:
            self.entries.popitem(last=False)

    def renew(self, stamp: int | None) -> bool:
        """Start over when the stamp moved; False when ``stamp`` is unusable for caching."""
        if stamp is None:
            return False
        if stamp != self.stamp:
            self.stamp = stamp
            self.entries.clear()
            self.copies.clear()
        return True

    def copy_of(self, shelter: Shelter) -> Shelter:
        copy = self.copies.get(shelter.id)
        if copy is None:
            copy = self.copies[shelter.id] = _detached_copy(shelter)
        return copy


_cache = _Cache()


def _detached_copy(shelter: Shelter) -> Shelter:
    # A transient instance: no session's rollback can expire it under another request.
    return Shelter(**{key: getattr(shelter, key) for key in _COLUMNS})


async def nearest(
    session: AsyncSession,
    *,
    lat: float,
    lon: float,
    where: ShelterFilter,
    limit: int,
    max_distance_m: float | None,
    cache_size: int,
) -> list[tuple[Shelter, float]]:
    """The ``limit`` shelters nearest to a point with their geodesic metres, nearest first."""
    cap = max_distance_m if max_distance_m is not None else MAX_SEARCH_RADIUS_M
    # The stamp first: what is loaded after it is at least as new as the stamp says.
    stamp = await _stamp(session) if cache_size > 0 else None
    if not _cache.renew(stamp):
        candidates = await _candidates(session, lat, lon, 0.0, where, limit, cap, None)
        return _ranked(candidates, lat, lon, limit, cap)
    assert stamp is not None
    cell = h3.latlng_to_cell(lat, lon, CELL_RESOLUTION)
    key = (cell, where, limit, max_distance_m)
    candidates_or_none = _cache.get(stamp, key)
    if candidates_or_none is None:
        c_lat, c_lon = h3.cell_to_latlng(cell)
        candidates = await _candidates(
            session, c_lat, c_lon, _cell_radius_m(cell), where, limit, cap, stamp
        )
        if _cache.stamp == stamp:  # another request may have seen a newer stamp meanwhile
            _cache.put(key, candidates, cache_size)
    else:
        candidates = candidates_or_none
    return _ranked(candidates, lat, lon, limit, cap)


async def any_open_within(
    session: AsyncSession,
    *,
    lat: float,
    lon: float,
    radius_m: float,
    where: ShelterFilter,
    cache_size: int,
) -> bool:
    """Whether an open shelter passing ``where`` lies in the box around the radius."""
    box = _search_box(lat, lon, radius_m)
    stamp = await _stamp(session) if cache_size > 0 else None
    if not _cache.renew(stamp):
        return await repository.any_in_box(session, box, where)
    assert stamp is not None
    # Every open shelter of the hazard, once per stamp: none in peacetime, a few hundred in
    # a disaster, and any box is then a look-up in memory.
    key = ("open", where)
    candidates = _cache.get(stamp, key)
    if candidates is None:
        points = await repository.points_in_box(session, _WORLD, where)
        candidates = _Candidates((), *_coordinates(points))
        if _cache.stamp == stamp:
            _cache.put(key, candidates, cache_size)
    min_lat, min_lon, max_lat, max_lon = box
    inside = (
        (candidates.lats >= min_lat)
        & (candidates.lats <= max_lat)
        & (candidates.lons >= min_lon)
        & (candidates.lons <= max_lon)
    )
    return bool(inside.any())


async def _stamp(session: AsyncSession) -> int | None:
    """The shelters' data stamp, read once per read block (a route asks several times)."""
    block = session.info.get(READ_BLOCK)
    memo = session.info.get(_STAMP_MEMO)
    if block is not None and memo is not None and memo[0] is block:
        return memo[1]
    stamp = await data_stamp(session, "shelters")
    if block is not None:
        session.info[_STAMP_MEMO] = (block, stamp)
    return stamp


async def _candidates(
    session: AsyncSession,
    lat: float,
    lon: float,
    slack_m: float,
    where: ShelterFilter,
    limit: int,
    cap_m: float,
    stamp: int | None,
) -> _Candidates:
    """Every shelter that can be among the ``limit`` nearest within ``cap_m`` of some point
    within ``slack_m`` of (lat, lon)."""
    outer = cap_m + slack_m
    radius = min(START_RADIUS_M, outer)
    while True:
        # The lat/lon index serves the box; grow it until `limit` shelters lie within the
        # radius (so none outside the box can be nearer), or the cap is reached.
        points = await repository.points_in_box(session, _search_box(lat, lon, radius), where)
        lats, lons = _coordinates(points)
        spherical = haversine_m_array(lat, lon, lats, lons)
        within = spherical[spherical <= radius]
        reach = outer
        if len(within) >= limit:
            kth = float(np.partition(within, limit - 1)[limit - 1])
            reach = min(kth * MARGIN + 2 * slack_m + 1.0, outer)
        if reach * MARGIN + 1.0 <= radius * MARGIN or radius >= outer:
            break
        radius = min(reach + 1.0 if len(within) >= limit else radius * GROWTH, outer)
    keep = np.flatnonzero(spherical <= reach * MARGIN + 1.0).tolist()
    rows = {s.id: s for s in await repository.get_many(session, [points[i][0] for i in keep])}
    # A shelter deleted between the two reads is simply not a candidate.
    kept = [rows[points[i][0]] for i in keep if points[i][0] in rows]
    if stamp is not None:
        kept = [_cache.copy_of(shelter) for shelter in kept]
    return _Candidates(
        tuple(kept),
        np.fromiter((s.latitude for s in kept), dtype=float, count=len(kept)),
        np.fromiter((s.longitude for s in kept), dtype=float, count=len(kept)),
    )


def _ranked(
    candidates: _Candidates, lat: float, lon: float, limit: int, cap_m: float
) -> list[tuple[Shelter, float]]:
    if not candidates.shelters:
        return []
    spherical = haversine_m_array(lat, lon, candidates.lats, candidates.lons)
    count = len(spherical)
    kth = float(np.partition(spherical, limit - 1)[limit - 1]) if count > limit else math.inf
    exact = sorted(
        (geodesic_m(lat, lon, float(candidates.lats[i]), float(candidates.lons[i])), s.id, i)
        for i, s in enumerate(candidates.shelters)
        if spherical[i] <= kth * MARGIN + 1.0 and spherical[i] <= cap_m * MARGIN + 1.0
    )
    return [(candidates.shelters[i], d) for d, _, i in exact if d <= cap_m][:limit]


def _coordinates(points: list[tuple[uuid.UUID, float, float]]) -> tuple[np.ndarray, np.ndarray]:
    lats = np.fromiter((p[1] for p in points), dtype=float, count=len(points))
    lons = np.fromiter((p[2] for p in points), dtype=float, count=len(points))
    return lats, lons


def _cell_radius_m(cell: str) -> float:
    """An upper bound of the distance from the cell's centre to any point of it."""
    c_lat, c_lon = h3.cell_to_latlng(cell)
    corners = np.array(h3.cell_to_boundary(cell))
    # Corners bound a convex cell; 10 % covers the sphere-ellipsoid difference and more.
    return float(haversine_m_array(c_lat, c_lon, corners[:, 0], corners[:, 1]).max()) * 1.1 + 10.0


def _search_box(lat: float, lon: float, radius_m: float) -> tuple[float, float, float, float]:
    """(min_lat, min_lon, max_lat, max_lon) holding every point within ``radius_m``."""
    return padded_box(lat, lon, lat, lon, radius_m * MARGIN)


def geodesic_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """WGS 84 geodesic metres: Vincenty's inverse formula (sub-millimetre here, ~13 us),
    Karney's algorithm where Vincenty does not converge (nearly antipodal points)."""
    if lat1 == lat2 and lon1 == lon2:
        return 0.0
    u1 = math.atan((1 - _F) * math.tan(math.radians(lat1)))
    u2 = math.atan((1 - _F) * math.tan(math.radians(lat2)))
    sin_u1, cos_u1, sin_u2, cos_u2 = math.sin(u1), math.cos(u1), math.sin(u2), math.cos(u2)
    lon_delta = math.radians(lon2 - lon1)
    lam = lon_delta
    for _ in range(100):
        sin_lam, cos_lam = math.sin(lam), math.cos(lam)
        sin_sigma = math.hypot(cos_u2 * sin_lam, cos_u1 * sin_u2 - sin_u1 * cos_u2 * cos_lam)
        if sin_sigma == 0.0:
            return 0.0
        cos_sigma = sin_u1 * sin_u2 + cos_u1 * cos_u2 * cos_lam
        sigma = math.atan2(sin_sigma, cos_sigma)
        sin_alpha = cos_u1 * cos_u2 * sin_lam / sin_sigma
        cos2_alpha = 1 - sin_alpha * sin_alpha
        cos_2sm = cos_sigma - 2 * sin_u1 * sin_u2 / cos2_alpha if cos2_alpha else 0.0
        c = _F / 16 * cos2_alpha * (4 + _F * (4 - 3 * cos2_alpha))
        previous = lam
        lam = lon_delta + (1 - c) * _F * sin_alpha * (
            sigma + c * sin_sigma * (cos_2sm + c * cos_sigma * (2 * cos_2sm * cos_2sm - 1))
        )
        if abs(lam - previous) < 1e-12:
            break
    else:
        return float(Geodesic.WGS84.Inverse(lat1, lon1, lat2, lon2, Geodesic.DISTANCE)["s12"])
    u_sq = cos2_alpha * (_A * _A - _B * _B) / (_B * _B)
    a = 1 + u_sq / 16384 * (4096 + u_sq * (-768 + u_sq * (320 - 175 * u_sq)))
    b = u_sq / 1024 * (256 + u_sq * (-128 + u_sq * (74 - 47 * u_sq)))
    delta_sigma = (
        b
        * sin_sigma
        * (
            cos_2sm
            + b
            / 4
            * (
                cos_sigma * (2 * cos_2sm * cos_2sm - 1)
                - b / 6 * cos_2sm * (4 * sin_sigma * sin_sigma - 3) * (4 * cos_2sm * cos_2sm - 3)
            )
        )
    )
    return _B * a * (sigma - delta_sigma)
