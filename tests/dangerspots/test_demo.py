"""The demo's danger spots: on the map, in the staff queue, and around the demo route."""

from __future__ import annotations

from typing import Any

from backend.config import Settings
from backend.demo import seed_demo
from tests.conftest import GraphQLClient
from tests.dangerspots.test_routing import CASTLE, STATION
from tests.dangerspots.world import AIZU_BOX, DOCUMENT, ROUTE


async def test_demo_spots_show_and_steer_the_demo_route(
    gql: GraphQLClient, token: Any, session: Any, settings: Settings
) -> None:
    # given
    await seed_demo(session, settings)
    await session.commit()
    # when
    public = await gql(DOCUMENT, {"bbox": AIZU_BOX}, operation_name="DangerSpotMap")
    queue = await gql(
        DOCUMENT, {}, token=token("demo-staff"), operation_name="DangerSpotModerationQueue"
    )
    route = await gql(ROUTE, {"input": {"from": STATION, "toPoint": CASTLE}})
    # then: two approved spots for everyone, one waiting for staff, the route goes around one
    features = public["data"]["dangerSpots"]["features"]
    assert sorted(f["properties"]["kind"] for f in features) == ["BLOCKED_ROAD", "FLOODED_ROAD"]
    [pending] = queue["data"]["dangerSpotModerationQueue"]["edges"]
    assert pending["node"]["kind"] == "COLLAPSED_BUILDING" and pending["node"]["reporterId"]
    blocked = next(f["id"] for f in features if f["properties"]["kind"] == "BLOCKED_ROAD")
    assert route["data"]["evacuationRoute"]["dangerSpotsAvoided"] == [blocked]
