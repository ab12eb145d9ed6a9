"""A municipality-wide alert: one FCM message per device (token lists) vs one per topic.

Run: .venv/bin/python bench/push_topics.py [--devices 10000] [--municipalities 59]

Everything goes through firebase-admin (HTTP/2, as the outbox worker sends) to the fake FCM
server (`python -m tests.fake_fcm`), in this process, without a database (the outbox's own
cost is `bench/push_fanout.py`'s log-gateway figure, per row: one row per device for token
lists, one per municipality and language for topics). Three figures:

- token list: every device its own message, in the device's language and naming its places,
  with a result per device (UNREGISTERED deactivates it) -- what Kizuna does;
- topic: one message per municipality and language (`messaging.Message(topic=...)`); FCM
  fans it out on its side, which a fake cannot measure;
- subscriptions: what topics cost beforehand: firebase-admin 7.7's `subscribe_to_topic_async`
  sends one request per device (FCM v1's per-registration API), again whenever a device
  registers, moves or changes language.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import sys
import tempfile
import time
from pathlib import Path

from firebase_admin import messaging

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.push_fanout import start_fake  # noqa: E402
from notifications.fcm import FcmGateway, fcm_message  # noqa: E402
from notifications.gateway import PushMessage  # noqa: E402

LANGUAGES = ("ja", "en")


def alert(token: str) -> PushMessage:
    return PushMessage(
        token=token,
        title="避難指示",
        body="会津若松市全域に避難指示が発令されました。直ちに避難してください。",
        data={"alertId": "bench", "category": "emergency"},
        urgent=True,
        ttl_seconds=86_400,
        collapse_key="bench",
    )


def topic_message(topic: str) -> messaging.Message:
    built = fcm_message(alert("unused"))
    built.token, built.topic = None, topic
    return built


async def timed(label: str, requests: int, work: object) -> tuple[str, int, float, float]:
    cpu, started = time.process_time(), time.perf_counter()
    await work  # type: ignore[misc]
    return label, requests, time.perf_counter() - started, time.process_time() - cpu


async def main(args: argparse.Namespace) -> None:
    folder = Path(tempfile.mkdtemp(prefix="kizuna-push-topics-"))
    fake, url = start_fake(args.fake_processes, folder / "service-account.json")
    gateway = FcmGateway(credentials_file=folder / "service-account.json", endpoint=url)
    service = messaging._get_messaging_service(gateway._app)
    service._fcm_topic_url = f"{url}/v1/projects/{gateway.project_id}/registrations"
    tokens = [f"bench-{index:07d}-" + "x" * 140 for index in range(args.devices)]
    topics = [f"municipality-{code:05d}-{lang}" for code in range(args.municipalities)
              for lang in LANGUAGES]  # fmt: skip
    rows = []
    try:
        await gateway.send([alert(token) for token in tokens[:10]])  # token, connection

        async def token_lists() -> None:
            for start in range(0, len(tokens), 500):
                results = await gateway.send([alert(t) for t in tokens[start : start + 500]])
                assert all(r.outcome.value == "sent" for r in results), results[:3]

        async def by_topic() -> None:
            for start in range(0, len(topics), 500):
                chunk = [topic_message(t) for t in topics[start : start + 500]]
                batch = await messaging.send_each_async(chunk, app=gateway._app)
                assert batch.failure_count == 0, batch.responses[0].exception

        async def subscribe() -> None:
            for start in range(0, len(tokens), 1000):
                answer = await messaging.subscribe_to_topic_async(
                    tokens[start : start + 1000], topics[0], app=gateway._app
                )
                assert answer.failure_count == 0, answer.errors[:1]

        rows.append(await timed("token lists (a message per device)", len(tokens), token_lists()))
        rows.append(await timed("topics (per municipality and language)", len(topics), by_topic()))
        rows.append(await timed("subscribing the devices to topics", len(tokens), subscribe()))
    finally:
        await gateway.aclose()
        fake.terminate()
        fake.wait(10)
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(
        f"{args.devices:,} devices in {args.municipalities} municipalities; firebase-admin over "
        f"HTTP/2 to the fake FCM server ({args.fake_processes} process(es), "
        f"{usage.ru_utime + usage.ru_stime:.1f} s CPU in all)\n"
    )
    print("| what | requests | seconds | requests/s | client CPU a request |")
    print("|---|---|---|---|---|")
    for label, requests, seconds, cpu in rows:
        print(
            f"| {label} | {requests:,} | {seconds:.3f} | {requests / seconds:,.0f} | "
            f"{cpu / requests * 1e6:,.0f} us |"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=10_000)
    parser.add_argument("--municipalities", type=int, default=59, help="Fukushima has 59")
    parser.add_argument("--fake-processes", type=int, default=1)
    asyncio.run(main(parser.parse_args()))
