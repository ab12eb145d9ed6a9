"""The danger-spot screens (and the route around spots) run a fixed number of statements."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from tests.api.test_statement_counts import count_statements
from tests.dangerspots.test_routing import CASTLE, STATION
from tests.dangerspots.world import AIZU_BOX, Api, point
from tests.safety.test_api import Town

SCREENS = (
    ("DangerSpotMap", {"bbox": AIZU_BOX}, "staff"),
    ("DangerSpotMap", {"bbox": AIZU_BOX}, "jiro"),
    ("DangerSpotModerationQueue", {"first": 50}, "staff"),
    ("DangerSpotModerationQueue", {"first": 50}, "leader"),
    ("MyDangerSpots", {"first": 50}, "hanako"),
)


async def _post(api: Api, town: Town, n: int) -> None:
    """n spots from Hanako (COMMUNITY, seen by Jiro and the leader), one approved each time."""
    for i in range(n):
        at = point(37.494 + i * 0.001, 139.925)
        spot_id = await api.posted(town.tokens["hanako"], geometry=at, scope="COMMUNITY")
        await api.posted(town.tokens["jiro"], geometry=at, kind="FIRE")
        await api.moderate(town.tokens["staff"], spot_id, "APPROVE")


async def _count(api: Api, town: Town, engine: AsyncEngine) -> list[int]:
    counts = []
    for name, variables, who in SCREENS:
        with count_statements(engine) as statements:
            await api.op(name, variables, token=town.tokens[who])
        counts.append(len(statements))
    with count_statements(engine) as statements:
        await api.route(**{"from": STATION, "toPoint": CASTLE})
    counts.append(len(statements))
    return counts


async def test_screens_do_not_grow_with_the_spots(api: Api, town: Town, engine: Any) -> None:
    # given one spot, then four
    await _post(api, town, 1)
    await _count(api, town, engine)  # warm: the first request loads roles and caches
    one = await _count(api, town, engine)
    await _post(api, town, 3)
    # when (routes read the areas of new spots once per process, then only their ids)
    await api.route(**{"from": STATION, "toPoint": CASTLE})
    four = await _count(api, town, engine)
    # then
    assert one == four
    assert max(one) <= 8, one
