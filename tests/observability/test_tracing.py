"""OpenTelemetry spans of real requests, caught by an in-memory exporter."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from backend.app import create_app
from backend.auth.tokens import TokenVerifier
from backend.config import Settings
from backend.db.session import Database
from backend.observability import tracing
from backend.routing.demo import AIZU_WAKAMATSU_STATION, TSURUGA_CASTLE

REPO = Path(__file__).resolve().parents[2]
ROUTE = (REPO / "graphql" / "operations" / "EvacuationRoute.graphql").read_text()
MUNICIPALITIES = (REPO / "graphql" / "operations" / "Municipalities.graphql").read_text()
STATION = {"latitude": AIZU_WAKAMATSU_STATION[1], "longitude": AIZU_WAKAMATSU_STATION[0]}
CASTLE = {"latitude": TSURUGA_CASTLE[1], "longitude": TSURUGA_CASTLE[0]}


@pytest.fixture
def exporter() -> Iterator[InMemorySpanExporter]:
    """Every span of this process, instead of OTLP."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing.use_tracer_provider(provider)
    yield exporter
    tracing.use_tracer_provider(None)
    provider.shutdown()


async def requests_of(settings: Settings, verifier: TokenVerifier, database_url: str) -> None:
    """A database query and a route search, on an app (and pool) of their own."""
    database = Database.from_url(database_url)
    app = create_app(settings, database=database, verifier=verifier)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        listed = await client.post("/graphql", json={"query": MUNICIPALITIES})
        routed = await client.post(
            "/graphql",
            json={"query": ROUTE, "variables": {"input": {"from": STATION, "toPoint": CASTLE}}},
        )
        await client.get("/healthz")
    await database.dispose()
    assert listed.json()["data"]["municipalities"]
    assert routed.json()["data"]["evacuationRoute"]["__typename"] == "EvacuationRoute"


def ancestors(span: ReadableSpan, spans: list[ReadableSpan]) -> list[str]:
    by_id = {s.context.span_id: s for s in spans}
    names = []
    parent = span.parent
    while parent is not None and parent.span_id in by_id:
        found = by_id[parent.span_id]
        names.append(found.name)
        parent = found.parent
    return names


@pytest.fixture
async def traced(settings: Settings) -> AsyncIterator[Settings]:
    yield settings.model_copy(update={"otel_endpoint": "http://127.0.0.1:4318"})


@pytest.mark.usefixtures("engine")  # the migrated database
async def test_configured_tracing_spans_http_graphql_sql_and_route_search(
    exporter: InMemorySpanExporter,
    traced: Settings,
    verifier: TokenVerifier,
    database_url: str,
) -> None:
    # when
    await requests_of(traced, verifier, database_url)
    # then
    spans = list(exporter.get_finished_spans())
    names = [s.name for s in spans]
    assert names.count("POST /graphql") == 2
    assert "GraphQL Query: Municipalities" in names
    assert "GraphQL Query: EvacuationRoute" in names
    assert not any("healthz" in name for name in names)  # probes are not traced
    sql = [s for s in spans if s.attributes and "db.statement" in s.attributes]
    assert sql, names
    assert ancestors(sql[0], spans)[-2:] == ["GraphQL Query: Municipalities", "POST /graphql"]
    search = next(s for s in spans if s.name == "route search route")
    assert ancestors(search, spans)[-2:] == ["GraphQL Query: EvacuationRoute", "POST /graphql"]
    # one trace per request
    assert len({s.context.trace_id for s in spans}) == 2
    # no argument values (personal data) in any span
    assert not any(key.startswith("graphql.param") for s in spans for key in s.attributes or {})


@pytest.mark.usefixtures("engine")
async def test_no_span_when_tracing_is_not_configured(
    exporter: InMemorySpanExporter,
    settings: Settings,
    verifier: TokenVerifier,
    database_url: str,
) -> None:
    # given a process that could trace, and an app without an OTLP endpoint
    assert not tracing.tracing_enabled(settings)
    # when
    await requests_of(settings, verifier, database_url)
    # then
    assert exporter.get_finished_spans() == ()
