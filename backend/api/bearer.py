"""Bearer tokens of requests and websockets."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.requests import HTTPConnection


class BearerRejected(Exception):
    """The caller sent a token we cannot accept (401, or close code 4401 on a websocket)."""


def parse_bearer(header: str) -> str:
    """The token of an ``Authorization: Bearer <token>`` value; anything else is rejected."""
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise BearerRejected("expected 'Authorization: Bearer <token>'")
    return token.strip()


def bearer_token(request: HTTPConnection) -> str | None:
    """The bearer token of a request, None without one; a malformed header is rejected."""
    header = request.headers.get("authorization")
    return None if header is None else parse_bearer(header)


def connection_token(params: object, headers: Mapping[str, str]) -> str | None:
    """The bearer token of a websocket: its connection_init payload's ``Authorization`` (or
    ``authorization``) first, since browsers cannot set headers on a websocket; else the
    handshake's header."""
    value: Any = None
    if isinstance(params, dict):
        value = params.get("Authorization", params.get("authorization"))
    if value is None:
        value = headers.get("authorization")
    if value is None:
        return None
    if not isinstance(value, str):
        raise BearerRejected("Authorization must be a string: 'Bearer <token>'")
    return parse_bearer(value)
