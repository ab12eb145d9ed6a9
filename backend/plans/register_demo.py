"""A small synthetic support-needed register for the Aizu-Wakamatsu demo (every person 架空).

Three entries describe demo neighbours (same name and birth date as their profiles), so the
staff register screen shows suggested matches; the other two are people who never signed in.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from . import register_service
from .models import RegisterConsent, SupportRegisterEntry
from .register import EntryData, Reason

DEMO_MUNICIPALITY = "07202"
DEMO_REGISTER = (
    EntryData(
        register_number="D-0001",
        name="鈴木 和子",
        kana="すずき かずこ",
        birth_date=date(1941, 2, 2),
        gender="female",
        address="会津若松市門田町（架空）",
        phone="000-0000-1001",
        reasons=(Reason("care_level", "要介護2"), Reason("elderly_alone")),
        consent_status=RegisterConsent.AGREED,
    ),
    EntryData(
        register_number="D-0002",
        name="山口 トシ",
        kana="やまぐち とし",
        birth_date=date(1936, 2, 14),
        gender="female",
        address="会津若松市門田町（架空）",
        phone="000-0000-1002",
        reasons=(Reason("care_level", "要介護3"), Reason("physical_disability", "2級")),
        consent_status=RegisterConsent.AGREED,
    ),
    EntryData(
        register_number="D-0003",
        name="田中 美代子",
        kana="たなか みよこ",
        birth_date=date(1939, 4, 4),
        gender="female",
        address="会津若松市門田町（架空）",
        reasons=(Reason("elderly_household"),),
        consent_status=RegisterConsent.UNANSWERED,
    ),
    EntryData(
        register_number="D-0004",
        name="架空 次郎",
        kana="かくう じろう",
        birth_date=date(1990, 8, 15),
        gender="male",
        address="会津若松市追手町（架空）",
        reasons=(Reason("intellectual_disability", "A1"),),
        consent_status=RegisterConsent.AGREED,
    ),
    EntryData(
        register_number="D-0005",
        name="架空 三枝",
        kana="かくう みえ",
        birth_date=date(1958, 12, 1),
        gender="female",
        address="会津若松市追手町（架空）",
        reasons=(Reason("mental_disability", "2級"), Reason("other", "夜間は一人")),
        consent_status=RegisterConsent.REFUSED,
    ),
)


async def seed_register(session: AsyncSession) -> dict[str, SupportRegisterEntry]:
    """Load the demo register of 07202; entries by register number (none linked yet)."""
    await register_service.import_register(
        session, municipality_code=DEMO_MUNICIPALITY, entries=DEMO_REGISTER, actor="demo"
    )
    entries = await register_service.entries_of(session, DEMO_MUNICIPALITY)
    return {e.register_number: e for e in entries}
