"""Each strictness rule rejects with a machine-readable code at the right JSON path.

Every case runs twice: as JSON text (the HTTP path) and as a decoded object
(the ledger-import and FastStream path); both must say the same thing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from contracts import (
    INBOUND_MODELS,
    PUBLISHED_MODELS,
    VERDICT_MODELS,
    ContractViolationError,
    ErrorCode,
    parse_inbound_event,
    parse_published_event,
    parse_verdict_event,
)
from tests.contract.helpers import example

pytestmark = pytest.mark.unit

Mutation = Callable[[dict[str, Any]], None]


def _walk(event: dict[str, Any], dotted: str) -> tuple[Any, str | int]:
    *parents, last = [int(p) if p.isdigit() else p for p in dotted.split(".")]
    node: Any = event
    for part in parents:
        node = node[part]
    return node, last


def put(dotted: str, value: Any) -> Mutation:
    def mutate(event: dict[str, Any]) -> None:
        node, last = _walk(event, dotted)
        node[last] = value

    return mutate


def drop(dotted: str) -> Mutation:
    def mutate(event: dict[str, Any]) -> None:
        node, last = _walk(event, dotted)
        del node[last]

    return mutate


def both(*mutations: Mutation) -> Mutation:
    def mutate(event: dict[str, Any]) -> None:
        for m in mutations:
            m(event)

    return mutate


@dataclass(frozen=True)
class Case:
    family: str  # inbound | published | verdict
    type_: str
    mutate: Mutation
    code: ErrorCode
    path: str
    only: bool = True  # False: other violations may be reported too


def inbound(type_: str, mutate: Mutation, code: ErrorCode, path: str, *, only: bool = True) -> Case:
    return Case("inbound", type_, mutate, code, path, only)


def published(type_: str, mutate: Mutation, code: ErrorCode, path: str) -> Case:
    return Case("published", type_, mutate, code, path)


def verdict(type_: str, mutate: Mutation, code: ErrorCode, path: str, *, only: bool = True) -> Case:
    return Case("verdict", type_, mutate, code, path, only)


LECTURE = "activity.lecture.v1"
DUTY = "activity.onsite_duty.v1"
CONSULT = "activity.consultation.v1"
RATING = "rating.submitted.v1"
COMPLAINT = "complaint.filed.v1"
POLICY = "policy.published.v1"
PERIOD = "period.closed.v1"
VILLAGE = "village.registered.v1"
APPOINTED = "advisor.appointed.v1"
ENDED = "advisor.assignment_ended.v1"
MEDIATION = "activity.mediation.v1"
INSPECTION = "inspection.recorded.v1"
VOIDED = "activity.voided.v1"
ISSUED = "verdict.issued.v1"
AMENDED = "verdict.amended.v1"
E = ErrorCode

CASES = {
    # unknown fields, envelope and payload
    "unknown envelope field": inbound(LECTURE, put("priority", 1), E.UNKNOWN_FIELD, "$.priority"),
    "unknown payload field": inbound(
        LECTURE, put("payload.speaker", "x"), E.UNKNOWN_FIELD, "$.payload.speaker"
    ),
    "unknown field with an odd name": inbound(
        LECTURE, put("payload.a b", 1), E.UNKNOWN_FIELD, "$.payload['a b']"
    ),
    "published event carrying event_id on input": inbound(
        LECTURE,
        put("event_id", "806d01f5-9546-52a6-a79a-4b8b3dc1b0c2"),
        E.UNKNOWN_FIELD,
        "$.event_id",
    ),
    # types
    "unknown type": inbound(LECTURE, put("type", "activity.lecture.v2"), E.UNKNOWN_TYPE, "$.type"),
    "output type sent as input": inbound(
        LECTURE, put("type", "verdict.issued.v1"), E.UNKNOWN_TYPE, "$.type"
    ),
    "missing type": inbound(LECTURE, drop("type"), E.MISSING_FIELD, "$.type"),
    "missing payload field": inbound(
        CONSULT, drop("payload.topic"), E.MISSING_FIELD, "$.payload.topic"
    ),
    "missing payload": inbound(LECTURE, drop("payload"), E.MISSING_FIELD, "$.payload"),
    "payload of another type": inbound(
        LECTURE,
        put("payload", {"village_id": "V1", "subject": "x"}),
        E.UNKNOWN_FIELD,
        "$.payload.subject",
        only=False,
    ),
    # naive and malformed datetimes
    "naive occurred_at": inbound(
        LECTURE, put("occurred_at", "2024-03-05T19:30:00"), E.NAIVE_DATETIME, "$.occurred_at"
    ),
    "naive payload datetime": inbound(
        DUTY,
        put("payload.started_at", "2024-03-05T09:00:00"),
        E.NAIVE_DATETIME,
        "$.payload.started_at",
    ),
    "unix timestamp as datetime": inbound(
        LECTURE, put("occurred_at", 1709638200), E.WRONG_TYPE, "$.occurred_at"
    ),
    "numeric string as datetime": inbound(
        LECTURE, put("occurred_at", "1709638200"), E.BAD_FORMAT, "$.occurred_at"
    ),
    "date only as datetime": inbound(
        LECTURE, put("occurred_at", "2024-03-05"), E.BAD_FORMAT, "$.occurred_at"
    ),
    "impossible datetime": inbound(
        LECTURE, put("occurred_at", "2024-02-30T10:00:00+08:00"), E.BAD_FORMAT, "$.occurred_at"
    ),
    # end before start
    "duty ends when it starts": inbound(
        DUTY,
        put("payload.ended_at", "2024-03-05T09:00:00+08:00"),
        E.END_BEFORE_START,
        "$.payload.ended_at",
    ),
    "duty ends before it starts (other offset)": inbound(
        DUTY,
        put("payload.ended_at", "2024-03-05T00:59:59Z"),
        E.END_BEFORE_START,
        "$.payload.ended_at",
    ),
    "duty longer than 24 h": inbound(
        DUTY,
        put("payload.ended_at", "2024-03-06T09:00:01+08:00"),
        E.OUT_OF_RANGE,
        "$.payload.ended_at",
    ),
    "consultation answered before asked": inbound(
        CONSULT,
        put("payload.answered_at", "2024-03-06T21:09:59+08:00"),
        E.END_BEFORE_START,
        "$.payload.answered_at",
    ),
    # scores
    "score 0": inbound(RATING, put("payload.score", 0), E.OUT_OF_RANGE, "$.payload.score"),
    "score 6": inbound(RATING, put("payload.score", 6), E.OUT_OF_RANGE, "$.payload.score"),
    "score 4.5": inbound(RATING, put("payload.score", 4.5), E.WRONG_TYPE, "$.payload.score"),
    "score 4.0": inbound(RATING, put("payload.score", 4.0), E.WRONG_TYPE, "$.payload.score"),
    "score true": inbound(RATING, put("payload.score", True), E.WRONG_TYPE, "$.payload.score"),
    "score as string": inbound(RATING, put("payload.score", "5"), E.WRONG_TYPE, "$.payload.score"),
    # month
    "month 13": inbound(
        INSPECTION, put("payload.month", "2024-13"), E.BAD_FORMAT, "$.payload.month"
    ),
    "month 00": inbound(
        INSPECTION, put("payload.month", "2024-00"), E.BAD_FORMAT, "$.payload.month"
    ),
    "month without zero": inbound(
        INSPECTION, put("payload.month", "2024-3"), E.BAD_FORMAT, "$.payload.month"
    ),
    "month as a date": inbound(
        INSPECTION, put("payload.month", "2024-03-01"), E.BAD_FORMAT, "$.payload.month"
    ),
    # county_id
    "county of 5 digits": inbound(LECTURE, put("county_id", "44011"), E.BAD_FORMAT, "$.county_id"),
    "county of 7 digits": inbound(
        LECTURE, put("county_id", "4401150"), E.BAD_FORMAT, "$.county_id"
    ),
    "county with a letter": inbound(
        LECTURE, put("county_id", "44O115"), E.BAD_FORMAT, "$.county_id"
    ),
    "county with full-width digits": inbound(
        LECTURE, put("county_id", "４４０１１５"), E.BAD_FORMAT, "$.county_id"
    ),
    "county as a number": inbound(LECTURE, put("county_id", 440115), E.WRONG_TYPE, "$.county_id"),
    # negative or impossible quantities
    "negative duration": inbound(
        LECTURE, put("payload.duration_minutes", -5), E.OUT_OF_RANGE, "$.payload.duration_minutes"
    ),
    "zero duration": inbound(
        LECTURE, put("payload.duration_minutes", 0), E.OUT_OF_RANGE, "$.payload.duration_minutes"
    ),
    "negative attendees": inbound(
        LECTURE, put("payload.attendees", -1), E.OUT_OF_RANGE, "$.payload.attendees"
    ),
    "negative parties": inbound(
        MEDIATION, put("payload.parties", -2), E.OUT_OF_RANGE, "$.payload.parties"
    ),
    "a single party": inbound(
        MEDIATION, put("payload.parties", 1), E.OUT_OF_RANGE, "$.payload.parties"
    ),
    # empty ids
    "empty advisor_id": inbound(LECTURE, put("advisor_id", ""), E.EMPTY, "$.advisor_id"),
    "missing advisor_id": inbound(LECTURE, drop("advisor_id"), E.MISSING_FIELD, "$.advisor_id"),
    "blank advisor_id": inbound(LECTURE, put("advisor_id", "  "), E.BAD_FORMAT, "$.advisor_id"),
    "empty source_event_id": inbound(
        LECTURE, put("source_event_id", ""), E.EMPTY, "$.source_event_id"
    ),
    "empty source": inbound(LECTURE, put("source", ""), E.EMPTY, "$.source"),
    "empty village_id": inbound(
        LECTURE, put("payload.village_id", ""), E.EMPTY, "$.payload.village_id"
    ),
    "id with a trailing space": inbound(
        LECTURE, put("payload.village_id", "V1 "), E.BAD_FORMAT, "$.payload.village_id"
    ),
    "id with a control character": inbound(
        LECTURE, put("source_event_id", "L-1\x00"), E.BAD_FORMAT, "$.source_event_id"
    ),
    "source with a colon": inbound(LECTURE, put("source", "a:b"), E.BAD_FORMAT, "$.source"),
    # over-long strings
    "advisor_id over 128": inbound(
        LECTURE, put("advisor_id", "A" * 129), E.TOO_LONG, "$.advisor_id"
    ),
    "topic over 200": inbound(
        LECTURE, put("payload.topic", "讲" * 201), E.TOO_LONG, "$.payload.topic"
    ),
    "comment over 2000": inbound(
        RATING, put("payload.comment", "好" * 2001), E.TOO_LONG, "$.payload.comment"
    ),
    "source over 64": inbound(LECTURE, put("source", "s" * 65), E.TOO_LONG, "$.source"),
    "citizen over 128": inbound(
        RATING, put("payload.citizen", "1" * 129), E.TOO_LONG, "$.payload.citizen"
    ),
    # enums
    "qualification": inbound(
        APPOINTED,
        put("payload.qualification", "barrister"),
        E.INVALID_CHOICE,
        "$.payload.qualification",
    ),
    "assignment end reason": inbound(
        ENDED, put("payload.reason", "retired"), E.INVALID_CHOICE, "$.payload.reason"
    ),
    "check_in": inbound(
        DUTY, put("payload.check_in", "face"), E.INVALID_CHOICE, "$.payload.check_in"
    ),
    "mediation outcome": inbound(
        MEDIATION, put("payload.outcome", "settled"), E.INVALID_CHOICE, "$.payload.outcome"
    ),
    "consultation channel": inbound(
        CONSULT, put("payload.channel", "email"), E.INVALID_CHOICE, "$.payload.channel"
    ),
    "rating channel": inbound(
        RATING, put("payload.channel", "phone"), E.INVALID_CHOICE, "$.payload.channel"
    ),
    "complaint channel": inbound(
        COMPLAINT, put("payload.channel", "fax"), E.INVALID_CHOICE, "$.payload.channel"
    ),
    "village kind": inbound(
        VILLAGE, put("payload.kind", "town"), E.INVALID_CHOICE, "$.payload.kind"
    ),
    "enum in upper case": inbound(
        DUTY, put("payload.check_in", "GPS"), E.INVALID_CHOICE, "$.payload.check_in"
    ),
    # strict booleans
    "boolean as string": inbound(
        VILLAGE, put("payload.remote", "false"), E.WRONG_TYPE, "$.payload.remote"
    ),
    "boolean as 0": inbound(VILLAGE, put("payload.remote", 0), E.WRONG_TYPE, "$.payload.remote"),
    # advisor_id of county-wide events
    "policy with an advisor": inbound(
        POLICY, put("advisor_id", "A-0001"), E.MUST_BE_EMPTY, "$.advisor_id"
    ),
    "period close with an advisor": inbound(
        PERIOD, put("advisor_id", "A-0001"), E.MUST_BE_EMPTY, "$.advisor_id"
    ),
    "policy county of 5 digits": inbound(
        POLICY, put("county_id", "00000"), E.BAD_FORMAT, "$.county_id"
    ),
    "policy effective_from with a time": inbound(
        POLICY,
        put("payload.effective_from", "2024-01-01T00:00:00+08:00"),
        E.BAD_FORMAT,
        "$.payload.effective_from",
    ),
    "policy document not an object": inbound(
        POLICY, put("payload.document", [1, 2]), E.WRONG_TYPE, "$.payload.document"
    ),
    "period year 1999": inbound(
        PERIOD, put("payload.year", 1999), E.OUT_OF_RANGE, "$.payload.year"
    ),
    "period year 2101": inbound(
        PERIOD, put("payload.year", 2101), E.OUT_OF_RANGE, "$.payload.year"
    ),
    "period year as string": inbound(
        PERIOD, put("payload.year", "2024"), E.WRONG_TYPE, "$.payload.year"
    ),
    # dates and uuids
    "impossible date": inbound(
        APPOINTED, put("payload.appointed_on", "2024-02-30"), E.BAD_FORMAT, "$.payload.appointed_on"
    ),
    "date in local format": inbound(
        APPOINTED, put("payload.appointed_on", "2024/01/01"), E.BAD_FORMAT, "$.payload.appointed_on"
    ),
    "date as a number": inbound(
        APPOINTED, put("payload.appointed_on", 20240101), E.WRONG_TYPE, "$.payload.appointed_on"
    ),
    "void target not a uuid": inbound(
        VOIDED,
        put("payload.target_event_id", "L-2024-000123"),
        E.BAD_FORMAT,
        "$.payload.target_event_id",
    ),
    # citizen shapes
    "inbound rating with citizen_ref": inbound(
        RATING, put("payload.citizen_ref", "a" * 64), E.UNKNOWN_FIELD, "$.payload.citizen_ref"
    ),
    "inbound rating without citizen": inbound(
        RATING, drop("payload.citizen"), E.MISSING_FIELD, "$.payload.citizen"
    ),
    "published rating with a raw citizen": published(
        RATING, put("payload.citizen", "13800138000"), E.UNKNOWN_FIELD, "$.payload.citizen"
    ),
    "published complaint with a raw citizen": published(
        COMPLAINT, put("payload.citizen", "13800138000"), E.UNKNOWN_FIELD, "$.payload.citizen"
    ),
    "citizen_ref in upper case": published(
        RATING, put("payload.citizen_ref", "A" * 64), E.BAD_FORMAT, "$.payload.citizen_ref"
    ),
    "citizen_ref too short": published(
        RATING, put("payload.citizen_ref", "a" * 63), E.BAD_FORMAT, "$.payload.citizen_ref"
    ),
    # published envelope
    "event_id not derived": published(
        LECTURE,
        put("event_id", "00000000-0000-5000-8000-000000000000"),
        E.EVENT_ID_MISMATCH,
        "$.event_id",
    ),
    "event_id of another source_event_id": published(
        LECTURE, put("source_event_id", "L-2024-000124"), E.EVENT_ID_MISMATCH, "$.event_id"
    ),
    "missing recorded_at": published(
        LECTURE, drop("recorded_at"), E.MISSING_FIELD, "$.recorded_at"
    ),
    "naive recorded_at": published(
        LECTURE, put("recorded_at", "2024-03-07T08:31:02"), E.NAIVE_DATETIME, "$.recorded_at"
    ),
    "published unknown type": published(LECTURE, put("type", "foo.v1"), E.UNKNOWN_TYPE, "$.type"),
    # verdicts
    "score with 3 decimals": verdict(ISSUED, put("score", "85.255"), E.BAD_FORMAT, "$.score"),
    "score above 100": verdict(ISSUED, put("score", "100.01"), E.OUT_OF_RANGE, "$.score"),
    "negative score": verdict(ISSUED, put("score", "-1"), E.OUT_OF_RANGE, "$.score"),
    "score not a number": verdict(ISSUED, put("score", "high"), E.BAD_FORMAT, "$.score"),
    "unknown verdict": verdict(ISSUED, put("verdict", "KEEP"), E.INVALID_CHOICE, "$.verdict"),
    "unknown grade": verdict(ISSUED, put("grade", "GOOD"), E.INVALID_CHOICE, "$.grade"),
    "not rated but graded": verdict(
        ISSUED,
        both(put("verdict", "NOT_RATED"), put("score", None)),
        E.INCONSISTENT_VERDICT,
        "$.grade",
    ),
    "rated without a score": verdict(ISSUED, put("score", None), E.INCONSISTENT_VERDICT, "$.score"),
    "rectify without reasons": verdict(
        ISSUED, put("reasons", []), E.INCONSISTENT_VERDICT, "$.reasons"
    ),
    "unknown reason code": verdict(
        ISSUED, put("reasons.0.code", "LATE"), E.INVALID_CHOICE, "$.reasons[0].code"
    ),
    "empty reason message": verdict(
        ISSUED, put("reasons.0.message_zh", ""), E.EMPTY, "$.reasons[0].message_zh"
    ),
    "naive issued_at": verdict(
        ISSUED, put("issued_at", "2025-01-15T09:00:03"), E.NAIVE_DATETIME, "$.issued_at"
    ),
    "verdict year 1999": verdict(ISSUED, put("year", 1999), E.OUT_OF_RANGE, "$.year"),
    "amendment of a newer version": verdict(
        AMENDED, put("previous.version", 2), E.OUT_OF_RANGE, "$.previous"
    ),
    "amendment without causes": verdict(
        AMENDED, put("caused_by_event_ids", []), E.TOO_SHORT, "$.caused_by_event_ids"
    ),
    "amendment cause not a uuid": verdict(
        AMENDED, put("caused_by_event_ids", ["x"]), E.BAD_FORMAT, "$.caused_by_event_ids[0]"
    ),
    "amendment previous not rated but graded": verdict(
        AMENDED,
        both(put("previous.verdict", "NOT_RATED"), put("previous.score", None)),
        E.INCONSISTENT_VERDICT,
        "$.previous.grade",
    ),
    "amendment previous with unknown field": verdict(
        AMENDED, put("previous.why", "x"), E.UNKNOWN_FIELD, "$.previous.why"
    ),
    "issued verdict with previous": verdict(
        ISSUED, both(put("previous", {}), put("verdict", "RETAIN")), E.UNKNOWN_FIELD, "$.previous"
    ),
}

_MODELS: dict[str, Any] = {
    "inbound": INBOUND_MODELS,
    "published": PUBLISHED_MODELS,
    "verdict": VERDICT_MODELS,
}
_PARSERS: dict[str, Callable[[Any], object]] = {
    "inbound": parse_inbound_event,
    "published": parse_published_event,
    "verdict": parse_verdict_event,
}


def _rejections(case: Case, as_json: bool) -> list[tuple[str, str]]:
    event = example(_MODELS[case.family][case.type_])
    case.mutate(event)
    raw: Any = json.dumps(event, ensure_ascii=False) if as_json else event
    with pytest.raises(ContractViolationError) as caught:
        _PARSERS[case.family](raw)
    return [(v.code, v.path) for v in caught.value.violations]


@pytest.mark.parametrize("as_json", [True, False], ids=["json", "python"])
@pytest.mark.parametrize("case", list(CASES.values()), ids=list(CASES))
def test_the_rule_rejects_with_its_code_at_its_path(case: Case, as_json: bool) -> None:
    found = _rejections(case, as_json)
    if case.only:
        assert found == [(case.code.value, case.path)]
    else:
        assert (case.code.value, case.path) in found


ACCEPTED = {
    "village without an advisor (absent)": (VILLAGE, drop("advisor_id")),
    "village with an advisor": (VILLAGE, put("advisor_id", "A-0001")),
    "policy without advisor_id": (POLICY, drop("advisor_id")),
    "province-wide policy": (POLICY, put("county_id", "000000")),
    "unanswered consultation (null)": (CONSULT, put("payload.answered_at", None)),
    "unanswered consultation (absent)": (CONSULT, drop("payload.answered_at")),
    "consultation answered the same instant": (
        CONSULT,
        put("payload.answered_at", "2024-03-06T13:10:00Z"),
    ),
    "duty of exactly 24 h": (DUTY, put("payload.ended_at", "2024-03-06T09:00:00+08:00")),
    "UTC designator": (LECTURE, put("occurred_at", "2024-03-05T11:30:00Z")),
    "fractional seconds": (LECTURE, put("occurred_at", "2024-03-05T19:30:00.123456+08:00")),
    "score 1": (RATING, put("payload.score", 1)),
    "rating without comment": (RATING, drop("payload.comment")),
    "rating of no activity": (RATING, put("payload.activity_event_id", None)),
    "id in Chinese": (MEDIATION, put("payload.case_ref", "（2024）南调字第1号")),
    "id of exactly 128": (LECTURE, put("advisor_id", "A" * 128)),
    "zero attendees": (LECTURE, put("payload.attendees", 0)),
    "source_event_id with a colon": (LECTURE, put("source_event_id", "L:2024:1")),
    "appointment in the future": (APPOINTED, put("payload.appointed_on", "2099-01-01")),
}


@pytest.mark.parametrize("as_json", [True, False], ids=["json", "python"])
@pytest.mark.parametrize(("type_", "mutate"), list(ACCEPTED.values()), ids=list(ACCEPTED))
def test_valid_variants_are_accepted(type_: str, mutate: Mutation, as_json: bool) -> None:
    event = example(INBOUND_MODELS[type_])
    mutate(event)
    raw: Any = json.dumps(event, ensure_ascii=False) if as_json else event
    assert type(parse_inbound_event(raw)) is INBOUND_MODELS[type_]


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b"{not json", E.INVALID_JSON),
        (b"", E.INVALID_JSON),
        (b"[]", E.WRONG_TYPE),
        (b"42", E.WRONG_TYPE),
        ("null", E.WRONG_TYPE),
    ],
)
def test_input_that_is_not_an_object_is_rejected_at_the_root(
    raw: bytes | str, code: ErrorCode
) -> None:
    with pytest.raises(ContractViolationError) as caught:
        parse_inbound_event(raw)
    assert [(v.code, v.path) for v in caught.value.violations] == [(code.value, "$")]


def test_all_violations_are_reported_at_once() -> None:
    event = example(INBOUND_MODELS[LECTURE])
    event["county_id"] = "1"
    event["payload"]["attendees"] = -1
    event["payload"]["extra"] = True
    with pytest.raises(ContractViolationError) as caught:
        parse_inbound_event(event)
    assert sorted(v.path for v in caught.value.violations) == [
        "$.county_id",
        "$.payload.attendees",
        "$.payload.extra",
    ]


def test_messages_never_echo_the_rejected_value() -> None:
    event = example(INBOUND_MODELS[RATING])
    secret = "13800138000-SECRET"
    event["payload"]["citizen"] = secret + " " * 200
    event["payload"]["score"] = secret
    event["county_id"] = secret
    with pytest.raises(ContractViolationError) as caught:
        parse_inbound_event(json.dumps(event))
    assert len(caught.value.violations) == 3
    for violation in caught.value.violations:
        assert secret not in violation.message
        assert secret not in violation.path


def test_every_code_used_by_the_table_is_a_documented_error_code() -> None:
    used = {case.code for case in CASES.values()}
    assert used <= set(ErrorCode)
