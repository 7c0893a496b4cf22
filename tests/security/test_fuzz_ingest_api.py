"""Schemathesis fuzzes the ingest API from its own OpenAPI document: never a 5xx, never a hang.

The app is served by uvicorn exactly as ``python -m ingest serve`` does (with
``http_limits``), publishing to the session's real Tansu broker and a SQLite
seen-event store. Every operation is fuzzed with schema-conforming and with
schema-breaking requests, once with a valid key (the cases reach the
handlers: events are checked, published or rejected, ledgers mapped) and once
without or with a wrong key. Each answer must be below 500, explained when it
is a 4xx (``fuzz_support.explained_rejection``), and conform to the document
(status code, content type, response schema) for the authenticated positive run.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from schemathesis import GenerationMode
from schemathesis.checks import load_all_checks
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from embedded.topics import TopicSpec, ensure_topics
from ingest.http import create_app
from ingest.server import serving
from tests.ingest.helpers import KEYS, make_settings
from tests.security.fuzz_support import FuzzReport, as_schema, fuzz

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture
async def ingest(
    tmp_path: Path, kafka_bootstrap: str, topic_name: str
) -> AsyncIterator[tuple[str, dict[str, Any]]]:
    events, dlq = f"{topic_name}-events", f"{topic_name}-dlq"
    await ensure_topics(kafka_bootstrap, [TopicSpec(events, 3, "test"), TopicSpec(dlq, 1, "test")])
    settings = make_settings(
        tmp_path, kafka_bootstrap=kafka_bootstrap, topic=events, dlq_topic=dlq, max_events=50
    )
    app = create_app(settings)
    async with serving(app) as url:
        yield url, app.openapi()


async def test_authenticated_fuzzing_finds_no_server_error(
    ingest: tuple[str, dict[str, Any]],
) -> None:
    url, document = ingest
    schema = as_schema(document)
    load_all_checks()
    report = await asyncio.to_thread(
        fuzz, schema, url, headers=KEYS["wide"].headers, modes=[GenerationMode.POSITIVE],
        checks=[status_code_conformance, content_type_conformance, response_schema_conformance],
    )  # fmt: skip
    # Schema-breaking requests: 4xx, or 202 with every event rejected (by design a bad
    # event is reported, not the whole request refused).
    await asyncio.to_thread(
        fuzz, schema, url, headers=KEYS["wide"].headers, modes=[GenerationMode.NEGATIVE],
        report=report,
    )  # fmt: skip
    print(f"\ningest, authenticated: {report.line()}\n{dict(report.by_operation)}")
    assert report.statuses[202] > 0, "no fuzzed request reached a handler"


async def test_unauthenticated_fuzzing_is_refused_with_401(
    ingest: tuple[str, dict[str, Any]],
) -> None:
    url, document = ingest
    schema = as_schema(document)
    report = FuzzReport()
    for headers in ({}, {"Authorization": "Bearer not-a-key"}):
        await asyncio.to_thread(fuzz, schema, url, headers=headers, examples=20, report=report)
    print(f"\ningest, no or bad key: {report.line()}")
    # 200 only from the operations without a key (health, readiness, metrics).
    assert set(report.statuses) == {200, 401}, report.statuses
    # A key no header field may carry (DEL is not a field character, RFC 9110 §5.5)
    # is refused by the HTTP parser, before any route, with an explained 400.
    malformed = FuzzReport()
    await asyncio.to_thread(
        fuzz, schema, url, headers={"X-API-Key": "\x7f" * 64}, examples=20, report=malformed
    )
    assert set(malformed.statuses) == {400}, malformed.statuses
