"""Recorded facts of one advisor's history, as the appraisal rules see them.

Each fact mirrors one contract v1 payload (DESIGN §3) plus the envelope fields the rules
need: ``event_id`` (the idempotent id ingest derived) and ``occurred_at`` (event time,
timezone-aware). The rules never see arrival order, ``recorded_at`` or the source.
"""

from __future__ import annotations

import enum
import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import TypeAlias

__all__ = [
    "ACTIVITY_TYPES",
    "VOIDABLE_TYPES",
    "Activity",
    "AdvisorHistory",
    "Appointment",
    "AssignmentEnded",
    "CommitteeAdvice",
    "ComplaintFiled",
    "ComplaintResolved",
    "Consultation",
    "DocumentDrafted",
    "Fact",
    "Grade",
    "Inspection",
    "Lecture",
    "LegalAidReferral",
    "Mediation",
    "OnsiteDuty",
    "Rating",
    "Verdict",
    "Voided",
]

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


class Verdict(enum.StrEnum):
    """Retain / rectify / replace (优留劣出) outcome of one assignment-year."""

    RETAIN = "RETAIN"  # 保留
    RECTIFY = "RECTIFY"  # 整改
    REPLACE = "REPLACE"  # 调整
    NOT_RATED = "NOT_RATED"  # 不予评定: served too few months


class Grade(enum.StrEnum):
    """Score band of one assignment-year."""

    EXCELLENT = "EXCELLENT"  # 优秀
    COMPETENT = "COMPETENT"  # 合格
    BASIC = "BASIC"  # 基本合格
    FAIL = "FAIL"  # 不合格


def _require_aware(owner: object, name: str, value: datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{type(owner).__name__}.{name} must carry a UTC offset, got {value!r}")


@dataclass(frozen=True, slots=True)
class Appointment:
    """``advisor.appointed.v1``: the advisor starts serving a village on ``appointed_on``."""

    event_id: uuid.UUID
    occurred_at: datetime
    village_id: str
    appointed_on: date
    name: str
    qualification: str
    firm: str
    license_no: str

    def __post_init__(self) -> None:
        _require_aware(self, "occurred_at", self.occurred_at)


@dataclass(frozen=True, slots=True)
class AssignmentEnded:
    """``advisor.assignment_ended.v1``: the assignment stops; ``ended_on`` is exclusive."""

    event_id: uuid.UUID
    occurred_at: datetime
    village_id: str
    ended_on: date
    reason: str

    def __post_init__(self) -> None:
        _require_aware(self, "occurred_at", self.occurred_at)


@dataclass(frozen=True, slots=True)
class OnsiteDuty:
    """``activity.onsite_duty.v1``: an interval of on-site duty (驻村值班) in a village."""

    event_id: uuid.UUID
    occurred_at: datetime
    village_id: str
    started_at: datetime
    ended_at: datetime
    check_in: str

    def __post_init__(self) -> None:
        _require_aware(self, "occurred_at", self.occurred_at)
        _require_aware(self, "started_at", self.started_at)
        _require_aware(self, "ended_at", self.ended_at)
        if self.ended_at < self.started_at:
            raise ValueError(f"OnsiteDuty {self.event_id} ends before it starts")


@dataclass(frozen=True, slots=True)
class Lecture:
    """``activity.lecture.v1``: a legal-education lecture (法治讲座), on site or online."""

    event_id: uuid.UUID
    occurred_at: datetime
    village_id: str
    topic: str
    started_at: datetime
    duration_minutes: int
    attendees: int
    online: bool

    def __post_init__(self) -> None:
        _require_aware(self, "occurred_at", self.occurred_at)
        _require_aware(self, "started_at", self.started_at)
        if self.duration_minutes < 0:
            raise ValueError(f"Lecture {self.event_id} has a negative duration")


@dataclass(frozen=True, slots=True)
class Mediation:
    """``activity.mediation.v1``: a dispute mediation (人民调解) the advisor conducted."""

    event_id: uuid.UUID
    occurred_at: datetime
    village_id: str
    case_ref: str
    dispute_type: str
    parties: int
    outcome: str

    def __post_init__(self) -> None:
        _require_aware(self, "occurred_at", self.occurred_at)


@dataclass(frozen=True, slots=True)
class Consultation:
    """``activity.consultation.v1``: a legal consultation (法律咨询), on site or off site."""

    event_id: uuid.UUID
    occurred_at: datetime
    village_id: str
    channel: str
    asked_at: datetime
    answered_at: datetime | None
    topic: str

    def __post_init__(self) -> None:
        _require_aware(self, "occurred_at", self.occurred_at)
        _require_aware(self, "asked_at", self.asked_at)
        if self.answered_at is not None:
            _require_aware(self, "answered_at", self.answered_at)


@dataclass(frozen=True, slots=True)
class DocumentDrafted:
    """``activity.document_drafted.v1``: a legal document drafted for villagers (代写文书)."""

    event_id: uuid.UUID
    occurred_at: datetime
    village_id: str
    document_kind: str

    def __post_init__(self) -> None:
        _require_aware(self, "occurred_at", self.occurred_at)


@dataclass(frozen=True, slots=True)
class LegalAidReferral:
    """``activity.legal_aid_referral.v1``: a case referred to legal aid (法律援助转介)."""

    event_id: uuid.UUID
    occurred_at: datetime
    village_id: str
    case_ref: str

    def __post_init__(self) -> None:
        _require_aware(self, "occurred_at", self.occurred_at)


@dataclass(frozen=True, slots=True)
class CommitteeAdvice:
    """``activity.committee_advice.v1``: advice to the village committee (村务法律意见)."""

    event_id: uuid.UUID
    occurred_at: datetime
    village_id: str
    subject: str

    def __post_init__(self) -> None:
        _require_aware(self, "occurred_at", self.occurred_at)


@dataclass(frozen=True, slots=True)
class Voided:
    """``activity.voided.v1``: the target (an activity, rating or inspection) counts for nothing."""

    event_id: uuid.UUID
    occurred_at: datetime
    target_event_id: uuid.UUID
    reason: str
    voided_by: str

    def __post_init__(self) -> None:
        _require_aware(self, "occurred_at", self.occurred_at)


@dataclass(frozen=True, slots=True)
class Rating:
    """``rating.submitted.v1``: a citizen's 1–5 rating (群众评价), pseudonymised."""

    event_id: uuid.UUID
    occurred_at: datetime
    rating_id: str
    village_id: str
    activity_event_id: uuid.UUID | None
    score: int
    channel: str
    citizen_ref: str
    comment: str

    def __post_init__(self) -> None:
        _require_aware(self, "occurred_at", self.occurred_at)


@dataclass(frozen=True, slots=True)
class ComplaintFiled:
    """``complaint.filed.v1``: a citizen complaint (投诉) about the advisor's work in a village."""

    event_id: uuid.UUID
    occurred_at: datetime
    complaint_id: str
    village_id: str
    channel: str
    summary: str
    citizen_ref: str

    def __post_init__(self) -> None:
        _require_aware(self, "occurred_at", self.occurred_at)


@dataclass(frozen=True, slots=True)
class ComplaintResolved:
    """``complaint.resolved.v1``: the complaint was found substantiated (属实) or not."""

    event_id: uuid.UUID
    occurred_at: datetime
    complaint_id: str
    substantiated: bool

    def __post_init__(self) -> None:
        _require_aware(self, "occurred_at", self.occurred_at)


@dataclass(frozen=True, slots=True)
class Inspection:
    """``inspection.recorded.v1``: the township office's monthly inspection (司法所月检)."""

    event_id: uuid.UUID
    occurred_at: datetime
    village_id: str
    month: str
    inspector: str
    advisor_present: bool
    ledger_complete: bool
    wechat_group_active: bool

    def __post_init__(self) -> None:
        _require_aware(self, "occurred_at", self.occurred_at)
        if _MONTH.match(self.month) is None:
            raise ValueError(f"Inspection.month must be YYYY-MM, got {self.month!r}")

    @property
    def passed(self) -> bool:
        """An inspection passes iff all three checks hold."""
        return self.advisor_present and self.ledger_complete and self.wechat_group_active

    @property
    def year_month(self) -> tuple[int, int]:
        """The inspected (year, month)."""
        year, month = self.month.split("-")
        return int(year), int(month)


Activity: TypeAlias = (
    OnsiteDuty
    | Lecture
    | Mediation
    | Consultation
    | DocumentDrafted
    | LegalAidReferral
    | CommitteeAdvice
)

Fact: TypeAlias = (
    Appointment
    | AssignmentEnded
    | OnsiteDuty
    | Lecture
    | Mediation
    | Consultation
    | DocumentDrafted
    | LegalAidReferral
    | CommitteeAdvice
    | Voided
    | Rating
    | ComplaintFiled
    | ComplaintResolved
    | Inspection
)

ACTIVITY_TYPES: tuple[type[Activity], ...] = (
    OnsiteDuty,
    Lecture,
    Mediation,
    Consultation,
    DocumentDrafted,
    LegalAidReferral,
    CommitteeAdvice,
)
"""Fact types a rating may cite (DESIGN §3: ``activity.*``)."""

VOIDABLE_TYPES: tuple[type[Fact], ...] = (*ACTIVITY_TYPES, Rating, Inspection)
"""Fact types an ``activity.voided.v1`` may target (DESIGN §3)."""


@dataclass(frozen=True, slots=True)
class AdvisorHistory:
    """Everything recorded for one advisor, in any order, possibly with repeated events."""

    advisor_id: str
    facts: tuple[Fact, ...]
