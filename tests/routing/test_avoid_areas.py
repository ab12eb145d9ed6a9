"""A client's avoid areas are checked, never repaired: invalid geometry is a typed error.

Repairing a self-intersecting polygon (shapely.make_valid) grows about n^3.4 with its
vertices; a 101-vertex star took 9 s on the event loop before the vertex cap refused it.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import GraphQLClient
from tests.hostile import star
from tests.routing.test_api import CASTLE, STATION, route

BOW_TIE = {
    "type": "Polygon",
    "coordinates": [[[139.92, 37.49], [139.93, 37.50], [139.93, 37.49], [139.92, 37.50]]],
}
SQUARE = {
    "type": "Polygon",
    "coordinates": [[[139.92, 37.49], [139.921, 37.49], [139.921, 37.491], [139.92, 37.491]]],
}

FAR_SQUARE = [[[139.95, 37.49], [139.951, 37.49], [139.951, 37.491], [139.95, 37.491]]]


@pytest.mark.parametrize(
    ("avoid", "field", "message_ja"),
    [
        ([star(101)], "avoid[0]", "回避エリア1番目の多角形が自己交差しています"),
        ([SQUARE, BOW_TIE], "avoid[1]", "回避エリア2番目の多角形が自己交差しています"),
        (
            [{"type": "Polygon", "coordinates": [*SQUARE["coordinates"], *FAR_SQUARE]}],
            "avoid[0]",
            "回避エリア1番目の多角形の形が正しくありません",
        ),
        (
            [{"type": "LineString", "coordinates": [[139.92, 37.49], [139.93, 37.5]]}],
            "avoid[0]",
            "回避エリア1番目の形が多角形ではありません",
        ),
        (
            [
                {
                    "type": "Polygon",
                    "coordinates": [[[139.92, 37.49], [139.93, 37.5], [139.92, 37.49]]],
                }
            ],
            "avoid[0]",
            "回避エリア1番目の多角形の輪郭の点が4点未満です",
        ),
        (
            [{"type": "Polygon", "coordinates": [[["east", 37.49]] * 4]}],
            "avoid[0]",
            "回避エリア1番目の座標が[経度, 緯度]の数値ではありません",
        ),
        (
            [{"type": "Polygon", "coordinates": [[[10**300, 37.49]] * 4]}],
            "avoid[0]",
            "回避エリア1番目の経度が範囲外です(-180〜180)",
        ),
    ],
    ids=[
        "star",
        "bow-tie",
        "hole-outside-shell",
        "not-a-polygon",
        "short-ring",
        "not-numbers",
        "huge-integer",
    ],
)
async def test_invalid_avoid_areas_are_typed_errors(
    gql: GraphQLClient, avoid: list[Any], field: str, message_ja: str
) -> None:
    # given avoid areas a client drew wrongly
    # when a route is asked around them
    request: dict[str, Any] = {"from": STATION, "toPoint": CASTLE, "avoid": avoid}
    result = await route(gql, **request)
    # then the answer is a validation error on that area, in Japanese and English
    assert result["__typename"] == "RouteError"
    assert (result["code"], result["field"], result["fields"]) == ("VALIDATION", field, [field])
    assert result["messageJa"] == message_ja
    assert result["message"].startswith(f"{field}: ")


async def test_huge_and_infinite_numbers_in_literals_are_validation_errors(
    gql: GraphQLClient,
) -> None:
    # given GeoJSON written in the document itself, with 10^400 and 1e400 (infinite) numbers
    for number in ("1" + "0" * 400, "1e400", "-1e400"):
        ring = f"[[{number}, 37.49], [139.93, 37.5], [139.93, 37.49], [{number}, 37.49]]"
        document = f"""{{ evacuationRoute(input: {{
            from: {{latitude: 37.5076, longitude: 139.9304}},
            toPoint: {{latitude: 37.4877, longitude: 139.9298}},
            avoid: [{{type: "Polygon", coordinates: [{ring}]}}]
        }}) {{ ... on RouteError {{ code field messageJa }} }} }}"""
        # when it is sent, then it is refused as out of range, not a masked internal error
        body = await gql(document)
        assert body["data"]["evacuationRoute"] == {
            "code": "VALIDATION",
            "field": "avoid[0]",
            "messageJa": "回避エリア1番目の経度が範囲外です(-180〜180)",
        }


async def test_vertices_are_counted_before_any_polygon_is_parsed(gql: GraphQLClient) -> None:
    # given one area of 2,001 positions (over the 2,000 cap), one of them unparseable
    ring: list[Any] = [[139.92 + i * 1e-6, 37.49] for i in range(2_000)] + [["x", 0]]
    request: dict[str, Any] = {
        "from": STATION,
        "toPoint": CASTLE,
        "avoid": [{"type": "Polygon", "coordinates": [ring]}],
    }
    # when a route is asked around it
    result = await route(gql, **request)
    # then only the cap is reported: nothing was parsed, let alone built
    assert (result["code"], result["fields"]) == ("VALIDATION", ["avoid"])
    assert result["messageJa"] == "回避エリアの頂点数は合計2000までです"
