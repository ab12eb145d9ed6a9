"""A real uvicorn server in a background thread, for tests that need true concurrency.

ASGI calls in the test's own event loop cannot show that a request leaves the server's loop
free: here the server has its own loop and thread, and clients are ordinary HTTP clients.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """Serve ``app`` on a free loopback port; yields its base URL."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None, access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="live-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the live server did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@dataclass
class Attack:
    """Clients that keep sending one request each until stopped; their answers are kept."""

    base_url: str
    payloads: list[dict[str, Any]]
    answers: list[httpx.Response] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)

    def _send(self, payload: dict[str, Any]) -> None:
        # A short timeout, so a server stuck in one request does not hold the test forever.
        with httpx.Client(base_url=self.base_url, timeout=5.0) as client:
            while not self._stop.is_set():
                try:
                    self.answers.append(client.post("/graphql", json=payload))
                except httpx.TimeoutException:
                    continue

    def __enter__(self) -> Attack:
        for payload in self.payloads:
            thread = threading.Thread(target=self._send, args=(payload,), daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=10)


def health_latencies(base_url: str, rounds: int, pause: float = 0.1) -> list[float]:
    """Seconds each of ``rounds`` /healthz calls took (a call over 1 s times out and raises)."""
    latencies = []
    with httpx.Client(base_url=base_url, timeout=1.0) as client:
        for _ in range(rounds):
            started = time.perf_counter()
            response = client.get("/healthz")
            latencies.append(time.perf_counter() - started)
            assert response.json() == {"status": "ok"}
            time.sleep(pause)
    return latencies
