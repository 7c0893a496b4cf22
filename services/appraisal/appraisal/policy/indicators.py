"""The quantified indicators of one assignment-year (公益法律服务量化指标)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, tzinfo
from fractions import Fraction
from typing import TypeVar

from appraisal.policy.attribution import AttributedHistory, DatedFact
from appraisal.policy.calendar import WorkdayCalendar
from appraisal.policy.document import PolicyDocument, exact
from appraisal.policy.facts import (
    CommitteeAdvice,
    ComplaintFiled,
    ComplaintResolved,
    Consultation,
    DocumentDrafted,
    Inspection,
    Lecture,
    LegalAidReferral,
    Mediation,
    Rating,
)
from appraisal.policy.ledger import MonthLedger, assignment_offsite_in_time
from appraisal.policy.quantities import exact_sum

__all__ = [
    "Indicators",
    "RatingSelection",
    "bayesian_mean",
    "count_activities",
    "indicators_for",
    "is_night_or_holiday",
    "select_ratings",
    "substantiated_complaints",
]


@dataclass(frozen=True, slots=True)
class Indicators:
    """Every indicator of DESIGN §7.1 for one assignment-year, exact."""

    months_served: int
    months_compliant: int
    onsite_hours: Fraction
    offsite_credit_hours: Fraction
    lectures: int
    night_holiday_lectures: int
    mediations: int
    consultations: int
    documents: int
    committee_advice: int
    legal_aid_referrals: int
    responsiveness: Fraction
    ratings: int
    rating_mean: Fraction | None
    """Raw mean r̄; None without ratings."""
    satisfaction_bayes: Fraction
    substantiated_complaints: int
    inspections: int
    inspections_passed: int
    public_interest_hours: Fraction

    @property
    def inspection_ratio(self) -> Fraction:
        """ι = passed / recorded, 1 when none were recorded."""
        if self.inspections == 0:
            return Fraction(1)
        return Fraction(self.inspections_passed, self.inspections)


@dataclass(frozen=True, slots=True)
class RatingSelection:
    """Which of an assignment-year's ratings count (群众评价有效性)."""

    valid: tuple[Rating, ...]
    invalid: tuple[Rating, ...]
    """Out of the rating scale, or citing something that is not a counting activity of
    this advisor."""
    duplicates: tuple[Rating, ...]
    """Beyond the allowance per citizen per local day."""


_D = TypeVar("_D", bound=DatedFact)


def _dated_in(
    attributed: AttributedHistory, kind: type[_D], village_id: str, year: int
) -> tuple[_D, ...]:
    """Counting facts of one kind attributed to the village and the year."""
    return attributed.dated_in(kind, village_id, year)


def _in_night_window(moment: time, starts: time, ends: time) -> bool:
    if starts > ends:  # the usual case: the window wraps around midnight
        return moment >= starts or moment < ends
    return starts <= moment < ends


def is_night_or_holiday(
    lecture: Lecture, policy: PolicyDocument, calendar: WorkdayCalendar, zone: tzinfo
) -> bool:
    """A lecture starting in the night window (18:00 incl. – 08:00 excl., local) or on a
    PRC non-working day (weekend not made a working day, or public holiday)."""
    local = lecture.started_at.astimezone(zone)
    window = policy.requirements
    if _in_night_window(local.time(), window.night_starts_at, window.night_ends_at):
        return True
    return not calendar.is_working_day(local.date())


def select_ratings(
    attributed: AttributedHistory, policy: PolicyDocument, village_id: str, year: int
) -> RatingSelection:
    """Split an assignment-year's ratings into valid, invalid and duplicate.

    A rating is invalid when its score is off the scale, or when it cites an event that
    is not one of this advisor's counting activities: another advisor's, a voided or
    unassigned activity, a non-activity, or one not (yet) recorded. Of the remaining
    ratings one citizen gets ``ratings_per_citizen_per_day`` per local day; the earliest
    (occurred_at, then event_id) count.
    """
    rules = policy.satisfaction
    allowance = rules.ratings_per_citizen_per_day
    activity_ids = attributed.activity_ids
    valid: list[Rating] = []
    invalid: list[Rating] = []
    duplicates: list[Rating] = []
    counted: dict[tuple[str, date], int] = {}
    # Taken once in (occurred_at, event_id) order, each rating is valid while its citizen
    # and day have fewer than the allowance before it, and all three lists come out
    # ordered: one sort instead of one per citizen-day and one per list.
    for rating in sorted(_dated_in(attributed, Rating, village_id, year), key=_rating_order):
        cited = rating.activity_event_id
        if (cited is not None and cited not in activity_ids) or not (
            rules.rating_min <= rating.score <= rules.rating_max
        ):
            invalid.append(rating)
            continue
        key = (rating.citizen_ref, attributed.date_of(rating))
        before = counted.get(key, 0)
        counted[key] = before + 1
        (valid if before < allowance else duplicates).append(rating)
    return RatingSelection(valid=tuple(valid), invalid=tuple(invalid), duplicates=tuple(duplicates))


def _rating_order(rating: Rating) -> tuple[datetime, int]:
    """(occurred_at, event_id) as a cheap sort key: the same order, faster comparisons.

    Aware datetimes with different tzinfo objects (every parsed offset is its own object)
    compare through utcoffset() calls; in UTC they share one tzinfo and compare directly.
    A UUID orders by its int.
    """
    return rating.occurred_at.astimezone(UTC), rating.event_id.int


def bayesian_mean(scores: Iterable[int], policy: PolicyDocument) -> Fraction:
    """b = (w·μ + Σ score) / (w + n), with prior mean μ and weight w from the policy."""
    scores = tuple(scores)
    weight = exact(policy.satisfaction.prior_weight)
    prior = exact(policy.satisfaction.prior_mean)
    if weight + len(scores) == 0:
        return prior
    return (weight * prior + sum(scores)) / (weight + len(scores))


def substantiated_complaints(attributed: AttributedHistory, village_id: str, year: int) -> int:
    """K: complaints filed for the assignment in the year whose latest resolution says
    substantiated (属实).

    A ``complaint_id`` is one complaint: its earliest filing (occurred_at, then event_id)
    decides village and year; its latest resolution (occurred_at, then event_id) decides
    the outcome, whenever that resolution was recorded.
    """
    filings: dict[str, ComplaintFiled] = {}
    for filing in sorted(
        attributed.of_type(ComplaintFiled), key=lambda f: (f.occurred_at, f.event_id.int)
    ):
        filings.setdefault(filing.complaint_id, filing)
    outcome: dict[str, bool] = {}
    for resolution in sorted(
        attributed.of_type(ComplaintResolved), key=lambda r: (r.occurred_at, r.event_id.int)
    ):
        outcome[resolution.complaint_id] = resolution.substantiated
    return sum(
        1
        for complaint_id, filing in filings.items()
        if filing.village_id == village_id
        and attributed.date_of(filing).year == year
        and outcome.get(complaint_id, False)
    )


def count_activities(
    attributed: AttributedHistory, kind: type[DatedFact], village_id: str, year: int
) -> int:
    """How many counting facts of ``kind`` the assignment has in the year."""
    return len(_dated_in(attributed, kind, village_id, year))


def indicators_for(
    attributed: AttributedHistory,
    policy: PolicyDocument,
    calendar: WorkdayCalendar,
    ledger: tuple[MonthLedger, ...],
    ratings: RatingSelection,
    village_id: str,
    year: int,
) -> Indicators:
    """The indicators of one assignment-year from its ledger, ratings and counting facts."""
    zone = attributed.zone
    lectures = _dated_in(attributed, Lecture, village_id, year)
    consultations = _dated_in(attributed, Consultation, village_id, year)
    offsite, in_time = assignment_offsite_in_time(attributed, policy, village_id, year)
    inspections = [
        inspection
        for inspection in attributed.of_type(Inspection)
        if inspection.village_id == village_id and inspection.year_month[0] == year
    ]
    scores = [rating.score for rating in ratings.valid]
    mediations = count_activities(attributed, Mediation, village_id, year)
    onsite_hours = exact_sum(row.onsite_hours for row in ledger)
    credit_hours = exact_sum(row.capped_credit_hours for row in ledger)
    return Indicators(
        months_served=sum(1 for row in ledger if row.served),
        months_compliant=sum(1 for row in ledger if row.compliant),
        onsite_hours=onsite_hours,
        offsite_credit_hours=credit_hours,
        lectures=len(lectures),
        night_holiday_lectures=sum(
            1 for lecture in lectures if is_night_or_holiday(lecture, policy, calendar, zone)
        ),
        mediations=mediations,
        consultations=sum(1 for c in consultations if c.answered_at is not None),
        documents=count_activities(attributed, DocumentDrafted, village_id, year),
        committee_advice=count_activities(attributed, CommitteeAdvice, village_id, year),
        legal_aid_referrals=count_activities(attributed, LegalAidReferral, village_id, year),
        responsiveness=Fraction(len(in_time), offsite) if offsite else Fraction(1),
        ratings=len(scores),
        rating_mean=Fraction(sum(scores), len(scores)) if scores else None,
        satisfaction_bayes=bayesian_mean(scores, policy),
        substantiated_complaints=substantiated_complaints(attributed, village_id, year),
        inspections=len(inspections),
        inspections_passed=sum(1 for inspection in inspections if inspection.passed),
        public_interest_hours=onsite_hours
        + credit_hours
        + mediations * exact(policy.awards.public_interest_hours_per_mediation),
    )
