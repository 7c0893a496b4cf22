"""Publishing to Kafka: accepted events (awaited) and dead letters (in the background).

Accepted events are sent all at once and then every ack is awaited
(``acks="all"``), bounded by the publish timeout: one slow ack must not become
10,000 round trips. If any ack fails or the time runs out the whole request is
answered 503; events of that request that did reach the topic may be sent
again by the client's retry, which the appraisal service absorbs (each
``event_id`` is applied at most once, DESIGN §4).

Dead letters are sent after the answer is computed and do not delay it; a
failure is logged and counted, never silent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import struct
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Protocol

from aiokafka import AIOKafkaProducer
from aiokafka.errors import BrokerResponseError, KafkaError

from ingest.metrics import IngestMetrics
from ingest.settings import Settings

_RECONNECT_DELAY_S: Final = 2.0
_PROBE_TIMEOUT_S: Final = 1.0
_DEFAULT_KAFKA_PORT: Final = 9092


class BrokerUnavailableError(RuntimeError):
    """Kafka did not acknowledge in time, refused the events, or is not connected."""


@dataclass(frozen=True, slots=True)
class Record:
    """One Kafka message: key and value bytes."""

    key: bytes
    value: bytes


class EventPublisher(Protocol):
    """Where accepted events and dead letters go (Kafka, or a fake in unit tests)."""

    async def start(self) -> None:
        """Connect (or begin trying to)."""

    async def stop(self) -> None:
        """Flush dead letters and disconnect."""

    async def publish(self, records: Sequence[Record]) -> None:
        """Return once every record is acknowledged; else raise :class:`BrokerUnavailableError`."""

    def dead_letter(self, values: Sequence[bytes]) -> None:
        """Send dead letters without making the caller wait."""

    async def ready(self) -> bool:
        """Whether the broker answers (cheap; may be cached briefly)."""
        ...


def bootstrap_addresses(bootstrap: str) -> list[tuple[str, int]]:
    """``"a:9092,[::1]:9093"`` → ``[("a", 9092), ("::1", 9093)]``."""
    addresses: list[tuple[str, int]] = []
    for item in bootstrap.split(","):
        item = item.strip()
        if not item:
            continue
        host, sep, port = item.rpartition(":")
        if not sep or "]" in port:
            host, port = item, str(_DEFAULT_KAFKA_PORT)
        addresses.append((host.strip("[]"), int(port)))
    return addresses


async def kafka_answers(host: str, port: int, within_s: float = _PROBE_TIMEOUT_S) -> bool:
    """True when a Kafka-protocol server at host:port answers an ApiVersions request.

    An open port is not enough (a frozen broker still accepts connections).
    """
    correlation_id = 1
    client_id = b"ingest-readiness"
    body = struct.pack(">hhih", 18, 0, correlation_id, len(client_id)) + client_id
    try:
        async with asyncio.timeout(within_s):
            reader, writer = await asyncio.open_connection(host, port)
            try:
                writer.write(struct.pack(">i", len(body)) + body)
                await writer.drain()
                header = await reader.readexactly(8)
            finally:
                writer.close()
                with contextlib.suppress(OSError):
                    await writer.wait_closed()
    except (OSError, TimeoutError, asyncio.IncompleteReadError):
        return False
    _size, answered = struct.unpack(">ii", header)
    return bool(answered == correlation_id)


class KafkaPublisher:
    """The aiokafka producer of the service, reconnecting in the background when needed."""

    def __init__(self, settings: Settings, metrics: IngestMetrics, log: logging.Logger) -> None:
        self._settings = settings
        self._metrics = metrics
        self._log = log
        self._timeout = settings.publish_timeout_s
        self._producer: AIOKafkaProducer | None = None
        self._connector: asyncio.Task[None] | None = None
        self._dead_letter_tasks: set[asyncio.Task[None]] = set()
        self._probe_lock = asyncio.Lock()
        self._probed_at = float("-inf")
        self._probe_result = False

    @property
    def connected(self) -> bool:
        """Whether a started producer is available."""
        return self._producer is not None

    async def start(self) -> None:
        """Connect once; if that fails keep trying in the background (requests get 503)."""
        try:
            await self._connect()
        except (KafkaError, OSError, TimeoutError) as error:
            hint = ""
            if isinstance(error, BrokerResponseError) and self._settings.idempotent_producer:
                hint = (
                    " (a broker without idempotent producers, such as Tansu, fails like this: "
                    "set INGEST_IDEMPOTENT_PRODUCER=false)"
                )
            self._log.warning(
                "cannot start the Kafka producer for %s: %s%s; retrying every %.0f s",
                self._settings.kafka_bootstrap,
                type(error).__name__,
                hint,
                _RECONNECT_DELAY_S,
            )
            self._connector = asyncio.create_task(self._connect_forever())

    async def _connect(self) -> None:
        producer = AIOKafkaProducer(
            bootstrap_servers=self._settings.kafka_bootstrap,
            client_id="advisor-appraisal-ingest",
            acks="all",
            enable_idempotence=self._settings.idempotent_producer,
        )
        try:
            async with asyncio.timeout(max(self._timeout, 5.0)):
                await producer.start()
        except BaseException:
            with contextlib.suppress(Exception):
                await producer.stop()
            raise
        self._producer = producer
        self._log.info("connected to Kafka at %s", self._settings.kafka_bootstrap)

    async def _connect_forever(self) -> None:
        while self._producer is None:
            await asyncio.sleep(_RECONNECT_DELAY_S)
            try:
                await self._connect()
            except (KafkaError, OSError, TimeoutError) as error:
                self._log.debug("Kafka still unreachable: %s", type(error).__name__)

    async def stop(self) -> None:
        """Wait (bounded) for pending dead letters, then close the producer."""
        if self._connector is not None:
            self._connector.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._connector
        if self._dead_letter_tasks:
            await asyncio.wait(self._dead_letter_tasks, timeout=self._timeout)
        producer, self._producer = self._producer, None
        if producer is not None:
            try:
                async with asyncio.timeout(self._timeout):
                    await producer.stop()
            except TimeoutError:
                self._log.warning("the Kafka producer did not flush within %.0f s", self._timeout)

    async def publish(self, records: Sequence[Record]) -> None:
        """Send every record, then wait for every ack; all within the publish timeout."""
        if not records:
            return
        producer = self._producer
        if producer is None:
            raise BrokerUnavailableError("not connected to Kafka")
        topic = self._settings.topic
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self._timeout):
                acks = [await producer.send(topic, r.value, key=r.key) for r in records]
                await asyncio.gather(*acks)
        except TimeoutError:
            raise BrokerUnavailableError(
                f"Kafka did not acknowledge within {self._timeout:g} s"
            ) from None
        except KafkaError as error:
            raise BrokerUnavailableError(
                f"Kafka refused the events ({type(error).__name__})"
            ) from None
        self._metrics.publish_latency.observe(time.perf_counter() - started)

    def dead_letter(self, values: Sequence[bytes]) -> None:
        """Send dead letters in a background task; failures are counted and logged."""
        if not values:
            return
        task = asyncio.create_task(self._send_dead_letters(list(values)))
        self._dead_letter_tasks.add(task)
        task.add_done_callback(self._dead_letter_tasks.discard)

    async def _send_dead_letters(self, values: list[bytes]) -> None:
        producer = self._producer
        sent = 0
        problem = "not connected to Kafka"
        if producer is not None:
            acks: list[asyncio.Future[object]] = []
            try:
                async with asyncio.timeout(self._timeout):
                    for value in values:
                        try:
                            acks.append(await producer.send(self._settings.dlq_topic, value))
                        except KafkaError as error:  # e.g. a letter larger than a Kafka message
                            problem = type(error).__name__
                    if acks:
                        await asyncio.wait(acks)
            except TimeoutError:
                problem = f"no ack within {self._timeout:g} s"
            for ack in acks:
                if ack.done() and not ack.cancelled() and ack.exception() is None:
                    sent += 1
                elif ack.done() and not ack.cancelled():
                    problem = type(ack.exception()).__name__
                else:
                    ack.cancel()
        self._metrics.dead_letters.inc(sent)
        if sent < len(values):
            self._metrics.dead_letter_failures.inc(len(values) - sent)
            self._log.error(
                "%d rejected event(s) could not be written to dead-letter topic %s: %s",
                len(values) - sent,
                self._settings.dlq_topic,
                problem,
            )

    async def ready(self) -> bool:
        """Connected and the broker answers a probe; the answer is reused briefly."""
        if self._producer is None:
            self._metrics.broker_ready.set(0)
            return False
        async with self._probe_lock:
            if time.monotonic() - self._probed_at >= self._settings.readiness_cache_s:
                addresses = bootstrap_addresses(self._settings.kafka_bootstrap)
                answers = await asyncio.gather(*(kafka_answers(h, p) for h, p in addresses))
                self._probe_result = any(answers)
                self._probed_at = time.monotonic()
                self._metrics.broker_ready.set(1 if self._probe_result else 0)
            return self._probe_result
