"""Revision 0004 upgrades a database that has data, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from backend.db.migrate import downgrade, upgrade
from backend.db.session import create_engine
from backend.municipalities import service as municipality_service
from tests.conftest import fresh_database_url

MUNICIPALITIES = sa.table(
    "municipalities",
    sa.column("code", sa.String),
    sa.column("prefecture_code", sa.String),
    sa.column("name_ja", sa.String),
    sa.column("name_kana", sa.String),
    sa.column("name_en", sa.String),
    sa.column("updated_at", sa.DateTime(timezone=True)),
)
ROLE_GRANTS = sa.table(
    "role_grants",
    sa.column("id", sa.Uuid),
    sa.column("subject", sa.String),
    sa.column("role", sa.String),
    sa.column("municipality_code", sa.String),
    sa.column("granted_by", sa.String),
    sa.column("created_at", sa.DateTime(timezone=True)),
)


async def test_upgrade_keeps_referenced_municipalities_and_round_trips(
    database_url: str, tmp_path: Path
) -> None:
    engine = create_engine(await fresh_database_url(database_url, "migration_0004", tmp_path))
    try:
        # given a database of revision 0003 holding 会津若松市 and a staff grant referring to it
        await upgrade(engine, "0003")
        now = datetime.now(UTC)
        async with engine.begin() as connection:
            await connection.execute(
                MUNICIPALITIES.insert().values(
                    code="07202",
                    prefecture_code="07",
                    name_ja="会津若松市",
                    name_kana="あいづわかまつし",
                    name_en="Aizuwakamatsu",
                    updated_at=now,
                )
            )
            await connection.execute(
                ROLE_GRANTS.insert().values(
                    id=uuid.uuid4(),
                    subject="staff",
                    role="city_staff",
                    municipality_code="07202",
                    granted_by="cli",
                    created_at=now,
                )
            )

        # when it is upgraded (foreign keys enforced) and the national list is synced
        await upgrade(engine)
        async with engine.begin() as connection:
            session = AsyncSession(bind=connection)
            written = await municipality_service.sync_reference(session, served_selection=["07"])
            await session.flush()
            aizu = (
                await connection.execute(
                    sa.text(
                        "SELECT name_kana, name_en, served, prefecture_name_ja "
                        "FROM municipalities WHERE code = '07202'"
                    )
                )
            ).one()
            aoba = (
                await connection.execute(
                    sa.text("SELECT name_kana, name_en FROM municipalities WHERE code = '04101'")
                )
            ).one()
            grants = (await connection.execute(sa.text("SELECT count(*) FROM role_grants"))).one()

        # then the old rows and references survive, and names may now be unknown (null)
        assert written == 1918
        assert tuple(aizu) == ("あいづわかまつし", "Aizuwakamatsu", True, "福島県")
        assert tuple(aoba) == (None, None)
        assert grants[0] == 1

        # and the downgrade turns unknown names back into empty ones
        await downgrade(engine, "0003")
        async with engine.connect() as connection:
            aoba = (
                await connection.execute(
                    sa.text("SELECT name_kana, name_en FROM municipalities WHERE code = '04101'")
                )
            ).one()
        assert tuple(aoba) == ("", "")
        await upgrade(engine)
    finally:
        await engine.dispose()
