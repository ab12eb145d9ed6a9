"""Hostile requests never stall the server: /healthz answers within a second meanwhile.

The two findings of issue 8 that needed no token: a document whose fragments each spread
the next one twice (17 s of validation on the event loop for 20 fragments, minutes for 30)
and a self-intersecting avoid polygon (9 s of shapely.make_valid for a 101-vertex star).
A real server in a thread is attacked by clients sending them in a loop while another
client asks /healthz: the one timing this suite allows.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from backend.app import create_app
from backend.auth.tokens import TokenVerifier
from backend.config import Settings
from backend.db.session import Database
from tests.hostile import doubling_fragments, star
from tests.live_server import Attack, health_latencies, serving

ROUTE_ERROR = """
query($input: EvacuationRouteInput!) {
  evacuationRoute(input: $input) { __typename ... on RouteError { code field messageJa } }
}"""


@pytest.fixture
def live_server(settings: Settings, database_url: str) -> Iterator[str]:
    database = Database.from_url(database_url)
    app = create_app(settings, database=database, verifier=TokenVerifier(settings))
    with serving(app) as base_url:
        yield base_url


def test_healthz_answers_while_exponential_documents_are_in_flight(live_server: str) -> None:
    # given clients sending documents that cost 2^20 and 2^30 under the old depth rule
    payloads = [{"query": doubling_fragments(20)}, {"query": doubling_fragments(30)}] * 2
    with Attack(live_server, payloads) as attack:
        # when /healthz is asked meanwhile, then it answers within a second every time
        latencies = health_latencies(live_server, rounds=10)
    assert max(latencies) < 1.0, latencies
    # and the hostile documents were being answered all along, each with a clear refusal
    assert len(attack.answers) >= len(payloads)
    for answer in attack.answers:
        error = answer.json()["errors"][0]
        assert error["extensions"]["code"] == "LIMIT_EXCEEDED"
        assert "selected" in error["message"]


def test_healthz_answers_while_self_intersecting_polygons_are_in_flight(live_server: str) -> None:
    # given clients asking for routes that avoid a 101-vertex self-intersecting star
    route = {
        "query": ROUTE_ERROR,
        "variables": {
            "input": {
                "from": {"latitude": 37.5076, "longitude": 139.9304},
                "toPoint": {"latitude": 37.4877, "longitude": 139.9298},
                "avoid": [star(101)],
            }
        },
    }
    # and a server that has loaded its walk network (a one-time load, in a worker thread, at
    # the first route request: not what is measured here)
    httpx.post(f"{live_server}/graphql", json=route, timeout=60).raise_for_status()
    with Attack(live_server, [route] * 3) as attack:
        # when /healthz is asked meanwhile, then it answers within a second every time
        latencies = health_latencies(live_server, rounds=10)
    assert max(latencies) < 1.0, latencies
    # and every route request was refused as a typed error naming the polygon
    assert len(attack.answers) >= 3
    for answer in attack.answers:
        result = answer.json()["data"]["evacuationRoute"]
        assert result == {
            "__typename": "RouteError",
            "code": "VALIDATION",
            "field": "avoid[0]",
            "messageJa": "回避エリア1番目の多角形が自己交差しています",
        }
