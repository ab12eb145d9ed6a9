"""The demo data has Aizu-Wakamatsu's life events."""

from __future__ import annotations

from typing import Any

from backend.config import Settings
from backend.demo import seed_demo
from tests.conftest import GraphQLClient
from tests.lifeevents.test_api import EVENTS


async def test_demo_has_the_life_events_of_aizu_wakamatsu(
    gql: GraphQLClient, session: Any, settings: Settings
) -> None:
    await seed_demo(session, settings)
    await session.commit()
    body = await gql(EVENTS, {"municipalityCode": "07202"})
    names = [e["nameJa"] for e in body["data"]["lifeEvents"]]
    assert names == [
        "転入（引っ越してきた）",
        "転出（引っ越していく）",
        "出生（子どもが生まれた）",
        "小学校入学",
    ]
