"""HTTP endpoints of alerts: a relay posts telegrams in; active alerts go out as a CAP feed.

``GET /cap/alerts.atom`` lists the active actual alerts, each entry a CAP 1.2 document.

``POST /alerts/ingest`` takes one XML document (JMA disaster XML, CAP 1.2, EDXL-DE, L-Alert
PCXML, bare or in SOAP) from a system client named in ``KIZUNA_ALERT_RELAY_CLIENTS``. The body
is capped before it is read whole; a refused document is answered 422 with its reason (and
kept in the rejection log), never a 500.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from ..api.bearer import BearerRejected, bearer_token
from ..api.ids import encode_id
from ..auth.tokens import AuthenticationError, TokenVerifier
from ..config import Settings
from ..db.session import Database, RequestDatabase
from ..errors import DomainError
from .drafts import AlertSource
from .feed import active_alerts_feed
from .ingest import ingest_document

XML_TYPES = {
    "application/xml",
    "text/xml",
    "application/soap+xml",
    "application/cap+xml",
    "application/atom+xml",
}
_FORMATS = {"jma": AlertSource.JMA, "cap": AlertSource.CAP, "l-alert": AlertSource.L_ALERT}


def _error(status: int, code: str, message: str, message_ja: str) -> JSONResponse:
    return JSONResponse(
        status_code=status,
        content={"error": {"code": code, "message": message, "messageJa": message_ja}},
    )


def alert_router(settings: Settings, database: Database, verifier: TokenVerifier) -> APIRouter:
    router = APIRouter()

    @router.post("/alerts/ingest")
    async def ingest(request: Request, format: str | None = None) -> JSONResponse:
        token = bearer_token(request)  # a malformed header: BearerRejected, the app's 401
        if token is None:
            return _error(401, "UNAUTHENTICATED", "a bearer token is required",
                          "認証トークンが必要です")  # fmt: skip
        try:
            principal = await verifier.verify(token)
        except AuthenticationError as exc:
            raise BearerRejected(str(exc)) from exc
        if not principal.is_system_client or principal.client_id not in (
            settings.alert_relay_client_ids
        ):
            return _error(403, "NOT_PERMITTED", "this client may not post alerts",
                          "このクライアントは警報を送信できません")  # fmt: skip
        expect = None
        if format is not None:
            expect = _FORMATS.get(format)
            if expect is None:
                return _error(400, "VALIDATION", "format must be jma, cap or l-alert",
                              "形式は jma・cap・l-alert のいずれかで指定してください")  # fmt: skip
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type not in XML_TYPES:
            return _error(415, "VALIDATION", "send the document as application/xml",
                          "文書は application/xml として送信してください")  # fmt: skip
        data = await request.body()
        name = request.headers.get("x-document-name", "posted document")[:200]
        db = RequestDatabase(database.new_session())
        try:
            report = await ingest_document(
                db, settings, data, name, via="http", client=principal.client_id, expect=expect
            )
        except DomainError as exc:
            return _error(422, exc.code.value, exc.message, exc.message_ja)
        finally:
            await db.close()
        return JSONResponse(
            content={
                "document": report.name,
                "sha256": report.sha256,
                "alerts": [
                    {
                        "id": encode_id("Alert", outcome.alert_id) if outcome.alert_id else None,
                        "eventKey": draft.event_key,
                        "kind": draft.kind.value,
                        "action": draft.action.value,
                        "status": draft.status.value,
                        "duplicate": outcome.duplicate,
                        "concernedResidents": outcome.concerned_residents,
                    }
                    for draft, outcome in report.outcomes
                ],
            }
        )

    @router.get("/cap/alerts.atom")
    async def cap_feed() -> Response:
        """Active alerts as CAP 1.2 in Atom: public information, no sign-in."""
        db = RequestDatabase(database.new_session())
        try:
            async with db.session() as session:
                body = await active_alerts_feed(session, settings.cap_sender)
        finally:
            await db.close()
        return Response(content=body, media_type="application/atom+xml; charset=utf-8")

    return router
