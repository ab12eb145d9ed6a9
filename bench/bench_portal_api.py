"""A whole myPortal request (HTTP, token, GraphQL, database look-ups, ranking) in process,
with the demo catalog (baseline) and with 2,000 services across Fukushima's 59
municipalities, in one run.

Run: .venv/bin/python bench/bench_portal_api.py [--requests 300]

Demo world on SQLite (the demo's three portal residents: lives in 会津若松市; lives there and
commutes to 郡山市; lives in 郡山市 with a child under 6 and the consent), then the same
requests after importing 2,000 generated services (5 % prefecture-wide, a quarter with
personal rules) with `kizuna import services`' service. Printed: p50/p95 per caller.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx  # noqa: E402
from demo_world import demo_world  # noqa: E402  (bench/, the script's folder)

from backend.app import create_app  # noqa: E402
from backend.assembly import assemble  # noqa: E402
from backend.auth.tokens import DevSigner  # noqa: E402
from backend.demo import seed_demo  # noqa: E402
from backend.municipalities.reference import national_reference  # noqa: E402
from backend.portal import service as portal_service  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
DOC = (REPO / "graphql" / "operations" / "Portal.graphql").read_text()
CALLERS = ("demo-portal-aizu", "demo-portal-commuter", "demo-portal-koriyama", None)
RELATIONS = ["home", "workplace", "school", "child_school"]
HOUSEHOLD = ["child_under_6", "school_age_child", "lives_alone_65_plus"]


def generated_catalog(codes: list[str], count: int, seed: int = 7) -> bytes:
    rng = random.Random(seed)
    lines = ["services:"]
    for n in range(count):
        prefecture = rng.random() < 0.05
        owner = "07" if prefecture else rng.choice(codes)
        lines += [
            f"  - code: gen_{n:05d}",
            f'    owner: "{owner}"',
            f"    name_ja: 生成サービス{n}",
            f"    name_en: Generated service {n}",
            "    description_ja: ベンチマーク用の架空のサービスです。",
            "    description_en: A fictional service for the benchmark.",
            f"    category: {rng.choice(['procedures', 'health', 'childcare', 'elderly'])}",
            f"    url: https://example.jp/{n}",
            f"    priority: {rng.randint(0, 100)}",
        ]
        audience = [f"relations: [{', '.join(rng.sample(RELATIONS, rng.randint(1, 3)))}]"]
        if rng.random() < 0.25:
            audience.append(rng.choice(["min_age: 65", f"household: [{rng.choice(HOUSEHOLD)}]"]))
        lines.append("    audience: {" + ", ".join(audience) + "}")
    return ("\n".join(lines) + "\n").encode()


async def timed(
    client: httpx.AsyncClient, signer: DevSigner, requests: int
) -> dict[str | None, list[float]]:
    times: dict[str | None, list[float]] = {}
    for subject in CALLERS:
        headers = (
            {"authorization": f"Bearer {signer.sign(subject, ttl=timedelta(hours=1))}"}
            if subject
            else {}
        )
        variables = {} if subject else {"municipalityCode": "07202"}
        body = {"query": DOC, "variables": variables, "operationName": "MyPortal"}
        found = []
        for _ in range(requests):
            started = time.perf_counter()
            response = await client.post("/graphql", json=body, headers=headers)
            found.append((time.perf_counter() - started) * 1000.0)
            assert "errors" not in response.json(), response.text[:500]
        times[subject] = found
    return times


async def main(requests: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings, database = await demo_world(tmp)
        assemble()
        async with database.session() as session:
            await seed_demo(session, settings)
        codes = sorted(m.code for m in national_reference() if m.code.startswith("07"))[:59]
        app = create_app(settings, database=database)
        signer = DevSigner(
            settings.dev_signing_key_path,
            issuer=settings.dev_token_issuer,
            audience=settings.dev_token_audience,
        )
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            await timed(client, signer, 10)  # warm-up
            baseline = await timed(client, signer, requests)
            async with database.session() as session:
                report = await portal_service.import_services(
                    session, data=generated_catalog(codes, 2000), source_name="generated.yaml"
                )
            await timed(client, signer, 10)  # the index is rebuilt on the first request
            loaded = await timed(client, signer, requests)
        print(
            f"myPortal through GraphQL in process (SQLite), {requests} sequential requests per "
            f"caller; catalog: demo, then +{report.created} services over {len(codes)} "
            "municipalities\n"
        )
        print(f"{'caller':<24}{'demo p50':>10}{'p95':>8}{'2,000 p50':>11}{'p95':>8}")
        for subject in CALLERS:
            a, b = baseline[subject], loaded[subject]
            print(
                f"{subject or 'anonymous (07202)':<24}{np.percentile(a, 50):10.2f}"
                f"{np.percentile(a, 95):8.2f}{np.percentile(b, 50):11.2f}"
                f"{np.percentile(b, 95):8.2f}"
            )
        await database.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    asyncio.run(main(args.requests))
