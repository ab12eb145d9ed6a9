"""Prometheus metrics: HTTP requests, GraphQL operations and their errors, route searches,
imports, push delivery and the database pool.

Every label value is bounded: HTTP paths are route templates, methods a fixed set, GraphQL
operation names those of the app's documents plus a few first-seen others (clients choose
them), error codes our own. Under `kizuna serve` the values live in prometheus-client's
multiprocess directory (see ``multiprocess``), so any worker answers for all.
"""

from __future__ import annotations

import atexit
import functools
import os
import re
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import QueuePool

from ..config import Environment, Settings
from ..errors import ErrorCode
from . import tracing
from .multiprocess import MULTIPROCESS_ENV

# Decided by prometheus-client when it was imported (just above), never changes afterwards.
MULTIPROCESS = bool(os.environ.get(MULTIPROCESS_ENV))
# The *_created series double the output for little use (multiprocess mode has none).
disable_created_metrics()

_FAST = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
_SLOW = (0.1, 0.5, 1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0)

HTTP_REQUESTS = Counter(
    "kizuna_http_requests",
    "HTTP requests by route template, method and status",
    ["path", "method", "status"],
)
HTTP_SECONDS = Histogram(
    "kizuna_http_request_duration_seconds",
    "Time to answer an HTTP request",
    ["path", "method"],
    buckets=_FAST,
)
GRAPHQL_SECONDS = Histogram(
    "kizuna_graphql_operation_duration_seconds",
    "GraphQL operations (parse, validate, execute) by operation name and type",
    ["operation", "type"],
    buckets=_FAST,
)
GRAPHQL_ERRORS = Counter(
    "kizuna_graphql_errors",
    "GraphQL errors by code: INTERNAL is unexpected (a bug), every other code an expected "
    "failure (top-level, payload or result-union error)",
    ["operation", "code"],
)
ROUTE_SEARCH_SECONDS = Histogram(
    "kizuna_route_search_duration_seconds",
    "Walk-graph searches of evacuation routes (worker thread), by search and outcome",
    ["search", "outcome"],
    buckets=_FAST,
)
IMPORT_SECONDS = Histogram(
    "kizuna_import_duration_seconds",
    "Reference-data import runs (kizuna import ...) by source and outcome",
    ["source", "outcome"],
    buckets=_SLOW,
)
IMPORT_ITEMS = Counter(
    "kizuna_import_items",
    "What successful import runs brought in (e.g. shelters: rows and shelters)",
    ["source", "item"],
)

PUSH_MESSAGES = Counter(
    "kizuna_push_messages",
    "Outbox messages handed to the push gateway, by gateway (fcm, log) and outcome (sent, "
    "retry, invalid_token, failed)",
    ["gateway", "outcome"],
)
PUSH_DROPPED = Counter(
    "kizuna_push_dropped",
    "Outbox messages given up without a send (device inactive) or after the last attempt",
    ["reason"],
)
PUSH_BATCH_SECONDS = Histogram(
    "kizuna_push_batch_duration_seconds",
    "Outbox batches: claim, send through the gateway and record, by gateway",
    ["gateway"],
    buckets=_FAST + (10.0, 30.0, 60.0),
)


@functools.cache
def _pool_gauges() -> tuple[Gauge, Gauge, Gauge]:
    """The pool gauges, made only in a process that serves (an unlabelled gauge has a value
    from birth, and a CLI run would leave its series behind)."""
    if MULTIPROCESS:
        # One series per live process (prometheus-client adds a pid label); a worker that
        # stops takes its series along.
        atexit.register(mark_process_dead, os.getpid())
    return (
        Gauge("kizuna_db_pool_size", "Connections the pool keeps", multiprocess_mode="liveall"),
        Gauge(
            "kizuna_db_pool_checked_out",
            "Connections in use by requests",
            multiprocess_mode="liveall",
        ),
        Gauge(
            "kizuna_db_pool_overflow",
            "Connections open beyond the pool size (max_overflow caps them)",
            multiprocess_mode="liveall",
        ),
    )


def metrics_served(settings: Settings) -> bool:
    """Whether the app records requests and serves /metrics: unless disabled, or in
    production without a scrape token (operation names and error rates are not public)."""
    return settings.metrics_enabled and (
        settings.environment is not Environment.PRODUCTION or settings.metrics_token is not None
    )


def render() -> bytes:
    """The metrics of this process, or of every process sharing the multiprocess directory."""
    if not MULTIPROCESS:
        return generate_latest(REGISTRY)
    registry = CollectorRegistry()
    MultiProcessCollector(registry)
    return generate_latest(registry)


# --- GraphQL operation names ---------------------------------------------------------------

# The documents the mobile app sends (present in a source checkout, not in a wheel).
APP_DOCUMENTS = Path(__file__).resolve().parents[2] / "graphql" / "operations"
# Names other than the app's own that get their own series (first come, per process).
MAX_OTHER_OPERATION_NAMES = 50
_DEFINITION = re.compile(r"^\s*(?:query|mutation|subscription)\s+([A-Za-z_]\w*)", re.MULTILINE)
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
_CODE = re.compile(r"[A-Z][A-Z0-9_]{0,39}")


class OperationNames:
    """Label values for client-chosen operation names, bounded in number."""

    def __init__(self, known: Iterable[str], others: int) -> None:
        self._known = frozenset(known)
        self._others: set[str] = set()
        self._room = others
        self._lock = threading.Lock()

    @classmethod
    def of_documents(cls, directory: Path, others: int) -> OperationNames:
        texts = (p.read_text(encoding="utf-8") for p in sorted(directory.glob("*.graphql")))
        return cls((name for text in texts for name in _DEFINITION.findall(text)), others)

    def label(self, name: str | None) -> str:
        if not name:
            return "anonymous"
        if name in self._known or name in self._others:
            return name
        if not _NAME.fullmatch(name):
            return "other"
        with self._lock:
            if len(self._others) < self._room:
                self._others.add(name)
                return name
        return "other"


operation_names = OperationNames.of_documents(APP_DOCUMENTS, MAX_OTHER_OPERATION_NAMES)


class OperationRecord:
    """Expected errors answered inside the data of the operation being executed."""

    __slots__ = ("codes",)

    def __init__(self) -> None:
        self.codes: list[str] = []


current_operation: ContextVar[OperationRecord | None] = ContextVar(
    "kizuna_graphql_operation", default=None
)


def note_expected_error(code: str) -> None:
    """Count a payload or result-union error of the GraphQL operation being executed."""
    record = current_operation.get()
    if record is not None:
        record.codes.append(code)


def error_code(code: object) -> str:
    """An error's code as a label; errors from graphql-core itself carry none."""
    if code is None:
        return "GRAPHQL_VALIDATION_FAILED"
    return code if isinstance(code, str) and _CODE.fullmatch(code) else "OTHER"


def observe_operation(
    name: str | None, operation_type: str, seconds: float, codes: Iterable[str]
) -> None:
    label = operation_names.label(name)
    GRAPHQL_SECONDS.labels(label, operation_type).observe(seconds)
    for code in codes:
        GRAPHQL_ERRORS.labels(label, code).inc()


# --- HTTP --------------------------------------------------------------------------------

_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})


def observe_request(path: str | None, method: str, status: int, seconds: float) -> None:
    path = path or "unmatched"
    method = method if method in _METHODS else "OTHER"
    HTTP_REQUESTS.labels(path, method, str(status)).inc()
    HTTP_SECONDS.labels(path, method).observe(seconds)


class PoolGauges:
    """Samples a connection pool (QueuePool kinds only) into the pool gauges."""

    def __init__(self, engine: AsyncEngine) -> None:
        pool = engine.sync_engine.pool
        self._pool = pool if isinstance(pool, QueuePool) else None
        if self._pool is not None:
            self._gauges = _pool_gauges()
            self.sample()

    def sample(self) -> None:
        pool = self._pool
        if pool is None:
            return
        size, checked_out, overflow = self._gauges
        size.set(pool.size())
        checked_out.set(pool.checkedout())
        # QueuePool counts overflow from -size up; only connections beyond the size matter.
        overflow.set(max(pool.overflow(), 0))


# --- Route searches and imports ----------------------------------------------------------


@contextmanager
def route_search(search: str) -> Iterator[None]:
    """Time one walk-graph search (and trace it when tracing is configured)."""
    outcome = "ok"
    started = time.perf_counter()
    try:
        with tracing.span(f"route search {search}"):
            yield
    except Exception as exc:
        code = getattr(exc, "code", None)  # a RoutingError's, e.g. NO_ROUTE
        outcome = code.value if isinstance(code, ErrorCode) else "INTERNAL"
        raise
    except BaseException:  # the request was cancelled while its search ran
        outcome = "cancelled"
        raise
    finally:
        ROUTE_SEARCH_SECONDS.labels(search, outcome).observe(time.perf_counter() - started)


class ImportCounts:
    """What an import run brought in, counted only if the run succeeds."""

    def __init__(self) -> None:
        self.items: dict[str, int] = {}

    def count(self, **items: int) -> None:
        for item, n in items.items():
            self.items[item] = self.items.get(item, 0) + n


@contextmanager
def record_import(source: str) -> Iterator[ImportCounts]:
    """Time an import run of ``source`` (shelters, hazards, boundaries, roads)."""
    counts = ImportCounts()
    started = time.perf_counter()
    try:
        yield counts
    except BaseException:
        IMPORT_SECONDS.labels(source, "failed").observe(time.perf_counter() - started)
        raise
    IMPORT_SECONDS.labels(source, "ok").observe(time.perf_counter() - started)
    for item, n in counts.items.items():
        IMPORT_ITEMS.labels(source, item).inc(n)
