"""GraphQL over a websocket (graphql-transport-ws): sign-in, strict messages, limits.

The bearer token comes with ``connection_init`` or the handshake (``bearer.connection_token``);
a bad one closes the connection with 4401 and the reason. Each message is at most the request size
limit and strictly decoded JSON; a message of the wrong shape closes the connection with
4400 (strawberry's handler indexes messages unchecked: a list as ``id`` was a crash).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping
from typing import TYPE_CHECKING, Any

from cross_web import HTTPException
from starlette.websockets import WebSocketDisconnect, WebSocketState
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.http.exceptions import NonTextMessageReceived, WebSocketDisconnected
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    Message,
    SubscribeMessage,
)

from ..errors import ErrorCode
from .bearer import BearerRejected
from .context import Context
from .errors import KizunaGraphQLError

if TYPE_CHECKING:
    from .http import KizunaGraphQLRouter

# graphql-ws clients number their operations; nobody needs a longer id.
MAX_OPERATION_ID = 128
UNAUTHORIZED = 4401
BAD_MESSAGE = 4400
MESSAGE_TOO_BIG = 1009
_PAYLOAD_FIELDS: tuple[tuple[str, type, str], ...] = (
    ("variables", dict, "an object"),
    ("operationName", str, "a string"),
    ("extensions", dict, "an object"),
)


def close_reason(text: str) -> str:
    """``text`` cut to the 123 bytes a close frame can carry."""
    return text.encode("utf-8")[:123].decode("utf-8", errors="ignore")


def message_problem(message: dict[str, Any]) -> str | None:
    """Why a graphql-transport-ws message is malformed (None when it is not)."""
    kind = message.get("type")
    if not isinstance(kind, str):
        return "a message needs a string 'type'"
    if kind in ("subscribe", "complete"):
        operation_id = message.get("id")
        if not isinstance(operation_id, str) or not 0 < len(operation_id) <= MAX_OPERATION_ID:
            return f"'id' must be a string of 1 to {MAX_OPERATION_ID} characters"
    if kind == "subscribe":
        payload = message.get("payload")
        if not isinstance(payload, dict):
            return "subscribe needs a 'payload' object"
        if not isinstance(payload.get("query"), str):
            return "subscribe needs payload.query: the document as a string"
        for name, expected, label in _PAYLOAD_FIELDS:
            if payload.get(name) is not None and not isinstance(payload[name], expected):
                return f"payload.{name} must be {label}"
    return None


class KizunaWebSocketAdapter(ASGIWebSocketAdapter):
    """Messages as text frames, each within the size limit and strictly decoded.

    The router encodes with orjson into bytes, and a binary frame is not a message to
    graphql-ws clients: answers go out as text.
    """

    view: KizunaGraphQLRouter

    async def iter_json(
        self, *, ignore_parsing_errors: bool = False
    ) -> AsyncGenerator[object, None]:
        limit = self.view.max_message_bytes
        try:
            while self.ws.application_state != WebSocketState.DISCONNECTED:
                text = await self.ws.receive_text()
                if len(text) > limit or len(text.encode("utf-8")) > limit:
                    await self.close(MESSAGE_TOO_BIG, f"message larger than {limit} bytes")
                    return
                try:
                    message = self.view.decode_json(text)
                except HTTPException as exc:
                    await self.close(BAD_MESSAGE, exc.reason)
                    return
                if not isinstance(message, dict):
                    await self.close(BAD_MESSAGE, "a message must be a JSON object")
                    return
                yield message
        except KeyError as exc:  # a binary frame has no "text"
            raise NonTextMessageReceived from exc
        except WebSocketDisconnect:
            pass

    async def close(self, code: int, reason: str) -> None:
        # strawberry closes with a syntax error's message as the reason, of any length.
        await super().close(code, close_reason(reason))

    async def send_json(self, message: Mapping[str, object]) -> None:
        try:
            await self.ws.send_text(self.view.encode_json(message).decode("utf-8"))
        except WebSocketDisconnect as exc:
            raise WebSocketDisconnected from exc


class KizunaTransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """strawberry's graphql-transport-ws handler with checked messages, sign-in closing with
    4401, and the per-connection operation limit answered with LIMIT_EXCEEDED."""

    async def handle_message(self, message: Message) -> None:
        problem = message_problem(dict(message))
        if problem is not None:
            await self.handle_invalid_message(problem)
            return
        await super().handle_message(message)

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        try:
            await super().handle_connection_init(message)
        except BearerRejected as exc:
            await self.websocket.close(UNAUTHORIZED, f"Unauthorized: {exc}")

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        limit = self.max_subscriptions_per_connection
        if (
            self.connection_acknowledged
            and limit is not None
            and message["id"] not in self.operations
            and len(self.operations) >= limit
        ):
            error = KizunaGraphQLError(
                f"at most {limit} subscriptions may run on one connection",
                ErrorCode.LIMIT_EXCEEDED.value,
                messageJa=f"1つの接続で購読できるのは{limit}件までです",
            )
            await self.send_message(
                {"id": message["id"], "type": "error", "payload": [error.formatted]}
            )
            return
        await super().handle_subscribe(message)
