"""The Kafka side of the appraisal service: advisor-events in, facts recorded exactly once.

A FastStream batch subscriber with manual acknowledgement. Each batch is split by
partition; each partition's records go into the event store in one transaction
together with the partition's next offset (tracking). Only after every
partition of the batch is stored is the offset committed to Kafka. On
assignment, partitions seek to the stored position (see `appraisal.positions`).

Poison events (not valid contract v1, or not translatable to a fact) go to the
DLQ with their reasons *before* the batch is stored, so a crash can duplicate a
dead letter but never lose one; the partition keeps moving.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiokafka import ConsumerRebalanceListener, TopicPartition
from aiokafka.structs import ConsumerRecord
from eventsourcing.persistence import IntegrityError, ProcessRecorder
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage

from appraisal.application import AppraisalApplication, Recordable
from appraisal.positions import PartitionPositions, decide_resume
from appraisal.translate import UntranslatableEvent, to_recordable
from contracts import (
    ContractViolationError,
    DeadLetter,
    KafkaPosition,
    Violation,
    parse_published_event,
)

log = logging.getLogger(__name__)


@dataclass
class PartitionOutcome:
    recorded: int = 0
    duplicates: int = 0
    dead_letters: int = 0
    skipped: int = 0  # below the stored position: already applied
    applied_types: dict[str, int] = field(default_factory=dict)
    duplicate_types: dict[str, int] = field(default_factory=dict)
    dead_letter_codes: list[str] = field(default_factory=list)
    seconds: float = 0.0


DeadLetterSink = Callable[[DeadLetter], Awaitable[None]]


class EventApplier:
    """Applies one partition's records to the event store; the core of the consumer."""

    def __init__(self, app: AppraisalApplication, consumer_name: str = "appraisal") -> None:
        assert isinstance(app.recorder, ProcessRecorder)
        self.app = app
        self.positions = PartitionPositions(app.recorder, consumer_name)
        self._epochs: dict[tuple[str, int], int] = {}
        self._next: dict[tuple[str, int], int] = {}  # next offset to apply, per partition
        self.store_healthy = True

    def epoch(self, topic: str, partition: int) -> int:
        key = (topic, partition)
        if key not in self._epochs:
            self._epochs[key] = self.positions.epoch(topic, partition)
        return self._epochs[key]

    def resume_offset(
        self, topic: str, partition: int, committed: int | None, beginning: int, end: int
    ) -> int:
        """Where to read the partition from; starts a new epoch if the log was reset."""
        epoch = self.positions.epoch(topic, partition)
        recorded = self.positions.recorded(topic, partition, epoch)
        resume = decide_resume(recorded, committed, beginning, end)
        if resume.new_epoch:
            epoch += 1
            self.positions.start_epoch(topic, partition, epoch)
            log.warning(
                "%s[%d]: %s (stored position %s, log %d..%d): epoch %d, re-reading from %d",
                topic, partition, resume.reason, recorded, beginning, end, epoch, resume.offset,
            )  # fmt: skip
        self._epochs[(topic, partition)] = epoch
        self._next[(topic, partition)] = resume.offset
        return resume.offset

    def parse(
        self, records: Sequence[ConsumerRecord[Any, Any]]
    ) -> tuple[list[tuple[ConsumerRecord[Any, Any], Recordable]], list[DeadLetter]]:
        good: list[tuple[ConsumerRecord[Any, Any], Recordable]] = []
        dead: list[DeadLetter] = []
        for record in records:
            try:
                event = parse_published_event(record.value or b"")
                good.append((record, to_recordable(event)))
            except ContractViolationError as exc:
                dead.append(_dead_letter(record, list(exc.violations)))
            except UntranslatableEvent as exc:
                dead.append(
                    _dead_letter(
                        record, [Violation(code="untranslatable", path="$", message=str(exc))]
                    )
                )
        return good, dead

    def store(
        self,
        topic: str,
        partition: int,
        records: Sequence[ConsumerRecord[Any, Any]],
        items: Sequence[Recordable],
    ) -> PartitionOutcome:
        """Store the facts of `records` and the partition's next offset in one transaction."""
        outcome = PartitionOutcome()
        epoch = self.epoch(topic, partition)
        next_offset = records[-1].offset + 1
        try:
            result = self.app.record(
                items, self.positions.tracking(topic, partition, epoch, next_offset)
            )
        except IntegrityError:
            # Someone stored this position already (a rebalance overlapped us): the
            # facts are there; event ids make a retry a no-op, and the store says so.
            stored = self.positions.recorded(topic, partition, epoch) or 0
            if stored < next_offset:
                raise
            self._next[(topic, partition)] = stored
            outcome.skipped = len(records)
            return outcome
        self._next[(topic, partition)] = next_offset
        self.store_healthy = True
        outcome.recorded = len(result.recorded)
        outcome.duplicates = len(result.duplicates)
        recorded = set(result.recorded)
        for item in items:
            kind = type(item.fact).__name__
            counts = (
                outcome.applied_types if item.fact.event_id in recorded else outcome.duplicate_types
            )
            counts[kind] = counts.get(kind, 0) + 1
        return outcome

    def next_offset(self, topic: str, partition: int) -> int:
        """The first offset not yet stored (records below it were applied before)."""
        key = (topic, partition)
        if key not in self._next:
            stored = self.positions.recorded(topic, partition, self.epoch(topic, partition))
            self._next[key] = stored or 0
        return self._next[key]


def _dead_letter(record: ConsumerRecord[Any, Any], reasons: list[Violation]) -> DeadLetter:
    try:
        event = json.loads(record.value) if record.value else None
    except (ValueError, UnicodeDecodeError):
        event = None
    return DeadLetter(
        event=event if isinstance(event, dict) else None,
        reasons=reasons,
        service="appraisal",
        at=datetime.now(UTC),
        origin=KafkaPosition(topic=record.topic, partition=record.partition, offset=record.offset),
    )


class _SeekToStoredPosition(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, applier: EventApplier, subscriber: Any) -> None:
        self.applier = applier
        self.subscriber = subscriber

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        return None

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        consumer = self.subscriber.consumer
        if consumer is None or not assigned:
            return
        parts = sorted(assigned)
        beginnings = await consumer.beginning_offsets(parts)
        ends = await consumer.end_offsets(parts)
        for tp in parts:
            committed = await consumer.committed(tp)
            offset = await asyncio.to_thread(
                self.applier.resume_offset,
                tp.topic,
                tp.partition,
                committed,
                beginnings[tp],
                ends[tp],
            )
            consumer.seek(tp, offset)


async def _store_until_stored(
    applier: EventApplier,
    topic: str,
    partition: int,
    records: Sequence[ConsumerRecord[Any, Any]],
    items: Sequence[Recordable],
) -> PartitionOutcome:
    """Store a partition batch, retrying with backoff while the event store is unavailable.

    Skipping a batch would lose it: the consumer's in-memory position is already past
    it, and the next batch's tracking would move the stored position beyond it. So
    the partition waits (lag grows, readiness drops) until the store takes the batch.
    """
    backoff = 0.5
    while True:
        try:
            return await asyncio.to_thread(applier.store, topic, partition, records, items)
        except Exception:
            applier.store_healthy = False
            log.exception(
                "%s[%d]: storing offsets %d..%d failed; retrying in %.1fs",
                topic, partition, records[0].offset, records[-1].offset, backoff,
            )  # fmt: skip
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 30.0)


def subscribe(
    broker: KafkaBroker,
    applier: EventApplier,
    topic: str,
    group_id: str,
    dead_letters: DeadLetterSink,
    *,
    max_records: int = 2000,
    on_batch: Callable[[str, int, PartitionOutcome], None] | None = None,
) -> Any:
    """Register the advisor-events batch subscriber on `broker`."""
    listener = _SeekToStoredPosition(applier, None)
    subscriber = broker.subscriber(
        topic,
        group_id=group_id,
        batch=True,
        max_records=max_records,
        batch_timeout_ms=200,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.MANUAL,
        listener=listener,
        description="Input events: facts for advisor and county ledgers.",
    )
    listener.subscriber = subscriber

    @subscriber
    async def apply_batch(body: list[Any], message: KafkaMessage) -> None:
        by_partition: dict[tuple[str, int], list[ConsumerRecord[Any, Any]]] = {}
        for record in message.raw_message:
            by_partition.setdefault((record.topic, record.partition), []).append(record)
        for (record_topic, partition), records in sorted(by_partition.items()):
            start = applier.next_offset(record_topic, partition)
            fresh = [r for r in records if r.offset >= start]
            if not fresh:
                continue
            started = time.perf_counter()
            good, dead = applier.parse(fresh)
            for letter in dead:
                await dead_letters(letter)
            outcome = await _store_until_stored(
                applier, record_topic, partition, fresh, [item for _, item in good]
            )
            outcome.seconds = time.perf_counter() - started
            outcome.dead_letters = len(dead)
            outcome.dead_letter_codes = [
                letter.reasons[0].code for letter in dead if letter.reasons
            ]
            outcome.skipped += len(records) - len(fresh)
            if on_batch:
                on_batch(record_topic, partition, outcome)
        await message.ack()

    return subscriber
