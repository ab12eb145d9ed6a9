"""Migrations and models agree, on whichever database the suite runs against."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncEngine

from backend.db.base import Base
from backend.db.migrate import downgrade, upgrade
from backend.db.registry import import_all_models
from backend.db.session import create_engine
from tests.conftest import fresh_database_url


async def test_models_and_migrations_agree(engine: AsyncEngine) -> None:
    # given a database migrated to head by the session fixture (alembic upgrade head)
    import_all_models()

    # when the models are compared with it
    def diff(connection):  # type: ignore[no-untyped-def]
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, Base.metadata)

    async with engine.connect() as connection:
        differences = await connection.run_sync(diff)

    # then there is nothing to migrate
    assert differences == []


async def test_every_model_table_exists(engine: AsyncEngine) -> None:
    import_all_models()
    async with engine.connect() as connection:
        tables = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
    assert set(Base.metadata.tables) <= tables
    assert "alembic_version" in tables


async def test_downgrade_to_base_and_upgrade_again(database_url: str, tmp_path: Path) -> None:
    """Every revision's downgrade works, on a separate empty database of the same kind."""
    engine = create_engine(await fresh_database_url(database_url, "roundtrip", tmp_path))
    try:
        await upgrade(engine)
        await downgrade(engine, "base")
        async with engine.connect() as connection:
            tables = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
        assert tables <= {"alembic_version"}
        await upgrade(engine)
        async with engine.connect() as connection:
            tables = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
        assert set(Base.metadata.tables) <= tables
    finally:
        await engine.dispose()
