"""Test fixtures: a migrated database (SQLite or PostgreSQL), per-test rollback, API client.

KIZUNA_TEST_DATABASE_URL selects the database (default: a SQLite file in a temp folder);
.ci/run runs the suite once on SQLite and once on PostgreSQL.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from backend.app import create_app
from backend.assembly import assemble
from backend.auth.tokens import TokenVerifier
from backend.bootstrap import sync_reference_data
from backend.config import Environment, Settings
from backend.db.migrate import upgrade
from backend.db.session import Database, create_engine
from backend.principal import Role, RoleGrant
from tests.error_contract import check_answer

_TMP = Path(tempfile.mkdtemp(prefix="kizuna-tests-"))


def _database_url() -> str:
    return (
        os.environ.get("KIZUNA_TEST_DATABASE_URL") or f"sqlite+aiosqlite:///{_TMP / 'test.sqlite3'}"
    )


def pytest_report_header() -> str:
    return f"kizuna test database: {_database_url().split('@')[-1]}"


@pytest.fixture(scope="session")
def database_url() -> str:
    return _database_url()


@pytest.fixture(scope="session")
def is_postgres(database_url: str) -> bool:
    return database_url.startswith("postgresql")


async def reset_database(engine: AsyncEngine) -> None:
    """Drop everything so the run starts from an empty database, then migrate to head."""
    async with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            await connection.execute(text("DROP SCHEMA public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
    await upgrade(engine)


async def fresh_database_url(base_url: str, suffix: str, tmp_path: Path) -> str:
    """An empty database of the same kind as ``base_url`` (PostgreSQL: <db>_<suffix>)."""
    url = make_url(base_url)
    if url.get_backend_name() != "postgresql":
        return f"sqlite+aiosqlite:///{tmp_path / f'{suffix}.sqlite3'}"
    name = f"{url.database}_{suffix}"
    admin = create_engine(
        url.set(database="postgres").render_as_string(hide_password=False),
        isolation_level="AUTOCOMMIT",
    )
    async with admin.connect() as connection:
        await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await connection.execute(text(f'CREATE DATABASE "{name}"'))
    await admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    assemble()
    engine = create_engine(database_url)
    await reset_database(engine)
    async with engine.begin() as connection:
        session = AsyncSession(bind=connection)
        await sync_reference_data(session)
        await session.flush()
    yield engine
    await engine.dispose()


class RollbackDatabase(Database):
    """Every session joins one outer transaction that the test rolls back."""

    def __init__(self, engine: AsyncEngine, connection: AsyncConnection) -> None:
        super().__init__(engine)
        self.connection = connection

    def new_session(self) -> AsyncSession:
        return AsyncSession(
            bind=self.connection,
            join_transaction_mode="create_savepoint",
            expire_on_commit=False,
        )

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        session = self.new_session()
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise
        finally:
            await session.close()


@pytest.fixture
async def db(engine: AsyncEngine) -> AsyncIterator[RollbackDatabase]:
    async with engine.connect() as connection:
        transaction = await connection.begin()
        yield RollbackDatabase(engine, connection)
        await transaction.rollback()


@pytest.fixture
async def session(db: RollbackDatabase) -> AsyncIterator[AsyncSession]:
    async with db.session() as session:
        yield session


@pytest.fixture(scope="session")
def settings() -> Settings:
    return Settings(
        environment=Environment.DEVELOPMENT,
        data_dir=_TMP / "state",
        database_url=_database_url(),
        log_json=False,
    )


@pytest.fixture(scope="session")
def verifier(settings: Settings) -> TokenVerifier:
    return TokenVerifier(settings)


@pytest.fixture
async def client(
    settings: Settings, db: RollbackDatabase, verifier: TokenVerifier
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, database=db, verifier=verifier)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://kizuna.test") as client:
        yield client


@pytest.fixture
async def pooled_client(
    settings: Settings, verifier: TokenVerifier, database_url: str
) -> AsyncIterator[httpx.AsyncClient]:
    """An API client on a real connection pool (commits for real: clean up after yourself)."""
    database = Database.from_url(database_url)
    app = create_app(settings, database=database, verifier=verifier)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        yield c
    await database.dispose()


@pytest.fixture
def token(verifier: TokenVerifier):  # type: ignore[no-untyped-def]
    """token("subject", roles=[("city_staff", "07202")], client_id=None) -> bearer token."""
    return token_maker(verifier)


def token_maker(verifier: TokenVerifier):  # type: ignore[no-untyped-def]
    """A function making development bearer tokens (see the ``token`` fixture)."""

    def make(
        subject: str,
        *,
        roles: list[tuple[str, str]] | None = None,
        client_id: str | None = None,
        name: str | None = None,
        acr: str | None = None,
    ) -> str:
        extra = {k: v for k, v in (("name", name), ("acr", acr)) if v}
        return verifier.dev_signer.sign(
            subject,
            ttl=timedelta(hours=1),
            roles=[RoleGrant(Role(r), m) for r, m in roles or []],
            client_id=client_id,
            extra=extra or None,
        )

    return make


class GraphQLClient:
    """Posts GraphQL documents as a given caller and returns the decoded response."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def __call__(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        token: str | None = None,
        expect_errors: bool = False,
        operation_name: str | None = None,
    ) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        payload: dict[str, Any] = {"query": query, "variables": variables or {}}
        if operation_name:
            payload["operationName"] = operation_name
        response = await self.client.post("/graphql", json=payload, headers=headers)
        assert response.status_code < 500, response.text
        body = response.json()
        if not expect_errors:
            assert "errors" not in body, body
        check_answer(query, operation_name, body)
        return body


@asynccontextmanager
async def graphql_on(
    settings: Settings, db: Any, verifier: TokenVerifier, **updates: Any
) -> AsyncIterator[GraphQLClient]:
    """A GraphQL client of an app whose settings differ by ``updates`` (a data directory,
    a graph file, a limit), on the test's database."""
    app = create_app(settings.model_copy(update=updates), database=db, verifier=verifier)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://kizuna.test") as client:
        yield GraphQLClient(client)


@pytest.fixture
def gql(client: httpx.AsyncClient) -> GraphQLClient:
    return GraphQLClient(client)


@asynccontextmanager
async def shared_world(
    engine: AsyncEngine, settings: Settings, verifier: TokenVerifier
) -> AsyncIterator[tuple[RollbackDatabase, GraphQLClient]]:
    """One database transaction and API client for a whole module (a world built once).

    Tests of the module then run inside a savepoint each (``savepoint_per_test``), so what
    one test writes (reads logged, consents revoked) never reaches the next.
    """
    async with engine.connect() as connection:
        transaction = await connection.begin()
        database = RollbackDatabase(engine, connection)
        app = create_app(settings, database=database, verifier=verifier)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://kizuna.test") as http:
            yield database, GraphQLClient(http)
        await transaction.rollback()


@asynccontextmanager
async def savepoint_per_test(database: RollbackDatabase) -> AsyncIterator[None]:
    """Undo everything a test wrote on a module-wide connection."""
    savepoint = await database.connection.begin_nested()
    try:
        yield
    finally:
        await savepoint.rollback()
