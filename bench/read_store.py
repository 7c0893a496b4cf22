"""A B3-sized read model in seconds, the read API alone on it, and its CPU per request.

``python -m bench.read_store build SCHEMA`` projects a small synthetic county for
real (county 440115, 30 villages, 2024–2025) into PostgreSQL schema ``SCHEMA`` of
database ``test``, then copies its rows under new advisor and village ids: 3,000
advisors with ~3,000 assignments in 440115 and 7,000 advisors in three other
counties (10,000 in all), and settles 440115's summaries and shortlists. The event
store holds only the small county's advisors, and 440115's register names all its
villages: answers without ``as_of`` read views (and that register) only.

``python -m bench.read_store serve SCHEMA PORT`` serves the read API on it as shipped
(uvicorn with ``http_limits.uvicorn_options``; no Kafka, no projector; bearer token
``bureau-token`` for 440115).

``python -m bench.read_store cpu PID PORT [N]`` sends N sequential requests of each
kind over one connection and prints the server process's CPU per request.

``python -m bench.read_store load PID PORT [SECONDS]`` runs B3's mix (advisor
answers, county-list pages of 100, award shortlists) with 50 closed-loop clients
for SECONDS (15) and prints requests/s, latencies and the server's CPU per request.
"""

from __future__ import annotations

import json
import random
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

COUNTY = "440115"
TOKEN = "bureau-token"  # noqa: S105 - a throwaway token of the local bench server
OTHER_COUNTIES = ("440113", "440114", "440116")


def _service(schema: str, tokens: str = "[]") -> Any:
    from appraisal.service import AppraisalService
    from appraisal.settings import AppraisalSettings

    settings = AppraisalSettings(
        store="postgres",
        postgres_dbname="test",
        postgres_schema=schema,
        idempotent_producer=False,
        tokens=tokens,
    )
    return AppraisalService(settings)


def build(schema: str) -> None:
    import psycopg
    from psycopg import sql

    from appraisal.application import Recordable
    from appraisal.domain.county import VillageRegistered
    from appraisal.projections.store import (
        AdvisorStreamRow,
        AdvisorYearRow,
        AssignmentRow,
        ViewChanges,
    )
    from appraisal.translate import to_recordable
    from contracts import derive_event_id
    from contracts.validation import parse_published_event
    from embedded.synth.config import CountyConfig
    from embedded.synth.stream import generate
    from ingest.pseudonymise import Pseudonymiser

    with psycopg.connect("host=127.0.0.1 user=postgres dbname=test", autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    service = _service(schema)
    started = time.perf_counter()
    pseudonym, now = Pseudonymiser(b"bench"), datetime.now(UTC).isoformat()
    config = CountyConfig(COUNTY, villages=30, years=(2024, 2025), events_per_village=20)
    batch = []
    for event in generate(config):
        payload = dict(event["payload"])
        if "citizen" in payload:
            payload["citizen_ref"] = pseudonym(payload.pop("citizen"))
        source, source_id = event["source"], event["source_event_id"]
        wire = {**event, "payload": payload, "recorded_at": now}
        wire["event_id"] = str(derive_event_id(source, source_id))
        batch.append(to_recordable(parse_published_event(json.dumps(wire))))
    service.app.record(batch)
    service.projector.catch_up(page_size=5000)
    print(f"projected {len(batch):,} events in {time.perf_counter() - started:.1f}s")

    assignments = service.views.table_rows("assignment_appraisals")
    advisor_years = service.views.table_rows("advisor_years")
    advisors = sorted({r["advisor_id"] for r in advisor_years})
    plan = [(COUNTY, n) for n in range(len(advisors), 3000)] + [
        (county, n) for county in OTHER_COUNTIES for n in range(7000 // len(OTHER_COUNTIES) + 1)
    ][:7000]
    changes = ViewChanges()
    for county, n in plan:
        source, new, village = (
            advisors[n % len(advisors)],
            f"A-{county}-{n:05d}",
            f"{county}{n:06d}",
        )
        changes.advisor_streams.append(AdvisorStreamRow(new, str(uuid.uuid4()), county, 1))
        for r in (r for r in assignments if r["advisor_id"] == source):
            body = {**json.loads(r["body"]), "advisor_id": new, "village_id": village}
            body["county_id"] = county
            changes.assignments.append(
                AssignmentRow(county, r["year"], new, village, r["verdict"], r["grade"],
                              r["score"], bool(r["provisional"]), r["version"], r["policy_id"],
                              body)
            )  # fmt: skip
        for r in (r for r in advisor_years if r["advisor_id"] == source):
            body = {**json.loads(r["body"]), "advisor_id": new, "county_id": county}
            body["villages"] = [village]
            body["candidate"] = {**body["candidate"], "advisor_id": new}
            changes.advisor_years.append(AdvisorYearRow(new, r["year"], county, body))
        if len(changes.assignments) >= 5000:
            service.views.write(changes, None)
            changes = ViewChanges()
    changes.dirty_county_years = {(COUNTY, 2024), (COUNTY, 2025)}
    service.views.write(changes, None)
    service.projector.settle()
    # The county's register names its ~3,000 villages, as a real one does (reading
    # the register is part of some answers); recorded after projecting, so the views
    # keep the copied rows.
    registered = datetime(2024, 1, 1, tzinfo=UTC)

    def registration(n: int) -> Recordable:
        event_id = uuid.uuid5(uuid.NAMESPACE_URL, f"bench-village-{n}")
        fact = VillageRegistered(
            event_id, registered, f"{COUNTY}{n:06d}", f"村{n}", f"{COUNTY}001", "village",
            False, f"A-{COUNTY}-{n:05d}",
        )  # fmt: skip
        return Recordable("county", COUNTY, fact, COUNTY)

    service.app.record([registration(n) for county, n in plan if county == COUNTY])
    count = len(service.views.county_assignment_bodies(COUNTY, 2025))
    print(
        f"{COUNTY}/2025: {count:,} assignments; {len(service.views.advisor_streams()):,} advisors"
    )
    print(f"built in {time.perf_counter() - started:.1f}s")


def serve(schema: str, port: int) -> None:
    import uvicorn

    from appraisal.api.auth import hash_token
    from appraisal.api.http import create_app
    from http_limits import uvicorn_options

    tokens = [
        {"name": "bureau", "role": "bureau", "counties": [COUNTY], "sha256": hash_token(TOKEN)}
    ]
    service = _service(schema, json.dumps(tokens))
    app = create_app(service, manage_lifecycle=False)
    uvicorn.run(
        app, host="127.0.0.1", port=port, log_level="warning", access_log=False,
        **uvicorn_options(),
    )  # fmt: skip


def cpu(pid: int, port: int, n: int = 300) -> None:
    import httpx

    from bench.stats import cpu_seconds

    rng = random.Random(1)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    kinds: dict[str, Callable[[], str]] = {
        "assignment": lambda: (
            f"/v1/advisors/A-{COUNTY}-{rng.randrange(100, 3000):05d}/appraisals/2025"
        ),
        "awards": lambda: (
            f"/v1/awards/{COUNTY}/2025/" + rng.choice(["public_welfare", "social_responsibility"])
        ),
        "county_list": lambda: f"/v1/appraisals/{COUNTY}/2025",
        "county_list_304": lambda: f"/v1/appraisals/{COUNTY}/2025",
        "summary": lambda: f"/v1/counties/{COUNTY}/2025/summary",
    }
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as http:
        for kind, path in kinds.items():
            first = http.get(path(), headers=headers)
            first.raise_for_status()
            sent = dict(headers)
            if kind.endswith("_304"):
                sent["If-None-Match"] = first.headers.get("etag", "")
            m = max(10, n // 10) if kind == "county_list" else n
            before, wall = cpu_seconds(pid), time.perf_counter()
            for _ in range(m):
                http.get(path(), headers=sent)
            per = 1000 * (cpu_seconds(pid) - before) / m
            took = 1000 * (time.perf_counter() - wall) / m
            print(f"{kind:16s} {m:5d} requests  server CPU {per:7.2f} ms/request  "
                  f"wall {took:7.2f} ms  body {len(first.content):,} B")  # fmt: skip


def load(pid: int, port: int, seconds: float = 15.0, clients: int = 50) -> None:
    """B3's mix against the server: `clients` closed-loop clients for `seconds`."""
    import asyncio

    from appraisal.policy import AwardCategory
    from bench.stats import cpu_seconds
    from bench.workers import load as run_load

    targets = {
        "assignment": [
            f"/v1/advisors/A-{COUNTY}-{n:05d}/appraisals/2025" for n in range(100, 3000)
        ],
        "county_list": [
            f"/v1/appraisals/{COUNTY}/2025?offset={o}&limit=100" for o in range(0, 3000, 100)
        ],
        "awards": [f"/v1/awards/{COUNTY}/2025/{c.value}" for c in AwardCategory],
    }  # fmt: skip
    spec = {
        "base_url": f"http://127.0.0.1:{port}",
        "token": TOKEN,
        "targets": targets,
        "clients": clients,
        "seconds": seconds,
    }
    before = cpu_seconds(pid)
    result = asyncio.run(run_load(spec))
    per = 1000 * (cpu_seconds(pid) - before) / max(1, result["requests"])
    print(
        f"{result['requests_per_s']:,.0f} requests/s, p50/p95/p99 "
        f"{result['p50_ms']:.0f}/{result['p95_ms']:.0f}/{result['p99_ms']:.0f} ms, "
        f"{result['errors']} errors, server CPU {per:.2f} ms/request"
    )
    for kind, r in result["by_kind"].items():
        print(
            f"  {kind:12s} {r['requests']:6,d}  "
            f"{r['p50_ms']:.0f}/{r['p95_ms']:.0f}/{r['p99_ms']:.0f} ms"
        )


def main(argv: list[str]) -> int:
    if argv[:1] == ["build"] and len(argv) == 2:
        build(argv[1])
    elif argv[:1] == ["serve"] and len(argv) == 3:
        serve(argv[1], int(argv[2]))
    elif argv[:1] == ["cpu"] and len(argv) in (3, 4):
        cpu(int(argv[1]), int(argv[2]), *(int(a) for a in argv[3:]))
    elif argv[:1] == ["load"] and len(argv) in (3, 4):
        load(int(argv[1]), int(argv[2]), float(argv[3]) if argv[3:] else 15.0)
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
