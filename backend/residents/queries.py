"""Resident queries."""

from __future__ import annotations

import strawberry

from ..api.context import KInfo
from .types import MeType, signed_in_resident


@strawberry.type
class ResidentQueries:
    @strawberry.field(description="The signed-in resident; the record is created on first sign-in.")
    async def me(self, info: KInfo) -> MeType:
        return MeType.from_model(await signed_in_resident(info))
