"""A fake FCM HTTP v1 server on loopback: the OAuth token endpoint of a service account and
``POST /v1/projects/{project}/messages:send``, answering as FCM does.

Tests start it in a thread (``FakeFcm().running()``), write a service-account file whose
``token_uri`` points at it, script replies per device token (success, UNREGISTERED, 429 with
Retry-After, 503, INVALID_ARGUMENT, a slow answer) and read what arrived. Benchmarks run it
standalone, in several processes sharing one port:

    python -m tests.fake_fcm --port 8599 --processes 2 --credentials /tmp/fake-sa.json

It speaks HTTP/1.1 with keep-alive (httptools parser on raw asyncio) and HTTP/2 without TLS
(h2c with prior knowledge, chosen by the connection's first bytes): FCM itself answers over
HTTP/2, which firebase-admin's client negotiates on https://, and ``notifications/fcm.py``
asks for h2c on an http:// endpoint so tests and benchmarks take the same path.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import secrets
import signal
import socket
import threading
import time
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote

import h2.config
import h2.connection
import h2.events
import h2.exceptions
import httptools
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

try:
    import orjson

    def _loads(data: bytes) -> Any:
        return orjson.loads(data)

    def _dumps(value: Any) -> bytes:
        return orjson.dumps(value)
except ImportError:  # pragma: no cover

    def _loads(data: bytes) -> Any:
        return json.loads(data)

    def _dumps(value: Any) -> bytes:
        return json.dumps(value).encode()


H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
FCM_ERROR = "type.googleapis.com/google.firebase.fcm.v1.FcmError"
STATUS_TEXT = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


@dataclass(frozen=True)
class Reply:
    """How the fake answers one send for a token."""

    status: int = 200
    rpc_status: str | None = None  # NOT_FOUND, RESOURCE_EXHAUSTED, UNAVAILABLE, ...
    fcm_code: str | None = None  # UNREGISTERED, QUOTA_EXCEEDED, ...
    message: str = ""
    retry_after: str | None = None
    delay: float = 0.0  # seconds before answering (longer than the client's timeout: a timeout)
    field_violation: str | None = None

    @classmethod
    def ok(cls, *, delay: float = 0.0) -> Reply:
        return cls(delay=delay)

    @classmethod
    def unregistered(cls) -> Reply:
        return cls(404, "NOT_FOUND", "UNREGISTERED", "Requested entity was not found.")

    @classmethod
    def invalid_token(cls) -> Reply:
        return cls(
            400,
            "INVALID_ARGUMENT",
            "INVALID_ARGUMENT",
            "The registration token is not a valid FCM registration token",
            field_violation="message.token",
        )

    @classmethod
    def invalid_payload(cls) -> Reply:
        return cls(
            400,
            "INVALID_ARGUMENT",
            "INVALID_ARGUMENT",
            "Invalid value at 'message.data[0].value'",
            field_violation="message.data[0].value",
        )

    @classmethod
    def sender_id_mismatch(cls) -> Reply:
        return cls(403, "PERMISSION_DENIED", "SENDER_ID_MISMATCH", "SenderId mismatch")

    @classmethod
    def quota_exceeded(cls, retry_after: int | str) -> Reply:
        return cls(
            429,
            "RESOURCE_EXHAUSTED",
            "QUOTA_EXCEEDED",
            "Quota exceeded for quota metric 'Sends'.",
            retry_after=str(retry_after),
        )

    @classmethod
    def unavailable(cls) -> Reply:
        return cls(503, "UNAVAILABLE", "UNAVAILABLE", "The service is currently unavailable.")

    @classmethod
    def internal(cls) -> Reply:
        return cls(500, "INTERNAL", "INTERNAL", "Internal error encountered.")

    def body(self) -> dict[str, Any]:
        details: list[dict[str, Any]] = []
        if self.fcm_code:
            details.append({"@type": FCM_ERROR, "errorCode": self.fcm_code})
        if self.field_violation:
            details.append(
                {
                    "@type": "type.googleapis.com/google.rpc.BadRequest",
                    "fieldViolations": [
                        {"field": self.field_violation, "description": self.message}
                    ],
                }
            )
        return {
            "error": {
                "code": self.status,
                "message": self.message,
                "status": self.rpc_status,
                "details": details,
            }
        }


@dataclass
class Received:
    token: str
    message: dict[str, Any]
    at: float
    status: int


@dataclass
class FakeFcm:
    """The fake's state: scripted replies, what arrived, the service-account key."""

    project_id: str = "kizuna-test"
    record: bool = True  # keep every message (tests); benchmarks only count
    default: Reply = field(default_factory=Reply.ok)
    # (n, reply): unscripted sends after the first n are answered with ``reply`` instead.
    after: tuple[int, Reply] | None = None
    received: list[Received] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    tokens_issued: int = 0
    total: int = 0
    unauthorized: int = 0
    # Connections by protocol ("HTTP/1.1", "HTTP/2"): FCM sends multiplex over HTTP/2.
    connections: Counter[str] = field(default_factory=Counter)
    subscriptions: dict[str, set[str]] = field(default_factory=dict)  # topic -> tokens
    url: str = ""
    _scripts: dict[str, deque[Reply]] = field(default_factory=dict)
    _access_secret: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    _public_key: Any = None
    _key_pem: bytes = b""
    _client_email: str = "kizuna-push@kizuna-test.iam.gserviceaccount.com"
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _shared_count: Any = None  # a slot of a multiprocessing array (standalone mode)

    def __post_init__(self) -> None:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._public_key = key.public_key()
        self._key_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        self._client_email = f"kizuna-push@{self.project_id}.iam.gserviceaccount.com"

    # -- scripting ---------------------------------------------------------------------
    def script(self, token: str, *replies: Reply) -> None:
        """Answer the next sends to ``token`` with ``replies`` in turn; the last one sticks."""
        with self._lock:
            self._scripts[token] = deque(replies)

    def _reply_for(self, token: str) -> Reply:
        with self._lock:
            queue = self._scripts.get(token)
            if not queue:
                if self.after is not None and self.total >= self.after[0]:
                    return self.after[1]
                return self.default
            return queue.popleft() if len(queue) > 1 else queue[0]

    def sends_to(self, token: str) -> list[Received]:
        with self._lock:
            return [r for r in self.received if r.token == token]

    def delivered(self) -> Counter[str]:
        """Successful sends per token."""
        with self._lock:
            return Counter(r.token for r in self.received if r.status == 200)

    # -- credentials -------------------------------------------------------------------
    def service_account(self) -> dict[str, str]:
        return {
            "type": "service_account",
            "project_id": self.project_id,
            "private_key_id": "fake-key-1",
            "private_key": self._key_pem.decode(),
            "client_email": self._client_email,
            "client_id": "100000000000000000000",
            "auth_uri": f"{self.url}/o/oauth2/auth",
            "token_uri": f"{self.url}/token",
        }

    def write_service_account(self, path: Path) -> Path:
        """A service-account file whose token_uri is this fake (set ``url`` first)."""
        assert self.url, "start the server first"
        path.write_text(json.dumps(self.service_account()), encoding="utf-8")
        return path

    # -- requests ----------------------------------------------------------------------
    def _issue_token(self, form: bytes) -> tuple[int, dict[str, Any]]:
        fields = parse_qs(form.decode())
        assertion = (fields.get("assertion") or [""])[0]
        grant = (fields.get("grant_type") or [""])[0]
        if grant != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return 400, {"error": "unsupported_grant_type"}
        try:
            # google-auth always names Google's token endpoint as the audience.
            claims = jwt.decode(
                assertion,
                self._public_key,
                algorithms=["RS256"],
                audience=["https://oauth2.googleapis.com/token", f"{self.url}/token"],
            )
        except jwt.PyJWTError as exc:
            return 400, {"error": "invalid_grant", "error_description": str(exc)}
        if claims.get("iss") != self._client_email:
            return 400, {"error": "invalid_grant", "error_description": "unknown issuer"}
        with self._lock:
            self.tokens_issued += 1
        return 200, {
            "access_token": f"ya29.fake-{self._access_secret}",
            "expires_in": 3600,
            "token_type": "Bearer",
        }

    def _authorized(self, headers: dict[bytes, bytes]) -> bool:
        expected = f"Bearer ya29.fake-{self._access_secret}".encode()
        return headers.get(b"authorization") == expected

    async def handle(
        self, method: bytes, target: bytes, headers: dict[bytes, bytes], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        path, _, query = target.partition(b"?")
        if method == b"POST" and path == b"/token":
            status, answer = self._issue_token(body)
            return status, {}, _dumps(answer)
        if method == b"GET" and path == b"/_stats":
            total = self._shared_total()
            return 200, {}, _dumps({"received": total, "tokens_issued": self.tokens_issued})
        registrations = f"/v1/projects/{self.project_id}/registrations/".encode()
        if method == b"POST" and path.startswith(registrations):
            return self._subscribe(path[len(registrations) :], query, headers)
        send_path = f"/v1/projects/{self.project_id}/messages:send".encode()
        if method != b"POST" or path != send_path:
            return 404, {}, _dumps({"error": {"code": 404, "status": "NOT_FOUND"}})
        if not self._authorized(headers):
            with self._lock:
                self.unauthorized += 1
            return 401, {}, _dumps({"error": {"code": 401, "status": "UNAUTHENTICATED"}})
        payload = _loads(body)
        message = payload.get("message", {})
        # A topic message is recorded under "/topics/NAME" (FCM fans it out to subscribers).
        topic = message.get("topic")
        token = message.get("token") or (f"/topics/{topic}" if topic else "")
        reply = self._reply_for(token)
        # Counted on arrival: a message whose sender dies (or times out) while FCM is slow to
        # answer may still reach the phone, and counts as sent.
        with self._lock:
            if self.record:
                self.received.append(Received(token, message, time.time(), reply.status))
            self.counts[token] += 1
            self.total += 1
            number = self.total
        if self._shared_count is not None:
            self._shared_count.value += 1
        if reply.delay:
            await asyncio.sleep(reply.delay)
        if reply.status != 200:
            extra = {"Retry-After": reply.retry_after} if reply.retry_after else {}
            return reply.status, extra, _dumps(reply.body())
        name = f"projects/{self.project_id}/messages/0:{number}%{os.getpid()}"
        return 200, {}, _dumps({"name": name})

    def _subscribe(
        self, rest: bytes, query: bytes, headers: dict[bytes, bytes]
    ) -> tuple[int, dict[str, str], bytes]:
        """FCM v1 topic management: ``POST registrations/{token}/topicSubscriptions?topic_name=``
        (firebase-admin 7.7 sends one such request per token)."""
        if not self._authorized(headers):
            with self._lock:
                self.unauthorized += 1
            return 401, {}, _dumps({"error": {"code": 401, "status": "UNAUTHENTICATED"}})
        token, _, action = unquote(rest.decode()).partition("/")
        topic = (parse_qs(query.decode()).get("topic_name") or [""])[0]
        if action != "topicSubscriptions" or not token or not topic:
            return 404, {}, _dumps({"error": {"code": 404, "status": "NOT_FOUND"}})
        with self._lock:
            self.subscriptions.setdefault(topic, set()).add(token)
        if self._shared_count is not None:
            self._shared_count.value += 1
        return 200, {}, b"{}"

    def _shared_total(self) -> int:
        return self.total

    # -- serving -----------------------------------------------------------------------
    async def serve(self, sock: socket.socket) -> asyncio.Server:
        loop = asyncio.get_running_loop()
        return await loop.create_server(lambda: _Connection(self), sock=sock)

    @contextlib.contextmanager
    def running(self) -> Iterator[FakeFcm]:
        """Serve on a free loopback port in a background thread."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        sock.listen(1024)
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        loop = asyncio.new_event_loop()
        started = threading.Event()
        server: list[asyncio.Server] = []

        def run() -> None:
            asyncio.set_event_loop(loop)
            server.append(loop.run_until_complete(self.serve(sock)))
            started.set()
            loop.run_forever()

        thread = threading.Thread(target=run, name="fake-fcm", daemon=True)
        thread.start()
        started.wait(10)
        try:
            yield self
        finally:

            async def stop() -> None:
                server[0].close()
                for task in asyncio.all_tasks():
                    if task is not asyncio.current_task():
                        task.cancel()

            asyncio.run_coroutine_threadsafe(stop(), loop).result(10)
            loop.call_soon_threadsafe(loop.stop)
            thread.join(10)
            loop.close()


class _Connection(asyncio.Protocol):
    """One HTTP/1.1 keep-alive connection; requests are answered in order."""

    def __init__(self, fake: FakeFcm) -> None:
        self.fake = fake
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        self._url = b""
        self._headers: dict[bytes, bytes] = {}
        self._body: list[bytes] = []
        self._queue: asyncio.Queue[tuple[bytes, bytes, dict[bytes, bytes], bytes, bool]] = (
            asyncio.Queue()
        )
        self._worker: asyncio.Task[None] | None = None
        self._first = True
        self._h2: _H2Session | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self._worker = asyncio.get_running_loop().create_task(self._answer())

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        if self._worker is not None:
            self._worker.cancel()
        if self._h2 is not None:
            self._h2.close()

    def data_received(self, data: bytes) -> None:
        if self._h2 is not None:
            self._h2.data_received(data)
            return
        if self._first and self.transport is not None:
            self._first = False
            h2c = data.startswith(H2_PREFACE[:14])  # an HTTP/2 client (prior knowledge)
            with self.fake._lock:
                self.fake.connections["HTTP/2" if h2c else "HTTP/1.1"] += 1
            if h2c:
                if self._worker is not None:
                    self._worker.cancel()
                self._h2 = _H2Session(self.fake, self.transport)
                self._h2.data_received(data)
                return
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            if self.transport is not None:
                self.transport.close()

    # httptools callbacks
    def on_message_begin(self) -> None:
        self._url, self._headers, self._body = b"", {}, []

    def on_url(self, url: bytes) -> None:
        self._url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers[name.lower()] = value

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        method = self.parser.get_method()
        path = self._url
        keep_alive = self.parser.should_keep_alive()
        self._queue.put_nowait((method, path, self._headers, b"".join(self._body), keep_alive))

    async def _answer(self) -> None:
        while True:
            method, path, headers, body, keep_alive = await self._queue.get()
            try:
                status, extra, payload = await self.fake.handle(method, path, headers, body)
            except Exception as exc:  # a broken request: answer 400 like a real server would
                status, extra, payload = 400, {}, _dumps({"error": str(exc)})
            if self.transport is None or self.transport.is_closing():
                return  # the client gave up (timeout) or went away
            head = [f"HTTP/1.1 {status} {STATUS_TEXT.get(status, 'Error')}"]
            head.append("Content-Type: application/json; charset=UTF-8")
            head.append(f"Content-Length: {len(payload)}")
            head.extend(f"{k}: {v}" for k, v in extra.items())
            if not keep_alive:
                head.append("Connection: close")
            self.transport.write(("\r\n".join(head) + "\r\n\r\n").encode() + payload)
            if not keep_alive:
                self.transport.close()
                return


class _H2Session:
    """HTTP/2 on one connection: every stream is answered on its own, as it completes."""

    def __init__(self, fake: FakeFcm, transport: asyncio.Transport) -> None:
        self.fake = fake
        self.transport = transport
        config = h2.config.H2Configuration(client_side=False, header_encoding=None)
        self.conn = h2.connection.H2Connection(config=config)
        self.conn.initiate_connection()
        self._streams: dict[int, tuple[dict[bytes, bytes], list[bytes]]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._flush()

    def data_received(self, data: bytes) -> None:
        try:
            events = self.conn.receive_data(data)
        except h2.exceptions.ProtocolError:
            self._flush()
            self.transport.close()
            return
        for event in events:
            if isinstance(event, h2.events.RequestReceived):
                headers = {bytes(k).lower(): bytes(v) for k, v in event.headers or []}
                self._streams[event.stream_id] = (headers, [])
            elif isinstance(event, h2.events.DataReceived):
                if event.stream_id in self._streams and event.data:
                    self._streams[event.stream_id][1].append(event.data)
                self.conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
            elif isinstance(event, h2.events.StreamEnded):
                self._start(event.stream_id)
            elif isinstance(event, h2.events.StreamReset):
                self._streams.pop(event.stream_id, None)
            elif isinstance(event, h2.events.ConnectionTerminated):
                self.transport.close()
        self._flush()

    def _start(self, stream_id: int) -> None:
        request = self._streams.pop(stream_id, None)
        if request is None:
            return
        task = asyncio.get_running_loop().create_task(self._answer(stream_id, *request))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _answer(self, stream_id: int, headers: dict[bytes, bytes], body: list[bytes]) -> None:
        method = headers.get(b":method", b"")
        path = headers.get(b":path", b"")
        try:
            status, extra, payload = await self.fake.handle(method, path, headers, b"".join(body))
        except Exception as exc:  # a broken request: answer 400 like a real server would
            status, extra, payload = 400, {}, _dumps({"error": str(exc)})
        if self.transport.is_closing():
            return  # the client gave up (timeout) or went away
        response = [
            (b":status", str(status).encode()),
            (b"content-type", b"application/json; charset=UTF-8"),
            (b"content-length", str(len(payload)).encode()),
            *((k.lower().encode(), v.encode()) for k, v in extra.items()),
        ]
        try:
            self.conn.send_headers(stream_id, response)
            self.conn.send_data(stream_id, payload, end_stream=True)
        except h2.exceptions.H2Error:  # the client reset the stream (a timeout) meanwhile
            return
        self._flush()

    def _flush(self) -> None:
        data = self.conn.data_to_send()
        if data and not self.transport.is_closing():
            self.transport.write(data)

    def close(self) -> None:
        for task in self._tasks:
            task.cancel()


def _serve_process(
    fake: FakeFcm, sock: socket.socket, counts: Any, index: int, delay: float
) -> None:
    """One process of the standalone server (all of them accept on the same socket)."""
    with contextlib.suppress(ImportError):
        import uvloop

        uvloop.install()
    fake._shared_count = counts[index]
    fake.record = False
    if delay:
        fake.default = Reply.ok(delay=delay)

    async def main() -> None:
        server = await fake.serve(sock)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        server.close()

    asyncio.run(main())


def main() -> None:
    parser = argparse.ArgumentParser(description="Fake FCM HTTP v1 server (loopback only)")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--project", default="kizuna-bench")
    parser.add_argument("--processes", type=int, default=1, help="processes sharing the port")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before each answer")
    parser.add_argument("--credentials", type=Path, help="write a service-account file here")
    args = parser.parse_args()

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", args.port))
    sock.listen(4096)
    sock.setblocking(False)
    fake = FakeFcm(project_id=args.project, record=False)
    fake.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    if args.credentials:
        fake.write_service_account(args.credentials)
    context = multiprocessing.get_context("fork")
    counts = [context.Value("q", 0, lock=False) for _ in range(args.processes)]
    # /_stats of any process answers the sum of all (each process writes its own slot).
    fake._shared_total = lambda: sum(c.value for c in counts)  # type: ignore[method-assign]
    children = [
        context.Process(target=_serve_process, args=(fake, sock, counts, i, args.delay))
        for i in range(args.processes)
    ]
    for child in children:
        child.start()
    print(f"fake FCM listening on {fake.url} ({args.processes} processes)", flush=True)

    def stop(*_: object) -> None:
        for child in children:
            if child.is_alive() and child.pid is not None:
                os.kill(child.pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for child in children:
        child.join()
    print(f"fake FCM received {sum(c.value for c in counts)} messages", flush=True)


if __name__ == "__main__":
    main()
