"""Ticket gates opened in a disaster: staff mark areas open per event; routes read them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import shapely
from shapely.geometry import mapping, shape
from sqlalchemy.ext.asyncio import AsyncSession

from backend.config import Settings
from backend.routing import gates, service
from backend.routing.demo import AIZU_WAKAMATSU_STATION, TSURUGA_CASTLE
from backend.routing.network import road_networks
from tests.conftest import GraphQLClient

OPERATIONS = Path(__file__).resolve().parents[2] / "graphql" / "operations"
GATES = (OPERATIONS / "TicketGates.graphql").read_text()
OPEN_EVENT = """
mutation($input: OpenDisasterEventInput!) {
  openDisasterEvent(input: $input) { event { id } errors { code field } }
}"""
CLOSE_EVENT = """
mutation($id: ID!) { closeDisasterEvent(input: {eventId: $id}) { errors { code } } }
"""

AIZU, FUKUSHIMA = "07202", "07201"
STATION_LON, STATION_LAT = AIZU_WAKAMATSU_STATION
STATION_AREA = mapping(shapely.box(STATION_LON - 0.002, STATION_LAT - 0.001, 139.9355, 37.5088))


def bearer(token: Any, who: str) -> str | None:
    """The callers of these tests by what they are."""
    roles = {
        "staff": [("city_staff", AIZU)],
        "admin": [("city_admin", AIZU)],
        "other_city": [("city_staff", FUKUSHIMA)],
        "manager": [("shelter_manager", AIZU)],
        "prefecture": [("prefecture_admin", "07")],
        "resident": [],
    }
    return None if who == "anonymous" else token(who, roles=roles[who])


async def open_event(gql: GraphQLClient, token: Any) -> str:
    body = await gql(
        OPEN_EVENT,
        {"input": {"name": "会津地震", "municipalityCodes": [AIZU]}},
        token=bearer(token, "staff"),
    )
    assert body["data"]["openDisasterEvent"]["errors"] == [], body
    return str(body["data"]["openDisasterEvent"]["event"]["id"])


async def open_gates(
    gql: GraphQLClient, who: str | None, event_id: str, area: Any = None, **extra: Any
) -> dict[str, Any]:
    body = await gql(
        GATES,
        {"input": {"eventId": event_id, "area": area or STATION_AREA, **extra}},
        token=who,
        operation_name="OpenTicketGates",
    )
    result: dict[str, Any] = body["data"]["openTicketGates"]
    return result


async def close_gates(gql: GraphQLClient, who: str | None, opening_id: str) -> dict[str, Any]:
    body = await gql(GATES, {"id": opening_id}, token=who, operation_name="CloseTicketGates")
    result: dict[str, Any] = body["data"]["closeTicketGates"]
    return result


async def openings(
    gql: GraphQLClient, who: str | None, event_id: str, include_closed: bool = False
) -> dict[str, Any]:
    """The whole answer (data and errors)."""
    return await gql(
        GATES,
        {"eventId": event_id, "includeClosed": include_closed},
        token=who,
        operation_name="TicketGateOpenings",
        expect_errors=True,
    )


# --------------------------------------------------------------------------- staff


async def test_staff_open_list_and_close_gates_of_an_event(gql: GraphQLClient, token: Any) -> None:
    # given an open event of 会津若松市
    event_id = await open_event(gql, token)
    staff = bearer(token, "staff")

    # when its staff mark the station's gates open
    opened = await open_gates(gql, staff, event_id, note="  JR会津若松駅 改札開放  ")

    # then the opening is stored as sent (normalised), active, and listed
    assert opened["errors"] == []
    opening = opened["opening"]
    assert opening["eventId"] == event_id
    assert opening["active"] is True
    assert opening["note"] == "JR会津若松駅 改札開放"
    assert opening["openedBy"] == "staff" and opening["closedAt"] is None
    assert shape(opening["area"]).equals(shape(STATION_AREA))
    listed = await openings(gql, staff, event_id)
    assert [o["id"] for o in listed["data"]["ticketGateOpenings"]] == [opening["id"]]

    # when a city admin closes it
    closed = await close_gates(gql, bearer(token, "admin"), opening["id"])

    # then it is inactive, listed only with the closed ones, and cannot be closed twice
    assert closed["errors"] == []
    assert closed["opening"]["active"] is False
    assert closed["opening"]["closedBy"] == "admin"
    assert (await openings(gql, staff, event_id))["data"]["ticketGateOpenings"] == []
    everything = (await openings(gql, staff, event_id, include_closed=True))["data"]
    assert [o["active"] for o in everything["ticketGateOpenings"]] == [False]
    again = await close_gates(gql, staff, opening["id"])
    assert [e["code"] for e in again["errors"]] == ["CONFLICT"]


@pytest.mark.parametrize("who", ["resident", "manager", "prefecture"])
async def test_callers_without_a_staff_role_are_refused(
    gql: GraphQLClient, token: Any, who: str
) -> None:
    # given an event with an opening
    event_id = await open_event(gql, token)
    opening = (await open_gates(gql, bearer(token, "staff"), event_id))["opening"]
    caller = bearer(token, who)

    # when someone without a staff role tries anything
    opened = await open_gates(gql, caller, event_id)
    closed = await close_gates(gql, caller, opening["id"])
    listed = await openings(gql, caller, event_id)

    # then each is a typed refusal, and nothing changed
    assert [e["code"] for e in opened["errors"]] == ["NOT_PERMITTED"]
    assert opened["opening"] is None
    assert [e["code"] for e in closed["errors"]] == ["NOT_PERMITTED"]
    assert listed["data"] is None
    assert listed["errors"][0]["extensions"]["code"] == "NOT_PERMITTED"
    still = await openings(gql, bearer(token, "staff"), event_id)
    assert [o["active"] for o in still["data"]["ticketGateOpenings"]] == [True]


async def test_anonymous_callers_must_sign_in(gql: GraphQLClient, token: Any) -> None:
    event_id = await open_event(gql, token)
    body = await gql(
        GATES,
        {"input": {"eventId": event_id, "area": STATION_AREA}},
        operation_name="OpenTicketGates",
        expect_errors=True,
    )
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    listed = await openings(gql, None, event_id)
    assert listed["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_staff_of_another_municipality_see_nothing(gql: GraphQLClient, token: Any) -> None:
    # given an event of 会津若松市 with an opening
    event_id = await open_event(gql, token)
    opening = (await open_gates(gql, bearer(token, "staff"), event_id))["opening"]
    fukushima = bearer(token, "other_city")

    # when staff of 福島市 try to open, close or list its gates
    opened = await open_gates(gql, fukushima, event_id)
    closed = await close_gates(gql, fukushima, opening["id"])
    listed = await openings(gql, fukushima, event_id)

    # then the event and its opening do not exist for them
    assert [(e["code"], e["field"]) for e in opened["errors"]] == [("NOT_FOUND", "eventId")]
    assert [(e["code"], e["field"]) for e in closed["errors"]] == [("NOT_FOUND", "id")]
    assert listed["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert opening["id"] not in str(listed)


async def test_unknown_and_foreign_ids_are_not_found(gql: GraphQLClient, token: Any) -> None:
    event_id = await open_event(gql, token)
    staff = bearer(token, "staff")
    for bad in ("nonsense", "U2hlbHRlcjo1NzQ2MTAxMjhmM2E0NWQyOWQ5Zjk4ZjY4OTE2ZGJlZQ"):
        opened = await open_gates(gql, staff, bad)
        assert [(e["code"], e["field"]) for e in opened["errors"]] == [("NOT_FOUND", "eventId")]
        closed = await close_gates(gql, staff, bad)
        assert [(e["code"], e["field"]) for e in closed["errors"]] == [("NOT_FOUND", "id")]
    # an event's id is not an opening's
    closed = await close_gates(gql, staff, event_id)
    assert [e["code"] for e in closed["errors"]] == ["NOT_FOUND"]


# --------------------------------------------------------------------------- bad input

BOWTIE = {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}
MANY = {
    "type": "Polygon",
    "coordinates": [
        [[139.9 + 0.00001 * i, 37.5] for i in range(gates.MAX_AREA_VERTICES)]
        + [[139.95, 37.51], [139.9, 37.5]]
    ],
}


@pytest.mark.parametrize(
    "area",
    [
        {"type": "Point", "coordinates": [139.93, 37.5]},
        BOWTIE,
        MANY,
        {"type": "Polygon", "coordinates": [[[200, 0], [201, 0], [201, 1], [200, 0]]]},
        {"type": "Polygon", "coordinates": [[[139.9, 37.5], [139.91, 37.5]]]},
        {"type": "Polygon", "coordinates": "nope"},
        "a string",
        [1, 2, 3],
        {"type": "MultiPolygon", "coordinates": [[[["x", 1]]]]},
    ],
)
async def test_a_bad_area_is_a_typed_error(gql: GraphQLClient, token: Any, area: Any) -> None:
    event_id = await open_event(gql, token)
    staff = bearer(token, "staff")
    result = await open_gates(gql, staff, event_id, area=area, note="x" * 501)
    assert result["opening"] is None
    # every problem at once
    assert {(e["code"], e["field"]) for e in result["errors"]} == {
        ("VALIDATION", "area"),
        ("VALIDATION", "note"),
    }
    assert (await openings(gql, staff, event_id))["data"]["ticketGateOpenings"] == []


async def test_a_multipolygon_area_is_taken(gql: GraphQLClient, token: Any) -> None:
    event_id = await open_event(gql, token)
    castle = shapely.box(TSURUGA_CASTLE[0] - 0.001, TSURUGA_CASTLE[1] - 0.001, *TSURUGA_CASTLE)
    area = mapping(shapely.MultiPolygon([shape(STATION_AREA), castle]))
    result = await open_gates(gql, bearer(token, "staff"), event_id, area=area)
    assert result["errors"] == []
    assert result["opening"]["area"]["type"] == "MultiPolygon"


async def test_gates_open_only_while_the_event_is_open(gql: GraphQLClient, token: Any) -> None:
    # given an event with an opening
    event_id = await open_event(gql, token)
    staff = bearer(token, "staff")
    opening = (await open_gates(gql, staff, event_id))["opening"]

    # when the event closes
    closed = await gql(CLOSE_EVENT, {"id": event_id}, token=staff)
    assert closed["data"]["closeDisasterEvent"]["errors"] == []

    # then its opening is inert, and no new one opens
    listed = (await openings(gql, staff, event_id))["data"]["ticketGateOpenings"]
    assert [(o["id"], o["active"]) for o in listed] == [(opening["id"], False)]
    again = await open_gates(gql, staff, event_id)
    assert [(e["code"], e["field"]) for e in again["errors"]] == [("VALIDATION", "eventId")]


async def test_an_event_has_a_bounded_number_of_open_areas(
    gql: GraphQLClient, token: Any, monkeypatch: Any
) -> None:
    monkeypatch.setattr(gates, "MAX_OPEN_PER_EVENT", 2)
    event_id = await open_event(gql, token)
    staff = bearer(token, "staff")
    first = await open_gates(gql, staff, event_id)
    await open_gates(gql, staff, event_id)
    third = await open_gates(gql, staff, event_id)
    assert [e["code"] for e in third["errors"]] == ["LIMIT_EXCEEDED"]
    # closing one makes room
    await close_gates(gql, staff, first["opening"]["id"])
    assert (await open_gates(gql, staff, event_id))["errors"] == []


# --------------------------------------------------------------------------- route inputs


async def gate_areas(
    session: AsyncSession, settings: Settings, origin: tuple[float, float], to: tuple[float, float]
) -> tuple[Any, ...]:
    """The open gate areas a route between two (lon, lat) points is given."""
    request = service.RouteRequest(origin=(origin[1], origin[0]), destination=(to[1], to[0]))
    networks = await road_networks.get(settings)
    inputs = await service.route_inputs(session, settings, networks, request)
    return inputs.open_gate_areas


async def test_routes_near_an_open_area_are_given_it(
    gql: GraphQLClient, token: Any, session: AsyncSession, settings: Settings
) -> None:
    # given no opening, a route near the station gets no area
    near_station = (STATION_LON - 0.004, STATION_LAT - 0.003)
    assert await gate_areas(session, settings, near_station, AIZU_WAKAMATSU_STATION) == ()

    # when staff open the station's gates for an event
    event_id = await open_event(gql, token)
    staff = bearer(token, "staff")
    opening = (await open_gates(gql, staff, event_id))["opening"]

    # then a route near the station gets the area, one in the far south of the city none
    areas = await gate_areas(session, settings, near_station, AIZU_WAKAMATSU_STATION)
    assert [shape(STATION_AREA).equals(a) for a in areas] == [True]
    south = ((139.91, 37.476), (139.912, 37.477))
    assert await gate_areas(session, settings, *south) == ()

    # when the opening closes, or (for another one) its event, routes get nothing
    await close_gates(gql, staff, opening["id"])
    assert await gate_areas(session, settings, near_station, AIZU_WAKAMATSU_STATION) == ()
    await open_gates(gql, staff, event_id)
    assert len(await gate_areas(session, settings, near_station, AIZU_WAKAMATSU_STATION)) == 1
    await gql(CLOSE_EVENT, {"id": event_id}, token=staff)
    assert await gate_areas(session, settings, near_station, AIZU_WAKAMATSU_STATION) == ()
