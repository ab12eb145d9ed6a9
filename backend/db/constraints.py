"""Unique violations become CONFLICT errors in one place, whichever request raced.

A service checks for duplicates before inserting, but two concurrent requests can both pass
the check; the database's unique constraint then decides. ``conflict_for`` turns that
IntegrityError into the same typed Conflict the service would have raised, using the
description a domain registered for its constraint (or a generic one).
"""

from __future__ import annotations

import re

from sqlalchemy.exc import IntegrityError

from ..errors import Conflict

_UNIQUE_SQLSTATE = "23505"
# SQLite names the index ("index 'uq_x'") or the columns ("UNIQUE constraint failed: t.a, t.b").
_SQLITE_UNIQUE = re.compile(r"UNIQUE constraint failed: (?:index '(?P<index>[^']+)'|(?P<cols>.+))")
_described: dict[str, Conflict] = {}


def describe_unique(
    name: str, *, field: str | None, message: str, message_ja: str, columns: str | None = None
) -> None:
    """Register what a violation of unique constraint ``name`` means for the caller.

    ``columns`` ("table.col, table.col") lets SQLite, which reports columns instead of the
    constraint name for table constraints, find the same description.
    """
    conflict = Conflict(message, message_ja, field=field)
    _described[name] = conflict
    if columns:
        _described[columns] = conflict


def conflict_for(exc: IntegrityError) -> Conflict | None:
    """The Conflict a unique violation stands for, or None for other integrity errors."""
    orig = exc.orig
    key: str | None = None
    if orig is None:
        return None
    if getattr(orig, "sqlstate", None) == _UNIQUE_SQLSTATE:
        key = getattr(orig.__cause__, "constraint_name", None)
    else:
        match = _SQLITE_UNIQUE.search(str(orig))
        if match is None:
            return None
        key = match["index"] or match["cols"]
    known = _described.get(key or "")
    if known is not None:
        return Conflict(known.message, known.message_ja, field=known.field)
    return Conflict(
        "this conflicts with data that exists already (another request may have created it)",
        "すでに登録されているデータと重複しています（同時に行われた別の操作で登録された可能性があります）",
    )
