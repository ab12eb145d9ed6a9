"""Concurrent requests racing on a unique constraint get CONFLICT (or succeed), never INTERNAL.

Runs on a real connection pool, so on PostgreSQL the requests truly overlap: both pass the
service's "does it exist already?" check and the database's unique constraint decides. Rows
created here are deleted afterwards.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import delete, func, select

from backend.auth.models import RoleGrantRecord
from backend.communities.models import Community
from backend.consent.models import SystemClient
from backend.residents.models import Place, Resident

RACERS = 20


@pytest.fixture
async def prefix(engine) -> AsyncIterator[str]:  # type: ignore[no-untyped-def]
    prefix = f"race-{uuid.uuid4().hex[:8]}"
    yield prefix
    async with engine.begin() as connection:
        await connection.execute(delete(Community).where(Community.name.like(f"{prefix}%")))
        await connection.execute(
            delete(RoleGrantRecord).where(RoleGrantRecord.subject.like(f"{prefix}%"))
        )
        await connection.execute(
            delete(SystemClient).where(SystemClient.client_id.like(f"{prefix}%"))
        )
        await connection.execute(delete(Resident).where(Resident.subject.like(f"{prefix}%")))


async def _race(client: httpx.AsyncClient, bearer: str, query: str, variables=None) -> list:  # type: ignore[no-untyped-def]
    """RACERS identical requests at once; the payloads (or top-level errors) they got."""

    async def one() -> dict:  # type: ignore[type-arg]
        response = await client.post(
            "/graphql",
            json={"query": query, "variables": variables or {}},
            headers={"Authorization": f"Bearer {bearer}"},
        )
        assert response.status_code == 200, response.text
        return response.json()

    return await asyncio.gather(*(one() for _ in range(RACERS)))


def _outcomes(bodies: list, field: str) -> Counter[str]:  # type: ignore[type-arg]
    """How many requests succeeded ("ok") and which error codes the others got."""
    counts: Counter[str] = Counter()
    for body in bodies:
        assert "errors" not in body, body  # never a masked INTERNAL
        errors = body["data"][field]["errors"]
        counts[errors[0]["code"] if errors else "ok"] += 1
    return counts


async def _count(engine, statement) -> int:  # type: ignore[no-untyped-def]
    async with engine.connect() as connection:
        return int(await connection.scalar(statement) or 0)


async def test_one_home_per_resident(pooled_client, token, prefix, engine) -> None:  # type: ignore[no-untyped-def]
    bearer = token(f"{prefix}-home")
    await pooled_client.post(
        "/graphql", json={"query": "{ me { id } }"}, headers={"Authorization": f"Bearer {bearer}"}
    )
    bodies = await _race(
        pooled_client,
        bearer,
        'mutation { addPlace(input: {kind: HOME, label: "自宅", latitude: 37.49,'
        " longitude: 139.93}) { place { id } errors { code field messageJa } } }",
    )
    assert _outcomes(bodies, "addPlace") == Counter({"ok": 1, "CONFLICT": RACERS - 1})
    conflict = next(b for b in bodies if b["data"]["addPlace"]["errors"])
    assert conflict["data"]["addPlace"]["errors"][0]["field"] == "kind"
    homes = (
        select(func.count())
        .select_from(Place)
        .join(Resident)
        .where(Resident.subject == f"{prefix}-home", Place.kind == "home")
    )
    assert await _count(engine, homes) == 1


async def test_one_community_name_per_municipality(pooled_client, token, prefix, engine) -> None:  # type: ignore[no-untyped-def]
    staff = token(f"{prefix}-staff", roles=[("city_staff", "07202")])
    bodies = await _race(
        pooled_client,
        staff,
        'mutation($n: String!) { createCommunity(input: {municipalityCode: "07202", name: $n,'
        " kind: TOWN_ASSOCIATION}) { community { id } errors { code field } } }",
        {"n": f"{prefix}町内会"},
    )
    assert _outcomes(bodies, "createCommunity") == Counter({"ok": 1, "CONFLICT": RACERS - 1})
    named = select(func.count()).select_from(Community).where(Community.name == f"{prefix}町内会")
    assert await _count(engine, named) == 1


async def test_joining_a_community_once(pooled_client, token, prefix) -> None:  # type: ignore[no-untyped-def]
    staff = token(f"{prefix}-staff2", roles=[("city_staff", "07202")])
    created = await _race(
        pooled_client,
        staff,
        'mutation($n: String!) { createCommunity(input: {municipalityCode: "07202", name: $n,'
        " kind: DISASTER_ORG}) { community { id } errors { code } } }",
        {"n": f"{prefix}自主防災会"},
    )
    community_id = next(
        b["data"]["createCommunity"]["community"]["id"]
        for b in created
        if b["data"]["createCommunity"]["community"]
    )
    bodies = await _race(
        pooled_client,
        token(f"{prefix}-joiner"),
        "mutation($c: ID!) { joinCommunity(input: {communityId: $c}) { errors { code field } } }",
        {"c": community_id},
    )
    assert _outcomes(bodies, "joinCommunity") == Counter({"ok": 1, "CONFLICT": RACERS - 1})


async def test_granting_a_role_twice_at_once(pooled_client, token, prefix, engine) -> None:  # type: ignore[no-untyped-def]
    admin = token(f"{prefix}-admin", roles=[("city_admin", "07202")])
    bodies = await _race(
        pooled_client,
        admin,
        "mutation($s: String!) { grantRole(input: {subject: $s, role: CITY_STAFF,"
        ' municipalityCode: "07202"}) { grant { id } errors { code field } } }',
        {"s": f"{prefix}-new-staff"},
    )
    outcomes = _outcomes(bodies, "grantRole")
    # granting is idempotent: a request that saw the grant returns it, a racing one conflicts
    assert set(outcomes) <= {"ok", "CONFLICT"} and outcomes["ok"] >= 1
    grants = (
        select(func.count())
        .select_from(RoleGrantRecord)
        .where(RoleGrantRecord.subject == f"{prefix}-new-staff")
    )
    assert await _count(engine, grants) == 1


async def test_registering_one_client_id_at_once(pooled_client, token, prefix, engine) -> None:  # type: ignore[no-untyped-def]
    admin = token(f"{prefix}-admin2", roles=[("city_admin", "07202")])
    bodies = await _race(
        pooled_client,
        admin,
        'mutation($c: String!) { registerSystemClient(input: {clientId: $c, nameJa: "介護",'
        ' nameEn: "Care", municipalityCode: "07202", purposes: ["care_linkage"]})'
        " { client { clientId } errors { code field } } }",
        {"c": f"{prefix}-care"},
    )
    outcomes = _outcomes(bodies, "registerSystemClient")
    assert set(outcomes) <= {"ok", "CONFLICT"} and outcomes["ok"] >= 1
    clients = (
        select(func.count())
        .select_from(SystemClient)
        .where(SystemClient.client_id == f"{prefix}-care")
    )
    assert await _count(engine, clients) == 1
