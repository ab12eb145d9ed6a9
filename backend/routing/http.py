"""The offline pack over HTTP: ``GET /offline/{municipality}`` (public, no sign-in).

The body is the pack's JSON document (docs/offline-pack.md), sent gzip-compressed with
``Content-Encoding: gzip`` to clients that accept it (every phone HTTP stack does, and
decompresses it itself) and plain otherwise. Each representation has its own strong ETag
from the document's hash, so ``If-None-Match`` with either answers 304 while the pack is
unchanged. Refusals are JSON ``{"error": {code, message, messageJa}}`` with 4xx statuses
(503 when routing is not set up), never a 500.
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ..api.uploads import error
from ..config import Settings
from ..db.session import Database, RequestDatabase
from ..errors import DomainError, ErrorCode
from . import offline

OFFLINE_PATH = "/offline/{municipality}"
# Phones revalidate (a 304 costs one stamp read) at most this often; a shared cache may keep
# the pack as long: it is the same for everyone.
CACHE_CONTROL = "public, max-age=300"
_STATUS = {
    ErrorCode.VALIDATION: 422,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.OUTSIDE_ROUTING_AREA: 409,
    ErrorCode.ROUTING_UNAVAILABLE: 503,
}


def _accepts_gzip(request: Request) -> bool:
    for part in request.headers.get("accept-encoding", "").split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip().lower() in ("gzip", "*"):
            quality = params.strip().removeprefix("q=").strip() if "q=" in params else "1"
            try:
                return float(quality) > 0
            except ValueError:
                return True
    return False


def _matches(if_none_match: str, digest: str) -> bool:
    """Whether If-None-Match names this pack (either representation; weak comparison, as
    RFC 9110 asks for If-None-Match)."""
    for tag in if_none_match.split(","):
        tag = tag.strip()
        if tag == "*":
            return True
        opaque = tag.removeprefix("W/").strip('"')
        if opaque in (digest, f"{digest}-gzip"):
            return True
    return False


def offline_router(settings: Settings, database: Database) -> APIRouter:
    router = APIRouter()

    @router.api_route(OFFLINE_PATH, methods=["GET", "HEAD"])
    async def offline_pack(municipality: str, request: Request) -> Response:
        """A municipality's offline pack: walk graph, shelters, hazard zones."""
        db = RequestDatabase(database.new_session())
        try:
            async with db.session() as session:
                found = await offline.pack_inputs(session, settings, municipality)
            # No connection is held while the pack is built.
            pack = found if isinstance(found, offline.OfflinePack) else None
            if pack is None:
                assert isinstance(found, offline.PackInputs)
                pack = await offline.build_pack(found)
        except DomainError as exc:
            return error(_STATUS.get(exc.code, 409), exc.code.value, exc.message, exc.message_ja)
        finally:
            await db.close()

        digest = pack.digest[:32]
        gzipped = _accepts_gzip(request)
        headers = {
            "ETag": f'"{digest}-gzip"' if gzipped else f'"{digest}"',
            "Cache-Control": CACHE_CONTROL,
            "Vary": "Accept-Encoding",
            "X-Content-Type-Options": "nosniff",
        }
        if _matches(request.headers.get("if-none-match", ""), digest):
            return Response(status_code=304, headers=headers)
        if gzipped:
            headers["Content-Encoding"] = "gzip"
            body = pack.gzip_body
        else:
            body = await asyncio.to_thread(pack.json_body)
        headers["Content-Length"] = str(len(body))
        if request.method == "HEAD":
            return Response(headers=headers, media_type="application/json")
        return Response(content=body, headers=headers, media_type="application/json")

    return router
