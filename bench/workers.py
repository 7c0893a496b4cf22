"""Load generators that run in their own process (own GIL, own memory).

``python -m bench.workers post|baseline|load|county JSON`` does one job and prints its
result as one JSON line on stdout; with ``-`` instead of ``JSON`` the job's spec is
read from stdin (a B3 target list of thousands of advisors is too long for argv).
The orchestrator (:mod:`bench.cli`) starts them, so the process hosting the appraisal
service only does the service's work.
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
import time
from typing import Any

from bench.stats import percentiles


def county_config(spec: dict[str, Any]) -> Any:
    from embedded.synth.config import CountyConfig

    return CountyConfig(
        county_id=spec["county_id"],
        villages=spec["villages"],
        years=tuple(spec["years"]),
        events_per_village=spec["events_per_village"],
        seed=spec["seed"],
    )


def post(spec: dict[str, Any]) -> dict[str, Any]:
    """Generate the county, encode it in batches, then post them to ingest.

    As in B0, the events are generated and encoded before the clock starts: the
    load generator's own work is not the system's. `posting_started` is the
    `time.monotonic()` at which the first batch went out (the clock is
    system-wide), so the caller times B1 from there.
    """
    from embedded.synth.post import IngestClient, encode_batches, post_batches
    from embedded.synth.stream import generate

    began = time.monotonic()
    batches = list(encode_batches(generate(county_config(spec)), spec["batch_size"]))
    posting_started = time.monotonic()
    with IngestClient(spec["ingest_url"], spec["api_key"]) as client:
        summary = post_batches(batches, client)
    return {
        "events": summary.events,
        "accepted": summary.accepted,
        "duplicate": summary.duplicate,
        "rejected": summary.rejected,
        "requests": summary.requests,
        "retries": summary.retries,
        "seconds": summary.seconds,
        "encode_seconds": posting_started - began,
        "posting_started": posting_started,
    }


async def baseline(spec: dict[str, Any]) -> dict[str, Any]:
    """B0: the same serialised events through aiokafka into a plain PostgreSQL table.

    Events are generated and encoded before the clock starts; then one producer
    sends them all while one consumer reads batches and inserts them (psycopg,
    ``executemany`` in pipeline mode, one transaction per batch) until every event
    is in the table.
    """
    import psycopg
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
    from psycopg import sql
    from pydantic_core import to_json

    from embedded.synth.stream import generate

    records = [
        ((e.get("advisor_id") or e["county_id"]).encode(), to_json(e))
        for e in generate(county_config(spec))
    ]
    total = len(records)
    topic, schema, batch = spec["topic"], spec["schema"], spec["batch_size"]
    table = sql.Identifier(schema, "raw_events")
    conn = await psycopg.AsyncConnection.connect(spec["dsn"], autocommit=False)
    await conn.execute(
        sql.SQL(
            "CREATE TABLE {} (id bigserial PRIMARY KEY, part int NOT NULL, "
            "pos bigint NOT NULL, key text NOT NULL, body jsonb NOT NULL)"
        ).format(table)
    )
    await conn.commit()
    insert = sql.SQL("INSERT INTO {} (part, pos, key, body) VALUES (%s, %s, %s, %s)").format(table)
    producer = AIOKafkaProducer(bootstrap_servers=spec["bootstrap"], acks="all", linger_ms=5)
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=spec["bootstrap"],
        group_id=topic + "-baseline",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await producer.start()
    await consumer.start()
    for _ in range(600):  # the group join is not part of the measurement
        if consumer.assignment():
            break
        await asyncio.sleep(0.05)
    started = time.perf_counter()
    produced_at = 0.0

    async def produce() -> None:
        nonlocal produced_at
        for i in range(0, total, 1000):
            chunk = records[i : i + 1000]
            futures = [await producer.send(topic, value, key=key) for key, value in chunk]
            await asyncio.gather(*futures)
        produced_at = time.perf_counter() - started

    async def consume() -> None:
        stored = 0
        while stored < total:
            got = await consumer.getmany(timeout_ms=500, max_records=batch)
            rows = [
                (r.partition, r.offset, (r.key or b"").decode(), (r.value or b"").decode())
                for records_ in got.values()
                for r in records_
            ]
            if not rows:
                continue
            async with conn.cursor() as cur:
                await cur.executemany(insert, rows)
            await conn.commit()
            await consumer.commit()
            stored += len(rows)

    try:
        await asyncio.gather(produce(), consume())
        seconds = time.perf_counter() - started
    finally:
        await producer.stop()
        await consumer.stop()
        await conn.close()
    return {
        "events": total,
        "seconds": seconds,
        "produce_seconds": produced_at,
        "events_per_s": total / seconds,
    }


async def load(spec: dict[str, Any]) -> dict[str, Any]:
    """B3: ``clients`` concurrent HTTP clients GET the read API for ``seconds``.

    Closed loop, no think time: each client sends its next request as soon as the
    answer is read. The clients are aiohttp (about a third of httpx's CPU per
    request): on 2 cores the load generator's own CPU is part of every latency.
    """
    import aiohttp

    targets: dict[str, list[str]] = spec["targets"]
    kinds = sorted(targets)
    latencies: dict[str, list[float]] = {k: [] for k in kinds}
    errors: dict[str, int] = dict.fromkeys(kinds, 0)
    headers = {"Authorization": f"Bearer {spec['token']}"}
    deadline = time.perf_counter() + spec["seconds"]

    async def client(n: int, http: aiohttp.ClientSession) -> None:
        rng = random.Random(n)
        i = n
        while time.perf_counter() < deadline:
            kind = kinds[i % len(kinds)]
            i += 1
            path = rng.choice(targets[kind])
            t = time.perf_counter()
            try:
                async with http.get(path, headers=headers) as response:
                    await response.read()
                    ok = response.status == 200
            except (aiohttp.ClientError, TimeoutError):
                ok = False
            latencies[kind].append(time.perf_counter() - t)
            if not ok:
                errors[kind] += 1

    connector = aiohttp.TCPConnector(limit=spec["clients"])
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(
        spec["base_url"], connector=connector, timeout=timeout
    ) as http:
        started = time.perf_counter()
        await asyncio.gather(*(client(n, http) for n in range(spec["clients"])))
        elapsed = time.perf_counter() - started
    every = [x for v in latencies.values() for x in v]
    return {
        "requests": len(every),
        "errors": sum(errors.values()),
        "seconds": elapsed,
        "requests_per_s": len(every) / elapsed if elapsed else 0.0,
        **{f"{k}_ms": v * 1000 for k, v in percentiles(every).items()},
        "by_kind": {
            kind: {
                "requests": len(latencies[kind]),
                "errors": errors[kind],
                **{f"{k}_ms": v * 1000 for k, v in percentiles(latencies[kind]).items()},
            }
            for kind in kinds
        },
    }


def county(spec: dict[str, Any]) -> dict[str, Any]:
    """Read a county-year's whole list, as a bureau's client does; its assignments'
    count and advisor ids (the list itself is ~10 MB of JSON at 3,000 assignments:
    parsed here, not in the process whose memory B4 measures)."""
    import httpx

    response = httpx.get(
        spec["url"], headers={"Authorization": f"Bearer {spec['token']}"}, timeout=120
    )
    response.raise_for_status()
    assignments = response.json()["assignments"]
    return {
        "assignments": len(assignments),
        "advisors": sorted({a["advisor_id"] for a in assignments}),
    }


def main(argv: list[str]) -> int:
    job, spec = argv[0], json.loads(sys.stdin.read() if argv[1] == "-" else argv[1])
    if job == "post":
        result = post(spec)
    elif job == "baseline":
        result = asyncio.run(baseline(spec))
    elif job == "load":
        result = asyncio.run(load(spec))
    elif job == "county":
        result = county(spec)
    else:
        raise SystemExit(f"unknown job {job!r}")
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
