"""The nearest-shelter cache answers exactly what a search from the point itself answers, and
forgets everything the moment any shelter is written, by this process or any other."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from typing import Any

import h3
import httpx
import pytest
from sqlalchemy import text

from backend.app import create_app
from backend.auth.tokens import TokenVerifier
from backend.config import Settings
from backend.shelters import nearby
from tests.conftest import GraphQLClient, RollbackDatabase
from tests.shelters.test_api import AIZU, KITAKATA, NEAREST, import_gsi

UPDATE = """
mutation($input: UpdateShelterStatusInput!) {
  updateShelterStatus(input: $input) { errors { code } }
}"""
# 会津若松市 and 喜多方市, where the imported shelters are.
AREA = (37.40, 139.80, 37.70, 140.00)


@pytest.fixture
async def uncached(
    settings: Settings, db: RollbackDatabase, verifier: TokenVerifier
) -> AsyncIterator[GraphQLClient]:
    """The same API and database with the cache switched off: a search from each point."""
    off = settings.model_copy(update={"nearest_shelter_cache_size": 0})
    app = create_app(off, database=db, verifier=verifier)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        yield GraphQLClient(c)


def sample_points(count: int) -> list[dict[str, float]]:
    """Random points, and corners and centres of the cells they fall in (the cells' edges
    are where a cached candidate list would first miss a shelter)."""
    rng = random.Random(7202)
    points = []
    for _ in range(count):
        lat, lon = rng.uniform(AREA[0], AREA[2]), rng.uniform(AREA[1], AREA[3])
        cell = h3.latlng_to_cell(lat, lon, nearby.CELL_RESOLUTION)
        corner = h3.cell_to_boundary(cell)[rng.randrange(6)]
        points += [(lat, lon), h3.cell_to_latlng(cell), corner]
    return [{"latitude": lat, "longitude": lon} for lat, lon in points]


async def answers(gql: GraphQLClient, near: dict[str, float], **variables: Any) -> list[Any]:
    body = await gql(NEAREST, {"near": near, **variables})
    return [(s["id"], s["distanceMeters"], s["status"]) for s in body["data"]["shelters"]]


async def test_cached_answers_are_those_of_a_search_from_the_point(
    gql: GraphQLClient, uncached: GraphQLClient, session: Any
) -> None:
    # given the real shelters of two municipalities
    await import_gsi(session, AIZU, KITAKATA)
    queries: list[dict[str, Any]] = [
        {"first": 5},
        {"first": 1, "hazardType": "FLOOD"},
        {"first": 10, "kind": "EVACUATION_SHELTER", "max": 3_000.0},
    ]
    for near in sample_points(25):
        for variables in queries:
            # when the cached API and a plain search answer the same question (the cached one
            # twice: filling its cell, then from the cell's candidates)
            first = await answers(gql, near, **variables)
            second = await answers(gql, near, **variables)
            plain = await answers(uncached, near, **variables)
            # then all three are the same shelters at the same distances, nearest first
            assert first == second == plain, (near, variables)


async def shelters_near(gql: GraphQLClient, **variables: Any) -> list[dict[str, Any]]:
    near = {"latitude": 37.4947, "longitude": 139.9297}  # 会津若松市役所
    body = await gql(NEAREST, {"near": near, **variables})
    return body["data"]["shelters"]


async def test_a_status_update_is_seen_by_the_next_answer(
    gql: GraphQLClient, session: Any, token: Any
) -> None:
    # given cached answers around the city hall
    await import_gsi(session, AIZU)
    three = await shelters_near(gql, first=3)
    assert await shelters_near(gql, first=3, openOnly=True) == []
    staff = token("staff-cache", roles=[("city_staff", AIZU)])

    # when the city opens the second nearest shelter, then fills it
    for status, expected in (("OPEN", [three[1]["id"]]), ("FULL", [])):
        body = await gql(UPDATE, {"input": {"id": three[1]["id"], "status": status}}, token=staff)
        assert body["data"]["updateShelterStatus"]["errors"] == []

        # then the very next answers show it
        opened = await shelters_near(gql, first=3, openOnly=True)
        assert [s["id"] for s in opened] == expected
        assert (await shelters_near(gql, first=3))[1]["status"] == status


async def test_a_write_by_another_process_is_seen_by_the_next_answer(
    gql: GraphQLClient, session: Any
) -> None:
    # given a cached answer
    await import_gsi(session, AIZU)
    before = await shelters_near(gql, first=2)
    assert before[0]["status"] == "CLOSED"

    # when the shelters table is written behind the application's back (another worker, the
    # CLI, a manual fix: the database's triggers move the stamp)
    await session.execute(text("UPDATE shelters SET status = 'open', occupancy = 12"))
    await session.commit()
    after = await shelters_near(gql, first=2)
    # then the answer is the new state
    assert [(s["id"], s["status"], s["occupancy"]) for s in after] == [
        (s["id"], "OPEN", 12) for s in before
    ]

    # and a deletion (a re-import merging two places) is seen as well
    await session.execute(
        text("DELETE FROM shelters WHERE common_id = :c"), {"c": before[0]["commonId"]}
    )
    await session.commit()
    assert (await shelters_near(gql, first=1))[0]["id"] == before[1]["id"]


async def test_an_import_is_seen_by_the_next_answer(gql: GraphQLClient, session: Any) -> None:
    # given an answer cached while only Kitakata's shelters were known (far from the city hall)
    await import_gsi(session, KITAKATA)
    far = await shelters_near(gql, first=1)
    # when Aizu-Wakamatsu's shelters are imported
    await import_gsi(session, AIZU)
    # then the nearest is now one of them, much nearer
    near = await shelters_near(gql, first=1)
    assert near[0]["distanceMeters"] < far[0]["distanceMeters"] / 5
