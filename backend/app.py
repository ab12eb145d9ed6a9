"""FastAPI application factory: GraphQL at /graphql, health, readiness, request limits."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import live
from .alerts.http import alert_router
from .api.bearer import BearerRejected, bearer_token
from .api.context import Context
from .api.http import KizunaGraphQLRouter
from .api.schema import build_schema
from .api.uploads import Callers
from .applications.http import ATTACHMENT_PATH, application_router
from .assembly import assemble, load_resident, load_roles
from .auth.tokens import AuthenticationError, TokenVerifier
from .config import ConfigurationError, Settings, get_settings
from .dangerspots.http import PHOTO_PATH, danger_spot_router
from .db.session import Database, RequestDatabase
from .observability import request_id_var
from .observability.asgi import install_observability
from .principal import Principal
from .routing.http import offline_router

if TYPE_CHECKING:
    from .push.worker import InProcessWorker

log = logging.getLogger("kizuna.http")
REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def create_app(
    settings: Settings | None = None,
    *,
    database: Database | None = None,
    verifier: TokenVerifier | None = None,
    push_worker: bool = False,
) -> FastAPI:
    """The Kizuna ASGI app; tests pass their own database and verifier.

    ``push_worker``: deliver the push outbox from this process too (`kizuna serve` in
    development, so an alert reaches the log or FCM without a separate `kizuna worker`).
    """
    settings = settings or get_settings()
    assemble()
    problems = settings.production_problems()
    if problems:
        raise ConfigurationError("refusing to start in production: " + "; ".join(problems))
    database = database or Database.from_url(settings.resolved_database_url)
    verifier = verifier or TokenVerifier(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        delivery = _start_push_worker(settings, database) if push_worker else None
        async with live.broadcasting(
            settings.redis_url, channel_prefix=settings.redis_channel_prefix
        ):
            yield
            if delivery is not None:
                await delivery.close()
        await verifier.aclose()
        await database.dispose()

    app = FastAPI(title="Kizuna", version="0.1.0", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.settings = settings
    app.state.database = database
    app.state.verifier = verifier

    async def authenticate(token: str) -> Principal:
        try:
            return await verifier.verify(token)
        except AuthenticationError as exc:
            raise BearerRejected(str(exc)) from exc

    def new_db() -> RequestDatabase:
        return RequestDatabase(database.new_session())

    async def get_context(connection: HTTPConnection) -> Context:
        websocket = connection.scope["type"] == "websocket"
        principal = Principal.anonymous()
        # A websocket signs in with its connection_init message (the router's on_ws_connect).
        token = None if websocket else bearer_token(connection)
        if token is not None:
            principal = await authenticate(token)
        # No teardown needed: every block of a RequestDatabase ends its transaction, so the
        # session holds no connection between blocks (and a plain getter is cheaper than a
        # generator dependency, which FastAPI runs in an exit stack).
        return Context(
            settings=settings,
            principal=principal,
            db=new_db(),
            request_id=uuid.uuid4().hex if websocket else request_id_var.get() or "",
            load_resident=load_resident,
            load_roles=load_roles,
            new_db=new_db,
        )

    graphql_app = KizunaGraphQLRouter(
        build_schema(settings),
        authenticate=authenticate,
        max_message_bytes=settings.max_request_bytes,
        max_subscriptions_per_connection=settings.subscriptions_per_connection,
        context_getter=get_context,
        graphql_ide="graphiql" if settings.is_development else None,
        allow_queries_via_get=False,
    )
    app.include_router(graphql_app, prefix="/graphql")

    @app.exception_handler(BearerRejected)
    async def _rejected(_request: Request, exc: BearerRejected) -> JSONResponse:
        return JSONResponse(
            status_code=401,
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            content={
                "data": None,
                "errors": [{"message": str(exc), "extensions": {"code": "UNAUTHENTICATED"}}],
            },
        )

    app.include_router(alert_router(settings, database, verifier))
    callers = Callers(database, authenticate, load_roles, load_resident)
    app.include_router(danger_spot_router(settings, callers))
    app.include_router(application_router(settings, callers))
    app.include_router(offline_router(settings, database))
    app.add_middleware(
        BodySizeLimit,
        limit=settings.max_request_bytes,
        # Alert telegrams are larger than any GraphQL request (a JMA warning: up to ~0.5 MB).
        path_limits={
            "/alerts/ingest": settings.alert_max_document_bytes,
            PHOTO_PATH: settings.danger_spot_photo_max_bytes,
            ATTACHMENT_PATH: settings.application_attachment_max_bytes,
        },
    )

    app.add_middleware(RequestContext)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz")
    async def readyz() -> JSONResponse:
        try:
            await database.ping()
        except Exception as exc:  # any failure means "not ready"; the reason goes to the log
            log.warning("database not reachable", extra={"error": str(exc)})
            return JSONResponse(status_code=503, content={"status": "unavailable"})
        return JSONResponse(content={"status": "ready"})

    install_observability(app, settings)
    return app


def _start_push_worker(settings: Settings, database: Database) -> InProcessWorker:
    from .push.worker import InProcessWorker, OutboxWorker, WorkerOptions, gateway_from_settings

    worker = OutboxWorker(
        database, gateway_from_settings(settings), WorkerOptions.from_settings(settings)
    )
    delivery = InProcessWorker(worker)
    delivery.start()
    log.info("push outbox worker started in process", extra={"gateway": worker.gateway.name})
    return delivery


class RequestContext:
    """Request id (kept from the caller when well-formed) in the log context and the response
    header, and one log line per request; plain ASGI, so the response is not re-streamed."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = ""
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                incoming = value.decode("latin-1")
                break
        request_id = incoming if REQUEST_ID.match(incoming) else uuid.uuid4().hex
        header = (b"x-request-id", request_id.encode("latin-1"))
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        token = request_id_var.set(request_id)
        started = time.perf_counter()
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if log.isEnabledFor(logging.INFO):
                log.info(
                    "request",
                    extra={
                        "method": scope["method"],
                        "path": scope["path"],
                        "status": status,
                        "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                    },
                )
            request_id_var.reset(token)


class _BodyTooLarge(Exception):
    pass


class BodySizeLimit:
    """Refuses request bodies over ``limit`` bytes with 413, counting as the body streams in.

    A declared Content-Length is checked up front; a chunked body is cut off as soon as it
    passes the limit, so a hostile client cannot make the server buffer it whole.
    """

    def __init__(self, app: ASGIApp, limit: int, path_limits: dict[str, int] | None = None) -> None:
        self.app = app
        self.limit = limit
        self.path_limits = path_limits or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.path_limits.get(scope["path"], self.limit)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await _too_large(limit)(scope, receive, send)
            return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _BodyTooLarge:
            if not started:
                await _too_large(limit)(scope, receive, send)


def _too_large(limit: int) -> JSONResponse:
    return JSONResponse(
        status_code=413,
        content={
            "data": None,
            "errors": [
                {
                    "message": f"request body larger than {limit} bytes",
                    "extensions": {"code": "REQUEST_TOO_LARGE"},
                }
            ],
        },
    )


def create_worker_app() -> FastAPI:
    """The app of one `kizuna serve --workers N` process (logging set up per process)."""
    from .observability import configure_logging

    settings = get_settings()
    configure_logging(settings.log_level, json_output=settings.log_json)
    # Every worker process of the server delivers too (leases keep them apart).
    return create_app(settings, push_worker=settings.runs_push_worker_in_process)
