"""Coordinate validation and H3 cells shared by every domain."""

from __future__ import annotations

import math

import h3

from .errors import Checker


def check_point(checker: Checker, field: str, lat: float, lon: float) -> None:
    """Record a validation problem when lat/lon are not a finite WGS 84 position."""
    if not (isinstance(lat, int | float) and math.isfinite(lat) and -90.0 <= lat <= 90.0):
        checker.add(
            f"{field}.latitude",
            "latitude must be a number between -90 and 90",
            "緯度は-90から90の数値で指定してください",
        )
    if not (isinstance(lon, int | float) and math.isfinite(lon) and -180.0 <= lon <= 180.0):
        checker.add(
            f"{field}.longitude",
            "longitude must be a number between -180 and 180",
            "経度は-180から180の数値で指定してください",
        )


def h3_cells(lat: float, lon: float, resolutions: tuple[int, ...]) -> list[int]:
    """H3 cell ids (as signed-safe 64-bit ints) of a point at each resolution."""
    return [h3.str_to_int(h3.latlng_to_cell(lat, lon, res)) for res in resolutions]
