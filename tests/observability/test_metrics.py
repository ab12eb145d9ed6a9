"""/metrics as a Prometheus scraper sees it, after real requests through the API and CLI."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from backend.app import create_app
from backend.auth.tokens import TokenVerifier
from backend.config import Environment, Settings, get_settings
from backend.db.session import Database
from backend.hazards.demo import demo_feature_collection
from backend.municipalities import service as municipalities_service
from backend.observability.metrics import MAX_OTHER_OPERATION_NAMES
from backend.routing.demo import AIZU_WAKAMATSU_STATION, TSURUGA_CASTLE
from tests.cli import fresh_cli_env, invoke
from tests.conftest import GraphQLClient
from tests.observability.scrape import scrape, series, value

REPO = Path(__file__).resolve().parents[2]
ROUTE = (REPO / "graphql" / "operations" / "EvacuationRoute.graphql").read_text()
VIEWER = "query Viewer { viewer { kind } }"
ADD_PLACE = """
mutation AddPlace($input: AddPlaceInput!) {
  addPlace(input: $input) { place { id } errors { code field } }
}"""
DURATION = "kizuna_graphql_operation_duration_seconds_count"
ERRORS = "kizuna_graphql_errors_total"


async def test_operations_and_http_requests_are_counted(
    client: httpx.AsyncClient, gql: GraphQLClient
) -> None:
    # given
    before = await scrape(client)
    # when
    for _ in range(3):
        await gql(VIEWER)
    # then
    after = await scrape(client)
    counted = value(after, DURATION, operation="Viewer", type="query")
    assert counted - value(before, DURATION, operation="Viewer", type="query") == 3
    requests = "kizuna_http_requests_total"
    labels = {"path": "/graphql", "method": "POST", "status": "200"}
    assert value(after, requests, **labels) - value(before, requests, **labels) == 3
    timed = "kizuna_http_request_duration_seconds_sum"
    assert value(after, timed, path="/graphql", method="POST") > 0


async def test_expected_and_unexpected_errors_are_counted_under_their_codes(
    client: httpx.AsyncClient, gql: GraphQLClient, token: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given
    async def broken(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(municipalities_service, "list_municipalities", broken)
    before = await scrape(client)
    # when: signed out (top-level), a bad latitude (payload error) and a bug
    signed_out = await gql("query Me { me { displayName } }", expect_errors=True)
    refused = await gql(
        ADD_PLACE,
        {"input": {"kind": "HOME", "label": "自宅", "latitude": 91.0, "longitude": 139.9}},
        token=token("metrics-resident"),
    )
    bug = await gql("query Municipalities { municipalities { code } }", expect_errors=True)
    # then the client sees each as before ...
    assert signed_out["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert refused["data"]["addPlace"]["errors"][0]["code"] == "VALIDATION"
    assert bug["errors"][0]["extensions"]["code"] == "INTERNAL"
    # ... and each is counted under its code and operation
    after = await scrape(client)
    for operation, code in [
        ("Me", "UNAUTHENTICATED"),
        ("AddPlace", "VALIDATION"),
        ("Municipalities", "INTERNAL"),
    ]:
        labels = {"operation": operation, "code": code}
        assert value(after, ERRORS, **labels) - value(before, ERRORS, **labels) == 1, labels


async def test_client_chosen_operation_names_stay_few(
    client: httpx.AsyncClient, gql: GraphQLClient
) -> None:
    # given more names than the metrics keep, some not even GraphQL names
    names = [f"Probe{i}" for i in range(MAX_OTHER_OPERATION_NAMES + 10)]
    hostile = ["x" * 500, "名前"]
    # when
    for name in names:
        await gql(f"query {name} {{ viewer {{ kind }} }}")
    for name in hostile:
        payload = {"query": "{ viewer { kind } }", "operationName": name}
        assert (await client.post("/graphql", json=payload)).status_code == 400
    await gql(VIEWER)
    # then the excess ones share one label, and the app's own names keep theirs
    labels = {s["operation"] for s in series(await scrape(client), DURATION)}
    assert len(labels & set(names)) <= MAX_OTHER_OPERATION_NAMES
    assert "other" in labels and "Viewer" in labels
    assert not labels & set(hostile)


async def test_route_searches_are_timed(client: httpx.AsyncClient, gql: GraphQLClient) -> None:
    # given
    search = "kizuna_route_search_duration_seconds_count"
    before = await scrape(client)
    station = {"latitude": AIZU_WAKAMATSU_STATION[1], "longitude": AIZU_WAKAMATSU_STATION[0]}
    castle = {"latitude": TSURUGA_CASTLE[1], "longitude": TSURUGA_CASTLE[0]}
    # when
    body = await gql(ROUTE, {"input": {"from": station, "toPoint": castle}})
    # then
    assert body["data"]["evacuationRoute"]["__typename"] == "EvacuationRoute"
    after = await scrape(client)
    labels = {"search": "route", "outcome": "ok"}
    assert value(after, search, **labels) - value(before, search, **labels) == 1


async def test_pool_usage_is_reported(
    settings: Settings, verifier: TokenVerifier, database_url: str
) -> None:
    # given an app on a real connection pool
    database = Database.from_url(database_url)
    app = create_app(settings, database=database, verifier=verifier)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        # when a connection is in use during the scrape, and when none is
        async with database.engine.connect():
            busy = await scrape(client)
        idle = await scrape(client)
    await database.dispose()
    # then
    size = database.engine.pool.size()  # type: ignore[attr-defined]
    assert value(busy, "kizuna_db_pool_size") == value(idle, "kizuna_db_pool_size") == size
    assert value(busy, "kizuna_db_pool_checked_out") == 1
    assert value(idle, "kizuna_db_pool_checked_out") == 0
    assert value(idle, "kizuna_db_pool_overflow") == 0


@pytest.fixture
async def cli_env(database_url: str, tmp_path: Path) -> AsyncIterator[dict[str, str]]:
    yield await fresh_cli_env(database_url, "observability_cli", tmp_path)
    get_settings.cache_clear()


async def test_import_runs_are_timed_and_counted(
    client: httpx.AsyncClient, cli_env: dict[str, str], tmp_path: Path
) -> None:
    # given a hazard file and a broken one
    demo = demo_feature_collection()
    floods = [f for f in demo["features"] if f["properties"]["hazard_type"] == "flood"]
    good = tmp_path / "flood.geojson"
    good.write_text(json.dumps({**demo, "features": floods}), encoding="utf-8")
    broken = tmp_path / "broken.geojson"
    broken.write_text('{"type": "FeatureCollection", "features": [', encoding="utf-8")
    before = await scrape(client)
    # when an operator imports both
    ok = await asyncio.to_thread(invoke, cli_env, "import", "hazards", str(good), "--type", "flood")
    failed = await asyncio.to_thread(
        invoke, cli_env, "import", "hazards", str(broken), "--type", "flood"
    )
    # then
    assert ok.exit_code == 0, ok.output
    assert failed.exit_code == 1
    after = await scrape(client)
    runs = "kizuna_import_duration_seconds_count"
    for outcome in ("ok", "failed"):
        labels = {"source": "hazards", "outcome": outcome}
        assert value(after, runs, **labels) - value(before, runs, **labels) == 1
    items = "kizuna_import_items_total"
    labels = {"source": "hazards", "item": "zones"}
    assert value(after, items, **labels) - value(before, items, **labels) == len(floods)


# --------------------------------------------------------------------------- protection


async def get_metrics(
    settings: Settings, verifier: TokenVerifier, authorization: str | None = None
) -> int:
    app = create_app(settings, verifier=verifier)
    # As bytes: a hostile header need not be ASCII.
    headers = {b"authorization": authorization.encode()} if authorization else {}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        return (await client.get("/metrics", headers=headers)).status_code


@pytest.fixture
def production(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "environment": Environment.PRODUCTION,
            "oidc_issuer": "https://id.example.test/realms/city",
            "oidc_audience": "kizuna",
        }
    )


async def test_metrics_are_not_served_in_production_without_a_token(
    production: Settings, verifier: TokenVerifier
) -> None:
    assert await get_metrics(production, verifier) == 404


async def test_metrics_need_the_scrape_token_when_one_is_set(
    production: Settings, verifier: TokenVerifier
) -> None:
    # given
    secret = "s3cret-scrape-token-0123456789"
    guarded = production.model_copy(update={"metrics_token": secret})
    # then
    assert await get_metrics(guarded, verifier) == 401
    assert await get_metrics(guarded, verifier, authorization="Bearer wrong") == 401
    assert await get_metrics(guarded, verifier, authorization="Bearer ひみつ") == 401
    assert await get_metrics(guarded, verifier, authorization=f"Bearer {secret}") == 200


async def test_metrics_can_be_turned_off(settings: Settings, verifier: TokenVerifier) -> None:
    off = settings.model_copy(update={"metrics_enabled": False})
    assert await get_metrics(off, verifier) == 404
