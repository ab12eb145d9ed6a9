"""Per-request loader for municipalities by code."""

from __future__ import annotations

from typing import TYPE_CHECKING

from strawberry.dataloader import DataLoader

from . import repository
from .models import Municipality

if TYPE_CHECKING:
    from ..api.context import Context


def municipality_loader(context: Context) -> DataLoader[str, Municipality | None]:
    async def load(codes: list[str]) -> list[Municipality | None]:
        async with context.db.session() as session:
            found = {m.code: m for m in await repository.get_many(session, codes)}
        return [found.get(code) for code in codes]

    return DataLoader(load_fn=load)


async def load_municipality(context: Context, code: str | None) -> Municipality | None:
    """The municipality with ``code`` through the request's loader."""
    if code is None:
        return None
    return await context.loader("municipality", municipality_loader).load(code)
