"""The GraphQL endpoint over HTTP: strict request bodies, and every refusal as a JSON 4xx.

strawberry decodes bodies with a plain json.loads and reads fields with ``data.get``: a body
that is a JSON string, invalid UTF-8, a 5,000-digit number or deeply nested arrays ended in
a 500, and its own 400s are plain text. Here a body is decoded strictly and each refusal is
``{"errors": [{"message": ..., "extensions": {"code": "BAD_REQUEST"}}]}``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from cross_web import AsyncHTTPRequestAdapter, HTTPException
from fastapi.responses import JSONResponse
from strawberry.fastapi import GraphQLRouter
from strawberry.http import GraphQLRequestData
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types.unset import UNSET, UnsetType

from ..principal import Principal
from .bearer import connection_token
from .context import Context
from .encoding import json_bytes
from .websocket import KizunaTransportWSHandler, KizunaWebSocketAdapter

# Deeper than any request the app sends (a MultiPolygon in variables is ~9 levels).
MAX_JSON_DEPTH = 64
# A longer integer does not fit a double (about 1.8e308): no GraphQL scalar can hold it.
MAX_INTEGER_DIGITS = 308
_SURROGATE = re.compile("[\ud800-\udfff]")
_CODES = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}


def _refuse(message: str) -> HTTPException:
    return HTTPException(400, message)


def _integer(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INTEGER_DIGITS:
        raise _refuse(f"a number in the request has more than {MAX_INTEGER_DIGITS} digits")
    return int(text)


def _float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise _refuse(f"the number {text[:40]} in the request is out of range")
    return value


def _constant(name: str) -> Any:
    raise _refuse(f"{name} is not a JSON number")


def decode_request_json(data: str | bytes) -> object:
    """JSON decoded strictly: UTF-8, finite numbers, bounded depth, no lone surrogates."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _refuse(f"the request body is not UTF-8 (invalid byte at {exc.start})") from None
    try:
        value = json.loads(data, parse_int=_integer, parse_float=_float, parse_constant=_constant)
    except json.JSONDecodeError as exc:
        raise _refuse(
            f"the request body is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from None
    except RecursionError:
        raise _refuse("the request body is nested too deeply") from None
    _check_values(value)
    return value


def _check_values(value: object) -> None:
    """Refuse nesting deeper than MAX_JSON_DEPTH and strings with lone UTF-16 surrogates."""
    pending: list[tuple[object, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                raise _refuse("a string in the request contains a lone UTF-16 surrogate")
        elif isinstance(item, dict | list):
            if depth > MAX_JSON_DEPTH:
                raise _refuse(f"the request body is nested deeper than {MAX_JSON_DEPTH} levels")
            if isinstance(item, dict):
                pending.extend((key, depth) for key in item)
                pending.extend((child, depth + 1) for child in item.values())
            else:
                pending.extend((child, depth + 1) for child in item)


def error_response(status_code: int, message: str) -> JSONResponse:
    """A refused request in GraphQL's error shape."""
    code = _CODES.get(status_code, "BAD_REQUEST")
    return JSONResponse(
        status_code=status_code,
        content={"errors": [{"message": message, "extensions": {"code": code}}]},
    )


# A websocket that has not sent connection_init by then is closed (strawberry waits a minute).
CONNECTION_INIT_TIMEOUT = timedelta(seconds=15)


class KizunaGraphQLRouter(GraphQLRouter[Any, None]):
    """strawberry's router with strict bodies, JSON errors and orjson-encoded answers, and
    subscriptions over graphql-transport-ws (see ``websocket``).

    ``authenticate`` turns a websocket's bearer token into its principal (or raises
    BearerRejected); ``max_message_bytes`` bounds each websocket message;
    ``max_subscriptions_per_connection`` the operations one connection runs at once.
    """

    websocket_adapter_class = KizunaWebSocketAdapter
    graphql_transport_ws_handler_class = KizunaTransportWSHandler

    def __init__(
        self,
        schema: Any,
        *,
        authenticate: Callable[[str], Awaitable[Principal]],
        max_message_bytes: int,
        max_subscriptions_per_connection: int,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            schema,
            # The legacy subscriptions-transport-ws protocol is not offered.
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            connection_init_wait_timeout=CONNECTION_INIT_TIMEOUT,
            max_subscriptions_per_connection=max_subscriptions_per_connection,
            **kwargs,
        )
        self.authenticate = authenticate
        self.max_message_bytes = max_message_bytes

    async def on_ws_connect(self, context: Any) -> UnsetType | dict[str, object] | None:
        assert isinstance(context, Context) and context.request is not None
        token = connection_token(context.connection_params, context.request.headers)
        if token is not None:
            context.principal = await self.authenticate(token)
        return UNSET

    def encode_json(self, data: object) -> bytes:
        return json_bytes(data)

    def decode_json(self, data: str | bytes) -> object:
        value = decode_request_json(data)
        if not isinstance(value, dict | list):
            raise _refuse("the request body must be a JSON object")
        return value

    async def parse_http_body(
        self, request: AsyncHTTPRequestAdapter
    ) -> GraphQLRequestData | list[GraphQLRequestData]:
        parsed = await super().parse_http_body(request)
        for item in parsed if isinstance(parsed, list) else [parsed]:
            if item.operation_name is not None and not isinstance(item.operation_name, str):
                raise _refuse("the request's operationName must be a string")
        return parsed

    async def run(self, request: Any, context: Any = UNSET, root_value: Any = UNSET) -> Any:
        try:
            return await super().run(request, context, root_value)
        except HTTPException as exc:
            return error_response(exc.status_code, exc.reason)
