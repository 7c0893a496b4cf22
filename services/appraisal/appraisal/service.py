"""Wiring of the appraisal service: consumer, projector, verdict outbox, HTTP, metrics.

One process runs the Kafka consumer (FastStream) and the verdict publisher and
serves the HTTP API; the projector runs in a child process (or a thread, see
`appraisal.projections.runner`) that it starts and restarts. Several instances may run in one
consumer group: Kafka shares the partitions; the projector's tracking makes a
step that another instance already committed fail harmlessly and be retried.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import queue
import threading
import time
from typing import Any

from faststream.kafka import KafkaBroker
from faststream.kafka.prometheus import KafkaPrometheusMiddleware

from appraisal.api.auth import TokenRegistry
from appraisal.api.consumer import EventApplier, PartitionOutcome, subscribe
from appraisal.api.verdicts import publish_pending
from appraisal.application import AppraisalApplication
from appraisal.gc_tuning import tune_gc
from appraisal.metrics import AppraisalMetrics
from appraisal.policy import PrcCalendar, WorkdayCalendar
from appraisal.projections.projector import AppraisalProjector
from appraisal.projections.runner import StepReport, pacing_of, project_forever, projector_process
from appraisal.projections.store import open_views
from appraisal.queries import AppraisalQueries
from appraisal.readiness import StorePing
from appraisal.settings import AppraisalSettings
from contracts import DeadLetter

log = logging.getLogger(__name__)

# A readiness probe gets its answer within about this (store ping + round trip margin).
READY_TIMEOUT_S = 1.0


class AppraisalService:
    """The running service; `start()` and `stop()` are called by the HTTP app's lifespan."""

    def __init__(
        self, settings: AppraisalSettings, calendar: WorkdayCalendar | None = None
    ) -> None:
        self.settings = settings
        tune_gc()  # the service owns its process (see appraisal.gc_tuning)
        env = settings.eventsourcing_env()
        self.app = AppraisalApplication(env=env)
        self.views = open_views(env)
        self.calendar = calendar or PrcCalendar()
        self.projector = AppraisalProjector(
            self.app, self.views, self.calendar, settle_every_s=settings.projector_settle_s
        )
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
            bootstrap=settings.kafka_bootstrap,
        )
        self._tasks: list[asyncio.Task[None]] = []
        self._lag_partitions: set[str] = set()
        self.projector_healthy = True
        self._store_ping = StorePing(self.views.ping, READY_TIMEOUT_S)

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
        self.close()

    def close(self) -> None:
        """Release the stores' connections (`stop` does; alone, for a service never started)."""
        self._store_ping.close()
        self.views.close()
        self.app.close()

    async def unready_reason(self) -> str | None:
        """None when ready (store and broker answer, last steps succeeded), else why not.

        Answers within ~1.5 s: the health flags first, then the store ping (its own
        thread, see `appraisal.readiness`) and the broker ping, together and bounded.
        """
        if not self.applier.store_healthy:
            return "consumer: the last batch could not be stored (retrying)"
        if not self.projector_healthy:
            return "projector: the last step failed (retrying)"
        store, broker_ok = await asyncio.gather(
            self._store_ping.problem(), self.broker.ping(timeout=READY_TIMEOUT_S + 0.5)
        )
        if store is not None:
            return store
        return None if broker_ok else "broker: no answer to a metadata request"

    # --- loops --------------------------------------------------------------------------

    async def _projector_loop(self) -> None:
        """Run the projector (`appraisal.projections.runner`): in a process of its own
        (restarted if it dies) or in a thread; its step reports become metrics."""
        if self.settings.projector == "thread":
            await self._run_projector_thread()
            return
        backoff = 1.0
        while True:
            started = time.monotonic()
            code = await self._run_projector_process()
            self.projector_healthy = False
            backoff = 1.0 if time.monotonic() - started > 60 else min(backoff * 2, 30)
            log.error("projector process exited (code %s); restarting in %.0fs", code, backoff)
            await asyncio.sleep(backoff)

    async def _run_projector_thread(self) -> None:
        reports: asyncio.Queue[StepReport | None] = asyncio.Queue()
        loop = asyncio.get_running_loop()
        stop = threading.Event()

        def post(report: StepReport) -> None:
            loop.call_soon_threadsafe(reports.put_nowait, report)

        def run() -> None:
            try:
                project_forever(self.projector, pacing_of(self.settings), post, stop)
            finally:
                with contextlib.suppress(RuntimeError):  # the loop is closed already
                    loop.call_soon_threadsafe(reports.put_nowait, None)

        worker = asyncio.ensure_future(asyncio.to_thread(run))
        try:
            await self._follow(reports)
        finally:
            stop.set()
            await worker

    async def _run_projector_process(self) -> int | None:
        """Start the projector process, follow its reports until it exits; its exit code."""
        context = multiprocessing.get_context("spawn")
        source = context.Queue()
        process = context.Process(
            target=projector_process,
            args=(self.settings, self.calendar, source, os.getpid()),
            name="appraisal-projector",
            daemon=True,
        )
        process.start()
        reports: asyncio.Queue[StepReport | None] = asyncio.Queue()
        relay = threading.Thread(
            target=_relay,
            args=(source, process, asyncio.get_running_loop(), reports),
            name="projector-reports",
            daemon=True,
        )
        relay.start()
        try:
            await self._follow(reports)
        finally:
            if process.is_alive():
                process.terminate()  # SIGTERM: the step under way finishes first
            await asyncio.to_thread(process.join, 15)
            if process.is_alive():
                process.kill()
                await asyncio.to_thread(process.join, 5)
        return process.exitcode

    async def _follow(self, reports: asyncio.Queue[StepReport | None]) -> None:
        while (report := await reports.get()) is not None:
            self.metrics.project_seconds.observe(report.seconds)
            if report.error is not None:
                self.projector_healthy = False
                continue
            try:
                # `position` reads the store too: never on the event loop.
                position, lag = await asyncio.to_thread(self._projection_progress)
            except Exception:
                log.warning("projection position unreadable", exc_info=True)
                continue
            self.projector_healthy = True
            self.metrics.projection_position.set(position)
            self.metrics.projection_lag.set(lag)
            self.metrics.projection_checks.inc()

    def _projection_progress(self) -> tuple[int, int]:
        position = self.projector.position
        return position, self.projector.lag()

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


def _relay(
    source: Any,
    process: Any,
    loop: asyncio.AbstractEventLoop,
    target: asyncio.Queue[StepReport | None],
) -> None:
    """Move a projector process's reports onto the event loop; None when it has gone."""
    while True:
        try:
            report = source.get(timeout=1.0)
        except queue.Empty:
            if process.is_alive():
                continue
            report = None
        except Exception:  # a report torn by a killed process
            report = None
        try:
            loop.call_soon_threadsafe(target.put_nowait, report)
        except RuntimeError:  # the loop is closed
            return
        if report is None:
            return


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
