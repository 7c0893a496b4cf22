"""Examples of contract v1: valid events, shown in the JSON Schemas and parsed by the tests.

One story: advisor A-0001 serves village 440115101001 (东涌村) in Nansha district
(440115), 2024.
"""

from __future__ import annotations

from typing import Any

from contracts.ids import derive_event_id

SOURCE = "nansha-platform"
COUNTY = "440115"
ADVISOR = "A-0001"
VILLAGE = "440115101001"
RECORDED_AT = "2024-03-07T08:31:02.125000+08:00"
EXAMPLE_CITIZEN_REF = "3f1c9a0e6b5d4c2a8e7f9b1d0c3a5e7f9b2d4c6e8a0b1c3d5e7f9a1b3c5d7e9f"

EX_VILLAGE_REGISTERED = {
    "village_id": VILLAGE,
    "name": "东涌村",
    "township_id": "440115101",
    "kind": "village",
    "remote": False,
}
EX_ADVISOR_APPOINTED = {
    "name": "李明",
    "qualification": "lawyer",
    "firm": "广东南沙律师事务所",
    "license_no": "14401201910123456",
    "village_id": VILLAGE,
    "appointed_on": "2024-01-01",
}
EX_ASSIGNMENT_ENDED = {"village_id": VILLAGE, "ended_on": "2024-12-01", "reason": "term_ended"}
EX_ONSITE_DUTY = {
    "village_id": VILLAGE,
    "started_at": "2024-03-05T09:00:00+08:00",
    "ended_at": "2024-03-05T12:00:00+08:00",
    "check_in": "gps",
}
EX_LECTURE = {
    "village_id": VILLAGE,
    "topic": "《民法典》婚姻家庭编讲座",
    "started_at": "2024-03-05T19:30:00+08:00",
    "duration_minutes": 90,
    "attendees": 45,
    "online": False,
}
EX_MEDIATION = {
    "village_id": VILLAGE,
    "case_ref": "（2024）东调字第12号",
    "dispute_type": "邻里纠纷 neighbour dispute",
    "parties": 2,
    "outcome": "resolved",
}
EX_CONSULTATION = {
    "village_id": VILLAGE,
    "channel": "wechat",
    "asked_at": "2024-03-06T21:10:00+08:00",
    "answered_at": "2024-03-07T08:30:00+08:00",
    "topic": "土地承包经营权流转",
}
EX_DOCUMENT_DRAFTED = {"village_id": VILLAGE, "document_kind": "村规民约审查意见"}
EX_LEGAL_AID_REFERRAL = {"village_id": VILLAGE, "case_ref": "LA-2024-0031"}
EX_COMMITTEE_ADVICE = {"village_id": VILLAGE, "subject": "村集体土地租赁合同审查"}
EX_VOIDED = {
    "target_event_id": str(derive_event_id(SOURCE, "L-2024-000123")),
    "reason": "重复录入 (duplicate entry)",
    "voided_by": "dongchong-justice-office",
}
EX_RATING_COMMON = {
    "rating_id": "R-2024-000456",
    "village_id": VILLAGE,
    "activity_event_id": str(derive_event_id(SOURCE, "L-2024-000123")),
    "score": 5,
    "channel": "evaluator_device",
}
EX_RATING_IN = {**EX_RATING_COMMON, "citizen": "13800138000", "comment": "讲得很清楚"}
EX_RATING = {**EX_RATING_COMMON, "citizen_ref": EXAMPLE_CITIZEN_REF, "comment": "讲得很清楚"}
EX_COMPLAINT_COMMON = {
    "complaint_id": "C-2024-0007",
    "village_id": VILLAGE,
    "channel": "hotline_12348",
    "summary": "约定的值班时间未到岗",
}
EX_COMPLAINT_IN = {**EX_COMPLAINT_COMMON, "citizen": "13900139000"}
EX_COMPLAINT = {**EX_COMPLAINT_COMMON, "citizen_ref": EXAMPLE_CITIZEN_REF}
EX_COMPLAINT_RESOLVED = {"complaint_id": "C-2024-0007", "substantiated": False}
EX_INSPECTION = {
    "village_id": VILLAGE,
    "month": "2024-03",
    "inspector": "dongchong-justice-office",
    "advisor_present": True,
    "ledger_complete": True,
    "wechat_group_active": False,
}
EX_POLICY = {
    "policy_id": "GD-DEFAULT-2024",
    "effective_from": "2024-01-01",
    "document": {"grades": {"excellent": "92", "competent": "75", "basic": "60"}},
}
EX_PERIOD_CLOSED = {"year": 2024}


def inbound_example(
    type_: str,
    source_event_id: str,
    occurred_at: str,
    payload: dict[str, Any],
    *,
    advisor_id: str = ADVISOR,
    county_id: str = COUNTY,
) -> dict[str, Any]:
    return {
        "type": type_,
        "source": SOURCE,
        "source_event_id": source_event_id,
        "occurred_at": occurred_at,
        "county_id": county_id,
        "advisor_id": advisor_id,
        "payload": payload,
    }


def published_example(inbound: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": inbound["type"],
        "source": inbound["source"],
        "source_event_id": inbound["source_event_id"],
        "event_id": str(derive_event_id(inbound["source"], inbound["source_event_id"])),
        "occurred_at": inbound["occurred_at"],
        "recorded_at": RECORDED_AT,
        "county_id": inbound["county_id"],
        "advisor_id": inbound["advisor_id"],
        "payload": payload,
    }


IN_VILLAGE_REGISTERED = inbound_example(
    "village.registered.v1",
    "V-440115101001",
    "2024-01-02T09:00:00+08:00",
    EX_VILLAGE_REGISTERED,
    advisor_id="",
)
IN_ADVISOR_APPOINTED = inbound_example(
    "advisor.appointed.v1", "AP-2024-0001", "2024-01-01T10:00:00+08:00", EX_ADVISOR_APPOINTED
)
IN_ASSIGNMENT_ENDED = inbound_example(
    "advisor.assignment_ended.v1",
    "AE-2024-0001",
    "2024-11-20T10:00:00+08:00",
    EX_ASSIGNMENT_ENDED,
)
IN_ONSITE_DUTY = inbound_example(
    "activity.onsite_duty.v1", "D-2024-000077", "2024-03-05T12:00:00+08:00", EX_ONSITE_DUTY
)
IN_LECTURE = inbound_example(
    "activity.lecture.v1", "L-2024-000123", "2024-03-05T19:30:00+08:00", EX_LECTURE
)
IN_MEDIATION = inbound_example(
    "activity.mediation.v1", "M-2024-000012", "2024-03-08T16:00:00+08:00", EX_MEDIATION
)
IN_CONSULTATION = inbound_example(
    "activity.consultation.v1", "Q-2024-001024", "2024-03-06T21:10:00+08:00", EX_CONSULTATION
)
IN_DOCUMENT_DRAFTED = inbound_example(
    "activity.document_drafted.v1",
    "DOC-2024-000031",
    "2024-03-11T15:00:00+08:00",
    EX_DOCUMENT_DRAFTED,
)
IN_LEGAL_AID_REFERRAL = inbound_example(
    "activity.legal_aid_referral.v1",
    "LAR-2024-000005",
    "2024-03-12T10:30:00+08:00",
    EX_LEGAL_AID_REFERRAL,
)
IN_COMMITTEE_ADVICE = inbound_example(
    "activity.committee_advice.v1",
    "CA-2024-000009",
    "2024-03-13T09:45:00+08:00",
    EX_COMMITTEE_ADVICE,
)
IN_VOIDED = inbound_example(
    "activity.voided.v1", "VOID-2024-000002", "2024-03-14T08:00:00+08:00", EX_VOIDED
)
IN_RATING = inbound_example(
    "rating.submitted.v1", "R-2024-000456", "2024-03-05T21:05:00+08:00", EX_RATING_IN
)
IN_COMPLAINT = inbound_example(
    "complaint.filed.v1", "C-2024-0007", "2024-04-02T14:20:00+08:00", EX_COMPLAINT_IN
)
IN_COMPLAINT_RESOLVED = inbound_example(
    "complaint.resolved.v1", "CR-2024-0007", "2024-04-20T17:00:00+08:00", EX_COMPLAINT_RESOLVED
)
IN_INSPECTION = inbound_example(
    "inspection.recorded.v1", "I-2024-03-0001", "2024-03-28T16:00:00+08:00", EX_INSPECTION
)
IN_POLICY = inbound_example(
    "policy.published.v1",
    "POLICY-GD-DEFAULT-2024",
    "2023-12-15T09:00:00Z",
    EX_POLICY,
    advisor_id="",
    county_id="000000",
)
IN_PERIOD_CLOSED = inbound_example(
    "period.closed.v1",
    "CLOSE-440115-2024",
    "2025-01-15T09:00:00+08:00",
    EX_PERIOD_CLOSED,
    advisor_id="",
)

PUBLISHED_VILLAGE_REGISTERED = published_example(IN_VILLAGE_REGISTERED, EX_VILLAGE_REGISTERED)
PUBLISHED_ADVISOR_APPOINTED = published_example(IN_ADVISOR_APPOINTED, EX_ADVISOR_APPOINTED)
PUBLISHED_ASSIGNMENT_ENDED = published_example(IN_ASSIGNMENT_ENDED, EX_ASSIGNMENT_ENDED)
PUBLISHED_ONSITE_DUTY = published_example(IN_ONSITE_DUTY, EX_ONSITE_DUTY)
PUBLISHED_LECTURE = published_example(IN_LECTURE, EX_LECTURE)
PUBLISHED_MEDIATION = published_example(IN_MEDIATION, EX_MEDIATION)
PUBLISHED_CONSULTATION = published_example(IN_CONSULTATION, EX_CONSULTATION)
PUBLISHED_DOCUMENT_DRAFTED = published_example(IN_DOCUMENT_DRAFTED, EX_DOCUMENT_DRAFTED)
PUBLISHED_LEGAL_AID_REFERRAL = published_example(IN_LEGAL_AID_REFERRAL, EX_LEGAL_AID_REFERRAL)
PUBLISHED_COMMITTEE_ADVICE = published_example(IN_COMMITTEE_ADVICE, EX_COMMITTEE_ADVICE)
PUBLISHED_VOIDED = published_example(IN_VOIDED, EX_VOIDED)
PUBLISHED_RATING = published_example(IN_RATING, EX_RATING)
PUBLISHED_COMPLAINT = published_example(IN_COMPLAINT, EX_COMPLAINT)
PUBLISHED_COMPLAINT_RESOLVED = published_example(IN_COMPLAINT_RESOLVED, EX_COMPLAINT_RESOLVED)
PUBLISHED_INSPECTION = published_example(IN_INSPECTION, EX_INSPECTION)
PUBLISHED_POLICY = published_example(IN_POLICY, EX_POLICY)
PUBLISHED_PERIOD_CLOSED = published_example(IN_PERIOD_CLOSED, EX_PERIOD_CLOSED)

EX_REASON = {
    "code": "LECTURES_SHORT",
    "observed": "2",
    "threshold": "4",
    "message_zh": "法治讲座 2 次，低于要求的 4 次",
    "message_en": "2 lectures, below the required 4",
}
EX_VERDICT_ISSUED = {
    "type": "verdict.issued.v1",
    "county_id": COUNTY,
    "year": 2024,
    "advisor_id": ADVISOR,
    "village_id": VILLAGE,
    "verdict": "RECTIFY",
    "grade": "COMPETENT",
    "score": "78.40",
    "reasons": [EX_REASON],
    "policy_id": "GD-DEFAULT-2024",
    "version": 1,
    "issued_at": "2025-01-15T09:00:03.250000+08:00",
}
EX_PREVIOUS_VERDICT = {"verdict": "RECTIFY", "grade": "COMPETENT", "score": "78.40", "version": 1}
EX_VERDICT_AMENDED = {
    **EX_VERDICT_ISSUED,
    "type": "verdict.amended.v1",
    "verdict": "RETAIN",
    "grade": "COMPETENT",
    "score": "79.15",
    "reasons": [],
    "version": 2,
    "issued_at": "2025-02-03T10:12:45+08:00",
    "previous": EX_PREVIOUS_VERDICT,
    "caused_by_event_ids": [str(derive_event_id(SOURCE, "L-2024-000999"))],
}


EX_KAFKA_POSITION = {"topic": "advisor-events", "partition": 3, "offset": 120448}
EX_DEAD_LETTER = {
    "event": {
        **IN_RATING,
        "payload": {k: v for k, v in {**EX_RATING_IN, "score": 6}.items() if k != "citizen"},
    },
    "reasons": [
        {
            "code": "out_of_range",
            "path": "$.payload.score",
            "message": "Input should be less than or equal to 5",
        }
    ],
    "service": "ingest",
    "at": "2024-03-05T21:05:01.5+08:00",
    "origin": None,
}
EX_APPRAISAL_DEAD_LETTER = {
    "event": published_example(IN_LECTURE, EX_LECTURE),
    "reasons": [
        {
            "code": "processing_failed",
            "path": "$",
            "message": "OperationalError while applying the event (see logs)",
        }
    ],
    "service": "appraisal",
    "at": "2024-03-07T08:31:05Z",
    "origin": EX_KAFKA_POSITION,
}
