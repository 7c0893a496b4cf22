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

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import KafkaError
from aiokafka.structs import ConsumerRecord
from eventsourcing.persistence import IntegrityError, ProcessRecorder
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage

from appraisal.application import AppraisalApplication, Recordable, Screening
from appraisal.domain.advisor import AdvisorInOtherCounty
from appraisal.positions import PartitionPositions, Resume, decide_resume, log_seems_shorter
from appraisal.translate import UntranslatableEvent, to_recordable
from contracts import (
    PUBLISHED_MODELS,
    ContractViolationError,
    DeadLetter,
    KafkaPosition,
    PublishedEnvelope,
    Violation,
    parse_published_event,
)

log = logging.getLogger(__name__)

_REDACTED = "[redacted]"
_ENVELOPE_FIELDS = frozenset(PublishedEnvelope.model_fields)


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
    # Refused while recording although screening passed them: dead-lettered late.
    refused: list[tuple[Recordable, AdvisorInOtherCounty]] = field(default_factory=list)


DeadLetterSink = Callable[[DeadLetter], Awaitable[None]]


class EventApplier:
    """Applies one partition's records to the event store; the core of the consumer."""

    def __init__(self, app: AppraisalApplication, consumer_name: str = "appraisal") -> None:
        assert isinstance(app.recorder, ProcessRecorder)
        self.app = app
        self.positions = PartitionPositions(app.recorder, consumer_name)
        self._epochs: dict[tuple[str, int], int] = {}
        self._next: dict[tuple[str, int], int] = {}  # next offset to apply, per partition
        self._gaps: set[tuple[str, int, int]] = set()  # (topic, partition, start) re-read
        self.store_healthy = True

    def epoch(self, topic: str, partition: int) -> int:
        key = (topic, partition)
        if key not in self._epochs:
            self._epochs[key] = self.positions.epoch(topic, partition)
        return self._epochs[key]

    def stored_position(self, topic: str, partition: int) -> tuple[int, int | None]:
        """The partition's epoch and the next offset the store recorded in it."""
        epoch = self.positions.epoch(topic, partition)
        return epoch, self.positions.recorded(topic, partition, epoch)

    def holds(self, record: ConsumerRecord[Any, Any]) -> bool:
        """Whether the store holds the fact of `record` (False for a poison record)."""
        good, _ = self.parse([record])
        if not good:
            return False
        item = good[0][1]
        return self.app.knows(item.stream, item.key, item.fact.event_id)

    def resume(self, topic: str, partition: int, epoch: int, resume: Resume) -> int:
        """Resume the partition as decided, in a new epoch if so; the offset to read next."""
        if resume.new_epoch:
            epoch += 1
            self.positions.start_epoch(topic, partition, epoch)
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

    def screen(
        self, good: Sequence[tuple[ConsumerRecord[Any, Any], Recordable]]
    ) -> tuple[Screening, list[DeadLetter]]:
        """What of `good` the ledgers would take, and a dead letter for each refusal
        (an event naming a county other than its advisor's: `AdvisorInOtherCounty`)."""
        screening = self.app.screen([item for _, item in good])
        record_of = {id(item): record for record, item in good}
        return screening, [
            _refusal_letter(record_of[id(item)], refusal) for item, refusal in screening.refused
        ]

    def store(
        self,
        topic: str,
        partition: int,
        records: Sequence[ConsumerRecord[Any, Any]],
        items: Sequence[Recordable],
        loaded: dict[Any, Any] | None = None,
    ) -> PartitionOutcome:
        """Store the facts of `records` and the partition's next offset in one transaction.

        `loaded`: the advisors `screen` read for these items (saves reading them again).
        """
        outcome = PartitionOutcome()
        epoch = self.epoch(topic, partition)
        next_offset = records[-1].offset + 1
        try:
            result = self.app.record(
                items, self.positions.tracking(topic, partition, epoch, next_offset), loaded
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
        outcome.refused = result.refused
        recorded = set(result.recorded)
        for item in items:
            kind = type(item.fact).__name__
            counts = (
                outcome.applied_types if item.fact.event_id in recorded else outcome.duplicate_types
            )
            counts[kind] = counts.get(kind, 0) + 1
        return outcome

    def known_next_offset(self, topic: str, partition: int) -> int | None:
        """The next offset to apply, if decided (known without reading the store)."""
        return self._next.get((topic, partition))

    def forget(self, topic: str, partition: int) -> None:
        """Drop what is known of the partition's position: it must be decided again."""
        self._next.pop((topic, partition), None)
        self._epochs.pop((topic, partition), None)

    def first_gap(self, topic: str, partition: int, start: int) -> bool:
        """Record a gap before `start`'s batch; True the first time for this `start`.

        A partition's records follow each other; a batch starting after the next
        offset to apply means records were passed over (a batch whose handling
        failed, a position not decided at assignment). Re-reading from `start` once
        recovers them; the same gap again means the broker has nothing there.
        """
        key = (topic, partition, start)
        if key in self._gaps:
            return False
        self._gaps.add(key)
        return True


def _refusal_letter(record: ConsumerRecord[Any, Any], refusal: AdvisorInOtherCounty) -> DeadLetter:
    reason = Violation(code=refusal.code, path="$.county_id", message=str(refusal))
    return _dead_letter(record, [reason])


def _dead_letter(record: ConsumerRecord[Any, Any], reasons: list[Violation]) -> DeadLetter:
    try:
        event = json.loads(record.value) if record.value else None
    except (ValueError, UnicodeDecodeError):
        event = None
    kept, hidden = _without_unknown_values(event) if isinstance(event, dict) else (None, [])
    return DeadLetter(
        event=kept,
        reasons=[_scrubbed(r, hidden) for r in reasons],
        service="appraisal",
        at=datetime.now(UTC),
        origin=KafkaPosition(topic=record.topic, partition=record.partition, offset=record.offset),
    )


def _without_unknown_values(event: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The event as kept on the DLQ, and the string values it hides.

    A producer that bypassed ingest may send a raw phone number under any name
    (`citizen_phone`, an unknown type's payload, even as the type): only fields
    the published contract knows keep their values. `DeadLetter` drops `citizen`.
    """
    type_ = event.get("type")
    model = PUBLISHED_MODELS.get(type_) if isinstance(type_, str) else None
    payload_model: Any = model.model_fields["payload"].annotation if model else None
    payload_fields = frozenset(getattr(payload_model, "model_fields", {}))
    hidden: list[str] = []

    def hide(value: Any) -> str:
        if isinstance(value, str):
            hidden.append(value)
        elif value is not None and not isinstance(value, dict | list):
            hidden.append(str(value))
        return _REDACTED

    kept: dict[str, Any] = {}
    for key, value in event.items():
        if key == "type":
            kept[key] = value if model is not None else hide(value)
        elif key == "payload" and isinstance(value, dict):
            kept[key] = {k: v if k in payload_fields else hide(v) for k, v in value.items()}
        else:
            kept[key] = value if key in _ENVELOPE_FIELDS else hide(value)
    return kept, hidden


def _scrubbed(reason: Violation, hidden: list[str]) -> Violation:
    """`reason` without the hidden values (an unknown type's message quotes the type)."""
    message = reason.message
    for value in hidden:
        if len(value) >= 4 and value != _REDACTED:  # short values would garble the text
            message = message.replace(value, _REDACTED)
    return reason if message == reason.message else reason.model_copy(update={"message": message})


class _SeekToStoredPosition(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, applier: EventApplier, subscriber: Any, bootstrap: str | None) -> None:
        self.applier = applier
        self.subscriber = subscriber
        self.bootstrap = bootstrap  # to check a log that seems shorter; None: no check

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        return None

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        consumer = self.subscriber.consumer
        if consumer is None or not assigned:
            return
        for tp in sorted(assigned):
            # What we knew of a partition before this assignment may be stale (another
            # instance stored batches of it meanwhile, or the log was replaced).
            self.applier.forget(tp.topic, tp.partition)
            try:
                offset = await self.decide(tp)
            except Exception:
                # aiokafka would swallow this and let the partition start at its
                # committed offset or the log's start; the first batch decides again.
                log.warning(
                    "%s[%d]: resume position not decided at assignment; deciding at the "
                    "first batch", tp.topic, tp.partition, exc_info=True,
                )  # fmt: skip
                continue
            consumer.seek(tp, offset)

    async def decide(self, tp: TopicPartition) -> int:
        """Decide where `tp` resumes (`decide_resume`), start a new epoch if so, and
        return the offset to read next."""
        consumer = self.subscriber.consumer
        beginning = (await consumer.beginning_offsets([tp]))[tp]
        end = (await consumer.end_offsets([tp]))[tp]
        committed = await consumer.committed(tp)
        epoch, recorded = await asyncio.to_thread(
            self.applier.stored_position, tp.topic, tp.partition
        )
        still_there = False
        if recorded is not None and log_seems_shorter(recorded, committed, end):
            still_there = await self._last_record_still_there(tp, recorded - 1)
        resume = decide_resume(
            recorded, committed, beginning, end, last_record_still_there=still_there
        )
        offset = await asyncio.to_thread(self.applier.resume, tp.topic, tp.partition, epoch, resume)
        if resume.new_epoch:
            log.warning(
                "%s[%d]: %s (stored position %s, log %d..%d): epoch %d, re-reading from %d",
                tp.topic, tp.partition, resume.reason, recorded, beginning, end,
                epoch + 1, offset,
            )  # fmt: skip
        elif still_there:
            log.warning(
                "%s[%d]: %s: the broker reports end %d, but record %d is there and stored; "
                "resuming at %d in epoch %d",
                tp.topic, tp.partition, resume.reason, end, offset - 1, offset, epoch,
            )  # fmt: skip
        return offset

    async def decide_until_done(self, tp: TopicPartition) -> int:
        """`decide`, retried with backoff while the store or the broker is away."""
        backoff = 0.5
        while True:
            try:
                return await self.decide(tp)
            except Exception:
                log.warning(
                    "%s[%d]: deciding the resume position failed; retrying in %.1fs",
                    tp.topic, tp.partition, backoff, exc_info=True,
                )  # fmt: skip
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 30.0)

    async def _last_record_still_there(self, tp: TopicPartition, offset: int) -> bool:
        """Whether the broker serves a record at `offset` that the store holds."""
        if self.bootstrap is None:
            return False
        record = await fetch_record(self.bootstrap, tp, offset)
        return record is not None and await asyncio.to_thread(self.applier.holds, record)


async def fetch_record(
    bootstrap: str, tp: TopicPartition, offset: int, timeout_s: float = 2.0
) -> ConsumerRecord[Any, Any] | None:
    """The record at `offset`, read outside any group; None if the broker has none there."""
    probe = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="none"
    )
    try:
        await probe.start()
        probe.assign([tp])
        probe.seek(tp, offset)
        batches = await probe.getmany(tp, timeout_ms=int(timeout_s * 1000), max_records=1)
    except (KafkaError, OSError) as exc:  # OffsetOutOfRange: before the start, past the end
        log.info("%s[%d]: no record at %d: %r", tp.topic, tp.partition, offset, exc)
        return None
    finally:
        await probe.stop()
    return next((r for r in batches.get(tp, []) if r.offset == offset), None)


async def _store_until_stored(
    applier: EventApplier,
    topic: str,
    partition: int,
    records: Sequence[ConsumerRecord[Any, Any]],
    good: Sequence[tuple[ConsumerRecord[Any, Any], Recordable]],
    dead_letters: DeadLetterSink,
) -> PartitionOutcome:
    """Screen and store a partition batch, retrying with backoff while the event
    store is unavailable; refusals are dead-lettered before the batch is stored, so a
    crash after the commit cannot lose their letters.

    Skipping a batch would lose it: the consumer's in-memory position is already past
    it, and the next batch's tracking would move the stored position beyond it. So
    the partition waits (lag grows, readiness drops) until the store takes the batch.
    """
    backoff = 0.5
    screening: Screening | None = None
    loaded: dict[Any, Any] | None = None
    while True:
        try:
            if screening is None:
                screened, refusals = await asyncio.to_thread(applier.screen, good)
                for letter in refusals:
                    await dead_letters(letter)
                screening, loaded = screened, screened.loaded
            # `loaded` only on the first attempt: a failed attempt may have changed them.
            attempt, loaded = loaded, None
            outcome = await asyncio.to_thread(
                applier.store, topic, partition, records, screening.kept, attempt
            )
            outcome.dead_letters += len(screening.refused)
            outcome.dead_letter_codes += [r.code for _, r in screening.refused]
            return outcome
        except Exception:
            applier.store_healthy = False
            log.exception(
                "%s[%d]: storing offsets %d..%d failed; retrying in %.1fs",
                topic, partition, records[0].offset, records[-1].offset, backoff,
            )  # fmt: skip
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 30.0)


async def _records_undecoded(message: Any) -> None:
    """The batch's decoder: nothing. FastStream's own wraps every record in a message
    object and JSON-decodes it, work the handler never used (it validates
    `record.value` against the contract): 12 % of the service process in B1."""
    return


def _release_records(message: Any) -> None:
    """Drop a committed batch's records from its message object.

    FastStream keeps the message in a context variable while the handler runs, and
    every timer scheduled meanwhile (the commit's request timeouts among them) holds
    a copy of that context until its deadline — cancelled or not: asyncio keeps a
    cancelled timer, context included, in its heap until then. So each batch of up
    to 2,000 records outlived its handler by about a request timeout: ~40 batches,
    ~60 MB of the service at B1's rate (issue #8, B4); the parser's list of the
    records' values (`body`) another ~12 MB at 312k events. Once committed,
    nothing reads them again (a nack after an ack does nothing)."""
    message.raw_message = ()
    message.body = b""
    message.batch_headers = []


def subscribe(
    broker: KafkaBroker,
    applier: EventApplier,
    topic: str,
    group_id: str,
    dead_letters: DeadLetterSink,
    *,
    max_records: int = 2000,
    on_batch: Callable[[str, int, PartitionOutcome], None] | None = None,
    bootstrap: str | None = None,
) -> Any:
    """Register the advisor-events batch subscriber on `broker`.

    `bootstrap` (the broker's address) lets assignment check a log whose reported
    end is below the stored position before re-reading it in a new epoch.
    """
    listener = _SeekToStoredPosition(applier, None, bootstrap)
    subscriber = broker.subscriber(
        topic,
        group_id=group_id,
        batch=True,
        max_records=max_records,
        batch_timeout_ms=200,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.MANUAL,
        listener=listener,
        decoder=_records_undecoded,
        description="Input events: facts for advisor and county ledgers.",
    )
    listener.subscriber = subscriber

    @subscriber
    async def apply_batch(body: Any, message: KafkaMessage) -> None:
        # `body` is None (`_records_undecoded`): the records are parsed below, once.
        by_partition: dict[tuple[str, int], list[ConsumerRecord[Any, Any]]] = {}
        for record in message.raw_message:
            by_partition.setdefault((record.topic, record.partition), []).append(record)
        for (record_topic, partition), records in sorted(by_partition.items()):
            start = applier.known_next_offset(record_topic, partition)
            tp = TopicPartition(record_topic, partition)
            if start is None:  # not decided at assignment (the store or broker was away)
                start = await listener.decide_until_done(tp)
            if records[0].offset > start:
                if applier.first_gap(record_topic, partition, start):
                    log.warning(
                        "%s[%d]: batch starts at %d, but %d is the next to apply; "
                        "re-reading from %d",
                        record_topic, partition, records[0].offset, start, start,
                    )  # fmt: skip
                    consumer: Any = subscriber.consumer  # it delivered this batch
                    consumer.seek(tp, start)
                    continue
                log.error(
                    "%s[%d]: offsets %d..%d are not in the log; going on from %d",
                    record_topic, partition, start, records[0].offset - 1, records[0].offset,
                )  # fmt: skip
            fresh = [r for r in records if r.offset >= start]
            if not fresh:
                continue
            started = time.perf_counter()
            good, dead = applier.parse(fresh)
            for letter in dead:
                await dead_letters(letter)
            outcome = await _store_until_stored(
                applier, record_topic, partition, fresh, good, dead_letters
            )
            for item, refusal in outcome.refused:  # only if the store changed under us
                log.error("%s[%d]: refused after screening: %s", record_topic, partition, refusal)
                record = next(r for r, i in good if i is item)
                await dead_letters(_refusal_letter(record, refusal))
            outcome.seconds = time.perf_counter() - started
            outcome.dead_letters += len(dead) + len(outcome.refused)
            outcome.dead_letter_codes += [
                letter.reasons[0].code for letter in dead if letter.reasons
            ]
            outcome.dead_letter_codes += [r.code for _, r in outcome.refused]
            outcome.skipped += len(records) - len(fresh)
            if on_batch:
                on_batch(record_topic, partition, outcome)
        await message.ack()
        _release_records(message)

    return subscriber
