"""Cursor connections (Relay style) over keyset pagination."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Generic, TypeVar

import strawberry

from ..errors import ValidationFailed

T = TypeVar("T")
N = TypeVar("N")
MAX_PAGE_SIZE = 100
# Ours are under 100 characters; a longer one is not ours.
MAX_CURSOR_LENGTH = 200


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo


def encode_key_cursor(key: str, item_id: uuid.UUID) -> str:
    """An opaque cursor for a (text key, id) sort key, e.g. a register number."""
    raw = json.dumps([key, item_id.hex]).encode()
    return base64.urlsafe_b64encode(raw).decode()


def decode_key_cursor(cursor: str | None) -> tuple[str, uuid.UUID] | None:
    """The sort key inside a cursor; a tampered cursor is a validation error."""
    if cursor is None:
        return None
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise _invalid_cursor()
    try:
        key, item = json.loads(base64.urlsafe_b64decode(cursor.encode("ascii")))
        if not isinstance(key, str) or not isinstance(item, str):
            raise _invalid_cursor()
        return key, uuid.UUID(hex=item)
    except (ValueError, TypeError, RecursionError, binascii.Error) as exc:
        raise _invalid_cursor() from exc


def _invalid_cursor() -> ValidationFailed:
    return ValidationFailed(
        "invalid cursor", "続きを読むための位置（カーソル）が不正です", field="after"
    )


def encode_cursor(created_at: datetime, item_id: uuid.UUID) -> str:
    """An opaque cursor for a (timestamp, id) sort key."""
    return encode_key_cursor(created_at.isoformat(), item_id)


def decode_cursor(cursor: str | None) -> tuple[datetime, uuid.UUID] | None:
    """The sort key inside a cursor; a tampered cursor is a validation error."""
    decoded = decode_key_cursor(cursor)
    if decoded is None:
        return None
    created, item_id = decoded
    try:
        at = datetime.fromisoformat(created)
        # Our cursors carry UTC offsets; a naive time cannot be compared with stored ones.
        if at.tzinfo is None:
            raise _invalid_cursor()
        return at.astimezone(UTC), item_id
    except (ValueError, OverflowError) as exc:
        raise _invalid_cursor() from exc


def first_description(maximum: int = MAX_PAGE_SIZE, default: int = 20) -> str:
    """The description of a ``first`` argument: every list states its limit the same way."""
    return f"How many to return: 1 to {maximum} (default {default})"


FIRST_DESCRIPTION = first_description()


def page_size(first: int | None, default: int = 20, maximum: int = MAX_PAGE_SIZE) -> int:
    """Validated page size (1..maximum); the one rule for every ``first`` argument."""
    size = default if first is None else first
    if not 1 <= size <= maximum:
        raise ValidationFailed(
            f"first must be between 1 and {maximum}",
            f"件数は1〜{maximum}で指定してください",
            field="first",
        )
    return size


def build_connection(
    rows: Sequence[N],
    *,
    limit: int,
    key: Callable[[N], tuple[datetime, uuid.UUID]],
    node: Callable[[N], T],
) -> Connection[T]:
    """A connection from rows fetched with limit + 1 (the extra row signals a next page)."""
    page = list(rows[:limit])
    edges = [Edge(cursor=encode_cursor(*key(row)), node=node(row)) for row in page]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=len(rows) > limit, end_cursor=edges[-1].cursor if edges else None
        ),
    )
