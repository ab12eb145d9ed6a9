"""A burst of nearest-shelter requests whose searches all overlap: every request reads the
counts before any records, yet no shelter is planned beyond its capacity while another has
room (the record step re-reads under a lock and sends a request back to planning)."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from backend.app import create_app
from backend.auth.tokens import TokenVerifier
from backend.bootstrap import sync_reference_data
from backend.config import Settings
from backend.db.migrate import upgrade
from backend.db.session import Database, create_engine
from backend.routing.engine import RoutingEngine
from tests.conftest import fresh_database_url
from tests.routing.test_shelter_load import (
    DISTRICT,
    FAR,
    NEAR,
    ROUTE,
    SHELTERS,
    UPDATE_STATUS,
    add_two_shelters,
    district_points,
    point,
)

REQUESTS = 60
CAPACITY = {NEAR: 20, FAR: 50}
# Long enough that every request has read its counts before the first one records.
SEARCH_SECONDS = 0.2


@pytest.fixture
async def pooled(database_url: str, tmp_path: Path) -> AsyncIterator[Database]:
    """A database of its own (requests commit for real), with the two shelters."""
    engine = create_engine(await fresh_database_url(database_url, "load_burst", tmp_path))
    database = Database(engine)
    await upgrade(engine)
    async with database.session() as session:
        await sync_reference_data(session)
        await add_two_shelters(session)
    yield database
    await database.dispose()


async def test_a_burst_never_overfills_a_shelter_while_another_has_room(
    pooled: Database, settings: Settings, verifier: TokenVerifier, token: Any, monkeypatch: Any
) -> None:
    # given shelters with room for 20 (the nearer) and 50, and slow walk comparisons
    original = RoutingEngine.walk_costs_from

    def slow(engine: RoutingEngine, *args: Any, **kwargs: Any) -> Any:
        time.sleep(SEARCH_SECONDS)
        return original(engine, *args, **kwargs)

    monkeypatch.setattr(RoutingEngine, "walk_costs_from", slow)
    app = create_app(settings, database=pooled, verifier=verifier)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:

        async def post(query: str, variables: dict[str, Any], bearer: str | None = None) -> Any:
            headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}
            response = await c.post(
                "/graphql", json={"query": query, "variables": variables}, headers=headers
            )
            return response.json()["data"]

        found = await post(SHELTERS, {"near": point(*DISTRICT)})
        ids = {s["commonId"]: s["id"] for s in found["shelters"]}
        staff = token("staff", roles=[("city_staff", "07202")])
        for common_id, capacity in CAPACITY.items():
            await post(
                UPDATE_STATUS, {"input": {"id": ids[common_id], "capacity": capacity}}, staff
            )

        # when 60 people of the district ask at once
        answers = await asyncio.gather(
            *(
                post(ROUTE, {"input": {"from": origin, "hazardType": "FLOOD"}})
                for origin in district_points(REQUESTS)
            )
        )

    # then the nearer shelter is filled to its capacity and the rest go to the other one
    results = [answer["evacuationRoute"] for answer in answers]
    assert {r["__typename"] for r in results} == {"EvacuationRoute"}, results
    by_id = {v: k for k, v in ids.items()}
    sent = Counter(by_id[r["shelter"]["id"]] for r in results)
    assert sent == {NEAR: CAPACITY[NEAR], FAR: REQUESTS - CAPACITY[NEAR]}
    assert not any(r["shelterLoad"]["overCapacity"] for r in results)
    # and each response's count is what was recorded before it: all different per shelter
    for common_id in CAPACITY:
        planned = sorted(
            r["shelterLoad"]["planned"] for r in results if by_id[r["shelter"]["id"]] == common_id
        )
        assert planned == list(range(sent[common_id]))
