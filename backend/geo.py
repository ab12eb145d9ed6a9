"""Coordinate validation, great-circle distances, boxes and H3 cells shared by every domain.

Every function here takes latitude before longitude (``lat, lon``), like geopy and h3; only
GeoJSON and shapely geometries keep their own lon/lat order.
"""

from __future__ import annotations

import math

import h3
import numpy as np
from numpy.typing import ArrayLike, NDArray

from .errors import Checker


def check_point(checker: Checker, field: str, lat: float, lon: float) -> None:
    """Record a validation problem when lat/lon are not a finite WGS 84 position."""
    prefix = f"{field}." if field else ""  # "" for top-level latitude/longitude arguments
    if not (isinstance(lat, int | float) and math.isfinite(lat) and -90.0 <= lat <= 90.0):
        checker.add(
            f"{prefix}latitude",
            "latitude must be a number between -90 and 90",
            "緯度は-90から90の数値で指定してください",
        )
    if not (isinstance(lon, int | float) and math.isfinite(lon) and -180.0 <= lon <= 180.0):
        checker.add(
            f"{prefix}longitude",
            "longitude must be a number between -180 and 180",
            "経度は-180から180の数値で指定してください",
        )


# IUGG mean radius: a sphere of this radius is within 0.5 % of WGS 84 distances.
MEAN_EARTH_RADIUS_M = 6_371_008.8
# Metres in one degree of latitude (of longitude: times the cosine of the latitude).
METRES_PER_DEGREE = math.radians(1.0) * MEAN_EARTH_RADIUS_M


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres between two points in degrees (scalar, ``lat, lon``)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    h = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * MEAN_EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def haversine_m_array(
    lat1: ArrayLike, lon1: ArrayLike, lat2: ArrayLike, lon2: ArrayLike
) -> NDArray[np.float64]:
    """``haversine_m`` over numpy arrays (same ``lat, lon`` order; arguments broadcast)."""
    lat1r, lon1r, lat2r, lon2r = (
        np.radians(np.asarray(a, dtype=np.float64)) for a in (lat1, lon1, lat2, lon2)
    )
    h = (
        np.sin((lat2r - lat1r) / 2.0) ** 2
        + np.cos(lat1r) * np.cos(lat2r) * np.sin((lon2r - lon1r) / 2.0) ** 2
    )
    distance: NDArray[np.float64] = (
        2.0 * MEAN_EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))
    )
    return distance


def padded_box(
    min_lat: float, min_lon: float, max_lat: float, max_lon: float, pad_m: float
) -> tuple[float, float, float, float]:
    """(min_lat, min_lon, max_lat, max_lon) of a box grown by ``pad_m`` metres on every side.

    The longitude pad is taken at the edge nearest the pole, where a degree is shortest, so
    every point within ``pad_m`` of the box lies inside. The antimeridian is not handled
    (Japan lies far from it): the box is clamped instead.
    """
    dlat = math.degrees(pad_m / MEAN_EARTH_RADIUS_M)
    cos_lat = math.cos(math.radians(min(89.9, max(abs(min_lat), abs(max_lat)) + dlat)))
    dlon = min(180.0, dlat / cos_lat)
    return (
        max(-90.0, min_lat - dlat),
        max(-180.0, min_lon - dlon),
        min(90.0, max_lat + dlat),
        min(180.0, max_lon + dlon),
    )


def h3_cells(lat: float, lon: float, resolutions: tuple[int, ...]) -> list[int]:
    """H3 cell ids (as signed-safe 64-bit ints) of a point at each resolution."""
    return [h3.str_to_int(h3.latlng_to_cell(lat, lon, res)) for res in resolutions]


def check_bbox(
    checker: Checker,
    field: str,
    bbox: tuple[float, float, float, float],
    *,
    max_span_degrees: float,
) -> None:
    """Record problems of a (min_lon, min_lat, max_lon, max_lat) box: range, order and size."""
    min_lon, min_lat, max_lon, max_lat = bbox
    before = len(checker.errors)
    for name, label_ja, value, limit in (
        ("minLongitude", "範囲の西端の経度", min_lon, 180.0),
        ("minLatitude", "範囲の南端の緯度", min_lat, 90.0),
        ("maxLongitude", "範囲の東端の経度", max_lon, 180.0),
        ("maxLatitude", "範囲の北端の緯度", max_lat, 90.0),
    ):
        finite = isinstance(value, int | float) and math.isfinite(value)
        if not (finite and -limit <= value <= limit):
            checker.add(
                f"{field}.{name}",
                f"{name} must be a number between -{limit:g} and {limit:g}",
                f"{label_ja}は-{limit:g}から{limit:g}の数値で指定してください",
            )
    if len(checker.errors) > before:
        return
    for low, high, axis_en, axis_ja in (
        (min_lon, max_lon, "Longitude", "経度"),
        (min_lat, max_lat, "Latitude", "緯度"),
    ):
        if not low < high:
            checker.add(
                f"{field}.max{axis_en}",
                f"max{axis_en} must be greater than min{axis_en}",
                f"{axis_ja}の最大値は最小値より大きくしてください",
            )
        elif high - low > max_span_degrees:
            checker.add(
                f"{field}.max{axis_en}",
                f"the box may span at most {max_span_degrees:g} degrees of {axis_en.lower()}",
                f"範囲は{axis_ja}{max_span_degrees:g}度以内で指定してください",
            )
