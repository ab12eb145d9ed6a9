"""What the app factory installs: request metrics, the /metrics endpoint and tracing."""

from __future__ import annotations

import asyncio
import hmac
import logging
import time

from fastapi import FastAPI
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..config import Settings
from . import metrics, tracing

log = logging.getLogger("kizuna.metrics")


def install_observability(app: FastAPI, settings: Settings) -> None:
    """Metrics and /metrics (see ``metrics_served``) and tracing (when configured).

    Call it last in the factory: the request metrics then wrap every other middleware.
    """
    engine = app.state.database.engine
    tracing.instrument(app, engine, settings)
    if not metrics.metrics_served(settings):
        if settings.metrics_enabled:
            log.warning("/metrics is not served in production without KIZUNA_METRICS_TOKEN")
        return
    pool = metrics.PoolGauges(engine)
    app.add_middleware(RequestMetrics, pool=pool)
    token = settings.metrics_token

    async def metrics_endpoint(request: Request) -> Response:
        if token is not None and not _bearer_matches(request, token):
            return JSONResponse(
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
                content={"error": "a valid scrape token is required"},
            )
        pool.sample()
        # In multiprocess mode this reads every worker's file: not on the event loop.
        body = await asyncio.to_thread(metrics.render)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    app.add_route("/metrics", metrics_endpoint, methods=["GET"], include_in_schema=False)


def _bearer_matches(request: Request, token: str) -> bool:
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode(), token.encode()
    )


def _route_label(scope: Scope) -> str | None:
    """The path of a matched route (its template if it has parameters); None if unmatched.

    Never the URL of an unmatched request: clients choose it, and labels must stay few.
    """
    route = scope.get("route")  # put there by the router
    if route is None:
        return None
    template = getattr(route, "path", "")
    return template if "{" in template else scope["path"]


class RequestMetrics:
    """Counts and times HTTP requests by route template; samples the pool after each."""

    def __init__(self, app: ASGIApp, pool: metrics.PoolGauges) -> None:
        self.app = app
        self.pool = pool

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500  # unless a response starts: an exception escaped
        started = time.perf_counter()

        async def observed_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, observed_send)
        finally:
            metrics.observe_request(
                _route_label(scope),
                scope["method"],
                status,
                time.perf_counter() - started,
            )
            self.pool.sample()
