"""kill -9 of ingest at random moments while clients post: every event ingest ever
reported accepted is in the topic, and the appraisal service records each once."""

from __future__ import annotations

import asyncio
import collections
import os
import random
import statistics
import time
import uuid
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

import httpx
import pytest

from contracts import derive_event_id
from embedded.broker import TansuBroker
from embedded.synth import CountyConfig, encode_event, generate
from tests.reliability.support import (
    INGEST_API_KEY,
    SEED,
    IngestProcess,
    ServiceProcess,
    create_topics,
    ingest_env,
    new_port,
    probe,
    service_env,
    store_env,
    topic_event_ids,
    wait_settled,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

KILLS = int(os.environ.get("RELIABILITY_INGEST_KILLS", "8"))
# 1,500 events a kill keep the clients posting (0.3 s apart) past the last kill.
EVENTS = int(os.environ.get("RELIABILITY_INGEST_EVENTS", str(1500 * KILLS)))
CLIENTS = 6
BATCH = 50
PAUSE_S = 0.3  # between a client's requests, so the posting outlasts the kills
LATENCY_S = 0.08  # about the answer time of a request here


@dataclass
class Tally:
    """What the clients were told, per event id and per request."""

    status: dict[str, set[str]] = field(default_factory=lambda: collections.defaultdict(set))
    requests: int = 0
    answered: int = 0
    unanswered: int = 0  # the process died under the request
    refused: int = 0  # connections refused while the process was down
    unavailable: int = 0  # 503s
    in_flight: int = 0
    busy: asyncio.Event = field(default_factory=asyncio.Event)  # set while in_flight > 0
    latencies: list[float] = field(default_factory=list)


async def _client(
    http: httpx.AsyncClient, url: str, batches: list[tuple[bytes, list[str]]], tally: Tally
) -> None:
    headers = {"Authorization": f"Bearer {INGEST_API_KEY}", "Content-Type": "application/json"}
    for body, ids in batches:
        while True:  # retry until this batch got an answer
            tally.requests += 1
            tally.in_flight += 1
            tally.busy.set()
            try:
                response = await http.post(url + "/v1/events", content=body, headers=headers)
            except httpx.ConnectError:
                tally.refused += 1
                await asyncio.sleep(0.2)
                continue
            except httpx.TransportError:
                tally.unanswered += 1
                continue
            finally:
                tally.in_flight -= 1
                if not tally.in_flight:
                    tally.busy.clear()
            if response.status_code == 503:
                tally.unavailable += 1
                await asyncio.sleep(float(response.headers.get("retry-after", "1")))
                continue
            assert response.status_code == 202, response.text[:500]
            tally.answered += 1
            tally.latencies.append(response.elapsed.total_seconds())
            events = response.json()["events"]
            assert [e["event_id"] for e in events] == ids
            for e in events:
                tally.status[e["event_id"]].add(e["status"])
            break
        await asyncio.sleep(PAUSE_S)


async def _killer(
    ingest: IngestProcess, tally: Tally, clients: asyncio.Future[list[None]], rng: random.Random
) -> list[dict[str, float]]:
    """After each start: a random 0.2–1.5 s, then SIGKILL 0–LATENCY_S after a request is
    seen in flight (again, until one still is); restart. Stops after KILLS kills or when
    the clients are done."""
    kills: list[dict[str, float]] = []
    started = time.monotonic()
    while len(kills) < KILLS and not clients.done():
        begun = time.monotonic()
        await asyncio.to_thread(ingest.wait_ready)
        ready_s = time.monotonic() - begun
        await asyncio.sleep(rng.uniform(0.2, 1.5))
        in_flight = 0
        while not in_flight and not clients.done():
            busy: asyncio.Future[Any] = asyncio.ensure_future(tally.busy.wait())
            await asyncio.wait({busy, clients}, return_when=asyncio.FIRST_COMPLETED)
            busy.cancel()
            # Somewhere inside a request: checking, publishing, awaiting acks, marking.
            await asyncio.sleep(rng.uniform(0, LATENCY_S))
            in_flight = tally.in_flight
        if clients.done():
            break
        ingest.kill()
        kills.append({"at": time.monotonic() - started, "in_flight": in_flight, "ready_s": ready_s})
        ingest.start()
    return kills


async def _run_clients(
    url: str, batches: list[tuple[bytes, list[str]]], ingest: IngestProcess, rng: random.Random
) -> tuple[Tally, list[dict[str, float]]]:
    tally = Tally()
    async with httpx.AsyncClient(timeout=30) as http:
        shares = [batches[n::CLIENTS] for n in range(CLIENTS)]
        clients = asyncio.ensure_future(
            asyncio.gather(*(_client(http, url, share, tally) for share in shares))
        )
        kills = await _killer(ingest, tally, clients, rng)
        await clients
    return tally, kills


@pytest.mark.timeout(600)
def test_ingest_killed_mid_request_loses_no_accepted_event(
    kafka_broker: TansuBroker, tmp_path: Path
) -> None:
    rng = random.Random(SEED)
    config = CountyConfig(villages=max(30, EVENTS // 450 + 1), seed=SEED)
    events = list(islice(generate(config), EVENTS))
    batches = []
    for start in range(0, len(events), BATCH):
        chunk = events[start : start + BATCH]
        body = b"[" + b",".join(encode_event(e) for e in chunk) + b"]"
        ids = [str(derive_event_id(e["source"], e["source_event_id"])) for e in chunk]
        batches.append((body, ids))
    topic = f"rel-ingest-crash-{uuid.uuid4().hex[:8]}"
    bootstrap = kafka_broker.bootstrap_servers
    asyncio.run(create_topics(bootstrap, topic))
    asyncio.run(create_topics(bootstrap, topic + "-ingest-dlq", partitions=1))
    env = ingest_env(
        bootstrap, topic, str(tmp_path / "seen.sqlite"), new_port(), config.county_id,
        retry_after_s="1",
    )  # fmt: skip
    ingest = IngestProcess(env, tmp_path / "ingest.log")
    started = time.monotonic()
    ingest.start()
    try:
        tally, kills = asyncio.run(_run_clients(ingest.url, batches, ingest, rng))
    finally:
        ingest.stop()
    posting_s = time.monotonic() - started
    in_topic = asyncio.run(topic_event_ids(bootstrap, topic))
    present = set(in_topic)
    accepted = {i for i, seen in tally.status.items() if "accepted" in seen}
    sent = {i for _, ids in batches for i in ids}
    missing = accepted - present

    # The appraisal service on the topic: each distinct event recorded once.
    service_settings = service_env(bootstrap, topic, tmp_path / "data", new_port())
    service = ServiceProcess(service_settings, tmp_path / "service.log")
    service.start()
    try:
        service.wait_healthy()  # its stores exist: the probe must not race to create them
        with probe(store_env(service_settings)) as p:
            wait_settled(p, len(present), 300, "the appraisal service to settle", service)
            time.sleep(1)
            facts = p.facts()
    finally:
        service.stop()
    print(
        f"\ningest crash: {len(kills)} kills (in flight at the kill: "
        f"{[int(k['in_flight']) for k in kills]}); {tally.requests} requests, {tally.answered} "
        f"answered 202, {tally.unanswered} cut off by a kill, {tally.refused} refused while "
        f"down, {tally.unavailable} answered 503; restart to ready "
        f"{min(k['ready_s'] for k in kills[1:] or kills):.1f}–"
        f"{max(k['ready_s'] for k in kills[1:] or kills):.1f} s; "
        f"{len(sent)} events sent, {len(accepted)} reported accepted "
        f"({sum('duplicate' in s for s in tally.status.values())} also/only reported "
        f"duplicate); topic: {len(in_topic)} records, {len(present)} distinct, "
        f"{len(missing)} accepted but missing; appraisal: {facts} facts; "
        f"posting with kills {posting_s:.1f} s; answer time p50 "
        f"{statistics.median(tally.latencies) * 1000:.0f} ms"
    )
    assert len(kills) == KILLS
    assert tally.unanswered > 0  # some kills did cut a request off
    assert not missing, sorted(missing)[:10]
    # Every event got a 202 answer in the end, accepted once or a duplicate of an accepted one.
    assert set(tally.status) == sent
    assert all(s <= {"accepted", "duplicate"} for s in tally.status.values())
    # A duplicate answer means "accepted earlier": also when that earlier answer was
    # lost with the killed process, so those events must be in the topic too.
    assert present == sent
    assert facts == len(present)
