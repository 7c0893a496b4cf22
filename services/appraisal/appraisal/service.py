"""Wiring of the appraisal service: consumer, projector, verdict outbox, HTTP, metrics.

One process runs the Kafka consumer (FastStream), the projector loop and the
verdict publisher, and serves the HTTP API. Several instances may run in one
consumer group: Kafka shares the partitions; the projector's tracking makes a
step that another instance already committed fail harmlessly and be retried.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from eventsourcing.persistence import IntegrityError
from faststream.kafka import KafkaBroker
from faststream.kafka.prometheus import KafkaPrometheusMiddleware

from appraisal.api.auth import TokenRegistry
from appraisal.api.consumer import EventApplier, PartitionOutcome, subscribe
from appraisal.api.verdicts import publish_pending
from appraisal.application import AppraisalApplication
from appraisal.metrics import AppraisalMetrics
from appraisal.policy import PrcCalendar, WorkdayCalendar
from appraisal.projections.projector import AppraisalProjector
from appraisal.projections.store import open_views
from appraisal.queries import AppraisalQueries
from appraisal.settings import AppraisalSettings
from contracts import DeadLetter

log = logging.getLogger(__name__)


class AppraisalService:
    """The running service; `start()` and `stop()` are called by the HTTP app's lifespan."""

    def __init__(
        self, settings: AppraisalSettings, calendar: WorkdayCalendar | None = None
    ) -> None:
        self.settings = settings
        env = settings.eventsourcing_env()
        self.app = AppraisalApplication(env=env)
        self.views = open_views(env)
        self.calendar = calendar or PrcCalendar()
        self.projector = AppraisalProjector(self.app, self.views, self.calendar)
        self.queries = AppraisalQueries(self.app, self.views, self.calendar)
        self.tokens = TokenRegistry.from_json(settings.tokens_json())
        if settings.mode == "production" and not self.tokens.count:
            raise ValueError(
                "no bearer tokens configured (APPRAISAL_TOKENS or APPRAISAL_TOKENS_FILE): "
                "production mode refuses to start a service nobody may read"
            )
        self.metrics = AppraisalMetrics()
        self.broker = KafkaBroker(
            settings.kafka_bootstrap,
            acks="all",
            enable_idempotence=settings.idempotent_producer,
            middlewares=[KafkaPrometheusMiddleware(registry=self.metrics.registry)],
            graceful_timeout=10,
        )
        self.applier = EventApplier(self.app, consumer_name=settings.group_id)
        self.subscriber = subscribe(
            self.broker,
            self.applier,
            settings.input_topic,
            settings.group_id,
            self._dead_letter,
            max_records=settings.max_records,
            on_batch=self._on_batch,
        )
        self._tasks: list[asyncio.Task[None]] = []
        self._lag_partitions: set[str] = set()
        self.projector_healthy = True

    # --- lifecycle -------------------------------------------------------------------

    async def start(self) -> None:
        await self.broker.start()
        for loop in (self._projector_loop, self._outbox_loop, self._lag_loop):
            self._tasks.append(asyncio.create_task(loop(), name=loop.__name__))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        await self.broker.stop()
        self.app.close()

    async def ready(self) -> bool:
        """Ready when the broker answers and the read models can be read."""
        try:
            await asyncio.to_thread(self.views.max_tracking_id, self.projector.name)
        except Exception:
            return False
        healthy = self.projector_healthy and self.applier.store_healthy
        return healthy and await self.broker.ping(timeout=2)

    # --- loops --------------------------------------------------------------------------

    async def _projector_loop(self) -> None:
        """Project in coalesced steps: re-appraising an advisor is the expensive part, so
        unless a full page is waiting, let events accumulate for `projector_interval_s`."""
        backoff = self.settings.projector_idle_s
        page = 5000
        while True:
            started = time.perf_counter()
            try:
                done = await asyncio.to_thread(self.projector.run_once, page)
            except IntegrityError:
                # Another instance committed this step first; pick up from its position.
                done = 0
            except Exception:
                self.projector_healthy = False
                log.exception("projector step failed; retrying in %.1fs", backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 30)
                continue
            self.projector_healthy = True
            backoff = self.settings.projector_idle_s
            self.metrics.project_seconds.observe(time.perf_counter() - started)
            self.metrics.projection_position.set(self.projector.position)
            self.metrics.projection_lag.set(await asyncio.to_thread(self.projector.lag))
            if done < page:
                elapsed = time.perf_counter() - started
                pause = (
                    self.settings.projector_interval_s if done else self.settings.projector_idle_s
                )
                await asyncio.sleep(max(self.settings.projector_idle_s, pause - elapsed))

    async def _outbox_loop(self) -> None:
        while True:
            try:
                published = await publish_pending(
                    self.broker, self.views, self.settings.verdict_topic, self.metrics
                )
            except Exception:
                log.exception("publishing verdicts failed; retrying")
                published = 0
                await asyncio.sleep(1)
            if not published:
                await asyncio.sleep(self.settings.projector_idle_s)

    async def _lag_loop(self) -> None:
        while True:
            with contextlib.suppress(Exception):
                latest = await asyncio.to_thread(self.views.latest_verification)
                if latest is not None:
                    self.metrics.replay_drift.set(int(latest["drift"]))
            consumer: Any = getattr(self.subscriber, "consumer", None)
            if consumer is not None:
                with contextlib.suppress(Exception):
                    self._lag_partitions = await export_lag(
                        self.metrics, consumer, self._lag_partitions
                    )
            await asyncio.sleep(5)

    # --- hooks ----------------------------------------------------------------------------

    async def _dead_letter(self, letter: DeadLetter) -> None:
        await self.broker.publish(letter, self.settings.dlq_topic)

    def _on_batch(self, topic: str, partition: int, outcome: PartitionOutcome) -> None:
        m = self.metrics
        for kind, n in outcome.applied_types.items():
            m.applied.labels(kind).inc(n)
        for kind, n in outcome.duplicate_types.items():
            m.duplicates.labels(kind).inc(n)
        for code in outcome.dead_letter_codes:
            m.dead_lettered.labels(code).inc()
        m.batch_size.observe(outcome.recorded + outcome.duplicates + outcome.dead_letters)
        m.apply_seconds.observe(outcome.seconds)


async def export_lag(metrics: AppraisalMetrics, consumer: Any, previous: set[str]) -> set[str]:
    """Set the lag of the partitions this instance owns; drop the ones it lost.

    Returns the partitions now exported, so a rebalance never leaves a stale lag.
    """
    owned: set[str] = set()
    for tp in consumer.assignment():
        high = consumer.highwater(tp)
        if high is None:
            continue
        position = await consumer.position(tp)
        owned.add(str(tp.partition))
        metrics.consumer_lag.labels(str(tp.partition)).set(max(0, high - position))
    for partition in previous - owned:
        with contextlib.suppress(KeyError):
            metrics.consumer_lag.remove(partition)
    return owned
