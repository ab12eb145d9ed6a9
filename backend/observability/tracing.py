"""OpenTelemetry tracing, on when an OTLP endpoint is configured: spans for HTTP requests,
GraphQL operations and their root fields, SQL statements and route searches.

Off (the default), OpenTelemetry is not imported and nothing is wrapped. Sampling, service
name and exporter options follow the standard OTEL_* variables (OTEL_TRACES_SAMPLER, ...).
Spans carry no personal data: SQL without its parameters, GraphQL without arguments.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi import FastAPI
    from opentelemetry.trace import TracerProvider
    from sqlalchemy.ext.asyncio import AsyncEngine
    from strawberry.extensions import SchemaExtension

    from ..config import Settings

_provider: TracerProvider | None = None
_lock = threading.Lock()
# Not traced: probes and scrapes (regular expressions searched in the URL).
_UNTRACED_URLS = "/healthz,/readyz,/metrics"
_NOT_INSTALLED = (
    "tracing is configured (KIZUNA_OTEL_ENDPOINT or OTEL_EXPORTER_OTLP_*) but "
    "OpenTelemetry is not installed: pip install 'kizuna[tracing]'"
)


def tracing_enabled(settings: Settings) -> bool:
    """Whether an OTLP endpoint is configured (and the SDK not disabled)."""
    if os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    return bool(
        settings.otel_endpoint
        or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
        or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    )


def use_tracer_provider(provider: TracerProvider | None) -> None:
    """Send this process's spans to ``provider`` instead of OTLP (tests, embedding apps)."""
    global _provider
    with _lock:
        _provider = provider


def tracer_provider(settings: Settings) -> TracerProvider:
    """The process's provider, exporting over OTLP/HTTP in batches (made on first use)."""
    global _provider
    with _lock:
        if _provider is None:
            _provider = _otlp_provider(settings)
        return _provider


def _otlp_provider(settings: Settings) -> TracerProvider:
    try:
        from opentelemetry import trace
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import SERVICE_NAME, Resource
        from opentelemetry.sdk.trace import TracerProvider as SDKTracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError as exc:
        raise RuntimeError(_NOT_INSTALLED) from exc
    # KIZUNA_OTEL_ENDPOINT is a base URL like OTEL_EXPORTER_OTLP_ENDPOINT; without it the
    # exporter reads the standard variables itself.
    endpoint = settings.otel_endpoint
    traces_url = f"{endpoint.rstrip('/')}/v1/traces" if endpoint else None
    named = {} if os.environ.get("OTEL_SERVICE_NAME") else {SERVICE_NAME: "kizuna"}
    provider = SDKTracerProvider(resource=Resource.create(named))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=traces_url)))
    trace.set_tracer_provider(provider)  # so spans of other libraries join the same traces
    return provider


def instrument(app: FastAPI, engine: AsyncEngine, settings: Settings) -> None:
    """Trace the app's HTTP requests and the engine's SQL statements, when configured."""
    if not tracing_enabled(settings):
        return
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
    from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
    from opentelemetry.metrics import NoOpMeter, NoOpMeterProvider

    provider = tracer_provider(settings)
    # Metrics are Prometheus's job here: the instrumentations get no-op meters.
    FastAPIInstrumentor.instrument_app(
        app,
        tracer_provider=provider,
        meter_provider=NoOpMeterProvider(),
        excluded_urls=_UNTRACED_URLS,
        exclude_spans=["receive", "send"],
    )
    EngineTracer(
        provider.get_tracer("opentelemetry.instrumentation.sqlalchemy"),
        engine.sync_engine,
        NoOpMeter("kizuna").create_up_down_counter("db.client.connections.usage"),
    )


def graphql_extension(settings: Settings) -> Callable[[], SchemaExtension] | None:
    """A strawberry extension factory tracing operations, when configured."""
    if not tracing_enabled(settings):
        return None
    try:
        extension = _root_field_tracing()
    except ImportError as exc:  # the schema is built before the app is instrumented
        raise RuntimeError(_NOT_INSTALLED) from exc
    return lambda: extension(tracer_provider=_provider, arg_filter=_no_arguments)


def _no_arguments(_arguments: dict[str, Any], _info: Any) -> dict[str, Any]:
    return {}  # arguments may be personal data (names, addresses, positions)


@functools.cache
def _root_field_tracing() -> Callable[..., SchemaExtension]:
    from strawberry.extensions.tracing import OpenTelemetryExtension

    class RootFieldTracing(OpenTelemetryExtension):
        """Spans for the operation, parsing, validation and each root field only.

        A span per nested field (hundreds for a list) would cost more than the work it
        shows; SQL statements still appear under the root field that ran them.
        """

        def resolve(self, _next: Any, root: Any, info: Any, *args: Any, **kwargs: Any) -> Any:
            if info.path.prev is not None:
                return _next(root, info, *args, **kwargs)
            return super().resolve(_next, root, info, *args, **kwargs)

    return RootFieldTracing


@contextmanager
def span(name: str) -> Iterator[None]:
    """A child span around a block within a traced request; otherwise nothing at all."""
    provider = _provider
    if provider is None:
        yield
        return
    from opentelemetry import trace

    if not trace.get_current_span().is_recording():
        yield
        return
    with provider.get_tracer("kizuna").start_as_current_span(name):
        yield
