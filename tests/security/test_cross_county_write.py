"""A source scoped to one county cannot write into another county's advisor.

Advisor ids are global, and ingest can check only that a key names its own county
in `county_id`: it cannot know which county an advisor belongs to. So county B's
platform could send an event for county A's advisor that names county B. The
advisor's ledger refuses it (an advisor is filed under the county of its first
event) and the appraisal service dead-letters it with `advisor_in_other_county`:
A's advisor stays A's, with the same history and appraisal, and B never sees it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import pytest

from contracts import DeadLetter, derive_event_id
from embedded.broker import TansuBroker
from tests.security.pipeline import (
    YEAR,
    A,
    B,
    Pipeline,
    bearer,
    county_event,
    cst,
    read_all,
    running_pipeline,
)

pytestmark = pytest.mark.integration


@pytest.fixture
async def pipeline(tmp_path: Path, kafka_broker: TansuBroker) -> AsyncIterator[Pipeline]:
    # A pipeline of its own: the shared one is read-only for the other modules.
    async with running_pipeline("sqlite", tmp_path, kafka_broker.bootstrap_servers) as loaded:
        yield loaded


async def _letters(pipeline: Pipeline, wait_s: float = 30) -> list[DeadLetter]:
    bootstrap = pipeline.service.settings.kafka_bootstrap
    deadline = time.monotonic() + wait_s
    while True:
        records = await read_all(bootstrap, pipeline.topic + "-dlq", 1)
        letters = [DeadLetter.model_validate_json(r.value) for r in records]
        if letters or time.monotonic() > deadline:
            return letters
        await asyncio.sleep(0.3)


async def test_county_b_cannot_move_or_add_to_county_as_advisor(pipeline: Pipeline) -> None:
    before = await pipeline.appraisal.get(
        f"/v1/advisors/{A.advisor_id}/appraisals/{YEAR}", headers=bearer("bureau-a")
    )
    assert before.status_code == 200
    history = pipeline.service.app.advisor(A.advisor_id)
    assert history is not None
    facts_before = history.fact_count

    # B's platform key, B's county code, A's advisor: ingest has no way to refuse it.
    intruder = county_event(
        "activity.lecture.v1",
        B,
        "b-platform",
        "INTRUDE-1",
        occurred_at=cst(date(YEAR, 6, 20), 19),
        payload={"started_at": cst(date(YEAR, 6, 20), 18)},
    )
    intruder["advisor_id"] = A.advisor_id
    report = await pipeline.post("b-platform", [intruder])
    assert report["accepted"] == 1, report
    event_id = derive_event_id(intruder["source"], intruder["source_event_id"])

    letters = await _letters(pipeline)
    assert [letter.reasons[0].code for letter in letters] == ["advisor_in_other_county"]
    letter = letters[0]
    assert letter.reasons[0].path == "$.county_id"
    assert A.code in letter.reasons[0].message
    assert B.code in letter.reasons[0].message
    assert letter.event is not None
    assert letter.event["event_id"] == str(event_id)

    history = pipeline.service.app.advisor(A.advisor_id)
    assert history is not None
    assert history.county_id == A.code
    assert not history.knows(event_id)
    assert history.fact_count == facts_before

    # Bureau B still cannot see A's advisor; bureau A's answer is unchanged.
    assert pipeline.service.projector.lag() == 0
    for who, status in (("bureau-b", 404), ("bureau-a", 200)):
        answer = await pipeline.appraisal.get(
            f"/v1/advisors/{A.advisor_id}/appraisals/{YEAR}", headers=bearer(who)
        )
        assert answer.status_code == status, (who, answer.text)
    after = await pipeline.appraisal.get(
        f"/v1/advisors/{A.advisor_id}/appraisals/{YEAR}", headers=bearer("bureau-a")
    )
    assert after.json() == before.json()
    county_b = await pipeline.appraisal.get(
        f"/v1/appraisals/{B.code}/{YEAR}", headers=bearer("bureau-b")
    )
    assert A.advisor_id not in county_b.text
