"""Numbers no float holds, in a hazard file's coordinates, are refused like any bad position."""

from __future__ import annotations

import pytest

from backend.hazards.sources import HazardFileError, parse_hazard_geojson
from backend.hazards.types import HazardType


@pytest.mark.parametrize(
    ("number", "problem"),
    [
        ("1" + "0" * 400, "longitude inf is out of range"),
        ("-1" + "0" * 400, "longitude -inf is out of range"),
        ("1e400", "longitude inf is out of range"),
        ("NaN", "longitude nan is out of range"),
    ],
    ids=["10^400", "-10^400", "1e400", "nan"],
)
def test_unrepresentable_coordinates_are_file_problems(number: str, problem: str) -> None:
    # given a hazard file whose first position has a number no float holds
    ring = f"[[{number}, 37.49], [139.93, 37.49], [139.93, 37.5], [{number}, 37.49]]"
    data = (
        '{"type": "Feature", "properties": {}, '
        f'"geometry": {{"type": "Polygon", "coordinates": [{ring}]}}}}'
    ).encode()
    # when it is parsed, then it is refused with the feature's problem, not a crash
    with pytest.raises(HazardFileError) as refused:
        parse_hazard_geojson(data, HazardType.FLOOD)
    assert [str(p) for p in refused.value.problems] == [
        f"<bytes>:1: features[0]: {problem} (-180..180)"
    ]
