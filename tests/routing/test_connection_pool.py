"""A disaster burst: far more concurrent route searches than pooled connections.

A request reads its shelters and zones, gives its connection back, and only then searches
the walk graph, so the pool never caps how many searches run at once.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from sqlalchemy import event

from backend.app import create_app
from backend.auth.tokens import TokenVerifier
from backend.bootstrap import sync_reference_data
from backend.config import Settings
from backend.db.migrate import upgrade
from backend.db.session import Database, create_engine
from backend.hazards import service as hazards_service
from backend.observability import request_id_var
from backend.routing.demo import build_demo_graph
from backend.routing.engine import RoutingEngine
from backend.shelters import service as shelters_service
from tests.conftest import fresh_database_url

ROUTE = (
    Path(__file__).resolve().parents[2] / "graphql" / "operations" / "EvacuationRoute.graphql"
).read_text()
POOL_SIZE = 2
REQUESTS = 60
# Long enough that searches of different requests overlap whatever the machine's speed.
SEARCH_SECONDS = 0.05


class Watch:
    """Which request holds which pooled connection, and what runs during graph searches."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.holders: dict[int, str | None] = {}
        self.searching = 0
        self.most_searching = 0
        self.searched_holding: list[str] = []

    def checkout(self, _dbapi: Any, record: Any, _proxy: Any) -> None:
        with self.lock:
            self.holders[id(record)] = request_id_var.get()

    def checkin(self, _dbapi: Any, record: Any) -> None:
        with self.lock:
            self.holders.pop(id(record), None)

    def search(self, original: Any) -> Any:
        def searched(engine: RoutingEngine, *args: Any, **kwargs: Any) -> Any:
            # Runs in a worker thread with the request's context: its request id says whose.
            request_id = request_id_var.get()
            with self.lock:
                if request_id in self.holders.values():
                    self.searched_holding.append(str(request_id))
                self.searching += 1
                self.most_searching = max(self.most_searching, self.searching)
            try:
                time.sleep(SEARCH_SECONDS)
                return original(engine, *args, **kwargs)
            finally:
                with self.lock:
                    self.searching -= 1

        return searched


@pytest.fixture
async def small_pool(database_url: str, tmp_path: Path) -> AsyncIterator[Database]:
    """A fresh database with the demo shelters and zones, behind a pool of 2 + 0."""
    engine = create_engine(
        await fresh_database_url(database_url, "pool", tmp_path),
        pool_size=POOL_SIZE,
        max_overflow=0,
        pool_timeout=60,
    )
    database = Database(engine)
    await upgrade(engine)
    async with database.session() as session:
        await sync_reference_data(session)
        await hazards_service.load_demo_zones(session)
        await shelters_service.load_demo_shelters(session)
    yield database
    await database.dispose()


async def test_route_searches_hold_no_connection(
    small_pool: Database, settings: Settings, verifier: TokenVerifier, monkeypatch: Any
) -> None:
    # given a pool of two connections, and graph searches that each take a while
    watch = Watch()
    pool_events = small_pool.engine.sync_engine
    event.listen(pool_events, "checkout", watch.checkout)
    event.listen(pool_events, "checkin", watch.checkin)
    for name in ("walk_costs_from", "route"):
        monkeypatch.setattr(RoutingEngine, name, watch.search(getattr(RoutingEngine, name)))
    graph = build_demo_graph()
    nodes = np.random.default_rng(59).integers(0, graph.node_count, REQUESTS).tolist()
    origins = [{"latitude": float(graph.lat[n]), "longitude": float(graph.lon[n])} for n in nodes]
    app = create_app(settings, database=small_pool, verifier=verifier)

    # when 60 residents ask for their nearest flood shelter at once
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        responses = await asyncio.gather(
            *(
                c.post(
                    "/graphql",
                    json={
                        "query": ROUTE,
                        "variables": {"input": {"from": o, "hazardType": "FLOOD"}},
                    },
                )
                for o in origins
            )
        )

    # then every one gets a route
    results = [r.json()["data"]["evacuationRoute"] for r in responses]
    assert [r["__typename"] for r in results] == ["EvacuationRoute"] * REQUESTS, results
    # no request held a connection while its graph was searched
    assert watch.searched_holding == []
    # and more searches ran at once than the pool has connections: the pool is not the cap
    assert watch.most_searching > POOL_SIZE
