"""Binary uploads and downloads over HTTP (files do not belong in GraphQL), for every domain.

An endpoint reads the raw body counting as it streams in, refusing past its cap without
keeping the whole body (the app's body limit answers 413 first when the path is registered
with it); judges the type by magic bytes, never by the client's Content-Type; keeps files
in a local directory, written whole or not at all (an object store would replace
``write_file`` / ``read_file``). Failures are JSON ``{"error": {code, message, messageJa}}``
with 4xx statuses, never a 500.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from ..db.session import Database, RequestDatabase
from ..errors import DomainError, ErrorCode, LimitExceeded, NotFound
from ..principal import Principal, Viewer
from .bearer import bearer_token

JPEG, PNG, WEBP, PDF = "image/jpeg", "image/png", "image/webp", "application/pdf"
EXTENSIONS = {JPEG: "jpg", PNG: "png", WEBP: "webp", PDF: "pdf"}

_STATUS = {
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.NOT_PERMITTED: 403,
    ErrorCode.LIMIT_EXCEEDED: 413,
    ErrorCode.VALIDATION: 415,
    ErrorCode.UNAUTHENTICATED: 401,
}


def sniff(data: bytes, allowed: Collection[str]) -> str | None:
    """The media type of a JPEG, PNG, WebP or PDF by its magic bytes, if ``allowed``."""
    if data.startswith(b"\xff\xd8\xff"):
        found = JPEG
    elif data.startswith(b"\x89PNG\r\n\x1a\n"):
        found = PNG
    elif len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        found = WEBP
    elif data.startswith(b"%PDF-"):
        found = PDF
    else:
        return None
    return found if found in allowed else None


def check_size(data: bytes, cap: int, *, what: str, what_ja: str, field: str) -> None:
    """LimitExceeded past ``cap`` bytes."""
    if len(data) > cap:
        raise LimitExceeded(
            f"{what} may be at most {cap} bytes", f"{what_ja}は{cap}バイトまでです", field=field
        )


def write_file(folder: Path, name: str, data: bytes, old: str | None = None) -> None:
    """Blocking: write ``name`` whole (a partial file never shows), dropping ``old``."""
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / f".{name}.{uuid.uuid4().hex}.part"
    partial.write_bytes(data)
    os.replace(partial, folder / name)
    if old and old != name:
        (folder / old).unlink(missing_ok=True)


async def read_file(folder: Path, name: str, not_found: NotFound) -> bytes:
    """A stored file (off the event loop); ``not_found`` when it is gone."""
    try:
        return await asyncio.to_thread((folder / name).read_bytes)
    except FileNotFoundError:
        raise not_found from None


def error(status: int, code: str, message: str, message_ja: str) -> JSONResponse:
    return JSONResponse(
        status_code=status,
        content={"error": {"code": code, "message": message, "messageJa": message_ja}},
    )


def domain_error(exc: DomainError) -> JSONResponse:
    return error(_STATUS.get(exc.code, 409), exc.code.value, exc.message, exc.message_ja)


@dataclass(frozen=True, slots=True)
class Callers:
    """Who calls an endpoint: the app's token check and its loaders of roles and residents
    (given by the app, so that this module depends on no domain)."""

    database: Database
    authenticate: Callable[[str], Awaitable[Principal]]
    load_roles: Callable[[AsyncSession, Principal], Awaitable[Principal]]
    load_resident: Callable[[AsyncSession, Principal, bool], Awaitable[Any]]

    async def principal(self, request: Request) -> Principal:
        """The bearer's principal (anonymous without one; a bad token is the app's 401)."""
        token = bearer_token(request)
        return Principal.anonymous() if token is None else await self.authenticate(token)

    async def viewer(self, db: RequestDatabase, principal: Principal) -> Viewer:
        async with db.session() as session:
            principal = await self.load_roles(session, principal)
            resident = (
                await self.load_resident(session, principal, False)
                if principal.is_resident
                else None
            )
        return Viewer(principal=principal, resident_id=resident.id if resident else None)

    async def upload(
        self,
        request: Request,
        *,
        cap: int,
        what: str,
        what_ja: str,
        store: Callable[[AsyncSession, Viewer, bytes], Awaitable[dict[str, Any]]],
    ) -> JSONResponse:
        """A resident's upload: the body read under ``cap``, then ``store`` in a transaction
        (its answer is the JSON reply)."""
        principal = await self.principal(request)
        if not principal.is_resident:
            return error(401, "UNAUTHENTICATED", "a resident sign-in is required",
                         "ログインが必要です")  # fmt: skip
        received = bytearray()
        # Counted as it arrives: an oversized body is refused without being kept whole.
        async for chunk in request.stream():
            received += chunk
            if len(received) > cap:
                return error(413, "LIMIT_EXCEEDED", f"{what} may be at most {cap} bytes",
                             f"{what_ja}は{cap}バイトまでです")  # fmt: skip
        db = RequestDatabase(self.database.new_session())
        try:
            viewer = await self.viewer(db, principal)
            async with db.transaction() as session:
                answer = await store(session, viewer, bytes(received))
        except DomainError as exc:
            return domain_error(exc)
        finally:
            await db.close()
        return JSONResponse(content=answer)

    async def download(
        self,
        request: Request,
        fetch: Callable[[AsyncSession, Viewer], Awaitable[tuple[bytes, str]]],
    ) -> Response:
        """A file for whoever ``fetch`` lets read it (it raises NotFound for anyone else)."""
        principal = await self.principal(request)
        db = RequestDatabase(self.database.new_session())
        try:
            viewer = await self.viewer(db, principal)
            async with db.session() as session:
                data, media_type = await fetch(session, viewer)
        except DomainError as exc:
            return domain_error(exc)
        finally:
            await db.close()
        # Private: a shared cache must never hand one person's file to someone else.
        return Response(
            content=data,
            media_type=media_type,
            headers={"Cache-Control": "private, max-age=300", "X-Content-Type-Options": "nosniff"},
        )

    def router(
        self,
        path: str,
        *,
        cap: int,
        what: str,
        what_ja: str,
        store: Callable[[AsyncSession, Viewer, bytes, str], Awaitable[dict[str, Any]]],
        fetch: Callable[[AsyncSession, Viewer, str], Awaitable[tuple[bytes, str]]],
    ) -> APIRouter:
        """``POST path[?id=...]`` uploads through ``store``, ``GET path?id=...`` downloads
        through ``fetch`` (each given the ``id`` query parameter, "" when absent)."""
        router = APIRouter()

        @router.post(path)
        async def upload(request: Request, id: str = "") -> JSONResponse:
            async def stored(session: AsyncSession, viewer: Viewer, data: bytes) -> Any:
                return await store(session, viewer, data, id)

            return await self.upload(request, cap=cap, what=what, what_ja=what_ja, store=stored)

        @router.get(path)
        async def download(request: Request, id: str = "") -> Response:
            async def fetched(session: AsyncSession, viewer: Viewer) -> tuple[bytes, str]:
                return await fetch(session, viewer, id)

            return await self.download(request, fetched)

        return router
