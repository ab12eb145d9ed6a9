"""Firebase Cloud Messaging (HTTP v1) through firebase-admin's ``send_each_async``.

Each message is its own HTTP request (FCM v1 has no batch call; firebase-admin sends a list
of up to 500 concurrently, as streams of one HTTP/2 connection). Every response is classified
into an ``Outcome``; the caller owns retries.

Three settings of the SDK are not public, and all are set here, in one function
(``_point_at``), with a check that fails loudly if an SDK upgrade moves them:

- the endpoint (``KIZUNA_FCM_ENDPOINT``): the SDK hard-codes https://fcm.googleapis.com; tests
  and benchmarks point it at a local fake FCM server. The OAuth token request already follows
  the ``token_uri`` of the service-account file.
- its own retries: the SDK retries 500/503 up to four times with sleeps of up to 4 s inside
  the call, which holds the whole batch (and its lease) for ~7 s, ignores Retry-After and is
  lost if the worker stops. The outbox worker retries instead, durably and with Retry-After.
- HTTP/2 on an http:// endpoint: the SDK's client speaks HTTP/2 to FCM (negotiated in TLS)
  but would fall back to HTTP/1.1 without TLS, a connection per request in flight, at twice
  the CPU a message; against a local fake it is told to use HTTP/2 directly (h2c), so tests
  and benchmarks measure the protocol production uses.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import uuid
import warnings
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import firebase_admin
import google.auth.transport.requests
import httpx
from firebase_admin import _http_client, _retry, credentials, exceptions, messaging

from .gateway import Outcome, PushMessage, SendResult, parse_retry_after

log = logging.getLogger("kizuna.push.fcm")
# firebase-admin 7.7 deprecates registration tokens in favour of Firebase installation ids
# (fid); the app registers tokens, and FCM v1 still takes them.
warnings.filterwarnings("ignore", "Message.token is deprecated", DeprecationWarning)

FCM_MAX_BATCH = 500  # send_each(_async) refuses more in one call
# Errors after which the same message may succeed later (FCM's documented retryable errors,
# a timeout or a dropped connection, and our own credentials being refused: an operator can
# fix those while the message waits).
_RETRY_CODES = {
    exceptions.UNAVAILABLE,
    exceptions.INTERNAL,
    exceptions.RESOURCE_EXHAUSTED,
    exceptions.DEADLINE_EXCEEDED,
    exceptions.UNKNOWN,
    exceptions.UNAUTHENTICATED,
    exceptions.ABORTED,
    exceptions.CANCELLED,
}


class FcmGateway:
    """Sends through FCM with a service account; ``endpoint`` replaces https://fcm.googleapis.com."""

    name = "fcm"
    max_batch = FCM_MAX_BATCH

    def __init__(
        self,
        *,
        credentials_file: Path,
        project_id: str | None = None,
        endpoint: str | None = None,
        timeout_seconds: float = 10.0,
        max_in_flight: int = 64,
    ) -> None:
        credential = credentials.Certificate(str(credentials_file))
        options: dict[str, Any] = {"httpTimeout": timeout_seconds}
        if project_id:
            options["projectId"] = project_id
        # A named app of our own: other code's default app (if any) is left alone.
        self._app = firebase_admin.initialize_app(
            credential, options, name=f"kizuna-push-{uuid.uuid4().hex[:8]}"
        )
        self._google_credential = credential.get_credential()
        self.project_id = self._app.project_id
        self._http = _point_at(
            messaging._get_messaging_service(self._app),
            endpoint=endpoint,
            project_id=self.project_id,
            credential=self._google_credential,
            timeout_seconds=timeout_seconds,
        )
        self._refresh_lock = asyncio.Lock()
        # send_each_async starts every message of its list at once, as HTTP/2 streams of one
        # connection; past the server's limit of concurrent streams (100 is usual) the HTTP
        # client queues the rest and opens more connections, and its pool then scans queue
        # and connections for every request (0.8 ms of CPU a message from 8 to 100 in
        # flight, 1.0 ms at 500, against the local fake): so a batch goes out in parts, a
        # few parts at a time.
        self._part = max(1, min(FCM_MAX_BATCH, max_in_flight // 2))
        self._in_flight = asyncio.Semaphore(max(1, max_in_flight // self._part))

    async def send(self, messages: Sequence[PushMessage]) -> list[SendResult]:
        """One result per message, in order; never raises for a refused message."""
        if not messages:
            return []
        try:
            await self._fresh_access_token()
        except Exception as exc:  # the token endpoint is down or refuses us: try again later
            log.warning("FCM access token refresh failed: %s", exc)
            return [SendResult(Outcome.RETRY, error_code="UNAUTHENTICATED")] * len(messages)
        size = min(FCM_MAX_BATCH, self._part)
        chunks = [list(messages[start : start + size]) for start in range(0, len(messages), size)]
        answers = await asyncio.gather(*(self._send_part(chunk) for chunk in chunks))
        return list(itertools.chain.from_iterable(answers))

    async def _send_part(self, chunk: list[PushMessage]) -> list[SendResult]:
        async with self._in_flight:
            return await self._send_chunk(chunk)

    async def _send_chunk(self, chunk: list[PushMessage]) -> list[SendResult]:
        try:
            built = [fcm_message(message) for message in chunk]
        except ValueError:  # a message the SDK refuses to encode: find it, send the others
            if len(chunk) == 1:
                return [SendResult(Outcome.FAILED, error_code="INVALID_MESSAGE")]
            parts = await asyncio.gather(*(self._send_chunk([m]) for m in chunk))
            return [part[0] for part in parts]
        try:
            batch = await messaging.send_each_async(built, app=self._app)
        except ValueError:
            if len(chunk) == 1:
                return [SendResult(Outcome.FAILED, error_code="INVALID_MESSAGE")]
            parts = await asyncio.gather(*(self._send_chunk([m]) for m in chunk))
            return [part[0] for part in parts]
        except exceptions.FirebaseError as exc:  # the call as a whole failed
            log.warning("FCM batch failed", extra={"error": str(exc), "messages": len(chunk)})
            return [SendResult(Outcome.RETRY, error_code=exc.code)] * len(chunk)
        return [classify(response) for response in batch.responses]

    async def _fresh_access_token(self) -> None:
        # The SDK refreshes an expired OAuth token synchronously inside the request, which
        # would block the event loop; refresh it in a thread before the batch instead.
        if self._google_credential.valid:
            return
        async with self._refresh_lock:
            if not self._google_credential.valid:
                request = google.auth.transport.requests.Request()
                await asyncio.to_thread(self._google_credential.refresh, request)

    async def aclose(self) -> None:
        await self._http.aclose()
        # delete_app closes the SDK's own clients with asyncio.run: not on this loop.
        await asyncio.to_thread(firebase_admin.delete_app, self._app)


def fcm_message(message: PushMessage) -> messaging.Message:
    """The FCM message: a visible notification, the app's data, priority and expiry."""
    ttl = timedelta(seconds=message.ttl_seconds) if message.ttl_seconds is not None else None
    apns_headers = {"apns-priority": "10" if message.urgent else "5"}
    if message.collapse_key:
        apns_headers["apns-collapse-id"] = message.collapse_key[:64]
    webpush_headers = {"Urgency": "high" if message.urgent else "normal"}
    if message.ttl_seconds is not None:
        webpush_headers["TTL"] = str(message.ttl_seconds)
    return messaging.Message(
        token=message.token,
        notification=messaging.Notification(title=message.title, body=message.body),
        data=dict(message.data),
        android=messaging.AndroidConfig(
            priority="high" if message.urgent else "normal",
            ttl=ttl,
            collapse_key=message.collapse_key,
        ),
        apns=messaging.APNSConfig(
            headers=apns_headers,
            payload=messaging.APNSPayload(aps=messaging.Aps(sound="default")),
        ),
        webpush=messaging.WebpushConfig(headers=webpush_headers),
    )


def classify(response: messaging.SendResponse) -> SendResult:
    """What one of firebase-admin's per-message responses means for the outbox."""
    if response.success:
        return SendResult.sent(response.message_id)
    error = response.exception
    if not isinstance(error, exceptions.FirebaseError):
        return SendResult(Outcome.RETRY, error_code="UNKNOWN")
    if isinstance(error, messaging.UnregisteredError):
        return SendResult(Outcome.INVALID_TOKEN, error_code="UNREGISTERED")
    if isinstance(error, messaging.SenderIdMismatchError):
        # The token belongs to another Firebase project: it can never work for us.
        return SendResult(Outcome.INVALID_TOKEN, error_code="SENDER_ID_MISMATCH")
    if isinstance(error, exceptions.InvalidArgumentError):
        if _token_rejected(error):
            return SendResult(Outcome.INVALID_TOKEN, error_code="INVALID_ARGUMENT")
        return SendResult(Outcome.FAILED, error_code="INVALID_ARGUMENT")
    code = "QUOTA_EXCEEDED" if isinstance(error, messaging.QuotaExceededError) else error.code
    if isinstance(error, messaging.ThirdPartyAuthError):
        code = "THIRD_PARTY_AUTH_ERROR"
    if error.code in _RETRY_CODES:
        return SendResult(Outcome.RETRY, error_code=code, retry_after=_retry_after(error))
    return SendResult(Outcome.FAILED, error_code=code)


def _retry_after(error: exceptions.FirebaseError) -> float | None:
    response = error.http_response
    return parse_retry_after(response.headers.get("Retry-After")) if response is not None else None


def _token_rejected(error: exceptions.InvalidArgumentError) -> bool:
    """Whether INVALID_ARGUMENT names the registration token (and not the payload)."""
    if "registration token" in str(error).lower():
        return True
    response = error.http_response
    if response is None:
        return False
    try:
        details = json.loads(response.content).get("error", {}).get("details", [])
    except (ValueError, AttributeError):
        return False
    return any(
        violation.get("field") == "message.token"
        for detail in details
        if isinstance(detail, dict)
        for violation in detail.get("fieldViolations", [])
        if isinstance(violation, dict)
    )


def _point_at(
    service: Any,
    *,
    endpoint: str | None,
    project_id: str,
    credential: Any,
    timeout_seconds: float,
) -> _http_client.HttpxAsyncClient:
    """Set the messaging service's endpoint and an async client without SDK-level retries.

    The client speaks HTTP/2 (firebase-admin's choice): on https:// it is negotiated (FCM
    multiplexes a batch over one connection); on an http:// endpoint (a local fake) it is
    HTTP/2 with prior knowledge, so tests and benchmarks take the path production takes.
    """
    if not hasattr(service, "_fcm_url") or not hasattr(service, "_async_client"):
        raise RuntimeError(
            "this firebase-admin version keeps its FCM URL or async client elsewhere: "
            "notifications/fcm.py must follow it"
        )
    if endpoint:
        service._fcm_url = f"{endpoint.rstrip('/')}/v1/projects/{project_id}/messages:send"
    no_retries = _retry.HttpxRetry(max_retries=0)
    client = _http_client.HttpxAsyncClient(
        credential=credential,
        timeout=timeout_seconds,  # type: ignore[arg-type]
        retry_config=no_retries,
    )
    if endpoint and endpoint.startswith("http://"):
        if not hasattr(client, "_async_client") or not hasattr(client, "_headers"):
            raise RuntimeError(
                "this firebase-admin version builds its HTTP client otherwise: "
                "notifications/fcm.py must follow it"
            )
        # Without TLS there is nothing to negotiate HTTP/2 with: the SDK's client would fall
        # back to HTTP/1.1, one connection per request in flight (each costing the pool a scan
        # per request: twice the CPU a message at 16 in flight). The same client, told to
        # skip HTTP/1.1.
        transport = _retry.HttpxRetryTransport(retry=no_retries, http1=False)
        client._async_client = httpx.AsyncClient(
            http2=True,
            timeout=timeout_seconds,
            headers=client._headers,
            auth=_http_client.GoogleAuthCredentialFlow(credential),
            mounts={"http://": transport, "https://": transport},
        )
    service._async_client = client
    return client
