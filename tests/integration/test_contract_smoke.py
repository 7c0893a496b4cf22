"""Smoke: a contract event goes through the real broker with FastStream and comes back equal."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from faststream.kafka import KafkaBroker

from contracts import PUBLISHED_MODELS, ActivityLecture
from embedded.topics import TopicSpec, ensure_topics

pytestmark = pytest.mark.integration


def _example() -> ActivityLecture:
    extra: Any = ActivityLecture.model_config.get("json_schema_extra")
    return ActivityLecture.model_validate(extra["examples"][0])


async def test_a_published_event_round_trips_through_the_real_broker(
    kafka_bootstrap: str, topic_name: str
) -> None:
    await ensure_topics(kafka_bootstrap, [TopicSpec(topic_name, 2, "smoke")])
    sent = _example()
    received: asyncio.Future[ActivityLecture] = asyncio.get_running_loop().create_future()
    broker = KafkaBroker(kafka_bootstrap)

    @broker.subscriber(topic_name, group_id=f"smoke-{topic_name}", auto_offset_reset="earliest")
    async def handle(event: ActivityLecture) -> None:
        if not received.done():
            received.set_result(event)

    async with broker:
        await broker.start()
        await broker.publish(sent, topic_name, key=sent.partition_key().encode())
        got = await asyncio.wait_for(received, timeout=30)
    assert got == sent
    assert type(got) is PUBLISHED_MODELS[sent.type]
