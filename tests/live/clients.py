"""Clients for live-update tests and benchmarks: graphql-transport-ws over a real websocket,
and `kizuna serve` in processes of its own."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from backend.config import PROJECT_ROOT

PROTOCOL = "graphql-transport-ws"
SHELTER_OCCUPANCY = """
subscription ShelterOccupancy($shelterId: ID!) {
  shelterOccupancyChanged(shelterId: $shelterId) { id status occupancy capacity }
}"""
UPDATE_SHELTER = """
mutation($input: UpdateShelterStatusInput!) {
  updateShelterStatus(input: $input) { shelter { id occupancy } errors { code message } }
}"""


class GraphQLWebSocket:
    """One graphql-transport-ws connection: messages as decoded JSON."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection

    async def send(self, message: Any) -> None:
        await self.connection.send(message if isinstance(message, str) else json.dumps(message))

    async def receive(self, within: float = 10.0) -> dict[str, Any]:
        return json.loads(await asyncio.wait_for(self.connection.recv(), within))

    async def init(self, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        """connection_init; the server's answer (connection_ack)."""
        await self.send({"type": "connection_init", "payload": payload or {}})
        return await self.receive()

    async def subscribe(
        self, operation_id: str, query: str, variables: dict[str, Any] | None = None
    ) -> None:
        payload = {"query": query, "variables": variables or {}}
        await self.send({"type": "subscribe", "id": operation_id, "payload": payload})

    async def closed(self, within: float = 10.0) -> tuple[int | None, str]:
        """Waits for the server to close the connection: its code and reason."""
        try:
            while True:
                await asyncio.wait_for(self.connection.recv(), within)
        except ConnectionClosed as closed:
            received = closed.rcvd
            return (received.code, received.reason) if received else (None, "")


@asynccontextmanager
async def graphql_websocket(
    base_url: str, headers: dict[str, str] | None = None
) -> AsyncIterator[GraphQLWebSocket]:
    url = base_url.replace("http://", "ws://", 1) + "/graphql"
    async with connect(
        url, subprotocols=[PROTOCOL], additional_headers=headers, max_size=None, open_timeout=30
    ) as connection:  # type: ignore[list-item]
        yield GraphQLWebSocket(connection)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class ServerProcess:
    url: str
    pid: int

    def cpu_seconds(self) -> float:
        """CPU time the process has used so far (user + system; Linux /proc)."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def server_process(env: dict[str, str], *args: str) -> Iterator[ServerProcess]:
    """`kizuna serve` in a process of its own (database already prepared)."""
    port = free_port()
    clean = {k: v for k, v in os.environ.items() if not k.startswith("KIZUNA_")}
    # A file, not a pipe: a pipe nobody reads would fill up and stall the server.
    with tempfile.TemporaryFile(mode="w+") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "backend.cli",
                "serve",
                "--no-migrate",
                "--port",
                str(port),
                *args,
            ],
            cwd=PROJECT_ROOT,
            env={**clean, "KIZUNA_LOG_JSON": "false", "KIZUNA_LOG_LEVEL": "WARNING", **env},
            stdout=subprocess.DEVNULL,
            stderr=log,
            text=True,
        )
        base_url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                if process.poll() is not None:
                    log.seek(0)
                    raise RuntimeError(f"the server exited: {log.read()[-3000:]}")
                try:
                    if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError("the server did not start within 60 s")
                time.sleep(0.1)
            yield ServerProcess(base_url, process.pid)
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
