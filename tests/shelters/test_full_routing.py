"""A shelter filled by check-ins is no longer where the nearest-shelter route leads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from backend.hazards import service as hazards_service
from backend.routing.demo import AIZU_WAKAMATSU_STATION
from tests.conftest import GraphQLClient
from tests.shelters.checkin_world import (
    AIZU,
    check_in,
    set_status,
)

ROUTE = (
    Path(__file__).resolve().parents[2] / "graphql" / "operations" / "EvacuationRoute.graphql"
).read_text(encoding="utf-8")
STATION = {"latitude": AIZU_WAKAMATSU_STATION[1], "longitude": AIZU_WAKAMATSU_STATION[0]}
FLOOD_SHELTERS = ("DEMO-07202-001", "DEMO-07202-003")


async def route_to(gql: GraphQLClient, bearer: str) -> dict[str, Any]:
    body = await gql(ROUTE, {"input": {"from": STATION, "hazardType": "FLOOD"}}, token=bearer)
    result: dict[str, Any] = body["data"]["evacuationRoute"]
    return result


@pytest.fixture
async def zones(session: Any) -> None:
    await hazards_service.load_demo_zones(session)
    await session.commit()


async def test_a_shelter_filled_by_check_ins_is_skipped(
    gql: GraphQLClient, token: Any, zones: None, ids: dict[str, str]
) -> None:
    # given both flood shelters open, the nearest on foot with room for one, and a resident
    # asking for her route (again and again: her own route never counts against her)
    manager = token("reception", roles=[("shelter_manager", AIZU)])
    asking = token("asking-again")
    nearest = (await route_to(gql, asking))["shelter"]["id"]
    [other] = [ids[c] for c in FLOOD_SHELTERS if ids[c] != nearest]
    await set_status(gql, manager, nearest, status="OPEN", capacity=1)
    await set_status(gql, manager, other, status="OPEN", capacity=100)
    assert (await route_to(gql, asking))["shelter"]["id"] == nearest
    # when a resident checks in there, filling it
    payload = await check_in(gql, token("first-to-arrive"), shelterId=nearest)
    assert payload["stay"]["shelter"]["status"] == "FULL"
    # then the route leads to the other shelter
    rerouted = await route_to(gql, asking)
    assert rerouted["shelter"]["id"] == other and rerouted["shelter"]["status"] == "OPEN"
    # when the manager sets it OPEN again while it is still at capacity
    await set_status(gql, manager, nearest, status="OPEN")
    # then it is still skipped: a count at capacity is full whatever the status says
    assert (await route_to(gql, asking))["shelter"]["id"] == other
    # and when the manager makes room, it is the destination again
    await set_status(gql, manager, nearest, capacity=2)
    assert (await route_to(gql, asking))["shelter"]["id"] == nearest
