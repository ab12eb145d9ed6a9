"""Concurrent check-ins keep occupancy exact: on a real connection pool (PostgreSQL in CI) the
requests truly overlap, and the atomic UPDATE and the one-current-stay index decide. Rows
created here are deleted afterwards."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from backend.api.ids import encode_id
from backend.residents.models import Resident
from backend.shelters.models import Shelter, ShelterStay

RACERS = 20
CAPACITY = 10
CHECK_IN = """
mutation($input: CheckInToShelterInput!) {
  checkInToShelter(input: $input) { stay { id } errors { code field } }
}"""


@pytest.fixture
async def prefix(engine: AsyncEngine) -> AsyncIterator[str]:
    prefix = f"shelter-race-{uuid.uuid4().hex[:8]}"
    yield prefix
    async with engine.begin() as connection:
        await connection.execute(delete(Shelter).where(Shelter.common_id.like(f"{prefix}%")))
        await connection.execute(delete(Resident).where(Resident.subject.like(f"{prefix}%")))


async def open_shelter(engine: AsyncEngine, common_id: str, capacity: int) -> uuid.UUID:
    """An open shelter far from the demo ones, committed for real."""
    shelter_id = uuid.uuid4()
    async with AsyncSession(engine) as session:
        session.add(
            Shelter(
                id=shelter_id,
                common_id=common_id,
                name="同時受付テスト避難所（架空）",
                municipality_code="07202",
                latitude=37.3,
                longitude=139.6,
                h3_res7=0,
                h3_res9=0,
                is_evacuation_shelter=True,
                status="open",
                capacity=capacity,
                occupancy=0,
            )
        )
        await session.commit()
    return shelter_id


async def post(client: httpx.AsyncClient, bearer: str, query: str, variables: Any) -> Any:
    response = await client.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {bearer}"},
    )
    assert response.status_code == 200, response.text
    return response.json()


def outcomes(bodies: list[Any]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for body in bodies:
        assert "errors" not in body, body  # never a masked INTERNAL
        errors = body["data"]["checkInToShelter"]["errors"]
        counts[errors[0]["code"] if errors else "ok"] += 1
    return counts


async def shelter_row(engine: AsyncEngine, shelter_id: uuid.UUID) -> tuple[int, str, int]:
    """(occupancy, status, current stays) as stored."""
    async with engine.connect() as connection:
        row = (
            await connection.execute(
                select(Shelter.occupancy, Shelter.status).where(Shelter.id == shelter_id)
            )
        ).one()
        stays = await connection.scalar(
            select(func.count())
            .select_from(ShelterStay)
            .where(ShelterStay.shelter_id == shelter_id, ShelterStay.checked_out_at.is_(None))
        )
    return row[0], row[1], int(stays or 0)


async def test_concurrent_check_ins_never_exceed_capacity(
    pooled_client: httpx.AsyncClient, token: Any, prefix: str, engine: AsyncEngine
) -> None:
    # given an open shelter with room for 10, and 20 residents who signed in before
    shelter_id = await open_shelter(engine, f"{prefix}-a", CAPACITY)
    bearers = [token(f"{prefix}-r{i}") for i in range(RACERS)]
    for bearer in bearers:
        await post(pooled_client, bearer, "{ me { id } }", {})
    # when all 20 check in at once
    variables = {"input": {"shelterId": encode_id("Shelter", shelter_id)}}
    bodies = await asyncio.gather(
        *(post(pooled_client, bearer, CHECK_IN, variables) for bearer in bearers)
    )
    # then exactly 10 are in, and the others were told it is full
    assert outcomes(bodies) == Counter({"ok": CAPACITY, "SHELTER_FULL": RACERS - CAPACITY})
    assert await shelter_row(engine, shelter_id) == (CAPACITY, "full", CAPACITY)


async def test_one_resident_racing_between_two_shelters_stays_in_one(
    pooled_client: httpx.AsyncClient, token: Any, prefix: str, engine: AsyncEngine
) -> None:
    # given two open shelters and a resident checked in at the first
    first = await open_shelter(engine, f"{prefix}-b", 100)
    second = await open_shelter(engine, f"{prefix}-c", 100)
    bearer = token(f"{prefix}-mover")
    checked_in = await post(
        pooled_client, bearer, CHECK_IN, {"input": {"shelterId": encode_id("Shelter", first)}}
    )
    assert outcomes([checked_in]) == Counter({"ok": 1})
    # when the resident's phone sends 20 check-ins to both at once (moves, and stays)
    bodies = await asyncio.gather(
        *(
            post(
                pooled_client,
                bearer,
                CHECK_IN,
                {"input": {"shelterId": encode_id("Shelter", (first, second)[i % 2])}},
            )
            for i in range(RACERS)
        )
    )
    # then each succeeded or lost a race visibly, and the resident is counted exactly once
    counts = outcomes(bodies)
    assert counts["ok"] >= 1 and set(counts) <= {"ok", "CONFLICT"}
    a, b = await shelter_row(engine, first), await shelter_row(engine, second)
    assert sorted([a, b]) == [(0, "open", 0), (1, "open", 1)]
