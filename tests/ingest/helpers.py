"""Helpers of the ingest tests: API keys, settings, events, a fake publisher, Kafka reads."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import ConsumerRecord
from fastapi import FastAPI

from ingest.auth import hash_key
from ingest.openapi import example_event
from ingest.publish import BrokerUnavailableError, Record
from ingest.settings import Settings

HMAC_KEY = "test-pseudonymisation-key-0123456789abcdef"


@dataclass(frozen=True)
class Key:
    """An API key of the tests: the plaintext and its keys-file entry."""

    plaintext: str
    entry: dict[str, Any]

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.plaintext}"}


def _key(name: str, **scope: Any) -> Key:
    plaintext = f"{name}-secret-key-0123456789"
    entry = {"name": name, "sha256": hash_key(plaintext), **scope}
    return Key(plaintext, entry)


KEYS: dict[str, Key] = {
    # A provincial platform: every non-admin type, one county.
    "platform": _key(
        "nansha-platform", event_types=["*"], counties=["440115"], sources=["nansha-platform"]
    ),
    # A county bureau: may also publish policies and close years.
    "bureau": _key(
        "nansha-bureau",
        event_types=["*"],
        counties=["440115", "000000"],
        sources=["*"],
        admin=True,
    ),
    # A rating device: ratings only.
    "ratings": _key(
        "rating-devices",
        event_types=["rating.submitted.v1"],
        counties=["440115"],
        sources=["nansha-platform"],
    ),
    # Everything everywhere, but not admin.
    "wide": _key("wide-open", event_types=["*"], counties=["*"], sources=["*"]),
    # A township office importing its ledgers.
    "ledger": _key(
        "dongchong-ledger",
        event_types=[
            "activity.onsite_duty.v1",
            "activity.lecture.v1",
            "activity.mediation.v1",
            "activity.consultation.v1",
            "activity.document_drafted.v1",
            "activity.legal_aid_referral.v1",
            "activity.committee_advice.v1",
        ],
        counties=["440115"],
    ),
}


def keys_json() -> str:
    return json.dumps({"keys": [k.entry for k in KEYS.values()]})


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    """Settings for a test: its own dedup file, all test keys, a fixed HMAC key."""
    values: dict[str, Any] = {
        "api_keys": keys_json(),
        "hmac_key": HMAC_KEY,
        "dedup_dsn": str(tmp_path / "dedup.sqlite"),
        "idempotent_producer": False,
        "publish_timeout_s": 5.0,
        "kafka_bootstrap": "127.0.0.1:9",
        **overrides,
    }
    return Settings(**values)


_counter = itertools.count()


def event(type_: str = "activity.lecture.v1", **overrides: Any) -> dict[str, Any]:
    """A valid inbound event of ``type_`` (the contract's example) with a fresh source_event_id."""
    built = example_event(type_)
    built["source_event_id"] = f"T-{time.time_ns()}-{next(_counter)}"
    payload = overrides.pop("payload", None)
    built.update(overrides)
    if payload is not None:
        built["payload"] = {**built["payload"], **payload}
    return built


@dataclass
class FakePublisher:
    """Stands in for Kafka in unit tests: records what is published; can be told to fail."""

    published: list[Record] = field(default_factory=list)
    dead_letters: list[bytes] = field(default_factory=list)
    fail: bool = False
    delay_s: float = 0.0
    is_ready: bool = True
    started: bool = False

    async def start(self) -> None:
        self.started = True

    async def stop(self) -> None:
        self.started = False

    async def publish(self, records: Sequence[Record]) -> None:
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if self.fail:
            raise BrokerUnavailableError("Kafka did not acknowledge within 1 s")
        self.published.extend(records)

    def dead_letter(self, values: Sequence[bytes]) -> None:
        self.dead_letters.extend(values)

    async def ready(self) -> bool:
        return self.is_ready


@contextlib.asynccontextmanager
async def client_for(app: FastAPI, key: Key | None = None) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client talking to ``app`` in-process, with the app's lifespan running."""
    headers = key.headers if key else {}
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://ingest.test", headers=headers, timeout=60
        ) as client:
            yield client


# --- Kafka ----------------------------------------------------------------------

PARTITIONS = 3


@dataclass(frozen=True)
class Topics:
    """The events and dead-letter topics of one test."""

    events: str
    dlq: str


async def read_topic(
    bootstrap: str,
    topic: str,
    *,
    partitions: int = PARTITIONS,
    at_least: int = 0,
    timeout_s: float = 10.0,
) -> list[ConsumerRecord[bytes, bytes]]:
    """Every message on ``topic`` (waiting until ``at_least`` arrived), in partition order.

    "Every" is judged by the high watermark of fetch responses: Tansu's
    ListOffsets (``end_offsets``) undercounts batches of several records.
    """
    tps = [TopicPartition(topic, p) for p in range(partitions)]
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        records: list[ConsumerRecord[bytes, bytes]] = []
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            batches = await consumer.getmany(*tps, timeout_ms=100)
            for batch in batches.values():
                records.extend(batch)
            marks = [consumer.highwater(tp) for tp in tps]
            positions = [await consumer.position(tp) for tp in tps]
            caught_up = all(
                mark is not None and pos >= mark for mark, pos in zip(marks, positions, strict=True)
            )
            if caught_up and len(records) >= at_least:
                break
        return records
    finally:
        await consumer.stop()
