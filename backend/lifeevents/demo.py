"""Demo life events of 会津若松市: 転入, 転出, 出生, 小学校入学 (invented details marked デモ)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from . import service

DEMO_FILE = Path(__file__).with_name("demo_07202.yaml")
DEMO_MUNICIPALITY = "07202"


async def seed_demo_life_events(session: AsyncSession) -> None:
    """The demo life events of Aizu-Wakamatsu, imported like any municipality's file."""
    await service.import_life_events(
        session,
        municipality_code=DEMO_MUNICIPALITY,
        data=DEMO_FILE.read_bytes(),
        source_name=DEMO_FILE.name,
    )
