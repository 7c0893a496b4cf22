"""Each event is checked on its own: contract, clock, scope; rejected ones keep every reason."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from contracts import DeadLetter, parse_published_event
from ingest.auth import KeyRing, Scope
from ingest.bodies import RawEvent
from ingest.pseudonymise import Pseudonymiser
from ingest.validation import (
    MAX_REASONS,
    Candidate,
    Rejected,
    Repeat,
    check_events,
    dead_letter_event,
    type_label,
)
from tests.ingest.helpers import KEYS, event, keys_json

pytestmark = pytest.mark.unit

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
PSEUDONYMISE = Pseudonymiser(b"k" * 32)


def _scope(name: str = "wide") -> Scope:
    scope = KeyRing.from_json(keys_json(), "t").authenticate(KEYS[name].plaintext)
    assert scope is not None
    return scope


def _check(*values: Any, scope: str = "wide") -> list[Any]:
    raws = [RawEvent(value=v) for v in values]
    return check_events(raws, scope=_scope(scope), pseudonymise=PSEUDONYMISE, now=NOW)


def test_a_valid_event_becomes_a_published_event_keyed_by_advisor() -> None:
    (outcome,) = _check(event("activity.lecture.v1", advisor_id="A-0042"))
    assert isinstance(outcome, Candidate)
    assert outcome.key == b"A-0042"
    published = parse_published_event(outcome.value)
    assert published.event_id == outcome.event_id
    assert published.recorded_at == NOW


def test_county_wide_events_are_keyed_by_county() -> None:
    (outcome,) = _check(event("period.closed.v1"), scope="bureau")
    assert isinstance(outcome, Candidate)
    assert outcome.key == b"440115"


def test_the_citizen_is_replaced_by_its_ref_before_serialisation() -> None:
    (outcome,) = _check(event("rating.submitted.v1", payload={"citizen": "13912345678"}))
    assert isinstance(outcome, Candidate)
    assert b"13912345678" not in outcome.value
    assert json.loads(outcome.value)["payload"]["citizen_ref"] == PSEUDONYMISE("13912345678")


def test_bad_events_are_rejected_with_every_reason_and_neighbours_pass() -> None:
    bad = event("activity.lecture.v1", payload={"duration_minutes": 0, "online": "yes"})
    bad["occurred_at"] = "2024-03-05T19:30:00"
    outcomes = _check(event(), bad, event())
    assert isinstance(outcomes[0], Candidate)
    assert isinstance(outcomes[2], Candidate)
    rejected = outcomes[1]
    assert isinstance(rejected, Rejected)
    codes = {(r.code, r.path) for r in rejected.reasons}
    assert codes == {
        ("naive_datetime", "$.occurred_at"),
        ("out_of_range", "$.payload.duration_minutes"),
        ("wrong_type", "$.payload.online"),
    }
    assert rejected.type == "activity.lecture.v1"


def test_future_times_are_rejected() -> None:
    future = (NOW + timedelta(minutes=6)).isoformat()
    (outcome,) = _check(event(occurred_at=future))
    assert isinstance(outcome, Rejected)
    assert outcome.reasons[0].code == "future_time"
    assert outcome.event_id is not None


def test_out_of_scope_events_are_rejected_as_forbidden_scope() -> None:
    (outcome,) = _check(event("activity.lecture.v1"), scope="ratings")
    assert isinstance(outcome, Rejected)
    assert {r.code for r in outcome.reasons} == {"forbidden_scope"}


def test_the_second_copy_of_an_event_in_one_request_is_a_repeat() -> None:
    first = event()
    outcomes = _check(first, dict(first), event())
    assert [type(o) for o in outcomes] == [Candidate, Repeat, Candidate]
    assert outcomes[1].event_id == outcomes[0].event_id


@pytest.mark.parametrize("value", [5, "text", [1, 2], None, True])
def test_something_that_is_not_an_object_is_rejected_as_wrong_type(value: Any) -> None:
    (outcome,) = _check(value)
    assert isinstance(outcome, Rejected)
    assert (outcome.reasons[0].code, outcome.reasons[0].path) == ("wrong_type", "$")
    assert outcome.type == "unknown"


def test_overlong_names_are_rejected_without_echoing_them() -> None:
    long_field = event()
    long_field["x" * 3000] = 1
    long_type = event(type="t" * 3000)
    long_payload_field = event()
    long_payload_field["payload"]["y" * 600] = 1
    for outcome in _check(long_field, long_type, long_payload_field):
        assert isinstance(outcome, Rejected)
        assert all(len(r.message) < 200 and len(r.path) < 20 for r in outcome.reasons)


def test_reasons_are_capped_with_a_final_count() -> None:
    many = event()
    many["payload"].update({f"extra_{i}": i for i in range(80)})
    (outcome,) = _check(many)
    assert isinstance(outcome, Rejected)
    assert len(outcome.reasons) == MAX_REASONS + 1
    assert "30 more" in outcome.reasons[-1].message


def test_the_dead_letter_copy_drops_citizen_data_unknown_field_values_and_long_strings() -> None:
    rejected = event("rating.submitted.v1", payload={"citizen": "13912345678", "score": 9})
    rejected["payload"]["citizen_phone"] = "13912345678"
    rejected["mobile"] = "13912345678"
    rejected["payload"]["comment"] = "x" * 5000
    kept = dead_letter_event(rejected)
    letter = DeadLetter(event=kept, reasons=_check(rejected)[0].reasons, service="ingest", at=NOW)
    text = letter.model_dump_json()
    assert "13912345678" not in text
    assert letter.event is not None
    assert letter.event["payload"]["score"] == 9
    assert letter.event["payload"]["citizen_phone"] == "[redacted]"
    assert letter.event["mobile"] == "[redacted]"
    assert len(letter.event["payload"]["comment"]) < 1100


def test_an_unknown_type_keeps_no_payload_values_on_the_dlq() -> None:
    kept = dead_letter_event({"type": "nope.v1", "payload": {"phone": "13912345678"}})
    assert kept["payload"] == {"phone": "[redacted]"}


def test_deep_nesting_is_cut_on_the_dlq() -> None:
    deep: Any = "bottom"
    for _ in range(200):
        deep = [deep]
    kept = dead_letter_event(event(payload={"topic": deep}))
    assert "nested too deeply" in json.dumps(kept)


@pytest.mark.parametrize("depth", [100, 900])
def test_a_policy_document_nested_too_deeply_to_publish_is_rejected(depth: int) -> None:
    deep: Any = 1
    for _ in range(depth):
        deep = [deep]
    policy = event("policy.published.v1", payload={"document": {"deep": deep}})
    (outcome,) = _check(policy, scope="bureau")
    if depth == 100:
        assert isinstance(outcome, Candidate)
    else:
        assert isinstance(outcome, Rejected)
        assert outcome.reasons[0].message == "nested too deeply to publish"


@pytest.mark.parametrize(
    ("value", "label"),
    [
        ({"type": "activity.lecture.v1"}, "activity.lecture.v1"),
        ({"type": "activity.lecture.v9"}, "unknown"),
        ({"type": 5}, "unknown"),
        ([], "unknown"),
    ],
)
def test_metric_type_labels_are_bounded(value: Any, label: str) -> None:
    assert type_label(value) == label
