"""Engine and session factory for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from .constraints import conflict_for

# Execution option marking a connection whose transaction will write (see _configure_sqlite).
WRITES = "kizuna_writes"


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An async engine; SQLite gets foreign keys, WAL and real transactions."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        kwargs.setdefault("connect_args", {"timeout": 30})
        engine = create_async_engine(url, **kwargs)
        _configure_sqlite(engine)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    return create_async_engine(url, **kwargs)


def _configure_sqlite(engine: AsyncEngine) -> None:
    # pysqlite's own transaction handling breaks SAVEPOINT and transactional DDL;
    # take it over as SQLAlchemy documents, and enforce foreign keys.
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A transaction that will write takes the write lock up front: two deferred ones that
        # both read first would deadlock on upgrading, and SQLite fails one at once.
        immediate = connection.get_execution_options().get(WRITES)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


class Database:
    """Owns the engine and hands out sessions; one per process."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.sessionmaker = async_sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def from_url(cls, url: str) -> Database:
        return cls(create_engine(url))

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def new_session(self) -> AsyncSession:
        return self.sessionmaker()

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session that commits on success and rolls back on error (for CLI and workers)."""
        async with self.sessionmaker() as session:
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise

    async def ping(self) -> None:
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()


class RequestDatabase:
    """The database handle of one GraphQL request.

    Strawberry resolves sibling fields concurrently; an AsyncSession must never be used by
    two of them at once (asyncpg raises "another operation is in progress"), so every use
    goes through ``session()``, which holds a per-request lock.
    """

    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._lock = asyncio.Lock()
        self._rollback_hooks: list[Callable[[], None]] = []

    def on_rollback(self, hook: Callable[[], None]) -> None:
        """Call ``hook`` after every rollback (cached ORM rows are expired by it)."""
        self._rollback_hooks.append(hook)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """The request's session, used exclusively for the block (reads).

        The read transaction ends with the block, so the pooled connection goes back at once:
        a request that computes afterwards (a route search) holds no connection meanwhile.
        """
        async with self._lock:
            try:
                yield self._session
            except BaseException:
                await self._rollback()
                raise
            await self._session.commit()

    async def _rollback(self) -> None:
        await self._session.rollback()
        for hook in self._rollback_hooks:
            hook()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """Exclusive use of the session; commits on success, rolls back on any error.

        A unique violation (two requests racing to create the same thing) becomes the typed
        Conflict registered for its constraint, after the rollback.
        """
        async with self._lock:
            try:
                if not self._session.in_transaction():
                    await self._session.connection(execution_options={WRITES: True})
                yield self._session
                await self._session.commit()
            except BaseException as exc:
                await self._rollback()
                if isinstance(exc, IntegrityError) and (conflict := conflict_for(exc)):
                    raise conflict from exc
                raise

    async def close(self) -> None:
        await self._session.close()
