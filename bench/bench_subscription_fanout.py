"""Live-update fan-out: N websocket viewers of one view, one change, every update delivered.

Run: .venv/bin/python bench/bench_subscription_fanout.py [--subscribers 1000] [--baseline 10]
     [--changes 5] [--processes 1|2|both] [--scenario shelter|community]
     [--database-url postgresql+asyncpg://...] [--redis-url redis://127.0.0.1:6379/15]

Starts `kizuna serve` processes on a fresh database (SQLite by default; PostgreSQL: a scratch
database <name>_fanout) with the demo data, connects the viewers (one graphql-transport-ws
connection and one subscription each, from this process), then makes ``--changes`` changes
one after the other through the first server's HTTP endpoint. For each, the time from just
before the mutation is sent to each viewer's receiving the update that shows it; printed:
viewers that got every update, and p50/p95/max over all deliveries.

Runs, in this order, on the same database:
1. baseline: ``--baseline`` viewers on one server (in-process broker);
2. ``--subscribers`` viewers on one server (in-process broker);
3. (``--processes 2`` or ``both``, with Redis) the same viewers split over two servers that
   share Redis: half of them hear of the change through it.
The viewers and the servers share this machine's cores: the figures include the client.

A scenario says what the viewers watch and what changes it (``SCENARIOS``): to measure another
view, e.g. ``communityTallyChanged``, add one that returns its subscription document and
variables, the viewers' token, a function making change number k, and one telling which
change a ``next`` payload shows.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from contextlib import ExitStack, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from websockets.asyncio.client import ClientConnection, connect

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from backend.auth.tokens import TokenVerifier  # noqa: E402
from backend.config import Environment, Settings  # noqa: E402
from tests.conftest import token_maker  # noqa: E402
from tests.consent.world import TEXT_VERSION  # noqa: E402
from tests.live.clients import PROTOCOL, ServerProcess, server_process  # noqa: E402
from tests.live.conftest import prepared_database_url  # noqa: E402

Signer = Callable[..., str]


@dataclass
class Fanout:
    """One view the viewers watch, and how to change it."""

    subscription: str
    variables: dict[str, Any]
    viewer_token: str | None
    # Makes change number k (1, 2, ...) through the HTTP endpoint of the given client.
    change: Callable[[httpx.AsyncClient, int], Awaitable[None]]
    # Which change a `next` payload shows (None when it shows none of them, e.g. the first).
    changed_to: Callable[[dict[str, Any]], int | None]


async def shelter_scenario(http: httpx.AsyncClient, sign: Signer) -> Fanout:
    """shelterOccupancyChanged of one demo shelter; change k reports k people in it."""
    nearest = "{ shelters(near: {latitude: 37.5078, longitude: 139.9335}, first: 1) { id } }"
    shelter = (await http.post("/graphql", json={"query": nearest})).json()["data"]["shelters"]
    shelter_id = shelter[0]["id"]
    manager = sign("bench-manager", roles=[("shelter_manager", "07202")])
    update = """
    mutation($input: UpdateShelterStatusInput!) {
      updateShelterStatus(input: $input) { errors { code message } }
    }"""

    async def change(client: httpx.AsyncClient, k: int) -> None:
        variables = {"input": {"id": shelter_id, "status": "OPEN", "occupancy": k}}
        answer = await client.post(
            "/graphql",
            json={"query": update, "variables": variables},
            headers={"Authorization": f"Bearer {manager}"},
        )
        errors = answer.json()["data"]["updateShelterStatus"]["errors"]
        assert not errors, errors

    def changed_to(payload: dict[str, Any]) -> int | None:
        occupancy = (payload.get("data") or {}).get("shelterOccupancyChanged", {}).get("occupancy")
        return occupancy if isinstance(occupancy, int) and occupancy > 0 else None

    return Fanout(
        subscription="""
        subscription($shelterId: ID!) {
          shelterOccupancyChanged(shelterId: $shelterId) { id status occupancy capacity }
        }""",
        variables={"shelterId": shelter_id},
        viewer_token=None,  # shelters are public
        change=change,
        changed_to=changed_to,
    )


async def community_scenario(
    http: httpx.AsyncClient, sign: Signer, *, counts_only: bool = False
) -> Fanout:
    """communityTallyChanged of a town association in an open event; change k is a member's
    answer with the note "change-k". Every viewer is its leader (one token, many devices):
    each reads its own view through consent (names depend on it), so nothing is shared and
    every read is logged in the member's access log."""

    async def call(token: str, query: str, variables: dict[str, Any] | None = None) -> Any:
        answer = await http.post(
            "/graphql",
            json={"query": query, "variables": variables or {}},
            headers={"Authorization": f"Bearer {token}"},
        )
        body = answer.json()
        assert "errors" not in body, body
        return body["data"]

    suffix = f"{os.getpid()}-{time.monotonic_ns()}"
    staff = sign(f"bench-staff-{suffix}", roles=[("city_staff", "07202")])
    leader, member = f"bench-leader-{suffix}", f"bench-member-{suffix}"
    leader_token, member_token = sign(leader), sign(member, name="ベンチ 花子")
    # Counts only: change k is the k-th member's NEEDS_HELP, so the count says which change.
    others = [sign(f"{member}-{k}") for k in range(1, 41)] if counts_only else []
    community = (
        await call(
            staff,
            'mutation($n: String!) { createCommunity(input: {municipalityCode: "07202", '
            "name: $n, kind: TOWN_ASSOCIATION}) { community { id } } }",
            {"n": f"ベンチ町内会 {suffix}"},
        )
    )["createCommunity"]["community"]["id"]
    join = "mutation($c: ID!) { joinCommunity(input: {communityId: $c}) { errors { code } } }"
    for token in (leader_token, member_token, *others):
        await call(token, join, {"c": community})
    await call(
        staff,
        "mutation($c: ID!, $s: String!) { setCommunityLeader(input: {communityId: $c, "
        "subject: $s}) { errors { code } } }",
        {"c": community, "s": leader},
    )
    await call(
        member_token,
        "mutation($input: GrantConsentInput!) { grantConsent(input: $input) { errors { code } } }",
        {
            "input": {
                "purpose": "community_safety",
                "recipient": {"kind": "ROLE", "role": "community"},
                "items": ["name", "safety_status"],
                "textVersion": TEXT_VERSION["community_safety"],
            }
        },
    )
    event = (
        await call(
            staff,
            'mutation { openDisasterEvent(input: {name: "ベンチ", municipalityCodes: '
            '["07202"]}) { event { id } } }',
        )
    )["openDisasterEvent"]["event"]["id"]
    report = """
    mutation($input: ReportSafetyInput!) { reportSafety(input: $input) { errors { code } } }"""

    made: list[int] = []  # change numbers in the order made (the n-th is needsHelp == n)

    async def change(client: httpx.AsyncClient, k: int) -> None:
        made.append(k)
        status, who = (
            ("NEEDS_HELP", others[len(made) - 1]) if counts_only else ("SAFE", member_token)
        )
        answer = await client.post(
            "/graphql",
            json={
                "query": report,
                "variables": {"input": {"eventId": event, "status": status, "note": f"change-{k}"}},
            },
            headers={"Authorization": f"Bearer {who}"},
        )
        errors = answer.json()["data"]["reportSafety"]["errors"]
        assert not errors, errors

    def changed_to(payload: dict[str, Any]) -> int | None:
        tally = (payload.get("data") or {}).get("communityTallyChanged") or {}
        if counts_only:
            needs_help = int((tally.get("tally") or {}).get("needsHelp") or 0)
            return made[needs_help - 1] if 0 < needs_help <= len(made) else None
        for entry in tally.get("members", []):
            note = entry.get("note") or ""
            if note.startswith("change-"):
                return int(note.removeprefix("change-"))
        return None

    people = "" if counts_only else "members { name status note }"
    return Fanout(
        subscription=(
            "subscription($c: ID!, $e: ID!) { communityTallyChanged(communityId: $c, "
            f"eventId: $e) {{ tally {{ safe needsHelp unanswered total }} {people} }} }}"
        ),
        variables={"c": community, "e": event},
        viewer_token=leader_token,
        change=change,
        changed_to=changed_to,
    )


SCENARIOS: dict[str, Callable[[httpx.AsyncClient, Signer], Awaitable[Fanout]]] = {
    "shelter": shelter_scenario,
    "community": community_scenario,
    # A leader's live counter (no names): leaders share one read per change.
    "community-counts": lambda http, sign: community_scenario(http, sign, counts_only=True),
}


@dataclass
class Tally:
    """How many viewers got each change; ``all_got(k)`` returns once every one did."""

    viewers: int
    got: dict[int, int] = field(default_factory=dict)
    done: dict[int, asyncio.Event] = field(default_factory=dict)

    def count(self, k: int) -> None:
        self.got[k] = self.got.get(k, 0) + 1
        if self.got[k] == self.viewers:
            self.event(k).set()

    def event(self, k: int) -> asyncio.Event:
        return self.done.setdefault(k, asyncio.Event())


@dataclass
class Viewer:
    connection: ClientConnection
    tally: Tally
    arrivals: dict[int, float] = field(default_factory=dict)
    task: asyncio.Task[None] | None = None


async def open_viewer(
    base_url: str, fanout: Fanout, ready: asyncio.Semaphore, tally: Tally
) -> Viewer:
    async with ready:  # a bounded number of handshakes at once
        connection = await connect(
            base_url.replace("http://", "ws://") + "/graphql",
            subprotocols=[PROTOCOL],  # type: ignore[list-item]
            open_timeout=60,
            ping_interval=None,
        )
        init = {"Authorization": f"Bearer {fanout.viewer_token}"} if fanout.viewer_token else {}
        await connection.send(json.dumps({"type": "connection_init", "payload": init}))
        assert json.loads(await connection.recv())["type"] == "connection_ack"
        payload = {"query": fanout.subscription, "variables": fanout.variables}
        await connection.send(json.dumps({"type": "subscribe", "id": "1", "payload": payload}))
        first = json.loads(await connection.recv())
        assert first["type"] == "next" and "errors" not in first["payload"], first
    viewer = Viewer(connection, tally)
    viewer.task = asyncio.create_task(listen(viewer, fanout))
    return viewer


async def listen(viewer: Viewer, fanout: Fanout) -> None:
    async for raw in viewer.connection:
        arrived = time.perf_counter()
        message = json.loads(raw)
        if message.get("type") == "next":
            k = fanout.changed_to(message["payload"])
            if k is not None and k not in viewer.arrivals:
                viewer.arrivals[k] = arrived
                viewer.tally.count(k)


@dataclass
class Result:
    label: str
    viewers: int
    connect_seconds: float
    latencies_ms: list[float]
    complete: int  # viewers that got every change
    mutation_ms: float  # median round trip of the mutation itself
    server_cpu_ms: float  # CPU of the server processes per change (HTTP client's too)
    client_cpu_ms: float  # CPU of this process (the viewers) per change


async def warm_up(servers: list[ServerProcess], fanout: Fanout, k: int) -> None:
    """One change nobody times: first requests load tokens' keys, roles and caches."""
    async with httpx.AsyncClient(base_url=servers[0].url, timeout=60) as http:
        await fanout.change(http, k)


async def run(
    label: str,
    servers: list[ServerProcess],
    fanout: Fanout,
    viewers: int,
    changes: int,
    first_change: int,
) -> Result:
    ready, tally = asyncio.Semaphore(100), Tally(viewers)
    started = time.perf_counter()
    opened = await asyncio.gather(
        *(open_viewer(servers[i % len(servers)].url, fanout, ready, tally) for i in range(viewers))
    )
    connect_seconds = time.perf_counter() - started
    # A viewer reads again at most every subscription_min_interval_seconds (0.2 s by
    # default): the first change must not fall within that of the first read.
    await asyncio.sleep(0.3)
    latencies: list[float] = []
    answered: list[float] = []  # the mutation's own round trip
    server_cpu = sum(server.cpu_seconds() for server in servers)
    client_cpu = time.process_time()
    async with httpx.AsyncClient(base_url=servers[0].url, timeout=60) as http:
        for k in range(first_change, first_change + changes):
            sent = time.perf_counter()
            await fanout.change(http, k)
            answered.append((time.perf_counter() - sent) * 1000)
            with suppress(TimeoutError):
                await asyncio.wait_for(tally.event(k).wait(), 60)
            latencies += [(v.arrivals[k] - sent) * 1000 for v in opened if k in v.arrivals]
            await asyncio.sleep(0.3)  # past the per-viewer coalescing interval
    server_cpu = sum(server.cpu_seconds() for server in servers) - server_cpu
    client_cpu = time.process_time() - client_cpu
    complete = sum(
        all(k in v.arrivals for k in range(first_change, first_change + changes)) for v in opened
    )
    for viewer in opened:
        await viewer.connection.close()
        if viewer.task is not None:
            viewer.task.cancel()
    return Result(
        label,
        viewers,
        connect_seconds,
        latencies,
        complete,
        mutation_ms=float(np.median(answered)),
        server_cpu_ms=server_cpu / changes * 1000,
        client_cpu_ms=client_cpu / changes * 1000,
    )


def report(result: Result, changes: int) -> None:
    values = np.asarray(result.latencies_ms) if result.latencies_ms else np.asarray([np.nan])
    print(
        f"{result.label:<38} {result.complete:>5}/{result.viewers:<5} got all {changes}  "
        f"p50 {np.percentile(values, 50):6.0f} ms  p95 {np.percentile(values, 95):6.0f} ms  "
        f"max {np.max(values):6.0f} ms  (mutation {result.mutation_ms:4.0f} ms)  "
        f"CPU/change: servers {result.server_cpu_ms:5.0f} ms, "
        f"viewers {result.client_cpu_ms:5.0f} ms  (connected in {result.connect_seconds:.1f} s)"
    )


def redis_reachable(url: str) -> bool:
    from redis import Redis
    from redis.exceptions import RedisError

    try:
        return bool(Redis.from_url(url, socket_connect_timeout=2).ping())
    except (RedisError, OSError):
        return False


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=1_000)
    parser.add_argument("--baseline", type=int, default=10)
    parser.add_argument("--changes", type=int, default=5)
    parser.add_argument("--processes", choices=["1", "2", "both"], default="both")
    parser.add_argument("--scenario", choices=sorted(SCENARIOS), default="shelter")
    parser.add_argument("--database-url", default=None)
    parser.add_argument(
        "--redis-url", default=os.environ.get("KIZUNA_REDIS_URL", "redis://127.0.0.1:6379/15")
    )
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="kizuna-fanout-"))
    base_url = args.database_url or f"sqlite+aiosqlite:///{folder / 'base.sqlite3'}"
    database_url = await prepared_database_url(base_url, "fanout", folder)
    data_dir = folder / "state"
    sign = token_maker(
        TokenVerifier(Settings(environment=Environment.DEVELOPMENT, data_dir=data_dir))
    )
    env = {
        "KIZUNA_ENVIRONMENT": "development",
        "KIZUNA_DATABASE_URL": database_url,
        "KIZUNA_DATA_DIR": str(data_dir),
        "KIZUNA_PUSH_WORKER_IN_PROCESS": "false",
        "KIZUNA_SUBSCRIPTIONS_PER_CONNECTION": "1",
    }
    print(
        f"database {database_url.split('@')[-1]}; scenario {args.scenario}; {os.cpu_count()} cores"
    )
    next_change = 1
    if args.processes in ("1", "both"):
        with server_process(env) as server:
            async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
                fanout = await SCENARIOS[args.scenario](http, sign)
            await warm_up([server], fanout, next_change)
            next_change += 1
            for label, count in (
                (f"baseline: {args.baseline} viewers, 1 process", args.baseline),
                (f"{args.subscribers} viewers, 1 process", args.subscribers),
            ):
                result = await run(label, [server], fanout, count, args.changes, next_change)
                next_change += args.changes
                report(result, args.changes)
    if args.processes in ("2", "both"):
        if not redis_reachable(args.redis_url):
            print(f"2 processes: skipped, no Redis at {args.redis_url}")
            return
        shared = {
            **env,
            "KIZUNA_REDIS_URL": args.redis_url,
            "KIZUNA_REDIS_CHANNEL_PREFIX": f"kizuna-bench:{os.getpid()}:",
        }
        with ExitStack() as stack:
            servers = [stack.enter_context(server_process(shared)) for _ in range(2)]
            async with httpx.AsyncClient(base_url=servers[0].url, timeout=60) as http:
                fanout = await SCENARIOS[args.scenario](http, sign)
            await warm_up(servers, fanout, next_change)
            next_change += 1
            label = f"{args.subscribers} viewers, 2 processes + Redis"
            result = await run(label, servers, fanout, args.subscribers, args.changes, next_change)
            report(result, args.changes)


if __name__ == "__main__":
    asyncio.run(main())
