"""Great-circle distances: one argument order (lat, lon) for the scalar and the numpy form."""

from __future__ import annotations

import numpy as np
import pytest
from geopy.distance import geodesic

from backend.geo import haversine_m, haversine_m_array

STATION = (37.5078, 139.9335)  # 会津若松駅 (lat, lon)
CASTLE = (37.4876, 139.9298)  # 鶴ヶ城


def test_one_degree_of_latitude_at_60_north() -> None:
    # One degree of latitude on the WGS 84 ellipsoid at 60 N is 111,412 m.
    assert haversine_m(59.5, 24.94, 60.5, 24.94) == pytest.approx(111_412, rel=0.005)


def test_latitude_comes_first() -> None:
    # given two points 1 degree of longitude apart at 60 N (half a degree of latitude's length)
    east_west = haversine_m(60.0, 24.0, 60.0, 25.0)
    # then swapping the order would measure along a meridian instead and double the distance
    assert east_west == pytest.approx(55_800, rel=0.01)
    assert haversine_m(24.0, 60.0, 25.0, 60.0) == pytest.approx(111_200, rel=0.01)


def test_scalar_and_array_forms_agree_with_the_ellipsoid() -> None:
    # given the station, the castle and a few points around Fukushima prefecture
    rng = np.random.default_rng(7)
    lats = rng.uniform(36.8, 38.0, 50)
    lons = rng.uniform(139.2, 141.0, 50)

    # when distances from the station are computed both ways
    many = haversine_m_array(STATION[0], STATION[1], lats, lons)
    one_by_one = [haversine_m(*STATION, lat, lon) for lat, lon in zip(lats, lons, strict=True)]

    # then they agree, and stay within 0.5 % of the WGS 84 geodesic
    np.testing.assert_allclose(many, one_by_one, rtol=1e-12)
    for lat, lon, distance in zip(lats, lons, many, strict=True):
        assert distance == pytest.approx(geodesic(STATION, (lat, lon)).meters, rel=0.005)
    assert haversine_m(*STATION, *CASTLE) == pytest.approx(geodesic(STATION, CASTLE).meters, 0.005)


def test_array_form_broadcasts_pairwise() -> None:
    lats = np.array([STATION[0], CASTLE[0], STATION[0]])
    lons = np.array([STATION[1], CASTLE[1], STATION[1]])
    segments = haversine_m_array(lats[:-1], lons[:-1], lats[1:], lons[1:])
    assert segments.shape == (2,)
    assert segments[0] == pytest.approx(segments[1])
    assert haversine_m(*STATION, *STATION) == 0.0
