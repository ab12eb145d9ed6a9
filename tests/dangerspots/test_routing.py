"""Approved danger spots steer evacuation routes on the demo network; others do not."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from shapely.geometry import LineString, Point, shape
from sqlalchemy import update

from backend.api.ids import decode_id
from backend.dangerspots.models import DangerSpot
from backend.db.base import utcnow
from backend.routing.demo import AIZU_WAKAMATSU_STATION, TSURUGA_CASTLE
from tests.conftest import RollbackDatabase
from tests.dangerspots.world import Api, point
from tests.safety.test_api import OPEN, Town

STATION = {"latitude": AIZU_WAKAMATSU_STATION[1], "longitude": AIZU_WAKAMATSU_STATION[0]}
CASTLE = {"latitude": TSURUGA_CASTLE[1], "longitude": TSURUGA_CASTLE[0]}


async def _walk(api: Api) -> dict[str, Any]:
    result = await api.route(**{"from": STATION, "toPoint": CASTLE})
    assert result["__typename"] == "EvacuationRoute", result
    return result


def _midpoint(result: dict[str, Any]) -> dict[str, float]:
    """A vertex halfway along the route (a path node, far from both ends)."""
    coords = shape(result["path"]).coords
    lon, lat = coords[len(coords) // 2]
    return {"latitude": lat, "longitude": lon}


def _meets(result: dict[str, Any], at: dict[str, float], radius_m: float = 15.0) -> bool:
    line = shape(result["path"])
    assert isinstance(line, LineString)
    degrees = radius_m / 111_000
    return bool(line.distance(Point(at["longitude"], at["latitude"])) < degrees)


async def test_an_approved_spot_changes_the_route_that_crossed_it(api: Api, town: Town) -> None:
    # given: the walk from the station to the castle, and a road reported blocked on it
    before = await _walk(api)
    blocked = _midpoint(before)
    spot_id = await api.posted(town.tokens["hanako"], geometry=point(**blocked))
    # when: pending, nothing changes
    pending = await _walk(api)
    assert pending["path"] == before["path"] and pending["dangerSpotsAvoided"] == []
    approved = await api.moderate(town.tokens["staff"], spot_id, "APPROVE")
    assert approved["errors"] == []
    after = await _walk(api)
    # then: the route goes around it and says so, without any avoid area from the client
    assert after["path"] != before["path"]
    assert not _meets(after, blocked)
    assert after["safe"] and after["dangerSpotsAvoided"] == [spot_id]
    assert after["distanceMeters"] > before["distanceMeters"]
    # once resolved, the road is open again
    await api.moderate(town.tokens["staff"], spot_id, "RESOLVE")
    assert (await _walk(api))["path"] == before["path"]


async def test_a_route_names_every_spot_it_went_around(api: Api, town: Town) -> None:
    # given: a spot on the walk, and another on the detour around it
    before = await _walk(api)
    first = await api.posted(town.tokens["hanako"], geometry=point(**_midpoint(before)))
    await api.moderate(town.tokens["staff"], first, "APPROVE")
    detour = await _walk(api)
    second = await api.posted(town.tokens["jiro"], geometry=point(**_midpoint(detour)))
    # when
    await api.moderate(town.tokens["staff"], second, "APPROVE")
    after = await _walk(api)
    # then
    assert after["safe"] and sorted(after["dangerSpotsAvoided"]) == sorted([first, second])
    assert not _meets(after, _midpoint(before)) and not _meets(after, _midpoint(detour))


async def test_a_rejected_spot_changes_nothing(api: Api, town: Town) -> None:
    # given
    before = await _walk(api)
    spot_id = await api.posted(town.tokens["hanako"], geometry=point(**_midpoint(before)))
    # when
    await api.moderate(town.tokens["staff"], spot_id, "REJECT")
    # then
    after = await _walk(api)
    assert after["path"] == before["path"] and after["dangerSpotsAvoided"] == []


async def test_an_expired_spot_no_longer_steers_routes(
    api: Api, town: Town, db: RollbackDatabase
) -> None:
    # given
    before = await _walk(api)
    spot_id = await api.posted(town.tokens["hanako"], geometry=point(**_midpoint(before)))
    await api.moderate(town.tokens["staff"], spot_id, "APPROVE")
    assert (await _walk(api))["dangerSpotsAvoided"] == [spot_id]
    # when
    async with db.session() as session:
        await session.execute(
            update(DangerSpot)
            .where(DangerSpot.id == decode_id("DangerSpot", spot_id))
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    # then
    after = await _walk(api)
    assert after["path"] == before["path"] and after["dangerSpotsAvoided"] == []


async def test_a_spot_of_a_closed_event_no_longer_steers_routes(api: Api, town: Town) -> None:
    # given: an open event over Aizu when the spot is posted and approved
    opened = await api.gql(
        OPEN,
        {"input": {"name": "豪雨", "municipalityCodes": ["07202"], "hazardType": "FLOOD"}},
        token=town.tokens["staff"],
    )
    event_id = opened["data"]["openDisasterEvent"]["event"]["id"]
    before = await _walk(api)
    spot_id = await api.posted(town.tokens["hanako"], geometry=point(**_midpoint(before)))
    spot = await api.spot(town.tokens["hanako"], spot_id)
    assert spot is not None and spot["inOpenEvent"]
    await api.moderate(town.tokens["staff"], spot_id, "APPROVE")
    assert (await _walk(api))["dangerSpotsAvoided"] == [spot_id]
    # when
    await api.gql(
        "mutation($id: ID!) { closeDisasterEvent(input: {eventId: $id}) { errors { code } } }",
        {"id": event_id},
        token=town.tokens["staff"],
    )
    # then
    after = await _walk(api)
    assert after["path"] == before["path"] and after["dangerSpotsAvoided"] == []


@pytest.mark.parametrize("radius_deg", [0.0008])
async def test_a_spot_around_the_origin_is_crossed_and_counted(
    api: Api, town: Town, radius_deg: float
) -> None:
    # given: the station itself inside an approved flooded area (no walk keeps clear)
    lon, lat = AIZU_WAKAMATSU_STATION
    ring = [
        [lon - radius_deg, lat - radius_deg],
        [lon + radius_deg, lat - radius_deg],
        [lon + radius_deg, lat + radius_deg],
        [lon - radius_deg, lat + radius_deg],
        [lon - radius_deg, lat - radius_deg],
    ]
    spot_id = await api.posted(
        town.tokens["hanako"],
        kind="FLOODED_ROAD",
        geometry={"type": "Polygon", "coordinates": [ring]},
    )
    await api.moderate(town.tokens["staff"], spot_id, "APPROVE")
    # when
    result = await _walk(api)
    # then: the least exposed walk, its metres in the spot counted against the spot
    assert not result["safe"]
    crossings = [c for c in result["crossings"] if c["dangerSpotId"] == spot_id]
    assert len(crossings) == 1 and crossings[0]["lengthMeters"] > 0
    assert result["dangerSpotsAvoided"] == []
