"""The fake FCM server answers what bench/push_topics.py measures: topic messages and topic
subscriptions, sent by firebase-admin over HTTP/2 as FcmGateway sends."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from firebase_admin import messaging

from notifications.fcm import FcmGateway, fcm_message
from notifications.gateway import PushMessage
from tests.fake_fcm import FakeFcm


@pytest.fixture
def fake() -> Iterator[FakeFcm]:
    with FakeFcm().running() as fake:
        yield fake


@pytest.fixture
async def gateway(fake: FakeFcm, tmp_path: Path) -> AsyncIterator[FcmGateway]:
    gateway = FcmGateway(
        credentials_file=fake.write_service_account(tmp_path / "service-account.json"),
        endpoint=fake.url,
        timeout_seconds=2.0,
    )
    # The SDK's topic-management URL is fixed like its send URL; the benchmark points it too.
    service = messaging._get_messaging_service(gateway._app)
    service._fcm_topic_url = f"{fake.url}/v1/projects/{gateway.project_id}/registrations"
    yield gateway
    await gateway.aclose()


async def test_a_topic_message_and_subscriptions_reach_the_fake(
    fake: FakeFcm, gateway: FcmGateway
) -> None:
    tokens = [f"device-{index}" for index in range(3)]
    answer = await messaging.subscribe_to_topic_async(
        tokens, "municipality-07202-ja", app=gateway._app
    )
    assert (answer.success_count, answer.failure_count) == (3, 0)

    message = fcm_message(PushMessage(token="unused", title="避難指示", body="全域", urgent=True))
    message.token, message.topic = None, "municipality-07202-ja"
    batch = await messaging.send_each_async([message], app=gateway._app)

    assert batch.success_count == 1
    assert fake.subscriptions == {"municipality-07202-ja": set(tokens)}
    [received] = fake.sends_to("/topics/municipality-07202-ja")
    assert received.message["notification"]["title"] == "避難指示"
    assert received.message["android"]["priority"] == "high"
    assert fake.connections["HTTP/2"] == 1
