"""SQL injection strings in every path and query parameter of both services.

Answers are 4xx or correct-and-empty, never 5xx; no answer shows data the token
may not read or that the injected value does not name; every table of the event
store and the views has the same rows afterwards (SQLite and PostgreSQL). Ingest
gets the same strings in every field of an event and of a ledger import; its
seen-event store (SQLite or PostgreSQL with the pipeline's backend) survives.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import psycopg
import pytest
from psycopg import sql

from embedded.topics import TopicSpec, ensure_topics
from ingest.http import create_app as create_ingest_app
from ingest.settings import Settings as IngestSettings
from tests.ingest.test_dedup import postgres_dsn
from tests.security.pipeline import (
    HMAC_KEY,
    INGEST_KEYS,
    YEAR,
    A,
    B,
    Pipeline,
    bearer,
    county_event,
)
from tests.security.probes import APPRAISAL_ROUTES

pytestmark = pytest.mark.integration

INJECTIONS = [
    "' OR 1=1--",
    "' OR '1'='1",
    '"; DROP TABLE advisor_streams; --',
    "'; DROP TABLE stored_events; --",
    "%27",
    "%2527",
    "\u2019 OR \u20191\u2019=\u20191",  # curly quotes
    "\uff07 OR \uff11=\uff11",  # full-width quote and digits
    "\x00",
    "ADV\x00' OR '1'='1",
    "1; SELECT pg_sleep(3)--",
    "' UNION SELECT body FROM assignment_appraisals--",
    "440115' --",
    "../../../../etc/passwd",
    "\u202e' OR 1=1",
    "x" * 3000,
]

DEFAULTS = {
    "county_id": A.code,
    "year": str(YEAR),
    "advisor_id": A.advisor_id,
    "village_id": A.village_id,
    "category": "public_welfare",
    "name": "dashboard.css",
}
QUERY = {
    "/v1/appraisals/{county_id}/{year}": {"as_of": "2030-01-01T00:00:00+08:00"},
    "/v1/advisors/{advisor_id}/appraisals/{year}": {"as_of": "2030-01-01T00:00:00+08:00"},
    "/v1/awards/{county_id}/{year}/{category}": {"as_of": "2030-01-01T00:00:00+08:00"},
    "/v1/advisors/{advisor_id}/history": {"offset": "0", "limit": "10"},
    "/dashboard/login": {"next": "/dashboard/"},
    "/dashboard/open": {"county_id": A.code, "year": str(YEAR)},
}
PAGE_QUERY = {"lang": "en"}
# An injected value in one of these names nothing that exists: no advisor's data may show.
IDENTIFYING = {"advisor_id", "village_id", "category", "county_id"}


def _requests() -> Iterator[tuple[str, str, str, bool]]:
    """(method, url, what was injected, injected into an identifying parameter)."""
    for (method, template), _rc in APPRAISAL_ROUTES.items():
        names = re.findall(r"{(\w+)}", template)
        query = dict(QUERY.get(template, {}))
        if template.startswith("/dashboard"):
            query.update(PAGE_QUERY)
        if not names and not query:
            continue
        for value in INJECTIONS:
            for target in [*names, *(f"?{q}" for q in query)]:
                path_values = {n: quote(DEFAULTS[n], safe="") for n in names}
                params = dict(query)
                if target.startswith("?"):
                    params[target[1:]] = value
                else:
                    path_values[target] = quote(value, safe="")
                url = template.format(**path_values)
                if params:
                    url += "?" + "&".join(f"{k}={quote(v, safe='')}" for k, v in params.items())
                yield method, url, f"{target}={value[:30]!r}", target.lstrip("?") in IDENTIFYING


REQUESTS = list(_requests())


async def test_injection_strings_in_every_appraisal_parameter(pipeline: Pipeline) -> None:
    before = pipeline.row_counts()
    notifications = pipeline.service.app.recorder.max_notification_id()
    started = time.perf_counter()
    failures: list[str] = []
    statuses: dict[int, int] = {}
    for method, url, injected, identifying in REQUESTS:
        body: Any = {} if method == "POST" and "/what-if/" in url else None
        response = await pipeline.appraisal.request(
            method, url, json=body, headers=bearer("bureau-a"), follow_redirects=False
        )
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        text = response.text
        where = f"{method} {url[:120]} ({injected})"
        if response.status_code >= 500:
            failures.append(f"{where}: {response.status_code} {text[:200]}")
            continue
        shown = [m for m in B.markers if m in text]
        if identifying and response.status_code == 200:
            shown += [m for m in (A.advisor_name, A.firm) if m in text]
        if shown:
            failures.append(f"{where}: {response.status_code} shows {shown}")
    elapsed = time.perf_counter() - started
    assert not failures, "\n".join(failures)
    assert pipeline.row_counts() == before
    assert pipeline.service.app.recorder.max_notification_id() == notifications
    print(
        f"\ninjection [{pipeline.backend}]: {len(REQUESTS)} requests, {len(INJECTIONS)} "
        f"strings, statuses {dict(sorted(statuses.items()))}, {len(before)} tables unchanged, "
        f"{elapsed:.1f} s"
    )


async def test_injected_identifiers_answer_correctly_and_empty(pipeline: Pipeline) -> None:
    """Where a route answers 200 for any id, an injected id gets the empty answer."""
    for value in INJECTIONS:
        advisor = quote(value, safe="")
        url = f"/v1/verdicts/{A.code}/{YEAR}/{advisor}/{A.village_id}"
        response = await pipeline.appraisal.get(url, headers=bearer("auditor"))
        assert response.status_code in (200, 404, 422), (value, response.text[:200])
        if response.status_code == 200:
            assert response.json()["versions"] == []


# --- ingest ------------------------------------------------------------------------------


def _seen_rows(pipeline: Pipeline, dsn: str) -> int:
    if pipeline.backend == "sqlite":
        import sqlite3

        with sqlite3.connect(dsn) as conn:
            return int(conn.execute("SELECT count(*) FROM seen_events").fetchone()[0])
    assert pipeline.postgres is not None
    schema = dsn.rsplit("search_path%3D", 1)[1]
    with psycopg.connect(pipeline.postgres.conninfo()) as conn:
        query = sql.SQL("SELECT count(*) FROM {}.ingest_seen_events").format(sql.Identifier(schema))
        row = conn.execute(query).fetchone()
        assert row is not None
        return int(row[0])


async def test_injection_strings_in_every_field_sent_to_ingest(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    bootstrap = pipeline.service.settings.kafka_bootstrap
    topic = f"sec-inj-{uuid.uuid4().hex[:12]}"
    await ensure_topics(bootstrap, [TopicSpec(topic, 3, ""), TopicSpec(topic + "-dlq", 1, "")])
    if pipeline.backend == "sqlite":
        dsn = str(tmp_path / "seen.sqlite")
    else:
        assert pipeline.postgres is not None
        schema = f"sec_inj_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(pipeline.postgres.conninfo(), autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        dsn = postgres_dsn(pipeline.postgres, schema)
    settings = IngestSettings(
        api_keys=json.dumps({"keys": [k.entry for k in INGEST_KEYS.values()]}),
        hmac_key=HMAC_KEY,
        dedup_dsn=dsn,
        idempotent_producer=False,
        kafka_bootstrap=bootstrap,
        topic=topic,
        dlq_topic=topic + "-dlq",
    )
    app = create_ingest_app(settings)
    key = INGEST_KEYS["a-platform"]
    events: list[dict[str, Any]] = []
    for n, value in enumerate(INJECTIONS):
        base = county_event("rating.submitted.v1", A, "a-platform", f"INJ-{n}")
        base["payload"]["citizen"] = "13800138000"
        for field in ("advisor_id", "source_event_id", "county_id", "source", "type"):
            events.append({**base, field: value})
        for field in ("village_id", "comment", "rating_id", "citizen", "channel"):
            events.append({**base, "payload": {**base["payload"], field: value}})
    statuses: dict[str, int] = {}
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://ingest.test", timeout=60
        ) as client,
    ):
        answer = await client.post("/v1/events", json=events, headers=key.headers)
        assert answer.status_code == 202, answer.text[:300]
        report = answer.json()
        for result in report["events"]:
            statuses[result["status"]] = statuses.get(result["status"], 0) + 1
        ledger_codes: list[int] = []
        ledger_accepted = 0
        for value in INJECTIONS:
            for form, filename in (
                ({"source": value, "county": A.code}, "ledger.csv"),
                ({"source": "a-ledger", "county": value}, "ledger.csv"),
                ({"source": "a-ledger", "county": A.code}, f"{value[:50]}.csv"),
            ):
                response = await client.post(
                    "/v1/ledgers",
                    data=form,
                    files={"file": (filename, _ledger_with(value))},
                    headers=INGEST_KEYS["a-ledger"].headers,
                )
                ledger_codes.append(response.status_code)
                if response.status_code == 202:
                    ledger_accepted += response.json()["accepted"]
        for value in INJECTIONS:
            try:
                refused = await client.post(
                    "/v1/events", json=[], headers=[(b"X-API-Key", value.encode("utf-8"))]
                )
            except httpx.LocalProtocolError:
                continue  # not a valid header value: httpx will not even send it
            assert refused.status_code == 401
    assert all(code < 500 for code in ledger_codes), ledger_codes
    # Variants of one payload share an event id: the later ones are duplicates.
    assert sum(statuses.values()) == len(events)
    assert _seen_rows(pipeline, dsn) == statuses.get("accepted", 0) + ledger_accepted
    print(
        f"\ningest injection [{pipeline.backend}]: {len(events)} events {statuses}, "
        f"{len(ledger_codes)} ledger imports {sorted(set(ledger_codes))}"
    )


def _ledger_with(value: str) -> bytes:
    """A one-row ledger whose free cells carry `value`."""
    safe = value.replace('"', '""')
    return (
        "序号,日期,顾问姓名,顾问编号,村（社区）,服务类型,开始时间,结束时间,时长（分钟）,渠道,人数,结果,备注\n"
        f'1,2024-03-04,"{safe}","{safe}",440115101001,驻村值班,09:00,12:00,,扫码,,,"{safe}"\n'
    ).encode()
