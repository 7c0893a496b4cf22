"""The ingest use case: check a batch, drop what was already accepted, publish the rest.

Order matters for the guarantees of issue #3:

1. every event is checked on its own (``ingest.validation``); rejected ones go
   to the dead-letter topic in the background;
2. the ids of valid events are claimed in-process, then looked up in the
   seen-event store: those found are ``duplicate``;
3. the rest are published and every ack awaited; only then are they recorded
   as seen and reported ``accepted``. Any failure before that answers 503 and
   reports nothing accepted.
"""

from __future__ import annotations

import asyncio
import collections
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal
from uuid import UUID

from prometheus_client import Counter as MetricCounter

from contracts import DeadLetter, Violation
from ingest.auth import Scope
from ingest.bodies import RawEvent
from ingest.dedup import InFlight, SeenStore, StoreUnavailableError
from ingest.metrics import IngestMetrics, reason_label
from ingest.publish import BrokerUnavailableError, EventPublisher, Record
from ingest.validation import Candidate, Outcome, Rejected, Repeat, check_events, dead_letter_event

EventStatus = Literal["accepted", "duplicate", "rejected"]
Dependency = Literal["kafka", "dedup_store"]


def utc_now() -> datetime:
    """The wall clock, timezone-aware (the default clock of the service)."""
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class EventResult:
    """What became of one event of a request."""

    index: int
    status: EventStatus
    event_id: UUID | None
    reasons: tuple[Violation, ...] = ()


class ServiceUnavailableError(RuntimeError):
    """Kafka or the seen-event store failed: nothing of the request was accepted."""

    def __init__(self, dependency: Dependency, message: str) -> None:
        super().__init__(message)
        self.dependency: Dependency = dependency


class IngestService:
    """Checks, deduplicates and publishes batches of events for one process."""

    def __init__(
        self,
        *,
        publisher: EventPublisher,
        seen_store: SeenStore,
        pseudonymise: Callable[[str], str],
        metrics: IngestMetrics,
        log: logging.Logger,
        publish_timeout_s: float,
        retention: timedelta,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._publisher = publisher
        self._store = seen_store
        self._pseudonymise = pseudonymise
        self._metrics = metrics
        self._log = log
        self._publish_timeout_s = publish_timeout_s
        self._retention = retention
        self._clock = clock
        self._in_flight = InFlight()

    async def ingest(self, raws: Sequence[RawEvent], scope: Scope) -> list[EventResult]:
        """Process a batch; raise :class:`ServiceUnavailableError` if nothing could be accepted."""
        now = self._clock()
        # Checking is CPU work (~80 µs an event): off the event loop, so acks keep flowing.
        outcomes, letters = await asyncio.to_thread(self._check, raws, scope, now)
        self._publisher.dead_letter(letters)
        _count(self._metrics.received, (o.type for o in outcomes))
        rejected = [o for o in outcomes if isinstance(o, Rejected)]
        for r in rejected:
            self._metrics.rejected.labels(r.type, reason_label(r.reasons[0].code)).inc()
        candidates = [o for o in outcomes if isinstance(o, Candidate)]
        try:
            accepted = await self._publish_new(candidates, now)
        except ServiceUnavailableError as error:
            self._metrics.publish_failures.labels(error.dependency).inc()
            raise
        results = [_result(o, accepted) for o in outcomes]
        types = {o.index: o.type for o in outcomes}
        _count(self._metrics.accepted, (types[r.index] for r in results if r.status == "accepted"))
        _count(
            self._metrics.duplicate, (types[r.index] for r in results if r.status == "duplicate")
        )
        return results

    async def prune(self) -> int:
        """Forget seen ids older than the retention window; return how many."""
        pruned = await self._store.prune(self._clock() - self._retention)
        self._metrics.dedup_pruned.inc(pruned)
        return pruned

    async def _publish_new(self, candidates: Sequence[Candidate], now: datetime) -> set[UUID]:
        by_id = {c.event_id: c for c in candidates}
        claimed: list[UUID] = []
        accepted = False
        try:
            claimed = await self._claim(list(by_id))
            try:
                already = await self._store.seen(claimed)
            except StoreUnavailableError as error:
                raise ServiceUnavailableError("dedup_store", str(error)) from None
            fresh = sorted((by_id[i] for i in claimed if i not in already), key=lambda c: c.index)
            try:
                await self._publisher.publish([Record(c.key, c.value) for c in fresh])
            except BrokerUnavailableError as error:
                raise ServiceUnavailableError("kafka", str(error)) from None
            accepted = True
            published = {c.event_id for c in fresh}
            await self._remember(published, now)
            return published
        finally:
            self._in_flight.release(claimed, accepted=accepted)

    async def _claim(self, event_ids: list[UUID]) -> list[UUID]:
        """Claim ids in this process; wait for ids another request is publishing right now.

        Ids the other request got accepted are left out (they are duplicates now);
        ids it failed to publish are claimed.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._publish_timeout_s
        mine: list[UUID] = []
        pending = event_ids
        try:
            while pending:
                claimed, held = self._in_flight.claim(pending)
                mine.extend(claimed)
                if not held:
                    break
                waiting = set(held.values())
                _done, not_done = await asyncio.wait(waiting, timeout=deadline - loop.time())
                if not_done:
                    raise ServiceUnavailableError(
                        "kafka", "another request is still publishing some of these events"
                    )
                pending = [i for i, outcome in held.items() if not outcome.result()]
        except BaseException:
            self._in_flight.release(mine, accepted=False)
            raise
        return mine

    async def _remember(self, event_ids: set[UUID], now: datetime) -> None:
        try:
            await self._store.mark(event_ids, now)
        except StoreUnavailableError as error:
            # Kafka has the events, so they are accepted; only a resend would repeat them.
            self._metrics.dedup_mark_failures.inc(len(event_ids))
            self._log.error(
                "%d accepted event id(s) could not be recorded as seen: %s", len(event_ids), error
            )

    def _check(
        self, raws: Sequence[RawEvent], scope: Scope, now: datetime
    ) -> tuple[list[Outcome], list[bytes]]:
        """Check every event and write the dead letters of the rejected ones."""
        outcomes = check_events(raws, scope=scope, pseudonymise=self._pseudonymise, now=now)
        letters = [
            DeadLetter(
                event=dead_letter_event(o.event) if o.event is not None else None,
                reasons=list(o.reasons),
                service="ingest",
                at=now,
            )
            .model_dump_json()
            .encode("utf-8")
            for o in outcomes
            if isinstance(o, Rejected)
        ]
        return outcomes, letters


def _count(counter: MetricCounter, labels: Iterable[str]) -> None:
    for label, n in collections.Counter(labels).items():
        counter.labels(label).inc(n)


def _result(outcome: Outcome, accepted: set[UUID]) -> EventResult:
    if isinstance(outcome, Rejected):
        return EventResult(outcome.index, "rejected", outcome.event_id, outcome.reasons)
    if isinstance(outcome, Repeat) or outcome.event_id not in accepted:
        return EventResult(outcome.index, "duplicate", outcome.event_id)
    return EventResult(outcome.index, "accepted", outcome.event_id)
