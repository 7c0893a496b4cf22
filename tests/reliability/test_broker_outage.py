"""The broker frozen (SIGSTOP) for ≥ 10 s with ingest and appraisal running: ingest answers
503 (never 500) and accepts nothing; after SIGCONT the consumer continues; exactly once."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
import uuid
from itertools import islice
from pathlib import Path
from typing import Any

import httpx
import pytest

from contracts import derive_event_id
from embedded.broker import TansuBroker
from embedded.synth import CountyConfig, generate
from tests.reliability.support import (
    INGEST_API_KEY,
    REPO,
    SEED,
    IngestProcess,
    ServiceProcess,
    create_topics,
    ingest_env,
    new_port,
    probe,
    service_env,
    store_env,
    wait_settled,
    wait_until,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

OUTAGE_S = 12.0
EVENTS = 6000


def _ingest(bootstrap: str, topic: str, tmp: Path, county: str) -> IngestProcess:
    env = ingest_env(
        bootstrap, topic, str(tmp / "seen.sqlite"), new_port(), county,
        publish_timeout_s="3", readiness_cache_s="0.5",
    )  # fmt: skip
    ingest = IngestProcess(env, tmp / "ingest.log")
    ingest.start()
    ingest.wait_ready()
    return ingest


def _post(url: str, events: list[dict[str, Any]], timeout: float = 60) -> httpx.Response:
    return httpx.post(
        url + "/v1/events",
        json=events,
        headers={"Authorization": f"Bearer {INGEST_API_KEY}"},
        timeout=timeout,
    )


@pytest.mark.timeout(600)
def test_a_frozen_broker_gets_503s_and_loses_nothing(tmp_path: Path) -> None:
    config = CountyConfig(villages=30, seed=SEED)
    events = list(islice(generate(config), EVENTS))
    ids = {derive_event_id(e["source"], e["source_event_id"]) for e in events}
    first, during, rest = events[:2000], events[2000:2500], events[2500:]
    topic = f"rel-frozen-{uuid.uuid4().hex[:8]}"
    with TansuBroker(log_path=tmp_path / "tansu.log") as broker:
        bootstrap = broker.bootstrap_servers
        asyncio.run(create_topics(bootstrap, topic))
        asyncio.run(create_topics(bootstrap, topic + "-ingest-dlq", partitions=1))
        env = service_env(bootstrap, topic, tmp_path / "data", new_port())
        service = ServiceProcess(env, tmp_path / "service.log")
        service.start()
        ingest = _ingest(bootstrap, topic, tmp_path, config.county_id)
        url = ingest.url
        try:
            service.wait_healthy()  # its stores exist: the probe must not race to create them
            with probe(store_env(env)) as p:
                posted = _post(url, first)
                assert posted.status_code == 202, posted.text[:500]
                wait_until(lambda: p.facts() == len(first), 120, "the first part", service=service)

                broker.suspend()
                frozen_at = time.monotonic()
                answers: list[int] = []
                bodies: list[str] = []
                while time.monotonic() - frozen_at < OUTAGE_S:
                    response = _post(url, during)
                    answers.append(response.status_code)
                    bodies.append(response.text[:300])
                    ready = httpx.get(url + "/readyz", timeout=10).status_code
                    answers.append(ready)
                facts_frozen = p.facts()
                broker.resume()
                resumed_at = time.monotonic()

                # Events of a 503'd request may still reach the topic later (documented);
                # they are then recorded once. The client re-sends, as told by the 503.
                wait_until(lambda: p.facts() >= len(first), 30, "the consumer", service=service)
                time.sleep(3)
                leaked = p.facts() - len(first)
                again = _post(url, during)
                assert again.status_code == 202, again.text[:500]
                statuses = {r["status"] for r in again.json()["events"]}
                posted = _post(url, rest)
                assert posted.status_code == 202, posted.text[:500]
                wait_settled(p, len(ids), 300, "everything", service)
                recovered = time.monotonic() - resumed_at
                facts = p.facts()
        finally:
            ingest.stop()
            service.stop()
        verify = subprocess.run(
            [sys.executable, "-m", "appraisal", "verify", "--export", str(tmp_path / "d.json")],
            env=env,
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    print(
        f"\nfrozen {OUTAGE_S}s: answers {sorted(set(answers))} ({len(answers)}); facts while "
        f"frozen {facts_frozen}; leaked from 503'd requests {leaked}; re-send statuses "
        f"{statuses}; settled {recovered:.1f}s after resume; {facts} facts of {len(ids)} ids; "
        f"verify: {verify.stdout.strip().splitlines()[-1:]}"
    )
    assert set(answers) == {503}, bodies
    assert facts_frozen == len(first)
    assert facts == len(ids)
    assert verify.returncode == 0, verify.stdout + verify.stderr
