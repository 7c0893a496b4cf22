"""kill -9 at random moments, mostly mid-batch, and restart: the same read models as an
uninterrupted run, and every published event recorded exactly once (DESIGN §4, §9)."""

from __future__ import annotations

import asyncio
import os
import random
import time
import uuid
from functools import partial
from pathlib import Path

import pytest

from embedded.broker import TansuBroker
from tests.reliability.conftest import Baseline
from tests.reliability.support import (
    SEED,
    SETTLE_S,
    TEST_TIMEOUT_S,
    ServiceProcess,
    StoreProbe,
    create_topics,
    new_port,
    probe,
    produce,
    service_env,
    store_env,
    wait_settled,
    wait_until,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _grew(p: StoreProbe, before: int) -> bool:
    return p.notifications() > before


KILLS = int(os.environ.get("RELIABILITY_KILLS", "10"))


@pytest.mark.timeout(TEST_TIMEOUT_S)
def test_sigkill_at_random_moments_changes_nothing(
    baseline: Baseline, kafka_broker: TansuBroker, tmp_path: Path
) -> None:
    rng = random.Random(SEED)
    records = baseline.events.records
    topic = f"rel-crash-{uuid.uuid4().hex[:8]}"
    bootstrap = kafka_broker.bootstrap_servers
    asyncio.run(create_topics(bootstrap, topic))
    env = service_env(bootstrap, topic, tmp_path / "data", new_port())
    service = ServiceProcess(env, tmp_path / "service.log")
    # Events arrive in KILLS chunks, one before each start, so every kill finds work.
    chunk = -(-len(records) // KILLS)
    kills: list[dict[str, float]] = []
    started = time.monotonic()
    with probe(store_env(env)) as p:
        try:
            for n in range(KILLS):
                asyncio.run(produce(bootstrap, topic, records[n * chunk : (n + 1) * chunk]))
                service.start()
                # Wait for the new instance to get its partitions (the killed member
                # lingers in the group until its session times out) and store a batch.
                before = p.notifications()
                wait_until(partial(_grew, p, before), 90, "a batch", every=0.02)
                time.sleep(rng.uniform(0, 1.0))
                # Kill right after a batch commit was seen: the next one is being stored.
                mark = p.notifications()
                deadline = time.monotonic() + 5
                while p.notifications() == mark and time.monotonic() < deadline:
                    time.sleep(0.01)
                grew = p.notifications() > mark
                time.sleep(rng.uniform(0, 0.1))
                service.kill()
                kills.append(
                    {"at": time.monotonic() - started, "facts": p.facts(), "mid": float(grew)}
                )
            asyncio.run(produce(bootstrap, topic, records[KILLS * chunk :]))
            service.start()
            wait_settled(p, baseline.events.distinct, SETTLE_S, "the store to settle", service)
            facts, digest = p.facts(), p.digest()
        finally:
            service.stop()
    elapsed = time.monotonic() - started
    progress = [k["facts"] for k in kills]
    mid = int(sum(k["mid"] for k in kills))
    print(f"\n{KILLS} kills ({mid} right after a batch commit) over {elapsed:.1f}s")
    print(f"facts at each kill: {progress}")
    assert len(kills) >= 10
    # Kills hit while work was pending (not all after everything was stored).
    assert sum(1 for f in progress if 0 < f < baseline.events.distinct) >= KILLS // 2
    assert facts == baseline.events.distinct == baseline.facts
    assert digest == baseline.digest
