"""Helpers of the reliability suite: a seeded event set, the appraisal service as a
separate process, a TCP proxy that can cut PostgreSQL off, and store probes."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import hashlib
import hmac
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer

from appraisal.application import AppraisalApplication
from appraisal.projections.projector import PROJECTION_NAME
from appraisal.projections.store import open_views
from contracts import INBOUND_EVENT_ADAPTER, to_published
from embedded.broker import free_port
from embedded.synth import CountyConfig, generate
from embedded.topics import TopicSpec, ensure_topics

REPO = Path(__file__).resolve().parents[2]
RECORDED_AT = datetime(2026, 1, 2, tzinfo=UTC)
HMAC_KEY = b"reliability-suite-key-0123456789abcdef"

# How many published events the scenarios stream: the 100,000 (the crash
# scenario, 10 kills included, takes ~4.5 min here); smaller for a quick local run.
EVENTS = int(os.environ.get("RELIABILITY_EVENTS", "100000"))
SEED = int(os.environ.get("RELIABILITY_SEED", "9"))
# Budgets that grow with the event count (about 700 events/s here, plus restarts).
SETTLE_S = max(300.0, EVENTS / 50)
TEST_TIMEOUT_S = max(600, EVENTS // 25)


def _pseudonymise(citizen: str) -> str:
    return hmac.new(HMAC_KEY, citizen.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class EventSet:
    records: tuple[tuple[bytes, bytes], ...]  # (key, value) as ingest would publish them
    distinct: int  # distinct event ids among them


@cache
def event_set(count: int = EVENTS, seed: int = SEED) -> EventSet:
    """The first `count` events of a seeded synthetic county, published form."""
    villages = max(30, count // 450 + 1)
    config = CountyConfig(villages=villages, seed=seed)
    records: list[tuple[bytes, bytes]] = []
    ids: set[str] = set()
    for raw in generate(config):
        event = INBOUND_EVENT_ADAPTER.validate_python(raw)
        published = to_published(event, recorded_at=RECORDED_AT, pseudonymise=_pseudonymise)
        records.append((published.partition_key().encode(), published.model_dump_json().encode()))
        ids.add(str(published.event_id))
        if len(records) >= count:
            break
    return EventSet(tuple(records), len(ids))


async def create_topics(bootstrap: str, topic: str, partitions: int = 3) -> None:
    await ensure_topics(
        bootstrap,
        [
            TopicSpec(topic, partitions, ""),
            TopicSpec(topic + "-verdicts", 1, ""),
            TopicSpec(topic + "-dlq", 1, ""),
        ],
    )


async def produce(bootstrap: str, topic: str, records: tuple[tuple[bytes, bytes], ...]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=20, acks="all")
    await producer.start()
    try:
        futures = [await producer.send(topic, value, key=key) for key, value in records]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


# --- the service as a process ---------------------------------------------------------


def service_env(
    bootstrap: str, topic: str, data_dir: Path, port: int, **extra: str
) -> dict[str, str]:
    env = {
        **os.environ,
        "APPRAISAL_KAFKA_BOOTSTRAP": bootstrap,
        "APPRAISAL_INPUT_TOPIC": topic,
        "APPRAISAL_VERDICT_TOPIC": topic + "-verdicts",
        "APPRAISAL_DLQ_TOPIC": topic + "-dlq",
        "APPRAISAL_GROUP_ID": "appraisal-" + topic,
        "APPRAISAL_IDEMPOTENT_PRODUCER": "false",
        "APPRAISAL_DATA_DIR": str(data_dir),
        "APPRAISAL_PORT": str(port),
        "APPRAISAL_PROJECTOR_IDLE_S": "0.05",
        "APPRAISAL_PROJECTOR_INTERVAL_S": "0.2",
        "APPRAISAL_MAX_RECORDS": "500",
    }
    env.update({"APPRAISAL_" + k.upper(): v for k, v in extra.items()})
    return env


class ServiceProcess:
    """`python -m appraisal serve` in a child process; started, killed, restarted."""

    module = "appraisal"

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.env = env
        self.log_path = log_path
        self.port = int(env[self.module.upper() + "_PORT"])
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def start(self) -> None:
        assert self.process is None
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", self.module, "serve"],
                env=self.env,
                cwd=REPO,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        self.starts += 1

    def wait_healthy(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"service exited with {self.process.returncode}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            time.sleep(0.1)
        raise TimeoutError("service did not answer /healthz")

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGKILL)
            process.wait()

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def tail(self, lines: int = 40) -> str:
        """The end of the service's log, warnings and errors first (for a failure)."""
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return ""
        notable = [line for line in text if "WARNING" in line or "ERROR" in line][-lines:]
        return (
            f"\n--- warnings and errors in {self.log_path.name} ---\n"
            + "\n".join(notable)
            + f"\n--- last lines of {self.log_path.name} ---\n"
            + "\n".join(text[-lines:])
        )

    def readyz(self, timeout: float = 5) -> int:
        try:
            return httpx.get(self.url + "/readyz", timeout=timeout).status_code
        except httpx.HTTPError:
            return -1


def new_port() -> int:
    return free_port()


# --- ingest as a process ----------------------------------------------------------------

INGEST_API_KEY = "reliability-ingest-key-0001"


def ingest_env(
    bootstrap: str, topic: str, dedup_dsn: str, port: int, county: str, **extra: str
) -> dict[str, str]:
    """`INGEST_*` settings: one API key that may write every event type of `county`."""
    from ingest.auth import hash_key

    keys = [
        {
            "name": "township",
            "sha256": hash_key(INGEST_API_KEY),
            "event_types": ["*"],
            "counties": [county],
            "sources": ["*"],
        }
    ]
    env = {
        **os.environ,
        "INGEST_KAFKA_BOOTSTRAP": bootstrap,
        "INGEST_TOPIC": topic,
        "INGEST_DLQ_TOPIC": topic + "-ingest-dlq",
        "INGEST_IDEMPOTENT_PRODUCER": "false",
        "INGEST_API_KEYS": json.dumps({"keys": keys}),
        "INGEST_HMAC_KEY": "h" * 40,
        "INGEST_DEDUP_DSN": dedup_dsn,
        "INGEST_PORT": str(port),
        "INGEST_LOG_LEVEL": "WARNING",
    }
    env.update({"INGEST_" + k.upper(): v for k, v in extra.items()})
    return env


class IngestProcess(ServiceProcess):
    """`python -m ingest serve` in a child process; ready once Kafka answers."""

    module = "ingest"

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"ingest exited with {self.process.returncode}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.url + "/readyz", timeout=1).status_code == 200:
                    return
            time.sleep(0.05)
        raise TimeoutError("ingest did not become ready")


async def topic_event_ids(bootstrap: str, topic: str) -> list[str]:
    """The `event_id` of every record of `topic`, read from the start to its end."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, max_partition_fetch_bytes=4 << 20
    )
    await consumer.start()
    try:
        parts = [TopicPartition(topic, p) for p in sorted(await _partitions(consumer, topic))]
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        ends = await consumer.end_offsets(parts)
        ids: list[str] = []
        while [tp for tp in parts if await consumer.position(tp) < ends[tp]]:
            for records in (await consumer.getmany(timeout_ms=1000)).values():
                ids.extend(json.loads(r.value)["event_id"] for r in records if r.value)
        # Tansu has reported an end offset one short (docs/reliability.md, bug 2):
        # whatever a last fetch still finds counts too.
        for records in (await consumer.getmany(timeout_ms=1000)).values():
            ids.extend(json.loads(r.value)["event_id"] for r in records if r.value)
        return ids
    finally:
        await consumer.stop()


async def _partitions(consumer: Any, topic: str) -> set[int]:
    parts: set[int] = consumer.partitions_for_topic(topic) or set()
    if not parts:
        await consumer._client.force_metadata_update()
        parts = consumer.partitions_for_topic(topic) or set()
    return parts


# --- probes of the store ---------------------------------------------------------------


def store_env(service: dict[str, str]) -> dict[str, str]:
    """The eventsourcing environment the service process uses."""
    from appraisal.settings import AppraisalSettings

    fields = AppraisalSettings.model_fields
    values = {k.removeprefix("APPRAISAL_").lower(): v for k, v in service.items()}
    settings = AppraisalSettings.model_validate({k: v for k, v in values.items() if k in fields})
    return settings.eventsourcing_env()


@dataclass
class StoreProbe:
    env: dict[str, str]

    def __post_init__(self) -> None:
        self.app = AppraisalApplication(env=self.env)
        self.views = open_views(self.env)
        self._facts, self._counted_to = 0, 0

    def notifications(self) -> int:
        return self.app.recorder.max_notification_id() or 0

    def facts(self) -> int:
        """Stored facts: notifications of the FactRecorded kind.

        Counted on from the last call: notification ids only grow, and re-counting
        100,000 of them every poll took CPU from the service under test.
        """
        while page := self.app.recorder.select_notifications(
            self._counted_to, 5000, inclusive_of_start=False
        ):
            self._facts += sum(1 for n in page if n.topic.endswith("FactRecorded"))
            self._counted_to = page[-1].id
        return self._facts

    def fact_event_ids(self) -> collections.Counter[str]:
        """How often each wire `event_id` was stored as a fact (once, if all is well)."""
        counts: collections.Counter[str] = collections.Counter()
        start = 0
        while page := self.app.recorder.select_notifications(start, 5000, inclusive_of_start=False):
            for n in page:
                if n.topic.endswith("FactRecorded"):
                    recorded: Any = self.app.mapper.to_domain_event(n)
                    counts[str(recorded.fact.event_id)] += 1
            start = page[-1].id
        return counts

    def projected(self) -> int:
        return self.views.max_tracking_id(PROJECTION_NAME) or 0

    def progress(self) -> tuple[int, int, int]:
        """What moves while the service works: facts, notifications, projected."""
        return self.facts(), self.notifications(), self.projected()

    def settled(self, facts: int) -> bool:
        # Order matters: count the facts first, then the notifications, then the
        # projected position, so a batch stored meanwhile cannot look projected.
        if self.facts() < facts:
            return False
        n = self.notifications()
        return self.projected() >= n and not self.views.dirty_county_years()

    def digest(self) -> str:
        return self.views.digest()

    def close(self) -> None:
        self.app.close()


def wait_until(
    check: Callable[[], object],
    timeout: float,
    what: str,
    every: float = 0.5,
    *,
    service: ServiceProcess | None = None,
    progress: Callable[[], object] | None = None,
    stall_s: float = 240.0,
) -> None:
    """Poll `check` until it holds; fail early, with the service's log, if the
    `service` exits or `progress` stays the same for `stall_s`."""
    started = time.monotonic()
    deadline = started + timeout
    seen, seen_at = progress() if progress else None, started
    while time.monotonic() < deadline:
        if check():
            return
        if service is not None and not service.running():
            raise RuntimeError(f"the service exited waiting for {what}{service.tail()}")
        if progress is not None:
            now = progress()
            if now != seen:
                seen, seen_at = now, time.monotonic()
            elif time.monotonic() - seen_at > stall_s:
                raise TimeoutError(
                    f"no progress for {stall_s:.0f}s waiting for {what} (stuck at {now})"
                    + (service.tail() if service else "")
                )
        time.sleep(every)
    raise TimeoutError(
        f"timed out after {timeout}s waiting for {what}" + (service.tail() if service else "")
    )


def wait_settled(
    p: StoreProbe, facts: int, timeout: float, what: str, service: ServiceProcess
) -> None:
    """Wait until `facts` facts are stored and projected; fail early if `service`
    exits or nothing moves for minutes (`wait_until`)."""
    wait_until(lambda: p.settled(facts), timeout, what, service=service, progress=p.progress)


@contextlib.contextmanager
def probe(env: dict[str, str]) -> Iterator[StoreProbe]:
    """Read access to a service's stores. Opening creates them when they are new, so
    open it before the service starts or once it is healthy: two processes creating
    a fresh SQLite store at once make one fail ("Failed to record tracking for
    __migration__ 1"), which a full CI run hit in the frozen-broker test."""
    p = StoreProbe(env)
    try:
        yield p
    finally:
        p.close()


# --- a TCP proxy that can cut a connection off -------------------------------------------


class CuttableProxy:
    """127.0.0.1:port → upstream, in a thread of its own; `cut()` drops every
    connection and refuses new ones (accepts and closes them) until `restore()`."""

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.port = free_port()
        self.cut_off = False
        self._writers: set[asyncio.StreamWriter] = set()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> CuttableProxy:
        self._thread.start()
        self._ready.wait(5)
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(
            asyncio.start_server(self._handle, "127.0.0.1", self.port)
        )
        self._ready.set()
        try:
            self._loop.run_forever()
        finally:
            server.close()
            for w in list(self._writers):
                w.transport.abort()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.cut_off:
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            writer.transport.abort()
            return
        self._writers.update((writer, up_writer))

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    if self.cut_off:
                        break
                    dst.write(data)
                    await dst.drain()
            except (OSError, asyncio.IncompleteReadError):
                pass
            finally:
                dst.transport.abort()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self._writers.difference_update((writer, up_writer))

    def cut(self) -> None:
        def _cut() -> None:
            self.cut_off = True
            for w in list(self._writers):
                w.transport.abort()
            self._writers.clear()

        self._loop.call_soon_threadsafe(_cut)

    def restore(self) -> None:
        self._loop.call_soon_threadsafe(setattr, self, "cut_off", False)


async def committed_offsets(bootstrap: str, group: str, topic: str) -> dict[int, int | None]:
    """The consumer group's committed offsets, read without joining the group."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group)
    await consumer.start()
    try:
        parts = consumer.partitions_for_topic(topic) or set()
        if not parts:
            await consumer._client.force_metadata_update()
            parts = consumer.partitions_for_topic(topic) or set()
        return {p: await consumer.committed(TopicPartition(topic, p)) for p in sorted(parts)}
    finally:
        await consumer.stop()
