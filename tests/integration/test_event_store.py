"""The event store round trip, on SQLite and PostgreSQL alike (same suite, both backends)."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from eventsourcing.domain import Snapshot
from eventsourcing.persistence import IntegrityError, ProcessRecorder, StoredEvent, Tracking
from eventsourcing.utils import get_topic

from appraisal.application import AppraisalApplication, Recordable
from appraisal.domain.advisor import Advisor
from appraisal.domain.ids import advisor_stream_id, county_stream_id
from appraisal.domain.ledger import FactLedger, FactsNotHeld
from appraisal.policy import (
    BUILTIN_POLICY_ID,
    DEFAULT_POLICY,
    AdvisorHistory,
    AdvisorYearAppraisal,
    appraise_advisor_year,
)
from tests.sample_facts import advisor_facts, county_facts
from tests.unit.policy.builders import WeekendCalendar

pytestmark = pytest.mark.integration


def _appraise(history: AdvisorHistory) -> AdvisorYearAppraisal:
    return appraise_advisor_year(
        BUILTIN_POLICY_ID, DEFAULT_POLICY, history, 2024, {}, WeekendCalendar()
    )


def _batch(prefix: str, advisor_id: str) -> list[Recordable]:
    return [Recordable("advisor", advisor_id, fact, "440115") for fact in advisor_facts(prefix)]


def test_histories_read_back_from_a_fresh_application_equal_what_was_recorded(
    event_store_env: dict[str, str],
) -> None:
    app = AppraisalApplication(env=event_store_env)
    outcome = app.record(
        [*_batch("a", "A-1"), *_batch("b", "A-2")]
        + [Recordable("county", "440115", fact, "440115") for fact in county_facts()]
    )
    assert len(outcome.recorded) == 2 * len(advisor_facts()) + len(county_facts())
    assert outcome.touched_advisors == {"A-1", "A-2"}
    expected = app.history("A-1")
    appraised = _appraise(expected)
    app.close()

    reopened = AppraisalApplication(env=event_store_env)
    assert reopened.history("A-1") == expected
    assert _appraise(reopened.history("A-1")) == appraised
    assert set(reopened.history("A-1").facts) == set(advisor_facts("a"))
    county = reopened.county("440115")
    assert county is not None
    assert county.is_closed(2024)
    assert reopened.advisor("nobody") is None
    reopened.close()


def test_a_redelivered_batch_is_reported_duplicate_and_stores_nothing(
    event_store_env: dict[str, str],
) -> None:
    app = AppraisalApplication(env=event_store_env)
    app.record(_batch("a", "A-1"))
    max_id = app.recorder.max_notification_id()
    again = app.record(_batch("a", "A-1"))
    assert again.recorded == []
    assert len(again.duplicates) == len(advisor_facts())
    assert app.recorder.max_notification_id() == max_id
    app.close()


def test_a_batch_and_its_kafka_position_commit_together_or_not_at_all(
    event_store_env: dict[str, str],
) -> None:
    app = AppraisalApplication(env=event_store_env)
    app.record(_batch("a", "A-1"), tracking=Tracking("advisor-events:0", 10))
    assert isinstance(app.recorder, ProcessRecorder)
    assert app.recorder.max_tracking_id("advisor-events:0") == 10
    # The same position again (a replayed batch) fails whole: no events of it land.
    with pytest.raises(IntegrityError):
        app.record(_batch("b", "A-1"), tracking=Tracking("advisor-events:0", 10))
    app.repository.cache = None  # read from the store, not from memory
    advisor = app.advisor("A-1")
    assert advisor is not None
    assert advisor.fact_count == len(advisor_facts())
    app.close()


def test_as_of_shows_the_history_as_it_stood_then(event_store_env: dict[str, str]) -> None:
    app = AppraisalApplication(env=event_store_env)
    first, second = _batch("a", "A-1")[:3], _batch("a", "A-1")[3:]
    app.record(first)
    between = datetime.now(UTC)
    app.record(second)
    before = app.history("A-1", as_of=between)
    assert {f.event_id for f in before.facts} == {r.fact.event_id for r in first}
    assert len(app.history("A-1").facts) == len(advisor_facts())
    assert app.advisor("A-1", as_of=datetime(2000, 1, 1, tzinfo=UTC)) is None
    app.close()


def test_long_histories_reload_identically_and_the_cache_keeps_only_their_ids(
    event_store_env: dict[str, str],
) -> None:
    app = AppraisalApplication(env=event_store_env)
    for i in range(40):
        app.record(_batch(f"s{i}-", "A-1"))  # 40 × 14 = 560 facts, past 500
    stream_id = advisor_stream_id("A-1")
    cached = app.ledger(stream_id)
    assert not cached.holds_facts
    assert cached.fact_count == 560
    with pytest.raises(FactsNotHeld):
        cached.facts()
    # Advisors are not snapshotted (a snapshot needs the facts the cache drops).
    assert app.snapshots is not None
    assert not list(app.snapshots.get(stream_id))
    expected = app.history("A-1")
    assert len(expected.facts) == 560
    app.close()
    reopened = AppraisalApplication(env=event_store_env)
    assert reopened.history("A-1") == expected
    ledger = reopened.ledger(stream_id)
    assert not ledger.holds_facts
    assert all(ledger.knows(fact.event_id) for fact in expected.facts)
    assert not ledger.knows(uuid.uuid4())
    assert ledger.record(expected.facts[0]) is False  # a duplicate, as before
    # Recording through the ids-only copy: duplicates stay duplicates, new facts land.
    again = reopened.record([*_batch("s0-", "A-1"), *_batch("late-", "A-1")])
    assert len(again.duplicates) == len(again.recorded) == len(advisor_facts())
    assert reopened.advisor("A-1").fact_count == 560 + len(advisor_facts())  # type: ignore[union-attr]
    assert set(reopened.history("A-1").facts) >= set(advisor_facts("late-"))
    reopened.close()


def test_county_registers_are_still_snapshotted(event_store_env: dict[str, str]) -> None:
    app = AppraisalApplication(env=event_store_env)
    villages = [
        Recordable("county", "440115", replace(fact, event_id=uuid.uuid4()), "440115")
        for fact in [county_facts()[0]] * 501
    ]
    app.record(villages)
    assert app.snapshots is not None
    assert list(app.snapshots.get(county_stream_id("440115")))
    app.close()
    reopened = AppraisalApplication(env=event_store_env)
    county = reopened.county("440115")
    assert county is not None
    assert county.holds_facts
    assert county.fact_count == 501
    reopened.close()


def test_a_ledger_snapshot_stored_by_version_1_is_read_by_version_2(
    event_store_env: dict[str, str],
) -> None:
    """Upcasting: a v1 ledger snapshot (the library's class, facts keyed by hex id)."""
    app = AppraisalApplication(env=event_store_env)
    app.record(_batch("old-", "A-1"))
    ledger = app.advisor("A-1")
    assert ledger is not None
    state = {
        "advisor_id": "A-1",
        "county_id": "440115",
        "_facts": {fact.event_id.hex: fact for fact in ledger.facts()},
    }
    assert app.snapshots is not None
    app.snapshots.put(
        [
            Snapshot(
                originator_id=ledger.id,
                originator_version=ledger.version,
                timestamp=datetime.now(UTC),
                topic=get_topic(Advisor),
                state=state,
            )
        ]
    )
    app.record(_batch("new-", "A-1"))
    expected = app.history("A-1")
    app.close()
    reopened = AppraisalApplication(env=event_store_env)
    read_back = reopened.ledger(advisor_stream_id("A-1"))
    assert [type(s) for s in reopened.snapshots.get(ledger.id)] == [Snapshot]  # type: ignore[union-attr]
    assert reopened.history("A-1") == expected
    assert all(read_back.knows(fact.event_id) for fact in expected.facts)
    assert read_back.record(expected.facts[0]) is False
    reopened.close()


def test_a_fact_stored_by_version_1_is_read_by_the_version_2_event_class(
    event_store_env: dict[str, str],
) -> None:
    """Upcasting: FactRecorded v1 had no `recorded_at`; v2 reads it as None."""
    app = AppraisalApplication(env=event_store_env)
    ingested_at = datetime(2024, 3, 5, 12, tzinfo=UTC)
    app.record(
        [Recordable("advisor", "A-1", advisor_facts("a")[0], "440115", recorded_at=ingested_at)]
    )
    advisor = app.advisor("A-1")
    assert advisor is not None
    fact = advisor_facts("v1-")[1]
    v2_event = FactLedger.FactRecorded(  # type: ignore[call-arg]
        originator_id=advisor.id,
        originator_version=advisor.version + 1,
        timestamp=datetime.now(UTC),
        fact=fact,
        county_id="440115",
        recorded_at=datetime.now(UTC),
    )
    stored = app.mapper.to_stored_event(v2_event)
    state = json.loads(stored.state)
    del state["recorded_at"]
    state.pop("class_version")
    assert "class_version" not in state  # what a v1 writer would have stored
    v1_stored = StoredEvent(
        originator_id=stored.originator_id,
        originator_version=stored.originator_version,
        topic=stored.topic,
        state=json.dumps(state).encode(),
    )
    app.recorder.insert_events([v1_stored])
    app.repository.cache = None
    first, read_back = app.stored_facts("A-1")
    assert first.recorded_at == ingested_at
    assert read_back.recorded_at is None
    assert read_back.fact == fact
    assert read_back.county_id == "440115"
    app.close()
