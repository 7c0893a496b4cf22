"""The batch report: its counts and entries, as the API answers them."""

from __future__ import annotations

import uuid

import pytest

from contracts import Violation
from ingest.reports import EventReport, IngestReport, ingest_report
from ingest.service import EventResult

pytestmark = pytest.mark.unit


def test_the_report_is_what_validated_entries_give() -> None:
    reason = Violation(code="invalid", path="$.payload.score", message="must be 1 to 5")
    results = [
        EventResult(0, "accepted", uuid.uuid4()),
        EventResult(1, "duplicate", uuid.uuid4()),
        EventResult(2, "rejected", None, (reason,)),
        EventResult(3, "rejected", uuid.uuid4(), (reason, reason)),
    ]
    report = ingest_report(results)
    validated = IngestReport(
        accepted=1,
        duplicate=1,
        rejected=2,
        events=[
            EventReport(
                index=r.index, status=r.status, event_id=r.event_id, reasons=list(r.reasons)
            )
            for r in results
        ],
    )
    assert report == validated
    assert report.model_dump_json() == validated.model_dump_json()
    assert IngestReport.model_validate_json(report.model_dump_json()) == validated
