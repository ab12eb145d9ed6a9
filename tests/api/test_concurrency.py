"""Sibling fields resolve concurrently; the request's session must be used by one at a time.

Runs against a real connection pool (no rollback wrapper) so a cold pool and asyncpg's
"another operation is in progress" would show; rows created here are deleted afterwards.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import delete, select, text

from backend.db.session import Database, RequestDatabase
from backend.family.models import FamilyGroup
from backend.residents.models import Resident

SIBLINGS = """
{
  me {
    displayName
    homeMunicipality { code nameJa }
    places { id kind }
    familyGroups { name members { displayName role } }
  }
  viewer { kind roles { role municipalityCode } }
  municipalities { code }
  aizu: municipality(code: "07202") { nameJa }
  kitakata: municipality(code: "07208") { nameJa }
}
"""


@pytest.fixture
async def cleanup(engine) -> AsyncIterator[str]:  # type: ignore[no-untyped-def]
    prefix = f"conc-{uuid.uuid4().hex[:8]}"
    yield prefix
    async with engine.begin() as connection:
        ids = select(Resident.id).where(Resident.subject.like(f"{prefix}%"))
        await connection.execute(delete(FamilyGroup).where(FamilyGroup.created_by_id.in_(ids)))
        await connection.execute(delete(Resident).where(Resident.subject.like(f"{prefix}%")))


async def test_sibling_database_fields_in_one_query(pooled_client, token, cleanup) -> None:  # type: ignore[no-untyped-def]
    # given residents with places and a family, committed to the real database
    async def post(query: str, bearer: str) -> dict:  # type: ignore[type-arg]
        response = await pooled_client.post(
            "/graphql", json={"query": query}, headers={"Authorization": f"Bearer {bearer}"}
        )
        assert response.status_code == 200, response.text
        return response.json()

    bearers = [token(f"{cleanup}-{i}", name=f"住民{i}") for i in range(8)]
    for bearer in bearers:
        await post(
            'mutation { addPlace(input: {kind: HOME, label: "家", latitude: 37.49, '
            "longitude: 139.93}) { errors { code } } }",
            bearer,
        )
        await post(
            'mutation { createFamilyGroup(input: {name: "家族"}) { errors { code } } }', bearer
        )
    # when many requests, each with several sibling database fields, run at once
    results = await asyncio.gather(*(post(SIBLINGS, b) for b in bearers * 5))
    # then every one succeeds with complete data
    for result in results:
        assert "errors" not in result, result
        me = result["data"]["me"]
        assert me["places"][0]["kind"] == "HOME"
        assert me["familyGroups"][0]["members"][0]["role"] == "OWNER"
        assert result["data"]["aizu"] == {"nameJa": "会津若松市"}
        assert len(result["data"]["municipalities"]) == 59


async def test_request_database_serialises_concurrent_use(
    database_url: str, is_postgres: bool
) -> None:
    database = Database.from_url(database_url)
    session = database.new_session()
    handle = RequestDatabase(session)

    async def query(n: int) -> int:
        async with handle.session() as s:
            return int(await s.scalar(text(f"SELECT {n}")) or 0)

    try:
        assert await asyncio.gather(*(query(n) for n in range(20))) == list(range(20))
        if is_postgres:
            # the trap this guards against: the same session used by two tasks at once
            raw = database.new_session()
            outcomes = await asyncio.gather(
                raw.execute(text("SELECT pg_sleep(0.05)")),
                raw.execute(text("SELECT pg_sleep(0.05)")),
                return_exceptions=True,
            )
            failures = [o for o in outcomes if isinstance(o, Exception)]
            assert failures, "two tasks on one AsyncSession should have clashed"
            assert re.search(
                "another operation is in progress|already in progress|concurrent",
                str(failures[0]),
            )
            await raw.invalidate()
    finally:
        await session.close()
        await database.dispose()
