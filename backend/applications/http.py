"""Application attachments over HTTP (binary bodies do not belong in GraphQL).

``POST /applications/attachments``: a resident sends a photo or PDF of a document as the raw
body (JPEG, PNG or PDF by its magic bytes, at most ``application_attachment_max_bytes``);
the answer's ``id`` goes into ``submitApplicationBundle``'s ``attachments``.
``GET /applications/attachments?id=<ApplicationAttachment id>`` returns it to its uploader
and, once sent, to the staff who may see its application; anyone else gets 404. The reading,
refusals and replies are ``backend/api/uploads.py``'s.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy.ext.asyncio import AsyncSession

from ..api.ids import decode_id, encode_id
from ..api.uploads import Callers
from ..config import Settings
from ..principal import Viewer
from . import service
from .types import ATTACHMENT_PATH, attachment_url

__all__ = ["ATTACHMENT_PATH", "application_router"]


def application_router(settings: Settings, callers: Callers) -> APIRouter:
    async def store(session: AsyncSession, viewer: Viewer, data: bytes, _id: str) -> dict[str, Any]:
        attachment = await service.upload_attachment(session, settings, viewer, data)
        return {
            "id": encode_id("ApplicationAttachment", attachment.id),
            "mediaType": attachment.media_type,
            "size": attachment.size,
            "url": attachment_url(attachment.id),
        }

    async def fetch(session: AsyncSession, viewer: Viewer, id: str) -> tuple[bytes, str]:
        attachment_id = decode_id("ApplicationAttachment", id, field="id")
        return await service.read_attachment(session, settings, viewer, attachment_id)

    return callers.router(
        ATTACHMENT_PATH,
        cap=settings.application_attachment_max_bytes,
        what="an attachment",
        what_ja="添付ファイル",
        store=store,
        fetch=fetch,
    )
