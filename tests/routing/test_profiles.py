"""Profiles and the tag policy on small graphs whose every edge is known: what each flag,
node barrier, direction and hour does to WALK and STEP_FREE."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from backend.routing import policy
from backend.routing.engine import LOCAL_TIME, Profile, RoutingEngine, SearchOptions
from backend.routing.errors import NoRoute, PointOffNetwork
from backend.routing.graph import WalkGraph

# A (west) and B (east) 100 m apart joined directly, and by a 300 m detour through C, D.
LON = [139.9300, 139.93113, 139.9300, 139.93113]
LAT = [37.5000, 37.5000, 37.5018, 37.5018]
A, B = (LON[0], LAT[0]), (LON[1], LAT[1])
STEP_FREE = SearchOptions(profile=Profile.STEP_FREE)


def ladder(
    direct_flags: int = 0,
    *,
    incline: float = float("nan"),
    node_flags: tuple[int, int] = (0, 0),
    direct_record: str | None = None,
    middle_node: int = 0,
) -> RoutingEngine:
    """A-B direct (with the given flags), and A-C-D-B round about. ``middle_node`` puts a
    node with these flags in the middle of the direct way."""
    lon, lat = list(LON), list(LAT)
    u, v = [0, 2, 3], [2, 3, 1]
    flags, inclines, conditional = [0, 0, 0], [float("nan")] * 3, [-1, -1, -1]
    nodes = [node_flags[0], node_flags[1], 0, 0]
    records: tuple[str, ...] = ()
    record_index = -1
    if direct_record is not None:
        records, record_index = (direct_record,), 0
    if middle_node:
        lon.append((LON[0] + LON[1]) / 2)
        lat.append(LAT[0])
        nodes.append(middle_node)
        u += [0, 4]
        v += [4, 1]
        flags += [direct_flags] * 2
        inclines += [incline] * 2
        conditional += [record_index] * 2
    else:
        u.append(0)
        v.append(1)
        flags.append(direct_flags)
        inclines.append(incline)
        conditional.append(record_index)
    graph = WalkGraph.from_edges(
        lon,
        lat,
        u,
        v,
        flags=flags,
        incline=inclines,
        conditional=conditional,
        node_flags=nodes,
        conditional_records=records,
    )
    return RoutingEngine(graph, max_snap_m=50)


def direct(route: Any) -> bool:
    return route.distance_m < 150


@pytest.mark.parametrize(
    ("flags", "walk", "step_free"),
    [
        (0, True, True),
        (policy.STEPS, True, False),
        (policy.ESCALATOR, True, False),
        (policy.STEPS | policy.RAMP, True, True),  # steps with a wheelchair ramp
        (policy.WHEELCHAIR_NO, True, False),
        (policy.ELEVATOR, True, True),
        (policy.OFF_STREET_LEVEL, True, True),
    ],
)
def test_edge_flags_decide_each_profile(flags: int, walk: bool, step_free: bool) -> None:
    engine = ladder(flags)
    assert direct(engine.route(A, B)) is walk
    assert direct(engine.route(A, B, options=STEP_FREE)) is step_free


def test_incline_beyond_the_limit_is_avoided_step_free_only_where_tagged() -> None:
    steep, gentle = ladder(incline=12.0), ladder(incline=5.0)
    assert direct(steep.route(A, B)) and not direct(steep.route(A, B, options=STEP_FREE))
    assert direct(gentle.route(A, B, options=STEP_FREE))
    assert direct(ladder().route(A, B, options=STEP_FREE))  # untagged: not known to be steep
    lenient = RoutingEngine(steep.graph, max_incline_pct=15.0)
    assert direct(lenient.route(A, B, options=STEP_FREE))


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        ({"incline": "12%"}, 12.0),
        ({"incline": "-8 %"}, 8.0),
        ({"incline": "5°"}, pytest.approx(8.749, abs=0.01)),
        ({"incline": "up"}, None),
        ({}, None),
    ],
)
def test_incline_values(tags: dict[str, str], expected: Any) -> None:
    value = policy.incline_percent(tags)
    assert (value != value) if expected is None else value == expected  # NaN when unknown


def test_directions_bind_walkers_only_where_tagged_for_them() -> None:
    forward = ladder(policy.FORWARD_ONLY)  # an escalator going up from A to B
    assert direct(forward.route(A, B)) and not direct(forward.route(B, A))
    backward = ladder(policy.BACKWARD_ONLY)
    assert direct(backward.route(B, A)) and not direct(backward.route(A, B))
    # One-way streets bind cars: the policy gives them no direction for walkers.
    assert not policy.edge_flags({"highway": "residential", "oneway": "yes"}) & (
        policy.FORWARD_ONLY | policy.BACKWARD_ONLY
    )
    assert policy.edge_flags({"highway": "footway", "oneway:foot": "yes"}) & policy.FORWARD_ONLY
    escalator_down = {"highway": "steps", "conveying": "backward"}
    assert policy.edge_flags(escalator_down) & policy.BACKWARD_ONLY
    assert not policy.edge_flags({"highway": "steps", "conveying": "reversible"}) & (
        policy.FORWARD_ONLY | policy.BACKWARD_ONLY
    )


@pytest.mark.parametrize(
    ("tags", "walk", "step_free"),
    [
        ({"barrier": "turnstile"}, False, False),  # a closed ticket gate
        ({"barrier": "gate", "fee": "yes"}, False, False),
        ({"barrier": "kerb"}, True, False),  # raised unless said otherwise
        ({"barrier": "kerb", "kerb": "lowered"}, True, True),
        ({"barrier": "kerb", "kerb": "flush"}, True, True),
        ({"kerb": "raised"}, True, False),
        ({"barrier": "stile"}, True, False),
        ({"wheelchair": "no"}, True, False),
        ({"highway": "elevator"}, True, True),
        ({"barrier": "bollard"}, True, True),
    ],
)
def test_barrier_nodes(tags: dict[str, str], walk: bool, step_free: bool) -> None:
    engine = ladder(middle_node=policy.node_flags(tags) or 0)
    assert direct(engine.route(A, B)) is walk
    assert direct(engine.route(A, B, options=STEP_FREE)) is step_free


def test_the_city_opens_gates_in_an_area() -> None:
    from tests.routing.test_api import circle

    engine = ladder(middle_node=policy.TICKET_GATE)
    closed = engine.route(A, B)
    assert not direct(closed) and closed.gates_passed == 0
    here = SearchOptions(open_gate_areas=[circle((A[0] + B[0]) / 2, A[1], 30)])
    opened = engine.route(A, B, options=here)
    assert direct(opened) and opened.gates_passed == 1
    there = SearchOptions(open_gate_areas=[circle(A[0], A[1] + 0.01, 30)])
    assert not direct(engine.route(A, B, options=there))


def test_conditional_access_by_the_hour() -> None:
    record = policy.conditional_record(
        {"highway": "footway", "access:conditional": "no @ (08:00-20:00)"}
    )
    engine = ladder(direct_record=record)

    def at(hour: int, day: int = 1) -> SearchOptions:
        return SearchOptions(at=datetime(2026, 12, day, hour, 0, tzinfo=LOCAL_TIME))

    assert not direct(engine.route(A, B, options=at(10)))
    assert direct(engine.route(A, B, options=at(21)))
    assert direct(engine.route(A, B, options=at(7)))


@pytest.mark.parametrize(
    ("tags", "open_at_10", "open_at_21"),
    [
        ({"access:conditional": "no @ (08:00-20:00)"}, False, True),
        # Closed by default, open 08:00-20:00 (a school path).
        ({"foot": "no", "foot:conditional": "yes @ (08:00-20:00)"}, True, False),
        # foot beats access at the same time: a school zone closed to cars, open to walkers.
        (
            {
                "access:conditional": "no @ (07:30-09:00; 13:00-16:00)",
                "foot:conditional": "designated @ (07:30-09:00; 13:00-16:00)",
            },
            True,
            True,
        ),
        # Two parenthesised conditions: either closes it.
        ({"access:conditional": "no @ (17:00-05:00),(PH 12:00-05:00)"}, True, False),
        # A holiday rule on a holiday (文化の日) and on a weekday.
        ({"access:conditional": "no @ (PH 09:00-17:00)"}, True, True),
    ],
)
def test_conditional_records(tags: dict[str, str], open_at_10: bool, open_at_21: bool) -> None:
    record = policy.conditional_record({"highway": "footway", **tags})
    assert record is not None
    rule = policy.Conditional.parse(record)
    assert rule.allowed_at(datetime(2026, 12, 1, 10)) is open_at_10
    assert rule.allowed_at(datetime(2026, 12, 1, 21)) is open_at_21


def test_holidays_are_japanese() -> None:
    record = policy.conditional_record(
        {"highway": "footway", "access:conditional": "no @ (PH 09:00-17:00)"}
    )
    assert record is not None
    rule = policy.Conditional.parse(record)
    assert not rule.allowed_at(datetime(2026, 11, 3, 10))  # 文化の日
    assert rule.allowed_at(datetime(2026, 11, 4, 10))


def test_conditions_that_are_not_times_are_ignored_not_fatal() -> None:
    record = policy.conditional_record(
        {"highway": "path", "access:conditional": "no @ wet; no @ (Mo-Fr 06:00-09:00)"}
    )
    assert record is not None
    rule = policy.Conditional.parse(record)
    assert rule.unparsed == ("wet",)
    assert not rule.allowed_at(datetime(2026, 12, 1, 7))  # a Tuesday
    assert rule.allowed_at(datetime(2026, 12, 1, 10))


def test_nothing_open_to_the_profile_is_no_route() -> None:
    # A and B joined only by steps.
    graph = WalkGraph.from_edges(LON[:2], LAT[:2], [0], [1], flags=[policy.STEPS])
    engine = RoutingEngine(graph, max_snap_m=50)
    assert direct(engine.route(A, B))
    with pytest.raises(PointOffNetwork) as refused:
        engine.route(A, B, options=STEP_FREE)
    assert "can be used with this profile" in str(refused.value)
    # Step-free ways on either side of a stairway: no step-free route joins them.
    west, east = LON[0] - 0.00113, LON[1] + 0.00113
    graph = WalkGraph.from_edges(
        [west, LON[0], LON[1], east], [LAT[0]] * 4, [0, 1, 2], [1, 2, 3],
        flags=[0, policy.STEPS, 0],
    )  # fmt: skip
    engine = RoutingEngine(graph, max_snap_m=30)
    assert engine.route((west, LAT[0]), (east, LAT[0])).distance_m > 250
    with pytest.raises(NoRoute):
        engine.route((west, LAT[0]), (east, LAT[0]), options=STEP_FREE)
