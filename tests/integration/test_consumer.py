"""advisor-events → event store through the real broker: exactly once in effect."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from faststream.kafka import KafkaBroker

from appraisal.api.consumer import EventApplier, subscribe
from appraisal.application import AppraisalApplication
from contracts import ActivityMediation, DeadLetter, derive_event_id
from embedded.topics import TopicSpec, ensure_topics

pytestmark = pytest.mark.integration


def _mediations(n: int, advisors: int = 5) -> list[ActivityMediation]:
    extra: Any = ActivityMediation.model_config.get("json_schema_extra")
    base = ActivityMediation.model_validate(extra["examples"][0])
    return [
        base.model_copy(
            update={
                "source_event_id": f"M-{i}",
                "event_id": derive_event_id(base.source, f"M-{i}"),
                "advisor_id": f"A-{i % advisors}",
            }
        )
        for i in range(n)
    ]


async def _produce(bootstrap: str, topic: str, events: list[ActivityMediation]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        futures = [
            await producer.send(topic, e.model_dump_json().encode(), key=e.partition_key().encode())
            for e in events
        ]
        await asyncio.gather(*futures)
        await producer.send_and_wait(topic, b'{"type": "nonsense"}', key=b"A-0")
    finally:
        await producer.stop()


async def _end_offsets(bootstrap: str, topic: str) -> dict[int, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        parts = [TopicPartition(topic, p) for p in range(3)]
        return {tp.partition: offset for tp, offset in (await consumer.end_offsets(parts)).items()}
    finally:
        await consumer.stop()


async def _consume_until(
    bootstrap: str, topic: str, group: str, app: AppraisalApplication, expected: int, dlq: str
) -> list[DeadLetter]:
    letters: list[DeadLetter] = []
    broker = KafkaBroker(bootstrap)
    applier = EventApplier(app)

    async def to_dlq(letter: DeadLetter) -> None:
        letters.append(letter)
        await broker.publish(letter, dlq)

    subscribe(broker, applier, topic, group, to_dlq, max_records=50)
    ends = await _end_offsets(bootstrap, topic)
    async with broker:
        await broker.start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            stored = sum(_facts(app, f"A-{a}") for a in range(5))
            read_all = all(
                (applier.stored_position(topic, p)[1] or 0) >= end for p, end in ends.items()
            )
            if stored >= expected and letters and read_all:
                break
            await asyncio.sleep(0.2)
    return letters


def _facts(app: AppraisalApplication, advisor_id: str) -> int:
    app.repository.cache = None
    advisor = app.advisor(advisor_id)
    return advisor.fact_count if advisor else 0


async def test_events_are_recorded_once_and_poison_goes_to_the_dlq(
    kafka_bootstrap: str, topic_name: str, event_store_env: dict[str, str]
) -> None:
    await ensure_topics(
        kafka_bootstrap,
        [TopicSpec(topic_name, 3, "test"), TopicSpec(topic_name + "-dlq", 1, "dlq")],
    )
    events = _mediations(60)
    await _produce(kafka_bootstrap, topic_name, events)
    app = AppraisalApplication(env=event_store_env)
    letters = await _consume_until(
        kafka_bootstrap, topic_name, "appraisal-1", app, 60, topic_name + "-dlq"
    )
    assert sum(_facts(app, f"A-{a}") for a in range(5)) == 60
    assert len(letters) == 1
    used = {e.partition_key() for e in events}
    assert used == {f"A-{a}" for a in range(5)}
    assert letters[0].reasons[0].path == "$.type"
    assert letters[0].origin is not None
    assert letters[0].origin.topic == topic_name
    stored_events = app.recorder.max_notification_id()

    # Redelivery from offset 0 (a new group: Kafka forgot us, the store did not).
    letters = await _consume_until(
        kafka_bootstrap, topic_name, "appraisal-2", app, 60, topic_name + "-dlq"
    )
    assert app.recorder.max_notification_id() == stored_events  # nothing stored twice
    assert sum(_facts(app, f"A-{a}") for a in range(5)) == 60

    # The dead letter is on the DLQ topic, for the county to audit.
    consumer = AIOKafkaConsumer(
        topic_name + "-dlq", bootstrap_servers=kafka_bootstrap, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        batch = await consumer.getmany(timeout_ms=5000)
    finally:
        await consumer.stop()
    values = [r.value for records in batch.values() for r in records]
    assert values
    assert all(DeadLetter.model_validate_json(v).service == "appraisal" for v in values)
    app.close()
