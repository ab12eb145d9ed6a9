"""A small deterministic synthetic walk graph of central Aizu-Wakamatsu for demos and tests."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from backend.geo import haversine_m_array
from backend.routing.graph import EARTH_RADIUS_M, HIGHWAY_CODE, WalkGraph

CITY_HALL = (139.9297, 37.4947)  # (lon, lat)
TSURUGA_CASTLE = (139.9298, 37.4876)
AIZU_WAKAMATSU_STATION = (139.9335, 37.5078)

_MIN_LON, _MIN_LAT, _MAX_LON, _MAX_LAT = 139.905, 37.475, 139.955, 37.515
_SPACING_M = 100.0
_SEED = 20110311


def build_demo_graph() -> WalkGraph:
    """Synthetic ~100 m street grid with jitter, diagonal avenues and castle-park footways."""
    rng = np.random.default_rng(_SEED)
    mid_lat = np.radians((_MIN_LAT + _MAX_LAT) / 2.0)
    dlat = np.degrees(_SPACING_M / EARTH_RADIUS_M)
    dlon = dlat / np.cos(mid_lat)
    lats = np.arange(_MIN_LAT, _MAX_LAT + dlat / 2, dlat)
    lons = np.arange(_MIN_LON, _MAX_LON + dlon / 2, dlon)
    rows, cols = len(lats), len(lons)
    grid_lat, grid_lon = np.meshgrid(lats, lons, indexing="ij")
    # Up to ~15 m of jitter so blocks are not perfectly regular.
    lat = (grid_lat + rng.uniform(-0.15, 0.15, grid_lat.shape) * dlat).ravel()
    lon = (grid_lon + rng.uniform(-0.15, 0.15, grid_lon.shape) * dlon).ravel()
    idx = np.arange(rows * cols).reshape(rows, cols)

    def grid_class(line_index: NDArray[np.int64]) -> NDArray[np.int64]:
        # Every 5th street is a wider tertiary road, every 15th a secondary one.
        return np.where(
            line_index % 15 == 0,
            HIGHWAY_CODE["secondary"],
            np.where(line_index % 5 == 0, HIGHWAY_CODE["tertiary"], HIGHWAY_CODE["residential"]),
        )

    r_idx = np.broadcast_to(np.arange(rows)[:, None], (rows, cols))
    c_idx = np.broadcast_to(np.arange(cols)[None, :], (rows, cols))
    us = [idx[:, :-1].ravel(), idx[:-1, :].ravel()]
    vs = [idx[:, 1:].ravel(), idx[1:, :].ravel()]
    classes = [grid_class(r_idx[:, :-1].ravel()), grid_class(c_idx[:-1, :].ravel())]

    # Diagonal avenues run corner to corner through blocks, so they only meet the grid at nodes.
    for start_row, start_col, step in ((0, 0, 1), (0, cols - 1, -1), (10, 0, 1), (0, 25, 1)):
        length = min(rows - start_row, cols - start_col if step > 0 else start_col + 1) - 1
        r = start_row + np.arange(length)
        c = start_col + step * np.arange(length)
        us.append(idx[r, c])
        vs.append(idx[r + 1, c + step])
        classes.append(np.full(length, HIGHWAY_CODE["primary"]))

    u = np.concatenate(us)
    v = np.concatenate(vs)
    highway = np.concatenate(classes)
    # Drop ~6 % of the residential segments: dead ends and larger blocks, as in a real town.
    residential = highway == HIGHWAY_CODE["residential"]
    drop = residential & (rng.random(len(u)) < 0.06)
    u, v, highway = u[~drop], v[~drop], highway[~drop]
    # The castle park (~350 m around the keep) has footpaths instead of streets.
    mid_lon = (lon[u] + lon[v]) / 2.0
    mid_lat_e = (lat[u] + lat[v]) / 2.0
    in_park = haversine_m_array(mid_lat_e, mid_lon, TSURUGA_CASTLE[1], TSURUGA_CASTLE[0]) < 350.0
    highway = np.where(in_park, HIGHWAY_CODE["footway"], highway)

    graph = WalkGraph.from_edges(lon, lat, u, v, highway=highway)
    return graph.without_isolated_nodes().largest_component()
