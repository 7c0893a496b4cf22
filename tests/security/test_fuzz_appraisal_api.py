"""Schemathesis fuzzes the appraisal read API from its own OpenAPI document: never a 5xx.

The service consumes two advisors' year (one closed county-year, verdicts
issued) from the session's Tansu broker into SQLite, as the integration tests
do, and its app is served by uvicorn with ``http_limits`` on a free port.
Every operation is fuzzed with schema-conforming and schema-breaking requests
as a bureau of the county, as an auditor, and without or with a wrong token;
once with the known county, year, advisor and village as path parameters (so
the cases reach the queries and what-if evaluation) and once with generated
ones. Each answer must be below 500 and, when a 4xx, say why.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from appraisal.api.http import create_app
from appraisal.domain.county import PeriodClosed
from appraisal.service import AppraisalService
from embedded.topics import ensure_topics
from ingest.server import serving
from tests.integration.test_appraisal_service import (
    COUNTY,
    TOKENS,
    Stack,
    _history,
    _settings,
    service_topics,
)
from tests.sample_facts import at, fid
from tests.security.fuzz_support import FuzzReport, as_schema, fuzz
from tests.unit.policy.builders import WeekendCalendar

pytestmark = [pytest.mark.integration, pytest.mark.slow]

KNOWN = {"county_id": COUNTY, "year": 2024, "advisor_id": "A-1", "village_id": "V-A-1"}


@dataclass(frozen=True)
class Served:
    url: str
    document: dict[str, Any]

    def headers(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {TOKENS[who][0]}"}


@pytest.fixture(scope="module")
async def appraisal(
    kafka_bootstrap_module: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Served]:
    topic = f"fuzz-appraisal-{uuid.uuid4().hex[:12]}"
    await ensure_topics(kafka_bootstrap_module, service_topics(topic))
    settings = _settings(
        {"PERSISTENCE_MODULE": "eventsourcing.sqlite"},
        tmp_path_factory.mktemp("fuzz-appraisal"),
        kafka_bootstrap_module,
        topic,
    )
    service = AppraisalService(settings, WeekendCalendar())
    await service.start()
    try:
        app = create_app(service, manage_lifecycle=False)
        async with serving(app) as url:
            stack = Stack(service, None, topic)  # type: ignore[arg-type]
            await stack.settled(
                await stack.send(_history("A-1") + _history("A-2", compliant_months=8))
            )
            close = PeriodClosed(fid("close-2024"), at(5, month=1, year=2025), 2024)
            await stack.settled(await stack.send([("county", close)]))
            yield Served(url, app.openapi())
    finally:
        await service.stop()


@pytest.fixture(scope="module")
def kafka_bootstrap_module(kafka_broker: Any) -> str:
    return str(kafka_broker.bootstrap_servers)


@pytest.mark.parametrize("who", ["bureau", "auditor"])
async def test_fuzzing_with_a_token_finds_no_server_error(appraisal: Served, who: str) -> None:
    schema = as_schema(appraisal.document)
    report = FuzzReport()
    checks = [content_type_conformance, response_schema_conformance]
    headers = appraisal.headers(who)
    await asyncio.to_thread(
        fuzz, schema, appraisal.url, headers=headers, known=KNOWN, checks=checks, report=report
    )
    await asyncio.to_thread(fuzz, schema, appraisal.url, headers=headers, report=report)
    print(f"\nappraisal, {who}: {report.line()}\n{dict(report.by_operation)}")
    assert report.statuses[200] > 20, "too few fuzzed requests reached the queries"


async def test_fuzzing_without_a_token_is_refused_with_401(appraisal: Served) -> None:
    schema = as_schema(appraisal.document)
    report = FuzzReport()
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic eA=="}):
        await asyncio.to_thread(
            fuzz, schema, appraisal.url, headers=headers, known=KNOWN, examples=15, report=report
        )
    print(f"\nappraisal, no or bad token: {report.line()}")
    # 200 only from health, readiness and metrics; 422 (a malformed parameter or body) and
    # 400 (a what-if body that is not JSON): FastAPI reads both before the token.
    assert set(report.statuses) <= {200, 400, 401, 422}, report.statuses


@pytest.mark.parametrize(
    ("path", "status"),
    [
        # Regression (schemathesis): an offset past SQLite's 64-bit integers was a 500.
        (f"/v1/appraisals/{COUNTY}/2024?offset=39770526560599572480", 422),
        (f"/v1/appraisals/{COUNTY}/2024?offset=1000000000", 200),
        ("/v1/advisors/A-1/history?offset=39770526560599572480", 422),
        ("/v1/advisors/A-1/history?offset=1000000000", 200),
    ],
)
async def test_page_offsets_are_bounded(appraisal: Served, path: str, status: int) -> None:
    async with httpx.AsyncClient(base_url=appraisal.url) as client:
        response = await client.get(path, headers=appraisal.headers("auditor"))
    assert response.status_code == status, response.text
