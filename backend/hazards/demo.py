"""Synthetic demo hazard zones for Aizu-Wakamatsu (デモ用の架空データ, NOT an official map).

The shapes only roughly follow the town's geography so the app has something plausible to show
before the city imports its real hazard maps: flood depth bands along the 湯川 (Yugawa, SE->NW
south/west of the centre) and the 阿賀川 (Aga, along the west side), landslide warning areas on
the eastern hills and one inland-flooding pocket near the station. Everything is deterministic.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from types import MappingProxyType
from typing import Any

import numpy as np
import shapely
from shapely.geometry import LineString, MultiPolygon, Point, Polygon, mapping
from shapely.geometry.base import BaseGeometry

from .sources import HazardZoneRecord, LandslideRank, polygonal_part
from .types import HazardType

DEMO_SOURCE = "デモ用の架空データ (synthetic demo data, not an official hazard map)"
CITY_HALL_LON_LAT = (139.9297, 37.4947)  # 会津若松市役所

# Local equirectangular metres around the city hall: error < 0.1 % over the city's ~25 km.
_M_PER_DEG_LAT = 110_990.0
_M_PER_DEG_LON = 111_320.0 * math.cos(math.radians(CITY_HALL_LON_LAT[1]))

# River centre lines (lon, lat), made up to follow the rivers' general course.
YUGAWA = (
    (139.9660, 37.4700),
    (139.9560, 37.4745),
    (139.9440, 37.4790),
    (139.9310, 37.4830),
    (139.9180, 37.4875),
    (139.9050, 37.4935),
    (139.8940, 37.5010),
    (139.8850, 37.5090),
)
AGA = (
    (139.8860, 37.4760),
    (139.8830, 37.4880),
    (139.8810, 37.5000),
    (139.8820, 37.5120),
    (139.8850, 37.5230),
)
# Flood depth rank -> half-width of its band in metres (deeper near the channel).
_YUGAWA_BANDS = {3: 60.0, 2: 180.0, 1: 380.0}
_AGA_BANDS = {3: 120.0, 2: 350.0, 1: 650.0}

# Landslide sites on the eastern hills: centre (lon, lat), warning-area semi-axes (m), bearing.
_LANDSLIDE_SITES = (
    ("東山地区 斜面A（デモ）", (139.9640, 37.4880), (260.0, 150.0), 30.0),
    ("飯盛山周辺 斜面B（デモ）", (139.9585, 37.5040), (220.0, 130.0), -20.0),
    ("背炙山 斜面C（デモ）", (139.9760, 37.4800), (300.0, 170.0), 60.0),
)
_INLAND_FLOOD = ("駅西 内水氾濫想定（デモ）", (139.9235, 37.5040), (380.0, 220.0), 15.0)


def _to_metres(geometry: BaseGeometry) -> BaseGeometry:
    lon0, lat0 = CITY_HALL_LON_LAT

    def forward(coords: np.ndarray) -> np.ndarray:
        return np.column_stack(
            ((coords[:, 0] - lon0) * _M_PER_DEG_LON, (coords[:, 1] - lat0) * _M_PER_DEG_LAT)
        )

    return shapely.transform(geometry, forward)


def _to_lon_lat(geometry: BaseGeometry) -> BaseGeometry:
    lon0, lat0 = CITY_HALL_LON_LAT

    def inverse(coords: np.ndarray) -> np.ndarray:
        # Rounded to 1e-6 degree (~0.1 m), as published GeoJSON usually is.
        return np.round(
            np.column_stack(
                (coords[:, 0] / _M_PER_DEG_LON + lon0, coords[:, 1] / _M_PER_DEG_LAT + lat0)
            ),
            6,
        )

    return shapely.transform(geometry, inverse)


def _river_band(line: Sequence[tuple[float, float]], half_width_m: float) -> BaseGeometry:
    return _to_metres(LineString(line)).buffer(half_width_m, quad_segs=8)


def _ellipse(centre: tuple[float, float], axes_m: tuple[float, float], bearing: float) -> Polygon:
    circle = _to_metres(Point(centre)).buffer(1.0, quad_segs=16)
    cx, cy = _to_metres(Point(centre)).coords[0]
    ellipse = shapely.affinity.scale(circle, axes_m[0], axes_m[1], origin=(cx, cy))
    return shapely.affinity.rotate(ellipse, bearing, origin=(cx, cy))


def _valid(geometry: BaseGeometry) -> Polygon | MultiPolygon:
    # Rounding coordinates can in principle nick a ring; make_valid keeps the output clean.
    result = polygonal_part(geometry if geometry.is_valid else shapely.make_valid(geometry))
    if result is None:
        raise AssertionError("demo geometry vanished")
    return result


def demo_hazard_zones() -> list[HazardZoneRecord]:
    """The demo zones: flood depth bands, landslide areas and an inland-flooding pocket."""
    zones: list[tuple[HazardType, int, str, BaseGeometry, dict[str, Any]]] = []

    # Flood: the union of both rivers' bands per rank, minus every deeper band, so each place
    # has exactly one flood rank as on a real 洪水浸水想定区域図.
    deeper: BaseGeometry | None = None
    for rank in (3, 2, 1):
        band = shapely.union(
            _river_band(YUGAWA, _YUGAWA_BANDS[rank]), _river_band(AGA, _AGA_BANDS[rank])
        )
        area = band if deeper is None else band.difference(deeper)
        deeper = band if deeper is None else shapely.union(deeper, band)
        zones.append(
            (
                HazardType.FLOOD,
                rank,
                f"湯川・阿賀川 洪水浸水想定区域 ランク{rank}（デモ）",
                area,
                {"depth_rank": rank, "rivers": "湯川, 阿賀川"},
            )
        )

    # Landslide: each site's 特別警戒区域 (red) lies inside its 警戒区域 (yellow), as in law.
    for name, centre, axes, bearing in _LANDSLIDE_SITES:
        warning = _ellipse(centre, axes, bearing)
        special = _ellipse(centre, (axes[0] * 0.45, axes[1] * 0.45), bearing)
        zones.append(
            (
                HazardType.LANDSLIDE,
                LandslideRank.WARNING_AREA,
                f"{name} 土砂災害警戒区域",
                warning,
                {},
            )
        )
        zones.append(
            (
                HazardType.LANDSLIDE,
                LandslideRank.SPECIAL_WARNING_AREA,
                f"{name} 土砂災害特別警戒区域",
                special,
                {},
            )
        )

    name, centre, axes, bearing = _INLAND_FLOOD
    outer = _ellipse(centre, axes, bearing)
    inner = _ellipse(centre, (axes[0] * 0.4, axes[1] * 0.4), bearing)
    zones.append((HazardType.INLAND_FLOOD, 1, name, outer.difference(inner), {"depth_rank": 1}))
    zones.append((HazardType.INLAND_FLOOD, 2, name, inner, {"depth_rank": 2}))

    records: list[HazardZoneRecord] = []
    for index, (hazard_type, rank, zone_name, geometry, extra) in enumerate(zones):
        properties = {
            "name": zone_name,
            "source": DEMO_SOURCE,
            "synthetic": True,
            "rank": int(rank),
            **extra,
        }
        records.append(
            HazardZoneRecord(
                feature_index=index,
                feature_id=f"demo-{hazard_type.value}-{index}",
                hazard_type=hazard_type,
                rank=int(rank),
                depth_m=None,
                geometry=_valid(_to_lon_lat(geometry)),
                name=zone_name,
                source=DEMO_SOURCE,
                properties=MappingProxyType(properties),
                repair=None,
            )
        )
    return records


def demo_feature_collection() -> dict[str, Any]:
    """The demo zones as a GeoJSON FeatureCollection (with hazard_type and rank properties)."""
    return {
        "type": "FeatureCollection",
        "name": "kizuna-demo-hazards-07202",
        "features": [
            {
                "type": "Feature",
                "id": z.feature_id,
                "properties": {**z.properties, "hazard_type": z.hazard_type.value},
                "geometry": mapping(z.geometry),
            }
            for z in demo_hazard_zones()
        ],
    }
