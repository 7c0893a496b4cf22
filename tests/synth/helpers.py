"""Turning generated events into appraisals, the way ingest and appraisal would."""

from __future__ import annotations

import hashlib
import hmac
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from appraisal.policy import (
    BUILTIN_POLICY_ID,
    DEFAULT_POLICY,
    AdvisorHistory,
    AdvisorYearAppraisal,
    Appointment,
    Fact,
    PrcCalendar,
    appraise_advisor_year,
)
from appraisal.translate import to_recordable
from contracts import parse_inbound_event, to_published

RECORDED_AT = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
_KEY = b"synthetic-county-test-key-32-bytes!"
CALENDAR = PrcCalendar()


def pseudonymise(citizen: str) -> str:
    """What ingest does to a citizen: HMAC-SHA256 under a secret key."""
    return hmac.new(_KEY, citizen.encode(), hashlib.sha256).hexdigest()


def histories(events: Iterable[dict[str, Any]]) -> dict[str, AdvisorHistory]:
    """Every advisor's facts, through the real contract and translation."""
    facts: dict[str, list[Fact]] = defaultdict(list)
    for raw in events:
        published = to_published(
            parse_inbound_event(raw), recorded_at=RECORDED_AT, pseudonymise=pseudonymise
        )
        recordable = to_recordable(published)
        if recordable.stream == "advisor":
            facts[recordable.key].append(recordable.fact)
    return {key: AdvisorHistory(key, tuple(value)) for key, value in sorted(facts.items())}


def appraise_all(
    by_advisor: dict[str, AdvisorHistory], through_year: int
) -> dict[int, list[AdvisorYearAppraisal]]:
    """Each advisor-year from the first appointment on, previous verdicts chained."""
    results: dict[int, list[AdvisorYearAppraisal]] = defaultdict(list)
    for history in by_advisor.values():
        first = min(f.appointed_on.year for f in history.facts if isinstance(f, Appointment))
        previous: dict[str, Any] = {}
        for year in range(first, through_year + 1):
            appraisal = appraise_advisor_year(
                BUILTIN_POLICY_ID, DEFAULT_POLICY, history, year, previous, CALENDAR
            )
            previous = {a.village_id: a.verdict for a in appraisal.assignments}
            if appraisal.assignments:
                results[year].append(appraisal)
    return results
