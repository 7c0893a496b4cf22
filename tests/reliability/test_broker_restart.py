"""A restarted, empty broker (memory lost, new address): the service neither skips the new
log's events nor doubles the old ones (epochs, event ids)."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path

import pytest

from embedded.broker import TansuBroker
from tests.reliability.conftest import Baseline
from tests.reliability.support import (
    SETTLE_S,
    TEST_TIMEOUT_S,
    ServiceProcess,
    create_topics,
    new_port,
    probe,
    produce,
    service_env,
    store_env,
    wait_settled,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.mark.timeout(TEST_TIMEOUT_S)
def test_an_empty_broker_neither_skips_nor_doubles(baseline: Baseline, tmp_path: Path) -> None:
    records = baseline.events.records
    first, rest = records[: len(records) * 3 // 5], records[len(records) * 3 // 5 :]
    # The new broker's log: part of the old events again (a source re-sending), then the
    # new ones, shorter than what was stored per partition before.
    again = first[-len(first) // 5 :]
    topic = f"rel-restart-{uuid.uuid4().hex[:8]}"
    data = tmp_path / "data"
    port = new_port()
    started = time.monotonic()
    with probe(store_env(service_env("unused", topic, data, port))) as p:
        with TansuBroker(log_path=tmp_path / "tansu-a.log") as broker_a:
            asyncio.run(create_topics(broker_a.bootstrap_servers, topic))
            asyncio.run(produce(broker_a.bootstrap_servers, topic, first))
            service = ServiceProcess(
                service_env(broker_a.bootstrap_servers, topic, data, port),
                tmp_path / "service.log",
            )
            service.start()
            try:
                wait_settled(p, len(first), SETTLE_S, "the first part", service)
            finally:
                service.stop()
            stored_before = p.facts()
        with TansuBroker(log_path=tmp_path / "tansu-b.log") as broker_b:
            assert broker_b.bootstrap_servers != broker_a.bootstrap_servers
            asyncio.run(create_topics(broker_b.bootstrap_servers, topic))
            asyncio.run(produce(broker_b.bootstrap_servers, topic, again + rest))
            service = ServiceProcess(
                service_env(broker_b.bootstrap_servers, topic, data, port),
                tmp_path / "service.log",
            )
            service.start()
            try:
                wait_settled(p, baseline.events.distinct, SETTLE_S, "the second part", service)
                facts, digest = p.facts(), p.digest()
            finally:
                service.stop()
    log = (tmp_path / "service.log").read_text(encoding="utf-8", errors="replace")
    epochs = [line for line in log.splitlines() if "epoch 1, re-reading" in line]
    print(
        f"\nbroker A: {len(first)} events, {stored_before} facts; broker B: {len(again)} again + "
        f"{len(rest)} new; {facts} facts; {time.monotonic() - started:.1f}s; epochs: {epochs}"
    )
    assert stored_before == len(first)
    assert len(epochs) == 3  # every partition started a new epoch on the empty broker
    assert facts == baseline.events.distinct == baseline.facts
    assert digest == baseline.digest
