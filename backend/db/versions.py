"""Data stamps: a value the database changes on every write to a table, for caches.

A trigger on the table (see migration 0006) sets its row here to a fresh random value in the
writing transaction, so every process sees the change the moment it commits, whoever wrote
(a request, another worker, the CLI, an import). Random rather than counted: a rolled-back
write must not leave a value that a later write would reuse. Read the stamp before the data
it guards, so that what is cached under a stamp is never older than the stamp.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, String, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class DataVersion(Base):
    __tablename__ = "data_versions"

    # The table whose writes move the stamp.
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    stamp: Mapped[int] = mapped_column(BigInteger)


_STAMP = select(DataVersion.stamp).where(DataVersion.name == bindparam("name"))


async def data_stamp(session: AsyncSession, table: str) -> int | None:
    """The current stamp of ``table`` (None when it has no stamping trigger)."""
    return await session.scalar(_STAMP, {"name": table})
