"""Persisted queries (Apollo's automatic persisted queries, APQ).

The app sends ``extensions.persistedQuery = {"version": 1, "sha256Hash": <hex>}`` instead of
the document's text. Every document of ``graphql/operations/`` is known from the start under
the SHA-256 of its file (the app bundles those files and sends their hash with the
``operationName``). Any other document is learned when a client sends its text with its
hash (APQ's second request), unless learning is off, as it is in production by default:
there an unknown hash stays ``PERSISTED_QUERY_NOT_FOUND`` and the text must be sent in full.
"""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path
from threading import Lock
from typing import Any

from strawberry.extensions import SchemaExtension

from .errors import KizunaGraphQLError

NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class PersistedQueries:
    """Documents by hash: the registered ones, and up to ``capacity`` learned ones (LRU)."""

    def __init__(self, registered: dict[str, str], *, learn: bool, capacity: int) -> None:
        self._registered = registered
        self._learned: OrderedDict[str, str] = OrderedDict()
        self._lock = Lock()
        self.learn = learn
        self.capacity = capacity

    @classmethod
    def from_folder(cls, folder: Path | None, *, learn: bool, capacity: int) -> PersistedQueries:
        """Registers every ``*.graphql`` file of ``folder`` (none when it is absent)."""
        registered: dict[str, str] = {}
        if folder is not None and folder.is_dir():
            for path in sorted(folder.glob("*.graphql")):
                text = path.read_text(encoding="utf-8")
                registered[sha256_hex(text)] = text
        return cls(registered, learn=learn, capacity=capacity)

    def get(self, digest: str) -> str | None:
        text = self._registered.get(digest)
        if text is not None:
            return text
        with self._lock:
            text = self._learned.get(digest)
            if text is not None:
                self._learned.move_to_end(digest)
            return text

    def remember(self, digest: str, text: str) -> None:
        """Learn a document whose text matched its hash (when learning is on)."""
        if not self.learn or digest in self._registered:
            return
        with self._lock:
            self._learned[digest] = text
            self._learned.move_to_end(digest)
            while len(self._learned) > self.capacity:
                self._learned.popitem(last=False)


def _invalid(message: str, message_ja: str) -> KizunaGraphQLError:
    return KizunaGraphQLError(message, "VALIDATION", messageJa=message_ja)


def requested_hash(extensions: dict[str, Any] | None) -> str | None:
    """The sha256Hash of a request's persistedQuery extension (None without one)."""
    persisted = extensions.get("persistedQuery") if isinstance(extensions, dict) else None
    if persisted is None:
        return None
    digest = persisted.get("sha256Hash") if isinstance(persisted, dict) else None
    if (
        not isinstance(persisted, dict)
        or persisted.get("version") != 1
        or not isinstance(digest, str)
        or not _SHA256.match(digest)
    ):
        raise _invalid(
            "extensions.persistedQuery must be {version: 1, sha256Hash: <64 hex digits>}",
            "保存済みクエリの指定は版1と64桁の16進数のハッシュ値で行ってください",
        )
    return digest.lower()


class PersistedQueryExtension(SchemaExtension):
    """Fills in the document of a persisted-query request before it is parsed."""

    def __init__(self, queries: PersistedQueries) -> None:
        self.queries = queries
        self._learn: tuple[str, str] | None = None

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        digest = requested_hash(context.operation_extensions)
        if digest is not None:
            if context.query is None:
                text = self.queries.get(digest)
                if text is None:
                    # APQ clients answer this by sending the text along with the hash.
                    raise KizunaGraphQLError(
                        "PersistedQueryNotFound",
                        NOT_FOUND,
                        messageJa="保存済みのクエリが見つかりません。クエリの本文を送ってください",
                    )
                context.query = text
            elif sha256_hex(context.query) != digest:
                raise _invalid(
                    "the persisted query's sha256Hash does not match the query sent",
                    "保存済みクエリのハッシュ値が送られたクエリと一致しません",
                )
            elif self.queries.get(digest) is None:
                self._learn = (digest, context.query)
        yield

    def on_validate(self) -> Iterator[None]:
        yield
        # Only documents that parsed and validated are worth remembering.
        if self._learn is not None and not self.execution_context.pre_execution_errors:
            self.queries.remember(*self._learn)
