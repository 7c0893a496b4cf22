"""Raw citizen identifiers never appear anywhere; associations never see citizens' words.

The pipeline fixture posts ratings and complaints whose `citizen` is a planted
phone or id number (several spellings) through ingest, plus rejected events that
carry them elsewhere. Afterwards every place the system writes or answers is
scanned: every record of every topic (input, both DLQs, verdicts), every row of
every table of the event store and the views, ingest's seen-event store, every
log line of both services, every ingest answer, every API answer and every
dashboard page and export for every token. Positive controls make sure the scan
reads real content (the comment marker and the citizen_ref are found).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from ingest.pseudonymise import Pseudonymiser
from tests.security.pipeline import (
    COUNTIES,
    HMAC_KEY,
    PLANTED_CITIZENS,
    RAW_NEEDLES,
    TOKENS,
    YEAR,
    A,
    B,
    Pipeline,
    bearer,
    read_all,
    record_text,
    xlsx_text,
)
from tests.security.probes import APPRAISAL_ROUTES

pytestmark = pytest.mark.integration

BYPASS_HEADER = ("security-test", b"bypassed-ingest")


def _text(response: httpx.Response) -> str:
    if response.headers.get("content-type", "").startswith("application/vnd.openxmlformats"):
        return xlsx_text(response.content)
    return response.text


async def _answers(pipeline: Pipeline, who: str) -> dict[str, str]:
    """What every route answers `who` about both counties (history: every event)."""
    answers: dict[str, str] = {}
    for rc in APPRAISAL_ROUTES.values():
        for county in COUNTIES:
            probe = rc.build(county)
            headers = bearer(who) if rc.scope != "public" else {}
            response = await pipeline.appraisal.request(
                probe.method, probe.url, json=probe.json, headers=headers
            )
            answers[f"{probe.method} {probe.url}"] = _text(response)
    for county in COUNTIES:
        url = f"/v1/advisors/{county.advisor_id}/history?limit=1000"
        answers[url] = (await pipeline.appraisal.get(url, headers=bearer(who))).text
    return answers


def _hits(blobs: dict[str, str], needles: tuple[str, ...]) -> list[str]:
    return [
        f"{name}: {needle!r}"
        for name, blob in blobs.items()
        for needle in needles
        if needle.lower() in blob.lower()
    ]


async def test_no_raw_citizen_identifier_is_anywhere(pipeline: Pipeline) -> None:
    started = time.perf_counter()
    bootstrap = pipeline.service.settings.kafka_bootstrap
    blobs: dict[str, str] = {}
    records = 0
    for topic, partitions in pipeline.topics.items():
        for n, record in enumerate(await read_all(bootstrap, topic, partitions)):
            if BYPASS_HEADER in list(record.headers or ()):
                continue  # produced by the bypass test below, not by the services
            blobs[f"kafka {topic}#{n}"] = record_text(record)
            records += 1
    tables = pipeline.store_tables()
    rows = sum(len(r) for r in tables.values())
    blobs.update({f"store {name}": "\n".join(r) for name, r in tables.items()})
    for name, content in pipeline.side_files().items():
        blobs[f"file {name}"] = content.decode("utf-8", "replace")
    blobs["logs"] = "\n".join(pipeline.logs.lines)
    blobs.update({f"ingest answer {n}": a for n, a in enumerate(pipeline.ingest_answers)})
    answers = 0
    for who in TOKENS:
        for name, text in (await _answers(pipeline, who)).items():
            blobs[f"{who} {name}"] = text
            answers += 1
    blobs["ingest /metrics"] = (await pipeline.ingest.get("/metrics")).text

    assert _hits(blobs, RAW_NEEDLES) == []

    # The scan reads what it should: the comments and the pseudonyms are there.
    topic_text = "\n".join(v for k, v in blobs.items() if k.startswith(f"kafka {pipeline.topic}#"))
    store_text = "\n".join(v for k, v in blobs.items() if k.startswith("store "))
    ref = Pseudonymiser(HMAC_KEY.encode())(PLANTED_CITIZENS[A.code][0])
    for text in (topic_text, store_text):
        assert A.comment in text
        assert ref in text
    assert len(pipeline.logs.lines) > 100
    size = sum(len(b) for b in blobs.values())
    print(
        f"\nprivacy scan [{pipeline.backend}]: {len(RAW_NEEDLES)} needles, {records} Kafka "
        f"records on {len(pipeline.topics)} topics, {len(tables)} tables / {rows} rows, "
        f"{len(pipeline.logs.lines)} log lines, {answers} API/dashboard answers; "
        f"{size / 1e6:.1f} MB in {time.perf_counter() - started:.1f} s: 0 hits"
    )


async def test_associations_never_see_citizens_comments_or_complaint_summaries(
    pipeline: Pipeline,
) -> None:
    words = tuple(w for c in COUNTIES for w in (c.comment, c.summary))
    association = await _answers(pipeline, "association-a")
    assert _hits(association, words) == []
    # Bureaus see their own county's words in the history (DESIGN §7), never another's.
    bureau = await _answers(pipeline, "bureau-a")
    history = bureau[f"/v1/advisors/{A.advisor_id}/history?limit=1000"]
    assert A.comment in history
    assert A.summary in history
    assert _hits(bureau, (B.comment, B.summary)) == []
    # Auditors read everything.
    auditor = await _answers(pipeline, "auditor")
    for county in COUNTIES:
        history = auditor[f"/v1/advisors/{county.advisor_id}/history?limit=1000"]
        assert county.comment in history
        assert county.summary in history


async def test_a_raw_citizen_that_bypassed_ingest_is_not_copied_to_the_dead_letter_topic(
    pipeline: Pipeline,
) -> None:
    """A producer that skips ingest puts a raw phone number on the input topic: the
    appraisal service dead-letters the event, but without the number."""
    phone = "13987659999"
    settings = pipeline.service.settings
    rating: dict[str, Any] = {
        "type": "rating.submitted.v1",
        "event_id": "6f1c1a52-3f63-5d8c-9a6e-0e1b1f5e0001",
        "source": "rogue-producer",
        "source_event_id": "R-ROGUE-1",
        "occurred_at": f"{YEAR}-06-01T10:00:00+08:00",
        "recorded_at": f"{YEAR}-06-01T10:00:01+08:00",
        "county_id": A.code,
        "advisor_id": A.advisor_id,
        "payload": {
            "rating_id": "R-ROGUE-1",
            "village_id": A.village_id,
            "activity_event_id": None,
            "score": 5,
            "channel": "wechat",
            "citizen": phone,
            "citizen_phone": phone,
            "comment": "",
        },
    }
    unknown = {**rating, "type": "citizen.contact.v1", "payload": {"mobile": phone}}
    bare = {**rating, "citizen_mobile": phone}
    as_type = {**rating, "type": phone}
    sent = (rating, unknown, bare, as_type)
    before = len(await read_all(settings.kafka_bootstrap, settings.dlq_topic, 1))
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap)
    # This producer is the rogue, not a service: keep its own debug lines out of the logs.
    quiet = logging.getLogger("aiokafka")
    level = quiet.level
    quiet.setLevel(logging.INFO)
    await producer.start()
    try:
        for value in sent:
            await producer.send_and_wait(
                settings.input_topic,
                json.dumps(value).encode(),
                key=A.advisor_id.encode(),
                headers=[BYPASS_HEADER],
            )
    finally:
        await producer.stop()
        quiet.setLevel(level)
    deadline = time.monotonic() + 30
    letters: list[Any] = []
    while time.monotonic() < deadline:
        letters = (await read_all(settings.kafka_bootstrap, settings.dlq_topic, 1))[before:]
        if len(letters) >= len(sent):
            break
        await asyncio.sleep(0.3)
    assert len(letters) == len(sent)
    blobs = {f"appraisal dlq #{n}": record_text(r) for n, r in enumerate(letters)}
    blobs["logs"] = "\n".join(pipeline.logs.lines)
    assert _hits(blobs, (phone,)) == []
    for letter in letters:
        body = json.loads(letter.value)
        assert body["reasons"]
        assert body["event"]["source_event_id"] == "R-ROGUE-1"  # the rest stays readable
