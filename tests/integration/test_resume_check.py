"""A log that only seems shorter than the stored position is checked against the broker
before a new epoch re-reads it (Tansu once reported end 6078 for 6,079 stored records)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaTimeoutError
from eventsourcing.persistence import OperationalError
from faststream.kafka import KafkaBroker

from appraisal.api.consumer import EventApplier, _SeekToStoredPosition, fetch_record, subscribe
from appraisal.application import AppraisalApplication
from contracts import ActivityMediation, DeadLetter, derive_event_id
from embedded.topics import TopicSpec, ensure_topics

pytestmark = pytest.mark.integration


def _mediations(prefix: str, n: int) -> list[ActivityMediation]:
    extra: Any = ActivityMediation.model_config.get("json_schema_extra")
    base = ActivityMediation.model_validate(extra["examples"][0])
    return [
        base.model_copy(
            update={
                "source_event_id": f"{prefix}-{i}",
                "event_id": derive_event_id(base.source, f"{prefix}-{i}"),
                "advisor_id": "A-1",
            }
        )
        for i in range(n)
    ]


async def _produce(bootstrap: str, topic: str, events: list[ActivityMediation]) -> None:
    await ensure_topics(bootstrap, [TopicSpec(topic, 1, "test")])
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for e in events:
            await producer.send_and_wait(topic, e.model_dump_json().encode(), key=b"A-1")
    finally:
        await producer.stop()


async def _read_all(bootstrap: str, tp: TopicPartition, n: int) -> list[Any]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign([tp])
        consumer.seek(tp, 0)
        records: list[Any] = []
        while len(records) < n:
            batch = await consumer.getmany(tp, timeout_ms=5000)
            assert batch, "the records are not there"
            records.extend(batch[tp])
        return records
    finally:
        await consumer.stop()


class _Consumer:
    """The group consumer as the rebalance listener sees it, with the broker's answers
    about the log given by the test (an undercounted end, say)."""

    def __init__(self, tp: TopicPartition, end: int, committed: int) -> None:
        self.tp, self.end, self._committed = tp, end, committed
        self.seeks: list[int] = []

    async def beginning_offsets(self, parts: list[TopicPartition]) -> dict[TopicPartition, int]:
        return dict.fromkeys(parts, 0)

    async def end_offsets(self, parts: list[TopicPartition]) -> dict[TopicPartition, int]:
        return dict.fromkeys(parts, self.end)

    async def committed(self, tp: TopicPartition) -> int:
        return self._committed

    def seek(self, tp: TopicPartition, offset: int) -> None:
        self.seeks.append(offset)


class _Subscriber:
    def __init__(self, consumer: _Consumer) -> None:
        self.consumer = consumer


async def _assign(
    applier: EventApplier, bootstrap: str, tp: TopicPartition, end: int, committed: int
) -> int:
    """Assign `tp` as the broker would with these answers; the offset sought."""
    consumer = _Consumer(tp, end, committed)
    listener = _SeekToStoredPosition(applier, _Subscriber(consumer), bootstrap)
    await listener.on_partitions_assigned({tp})
    assert len(consumer.seeks) == 1
    return consumer.seeks[0]


def _store(applier: EventApplier, tp: TopicPartition, records: list[Any]) -> None:
    good, dead = applier.parse(records)
    assert not dead
    applier.store(tp.topic, tp.partition, records, [item for _, item in good])


async def test_fetch_record_finds_a_record_only_where_the_log_has_one(
    kafka_bootstrap: str, topic_name: str
) -> None:
    await _produce(kafka_bootstrap, topic_name, _mediations("F", 10))
    tp = TopicPartition(topic_name, 0)
    last = await fetch_record(kafka_bootstrap, tp, 9)
    assert last is not None
    assert last.offset == 9
    assert await fetch_record(kafka_bootstrap, tp, 10, timeout_s=0.5) is None  # the end
    assert await fetch_record(kafka_bootstrap, tp, 50, timeout_s=0.5) is None  # past it


async def test_an_undercounted_end_resumes_in_the_same_epoch(
    kafka_bootstrap: str, topic_name: str, tmp_path: Any
) -> None:
    env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "e.db")}
    app = AppraisalApplication(env=env)
    applier = EventApplier(app)
    tp = TopicPartition(topic_name, 0)
    await _produce(kafka_bootstrap, topic_name, _mediations("U", 10))
    _store(applier, tp, await _read_all(kafka_bootstrap, tp, 10))  # stored position 10

    # The broker says the log ends at 9 although record 9 is there and stored.
    assert await _assign(applier, kafka_bootstrap, tp, end=9, committed=10) == 10
    assert applier.stored_position(tp.topic, tp.partition) == (0, 10)  # same epoch
    app.close()


@pytest.mark.parametrize(
    ("records_now", "reported_end"),
    [
        pytest.param(5, 5, id="recreated, shorter: nothing at our position - 1"),
        pytest.param(12, 5, id="recreated, refilled, end undercounted: a record we never stored"),
    ],
)
async def test_a_recreated_log_starts_a_new_epoch(
    kafka_bootstrap: str, topic_name: str, tmp_path: Any, records_now: int, reported_end: int
) -> None:
    env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "e.db")}
    app = AppraisalApplication(env=env)
    applier = EventApplier(app)
    tp = TopicPartition(topic_name, 0)
    # The old log's 10 records were stored (from another topic: this one is "the new log").
    old = TopicPartition(topic_name + "-old", 0)
    await _produce(kafka_bootstrap, old.topic, _mediations("OLD", 10))
    old_records = await _read_all(kafka_bootstrap, old, 10)
    good, _ = applier.parse(old_records)
    app.record([item for _, item in good], applier.positions.tracking(tp.topic, 0, 0, 10))
    # The new log holds other events.
    await _produce(kafka_bootstrap, topic_name, _mediations("NEW", records_now))

    assert await _assign(applier, kafka_bootstrap, tp, end=reported_end, committed=10) == 0
    assert applier.stored_position(tp.topic, tp.partition) == (1, None)  # epoch 1, from 0
    app.close()


async def test_without_a_bootstrap_a_seemingly_shorter_log_is_re_read_as_before(
    kafka_bootstrap: str, topic_name: str, tmp_path: Any
) -> None:
    env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "e.db")}
    app = AppraisalApplication(env=env)
    applier = EventApplier(app)
    tp = TopicPartition(topic_name, 0)
    await _produce(kafka_bootstrap, topic_name, _mediations("B", 3))
    _store(applier, tp, await _read_all(kafka_bootstrap, tp, 3))
    consumer = _Consumer(tp, end=2, committed=3)
    listener = _SeekToStoredPosition(applier, _Subscriber(consumer), None)
    await listener.on_partitions_assigned({tp})
    assert consumer.seeks == [0]
    app.close()


async def _consume(
    bootstrap: str, topic: str, applier: EventApplier, done: Any, dead_letters: Any = None
) -> None:
    """Run the real batch subscriber (batches of 3) until `done()` or 30 s."""
    broker = KafkaBroker(bootstrap)

    async def no_letters(letter: DeadLetter) -> None:
        raise AssertionError(f"unexpected dead letter: {letter}")

    subscribe(broker, applier, topic, f"g-{topic}", dead_letters or no_letters, max_records=3)
    async with broker:
        await broker.start()
        for _ in range(300):
            if done():
                break
            await asyncio.sleep(0.1)


def _fact_count(app: AppraisalApplication) -> int:
    app.repository.cache = None
    advisor = app.advisor("A-1")
    return advisor.fact_count if advisor else 0


async def test_a_position_not_decided_at_assignment_is_decided_at_the_first_batch(
    kafka_bootstrap: str, topic_name: str, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """aiokafka swallows a failing rebalance listener (here: the store away at
    assignment); the partition then starts where the group says. The stored position
    of a replaced log must not be trusted then: the decision is taken again."""
    env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "e.db")}
    app = AppraisalApplication(env=env)
    applier = EventApplier(app)
    # 10 records of an old log stored at epoch 0; the new log has 5 others.
    old = TopicPartition(topic_name + "-old", 0)
    await _produce(kafka_bootstrap, old.topic, _mediations("OLD", 10))
    good, _ = applier.parse(await _read_all(kafka_bootstrap, old, 10))
    app.record([item for _, item in good], applier.positions.tracking(topic_name, 0, 0, 10))
    await _produce(kafka_bootstrap, topic_name, _mediations("NEW", 5))

    real_stored_position = EventApplier.stored_position
    calls = 0

    def store_away_at_first(self: EventApplier, topic: str, partition: int) -> Any:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise OperationalError("the store did not answer")
        return real_stored_position(self, topic, partition)

    monkeypatch.setattr(EventApplier, "stored_position", store_away_at_first)
    await _consume(kafka_bootstrap, topic_name, applier, lambda: _fact_count(app) >= 15)
    assert _fact_count(app) == 15  # all 5 new ones, none skipped
    assert calls == 2
    assert applier.stored_position(topic_name, 0) == (1, 5)  # a new epoch, read to the end
    app.close()


async def test_a_batch_whose_handling_failed_is_read_again(
    kafka_bootstrap: str, topic_name: str, tmp_path: Any
) -> None:
    """A dead letter that cannot be published fails its batch; the next batch then
    starts past it, and the partition goes back rather than skip the failed one."""
    env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "e.db")}
    app = AppraisalApplication(env=env)
    applier = EventApplier(app)
    events = _mediations("G", 10)
    await _produce(kafka_bootstrap, topic_name, events[:5])
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(topic_name, b'{"type": "nonsense"}', key=b"A-1")  # offset 5
    finally:
        await producer.stop()
    await _produce(kafka_bootstrap, topic_name, events[5:])
    letters: list[DeadLetter] = []

    async def dlq_away_once(letter: DeadLetter) -> None:
        if not letters:
            letters.append(letter)
            raise KafkaTimeoutError("the DLQ did not answer in time")
        letters.append(letter)

    await _consume(
        kafka_bootstrap,
        topic_name,
        applier,
        lambda: _fact_count(app) >= 10 and len(letters) >= 2,
        dlq_away_once,
    )
    assert _fact_count(app) == 10  # offsets 3 and 4, in the failed batch, too
    assert len(letters) == 2  # the failed attempt and the one that went out
    assert applier.stored_position(topic_name, 0) == (0, 11)
    app.close()
