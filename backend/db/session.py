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
# Execution options of a request's read block: no transaction at all, each statement sees
# the latest committed data (PostgreSQL's READ COMMITTED gives no more inside a transaction),
# and BEGIN/COMMIT cost no round trips. SQLite runs such a block without BEGIN.
READS = "kizuna_reads"
# Session.info key holding a token of the read block in progress (None outside one): what a
# read block has read once, such as a data stamp, it may reuse until the block ends.
READ_BLOCK = "kizuna_read_block"
_READ_OPTIONS: dict[str, dict[str, Any]] = {
    "postgresql": {READS: True, "isolation_level": "AUTOCOMMIT"},
    "sqlite": {READS: True},
}


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An async engine; SQLite gets foreign keys, WAL and real transactions."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        kwargs.setdefault("connect_args", {"timeout": 30})
        # Connections come back with their transaction ended (see _configure_sqlite).
        kwargs.setdefault("pool_reset_on_return", None)
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
        options = connection.get_execution_options()
        if options.get(READS):
            return  # autocommit: every statement is its own read transaction
        # A transaction that will write takes the write lock up front: two deferred ones that
        # both read first would deadlock on upgrading, and SQLite fails one at once.
        connection.exec_driver_sql("BEGIN IMMEDIATE" if options.get(WRITES) else "BEGIN")

    # Every call into aiosqlite is a round trip to its thread (~60 us of CPU). COMMIT and
    # ROLLBACK after a read block (no BEGIN) and the pool's rollback-on-return of a connection
    # whose transaction already ended have nothing to do: skip them.
    dialect = engine.sync_engine.dialect

    def in_transaction(connection: Any) -> bool:
        raw = getattr(connection, "dbapi_connection", connection)
        return bool(dialect.get_driver_connection(raw).in_transaction)

    commit, rollback = dialect.do_commit, dialect.do_rollback

    def do_commit(dbapi_connection: Any) -> None:
        if in_transaction(dbapi_connection):
            commit(dbapi_connection)

    def do_rollback(dbapi_connection: Any) -> None:
        if in_transaction(dbapi_connection):
            rollback(dbapi_connection)

    dialect.do_commit = do_commit  # type: ignore[method-assign]
    dialect.do_rollback = do_rollback  # type: ignore[method-assign]

    @event.listens_for(engine.sync_engine, "reset")
    def _on_reset(dbapi_connection: Any, _record: Any, state: Any) -> None:
        if state.asyncio_safe and not state.transaction_was_reset:
            dialect.do_rollback(dbapi_connection)


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
        # Sessions bound to a Connection (tests' rollback fixtures) read in its transaction.
        bind = session.bind
        self._read_options = (
            _READ_OPTIONS.get(bind.dialect.name, {}) if isinstance(bind, AsyncEngine) else {}
        )
        self._lock = asyncio.Lock()
        self._rollback_hooks: list[Callable[[], None]] = []

    def on_rollback(self, hook: Callable[[], None]) -> None:
        """Call ``hook`` after every rollback (cached ORM rows are expired by it)."""
        self._rollback_hooks.append(hook)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """The request's session, used exclusively for the block (reads only).

        The pooled connection goes back when the block ends, so a request that computes
        afterwards (a route search) holds none meanwhile. Outside tests the block runs without
        a transaction (see _READ_OPTIONS): statements see what is committed when they run.
        """
        async with self._lock:
            info = self._session.info
            try:
                if self._read_options and not self._session.in_transaction():
                    await self._session.connection(execution_options=self._read_options)
                info[READ_BLOCK] = object()
                yield self._session
                await self._session.commit()
            except BaseException:
                await self._rollback()
                raise
            finally:
                info.pop(READ_BLOCK, None)

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
