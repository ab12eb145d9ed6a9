"""Danger-spot photos over HTTP (binary bodies do not belong in GraphQL).

``POST /danger-spots/photo?id=<DangerSpot id>``: the reporter sends the image as the raw body
(JPEG, PNG or WebP, judged by its magic bytes, at most ``danger_spot_photo_max_bytes``: the
app's body limit answers 413 past it, counting as the body streams in, and so does this
handler). ``GET`` the same address returns it to anyone who may see the spot. The reading,
refusals and replies are ``backend/api/uploads.py``'s.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy.ext.asyncio import AsyncSession

from ..api.ids import decode_id
from ..api.uploads import Callers
from ..config import Settings
from ..principal import Viewer
from . import service
from .types import PHOTO_PATH, DangerSpotType

__all__ = ["PHOTO_PATH", "danger_spot_router"]


def danger_spot_router(settings: Settings, callers: Callers) -> APIRouter:
    async def store(session: AsyncSession, viewer: Viewer, data: bytes, id: str) -> dict[str, Any]:
        spot_id = decode_id(service.GRAPHQL_TYPE, id)
        view = await service.attach_photo(session, settings, viewer, spot_id=spot_id, data=data)
        spot = DangerSpotType.from_view(view)
        return {"id": spot.id, "photoUrl": spot.photo_url, "bytes": len(data)}

    async def fetch(session: AsyncSession, viewer: Viewer, id: str) -> tuple[bytes, str]:
        spot_id = decode_id(service.GRAPHQL_TYPE, id)
        return await service.read_photo(session, settings, viewer, spot_id=spot_id)

    return callers.router(
        PHOTO_PATH,
        cap=settings.danger_spot_photo_max_bytes,
        what="a photo",
        what_ja="写真",
        store=store,
        fetch=fetch,
    )
