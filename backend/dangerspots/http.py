"""Danger-spot photos over HTTP (binary bodies do not belong in GraphQL).

``POST /danger-spots/photo?id=<DangerSpot id>``: the reporter sends the image as the raw body
(JPEG, PNG or WebP, judged by its magic bytes, at most ``danger_spot_photo_max_bytes``: the
app's body limit answers 413 past it, counting as the body streams in, and so does this
handler). ``GET`` the same address returns
it to anyone who may see the spot. Failures are JSON ``{"error": {code, message, messageJa}}``
with 4xx statuses, never a 500.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from ..api.bearer import BearerRejected, bearer_token
from ..api.ids import decode_id
from ..auth import service as auth_service
from ..auth.tokens import AuthenticationError, TokenVerifier
from ..config import Settings
from ..db.session import Database, RequestDatabase
from ..errors import DomainError, ErrorCode
from ..principal import Principal, Viewer
from ..residents import service as residents_service
from . import service
from .types import PHOTO_PATH, DangerSpotType

_STATUS = {
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.NOT_PERMITTED: 403,
    ErrorCode.LIMIT_EXCEEDED: 413,
    ErrorCode.VALIDATION: 415,
    ErrorCode.UNAUTHENTICATED: 401,
}


def _error(status: int, code: str, message: str, message_ja: str) -> JSONResponse:
    return JSONResponse(
        status_code=status,
        content={"error": {"code": code, "message": message, "messageJa": message_ja}},
    )


def _domain_error(exc: DomainError) -> JSONResponse:
    return _error(_STATUS.get(exc.code, 409), exc.code.value, exc.message, exc.message_ja)


def danger_spot_router(
    settings: Settings, database: Database, verifier: TokenVerifier
) -> APIRouter:
    router = APIRouter()

    async def principal_of(request: Request) -> Principal:
        token = bearer_token(request)  # a malformed header: BearerRejected, the app's 401
        if token is None:
            return Principal.anonymous()
        try:
            return await verifier.verify(token)
        except AuthenticationError as exc:
            raise BearerRejected(str(exc)) from exc

    async def viewer_of(db: RequestDatabase, principal: Principal) -> Viewer:
        async with db.session() as session:
            principal = await auth_service.with_granted_roles(session, principal)
            resident_id = (
                await residents_service.resident_id_by_subject(session, principal.subject)
                if principal.is_resident and principal.subject
                else None
            )
        return Viewer(principal=principal, resident_id=resident_id)

    @router.post(PHOTO_PATH)
    async def upload(request: Request, id: str = "") -> JSONResponse:
        principal = await principal_of(request)
        if not principal.is_resident:
            return _error(401, "UNAUTHENTICATED", "a resident sign-in is required",
                          "ログインが必要です")  # fmt: skip
        cap = settings.danger_spot_photo_max_bytes
        received = bytearray()
        # Counted as it arrives: an oversized body is refused without being kept whole.
        async for chunk in request.stream():
            received += chunk
            if len(received) > cap:
                return _error(413, "LIMIT_EXCEEDED", f"a photo may be at most {cap} bytes",
                              f"写真は{cap}バイトまでです")  # fmt: skip
        db = RequestDatabase(database.new_session())
        try:
            spot_id = decode_id(service.GRAPHQL_TYPE, id)
            viewer = await viewer_of(db, principal)
            async with db.transaction() as session:
                view = await service.attach_photo(
                    session, settings, viewer, spot_id=spot_id, data=bytes(received)
                )
                spot = DangerSpotType.from_view(view)
        except DomainError as exc:
            return _domain_error(exc)
        finally:
            await db.close()
        return JSONResponse(
            content={"id": spot.id, "photoUrl": spot.photo_url, "bytes": len(received)}
        )

    @router.get(PHOTO_PATH)
    async def download(request: Request, id: str = "") -> Response:
        principal = await principal_of(request)
        db = RequestDatabase(database.new_session())
        try:
            spot_id = decode_id(service.GRAPHQL_TYPE, id)
            viewer = await viewer_of(db, principal)
            async with db.session() as session:
                data, media_type = await service.read_photo(
                    session, settings, viewer, spot_id=spot_id
                )
        except DomainError as exc:
            return _domain_error(exc)
        finally:
            await db.close()
        # Private: a shared cache must never hand a scoped report's photo to someone else.
        return Response(
            content=data,
            media_type=media_type,
            headers={"Cache-Control": "private, max-age=300", "X-Content-Type-Options": "nosniff"},
        )

    return router
