"""The demo world the API benchmarks run against: a migrated SQLite file in a folder, with
reference data and the Aizu-Wakamatsu demo hazard zones and shelters."""

from __future__ import annotations

from pathlib import Path

from backend.bootstrap import sync_reference_data
from backend.config import Environment, Settings
from backend.db.migrate import upgrade
from backend.db.session import Database
from backend.hazards import service as hazards_service
from backend.shelters import service as shelters_service


async def demo_world(folder: str) -> tuple[Settings, Database]:
    """Settings for a quiet development server in ``folder`` and its loaded database."""
    settings = Settings(
        environment=Environment.DEVELOPMENT,
        data_dir=Path(folder),
        database_url=f"sqlite+aiosqlite:///{folder}/bench.sqlite3",
        log_json=False,
        log_level="WARNING",
    )
    database = Database.from_url(settings.resolved_database_url)
    await upgrade(database.engine)
    async with database.session() as session:
        await sync_reference_data(session)
        await hazards_service.load_demo_zones(session)
        await shelters_service.load_demo_shelters(session)
    return settings, database
