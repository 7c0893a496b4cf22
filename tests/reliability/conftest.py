"""Fixtures of the reliability suite: the seeded event set and its uninterrupted digest."""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass

import pytest

from embedded.broker import TansuBroker
from tests.reliability.support import (
    EVENTS,
    SETTLE_S,
    EventSet,
    ServiceProcess,
    create_topics,
    event_set,
    new_port,
    probe,
    produce,
    service_env,
    store_env,
    wait_settled,
)


@dataclass(frozen=True)
class Baseline:
    events: EventSet
    digest: str
    facts: int
    seconds: float


@pytest.fixture(scope="session")
def events() -> EventSet:
    return event_set(EVENTS)


@pytest.fixture(scope="session")
def baseline(
    events: EventSet, kafka_broker: TansuBroker, tmp_path_factory: pytest.TempPathFactory
) -> Baseline:
    """The same events through one uninterrupted service process on a fresh SQLite store."""
    tmp = tmp_path_factory.mktemp("baseline")
    topic = f"rel-base-{uuid.uuid4().hex[:8]}"
    bootstrap = kafka_broker.bootstrap_servers
    asyncio.run(create_topics(bootstrap, topic))
    asyncio.run(produce(bootstrap, topic, events.records))
    env = service_env(bootstrap, topic, tmp / "data", new_port())
    service = ServiceProcess(env, tmp / "service.log")
    started = time.monotonic()
    service.start()
    try:
        service.wait_healthy()  # its stores exist: the probe must not race to create them
        with probe(store_env(env)) as p:
            wait_settled(p, events.distinct, SETTLE_S, "the baseline to settle", service)
            seconds = time.monotonic() - started
            return Baseline(events, p.digest(), p.facts(), seconds)
    finally:
        service.stop()
