"""Ingest-side helpers: future-time check, publishing transform, dead letters, keys."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from pydantic import ValidationError

from contracts import (
    ActivityLectureIn,
    ActivityOnsiteDutyIn,
    AdvisorAppointedIn,
    ContractViolationError,
    DeadLetter,
    InspectionRecordedIn,
    PeriodClosedIn,
    RatingSubmitted,
    RatingSubmittedIn,
    VillageRegisteredIn,
    check_not_future,
    derive_event_id,
    json_path,
    parse_inbound_event,
    parse_published_event,
    to_published,
    violations_from_error,
)
from tests.contract.helpers import example, pseudonymise

pytestmark = pytest.mark.unit

CST = timezone(timedelta(hours=8))
NOW = datetime(2024, 3, 5, 12, 0, tzinfo=CST)


def _duty(started: str, ended: str, occurred: str) -> ActivityOnsiteDutyIn:
    event = example(ActivityOnsiteDutyIn)
    event["occurred_at"] = occurred
    event["payload"]["started_at"] = started
    event["payload"]["ended_at"] = ended
    parsed = parse_inbound_event(event)
    assert isinstance(parsed, ActivityOnsiteDutyIn)
    return parsed


def test_times_up_to_five_minutes_ahead_are_accepted() -> None:
    event = _duty("2024-03-05T09:00:00+08:00", "2024-03-05T12:05:00+08:00", "2024-03-05T04:05:00Z")
    assert check_not_future(event, NOW) == []


def test_times_more_than_five_minutes_ahead_are_rejected_with_their_paths() -> None:
    event = _duty("2024-03-05T09:00:00+08:00", "2024-03-05T12:05:01+08:00", "2024-03-05T04:05:01Z")
    found = [(v.code, v.path) for v in check_not_future(event, NOW)]
    assert found == [("future_time", "$.occurred_at"), ("future_time", "$.payload.ended_at")]


def test_the_tolerance_is_a_parameter() -> None:
    event = _duty(
        "2024-03-05T09:00:00+08:00", "2024-03-05T11:00:00+08:00", "2024-03-05T12:00:30+08:00"
    )
    assert check_not_future(event, NOW, tolerance=timedelta(0))[0].path == "$.occurred_at"
    assert check_not_future(event, NOW, tolerance=timedelta(minutes=1)) == []


def test_future_dates_are_not_future_times() -> None:
    event = parse_inbound_event(
        example(AdvisorAppointedIn) | {"occurred_at": "2024-03-01T00:00:00Z"}
    )
    assert event.payload.appointed_on.year == 2024  # type: ignore[union-attr]
    late = example(AdvisorAppointedIn)
    late["payload"]["appointed_on"] = "2030-01-01"
    assert check_not_future(parse_inbound_event(late), NOW) == []


def test_now_must_be_aware() -> None:
    event = parse_inbound_event(example(ActivityLectureIn))
    with pytest.raises(ValueError, match="timezone-aware"):
        check_not_future(event, datetime(2024, 3, 5, 12, 0))


def test_to_published_adds_the_derived_id_and_pseudonymises_the_citizen() -> None:
    inbound = parse_inbound_event(example(RatingSubmittedIn))
    published = to_published(inbound, recorded_at=NOW, pseudonymise=pseudonymise)
    assert isinstance(published, RatingSubmitted)
    assert published.event_id == derive_event_id(inbound.source, inbound.source_event_id)
    assert published.recorded_at == NOW
    assert published.payload.citizen_ref == pseudonymise("13800138000")
    assert "13800138000" not in published.model_dump_json()
    assert parse_published_event(published.model_dump_json()) == published


def test_to_published_rejects_a_pseudonym_of_the_wrong_shape() -> None:
    inbound = parse_inbound_event(example(RatingSubmittedIn))
    with pytest.raises(ValidationError) as caught:
        to_published(inbound, recorded_at=NOW, pseudonymise=lambda citizen: citizen)
    assert [v.path for v in violations_from_error(caught.value)] == ["$.payload.citizen_ref"]


def test_to_published_never_calls_the_pseudonymiser_without_a_citizen() -> None:
    def refuse(citizen: str) -> str:
        raise AssertionError("no citizen here")

    inbound = parse_inbound_event(example(ActivityLectureIn))
    assert to_published(inbound, recorded_at=NOW, pseudonymise=refuse).type == inbound.type


def test_a_dead_letter_never_carries_a_citizen() -> None:
    raw = example(RatingSubmittedIn)
    raw["citizen"] = "misplaced 13800138000"
    letter = DeadLetter.model_validate(
        {
            "event": raw,
            "reasons": [{"code": "unknown_field", "path": "$.citizen", "message": "unknown field"}],
            "service": "ingest",
            "at": "2024-03-05T21:05:01+08:00",
        }
    )
    text = letter.model_dump_json()
    assert "13800138000" not in text
    assert letter.event is not None
    assert "citizen" not in letter.event["payload"]
    assert letter.event["payload"]["score"] == 5


def test_a_dead_letter_needs_a_reason_and_an_aware_time() -> None:
    with pytest.raises(ValidationError) as caught:
        DeadLetter.model_validate(
            {"event": None, "reasons": [], "service": "ingest", "at": "2024-03-05T21:05:01"}
        )
    found = {(v.code, v.path) for v in violations_from_error(caught.value)}
    assert found == {("too_short", "$.reasons"), ("naive_datetime", "$.at")}


@pytest.mark.parametrize(
    ("model", "key"),
    [
        (ActivityLectureIn, "A-0001"),
        (VillageRegisteredIn, "440115"),
        (PeriodClosedIn, "440115"),
        (InspectionRecordedIn, "A-0001"),
    ],
)
def test_the_kafka_key_is_the_advisor_or_else_the_county(model: type, key: str) -> None:
    inbound = parse_inbound_event(example(model))
    assert inbound.partition_key() == key
    published = to_published(inbound, recorded_at=NOW, pseudonymise=pseudonymise)
    assert published.partition_key() == key


def test_an_inspection_passes_iff_all_three_checks_pass() -> None:
    event = example(InspectionRecordedIn)
    assert parse_inbound_event(event).payload.passed is False  # type: ignore[union-attr]
    event["payload"]["wechat_group_active"] = True
    assert parse_inbound_event(event).payload.passed is True  # type: ignore[union-attr]


def test_events_are_immutable() -> None:
    event = parse_inbound_event(example(ActivityLectureIn))
    with pytest.raises(ValidationError):
        event.advisor_id = "A-0002"  # type: ignore[misc]


def test_the_violation_error_lists_every_reason_in_its_message() -> None:
    event = example(ActivityLectureIn)
    event["payload"]["attendees"] = -1
    with pytest.raises(ContractViolationError, match=r"\$\.payload\.attendees: out_of_range"):
        parse_inbound_event(event)


@pytest.mark.parametrize(
    ("loc", "path"),
    [
        ((), "$"),
        (("payload", "score"), "$.payload.score"),
        (("reasons", 0, "code"), "$.reasons[0].code"),
        (("payload", "a b"), "$.payload['a b']"),
        (("payload", "it's"), "$.payload['it\\'s']"),
    ],
)
def test_json_paths(loc: tuple[int | str, ...], path: str) -> None:
    assert json_path(loc) == path


@pytest.mark.parametrize(
    "hostile",
    [
        pytest.param({"x" * 5000: 1}, id="a 5000-character unknown field"),
        pytest.param({"payload": {"y" * 3000: 1}}, id="a 3000-character unknown payload field"),
    ],
)
def test_hostile_keys_give_bounded_violations_not_raw_errors(hostile: dict[str, object]) -> None:
    from contracts import ContractViolationError, parse_inbound_event

    event: dict[str, Any] = {
        "type": "activity.mediation.v1", "source": "s", "source_event_id": "1",
        "occurred_at": "2024-03-05T10:00:00+08:00", "county_id": "440115", "advisor_id": "A",
        "payload": {"village_id": "V", "case_ref": "c", "dispute_type": "d", "parties": 2,
                    "outcome": "resolved"},
    }  # fmt: skip
    for key, value in hostile.items():
        if key == "payload":
            event["payload"].update(value)
        else:
            event[key] = value
    with pytest.raises(ContractViolationError) as caught:
        parse_inbound_event(event)
    for violation in caught.value.violations:
        assert len(violation.path) <= 512
        assert "x" * 100 not in violation.message
        assert "y" * 100 not in violation.message


def test_a_long_unknown_type_is_not_echoed() -> None:
    from contracts import ContractViolationError, parse_inbound_event

    with pytest.raises(ContractViolationError) as caught:
        parse_inbound_event({"type": "<script>" + "z" * 3000})
    [violation] = [v for v in caught.value.violations if v.path == "$.type"]
    assert "<script>" not in violation.message
    assert "(not shown)" in violation.message
