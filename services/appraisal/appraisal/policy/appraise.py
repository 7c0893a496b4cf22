"""Appraise an assignment-year and an advisor-year: the frozen results handlers publish."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction

from appraisal.policy.attribution import AttributedHistory, attribute
from appraisal.policy.calendar import WorkdayCalendar
from appraisal.policy.document import PolicyDocument
from appraisal.policy.eligibility import award_exclusions
from appraisal.policy.facts import (
    AdvisorHistory,
    Appointment,
    AssignmentEnded,
    ComplaintResolved,
    Fact,
    Grade,
    Inspection,
    Verdict,
    Voided,
)
from appraisal.policy.indicators import (
    Indicators,
    RatingSelection,
    bayesian_mean,
    indicators_for,
    select_ratings,
)
from appraisal.policy.ledger import (
    MonthLedger,
    OnsiteInterval,
    apply_overlap_rule,
    month_ledgers,
    onsite_intervals,
)
from appraisal.policy.quantities import report_value
from appraisal.policy.reasons import Reason
from appraisal.policy.score import (
    Requirements,
    ScoreParts,
    final_score,
    grade_for,
    requirements_for,
    score_parts_for,
    subsidy_for,
)
from appraisal.policy.verdict import decide_verdict, not_rated

__all__ = [
    "AdvisorYearAppraisal",
    "AssignmentAppraisal",
    "PolicyForYear",
    "appraise_advisor_year",
    "appraise_assignment",
    "appraise_years",
    "previous_year_verdicts",
]

PolicyForYear = Callable[[int], tuple[str, PolicyDocument]]
"""Gives (policy_id, document) in force for a year, e.g. ``select_policy`` bound to a county."""


@dataclass(frozen=True, slots=True)
class AssignmentAppraisal:
    """The appraisal of one assignment (advisor, village) in one year, with its evidence."""

    advisor_id: str
    village_id: str
    year: int
    policy_id: str
    verdict: Verdict
    grade: Grade | None
    """None when NOT_RATED."""
    score: Fraction | None
    """Exact 0–100 score; None when NOT_RATED."""
    score_report: Decimal | None
    """The score as reports show it (half-up to the policy's decimals)."""
    score_parts: ScoreParts | None
    requirements: Requirements
    indicators: Indicators
    ledger: tuple[MonthLedger, ...]
    reasons: tuple[Reason, ...]
    subsidy_yuan: Decimal | None
    """Government-purchase subsidy, to the fen; None when NOT_RATED (decided by hand)."""
    previous_verdict: Verdict | None
    calendar_exact: bool
    """False when the holiday calendar for the year was approximated."""
    unassigned_event_ids: tuple[uuid.UUID, ...]
    """Facts for this village in this year recorded on a day it was not served."""
    invalid_rating_event_ids: tuple[uuid.UUID, ...]
    duplicate_rating_event_ids: tuple[uuid.UUID, ...]

    @property
    def rated(self) -> bool:
        """Whether the assignment got a verdict (S reached the minimum)."""
        return self.verdict != Verdict.NOT_RATED


@dataclass(frozen=True, slots=True)
class AdvisorYearAppraisal:
    """The advisor-level view of a year: every assignment plus award eligibility."""

    advisor_id: str
    year: int
    policy_id: str
    name: str | None
    """Name on the latest appointment dated within or before the year."""
    first_appointed_on: date | None
    assignments: tuple[AssignmentAppraisal, ...]
    """Every village served on at least one day of the year, by village_id."""
    score: Fraction | None
    """Mean of the rated assignments' scores weighted by months served; None if none rated."""
    score_report: Decimal | None
    satisfaction_bayes: Fraction
    """b over all the advisor's valid ratings of the year."""
    ratings: int
    substantiated_complaints: int
    public_interest_hours: Fraction
    eligible_for_awards: bool
    award_exclusions: tuple[Reason, ...]
    most_villages_at_once: int
    load_flagged: bool
    """Served more villages on one day than the policy allows (Jiangsu/Anhui cap: 5)."""
    unassigned_event_ids: tuple[uuid.UUID, ...]
    """Every fact of the year that counted nowhere, whatever its village."""
    calendar_exact: bool


def _year_of(fact: Fact, attributed: AttributedHistory) -> int | None:
    if isinstance(fact, Inspection):
        return fact.year_month[0]
    if isinstance(fact, Appointment | AssignmentEnded | Voided | ComplaintResolved):
        return None
    return attributed.date_of(fact).year


def _unassigned_ids(
    attributed: AttributedHistory, year: int, village_id: str | None = None
) -> tuple[uuid.UUID, ...]:
    return tuple(
        sorted(
            fact.event_id
            for fact in attributed.unassigned
            if _year_of(fact, attributed) == year
            and (village_id is None or getattr(fact, "village_id", None) == village_id)
        )
    )


def _appraise(
    attributed: AttributedHistory,
    effective: tuple[OnsiteInterval, ...],
    policy_id: str,
    policy: PolicyDocument,
    village_id: str,
    year: int,
    previous_verdict: Verdict | None,
    calendar: WorkdayCalendar,
) -> tuple[AssignmentAppraisal, RatingSelection]:
    ledger = month_ledgers(attributed, policy, effective, village_id, year)
    ratings = select_ratings(attributed, policy, village_id, year)
    indicators = indicators_for(attributed, policy, calendar, ledger, ratings, village_id, year)
    requirements = requirements_for(indicators.months_served, policy)
    score: Fraction | None = None
    parts: ScoreParts | None = None
    grade: Grade | None = None
    subsidy: Decimal | None = None
    if indicators.months_served < policy.service.min_months_served_to_rate:
        verdict, reasons = not_rated(indicators.months_served, policy)
    else:
        parts = score_parts_for(indicators, requirements, policy)
        score = final_score(parts, policy)
        grade = grade_for(score, policy)
        subsidy = subsidy_for(indicators.months_served, grade, policy)
        verdict, reasons = decide_verdict(
            indicators=indicators,
            requirements=requirements,
            score=score,
            grade=grade,
            previous_verdict=previous_verdict,
            policy=policy,
        )
    appraisal = AssignmentAppraisal(
        advisor_id=attributed.advisor_id,
        village_id=village_id,
        year=year,
        policy_id=policy_id,
        verdict=verdict,
        grade=grade,
        score=score,
        score_report=None if score is None else report_value(score, policy.report_decimal_places),
        score_parts=parts,
        requirements=requirements,
        indicators=indicators,
        ledger=ledger,
        reasons=reasons,
        subsidy_yuan=subsidy,
        previous_verdict=previous_verdict,
        calendar_exact=calendar.covers(year),
        unassigned_event_ids=_unassigned_ids(attributed, year, village_id),
        invalid_rating_event_ids=tuple(sorted(r.event_id for r in ratings.invalid)),
        duplicate_rating_event_ids=tuple(sorted(r.event_id for r in ratings.duplicates)),
    )
    return appraisal, ratings


def appraise_assignment(
    policy_id: str,
    policy: PolicyDocument,
    history: AdvisorHistory,
    village_id: str,
    year: int,
    previous_verdict: Verdict | None,
    calendar: WorkdayCalendar,
) -> AssignmentAppraisal:
    """Appraise the assignment (history's advisor, ``village_id``) in ``year`` (DESIGN §5).

    ``history`` is everything recorded for the advisor (all villages, all years: the
    overlap rule and rating citations look across them). ``previous_verdict`` is the same
    assignment's current verdict for ``year - 1`` (see ``previous_year_verdicts``).
    """
    attributed = attribute(history, policy.zone)
    effective = apply_overlap_rule(onsite_intervals(attributed))
    appraisal, _ = _appraise(
        attributed, effective, policy_id, policy, village_id, year, previous_verdict, calendar
    )
    return appraisal


def _effective_intervals(attributed: AttributedHistory) -> tuple[OnsiteInterval, ...]:
    return apply_overlap_rule(onsite_intervals(attributed))


def _appraise_year(
    attributed: AttributedHistory,
    effective: tuple[OnsiteInterval, ...],
    policy_id: str,
    policy: PolicyDocument,
    year: int,
    previous_verdicts: Mapping[str, Verdict],
    calendar: WorkdayCalendar,
) -> AdvisorYearAppraisal:
    first, following = date(year, 1, 1), date(year + 1, 1, 1)
    assignments: list[AssignmentAppraisal] = []
    scores: list[int] = []
    for village_id in attributed.periods.villages_active_between(first, following):
        appraisal, ratings = _appraise(
            attributed,
            effective,
            policy_id,
            policy,
            village_id,
            year,
            previous_verdicts.get(village_id),
            calendar,
        )
        assignments.append(appraisal)
        scores.extend(rating.score for rating in ratings.valid)

    rated = [a for a in assignments if a.rated]
    weight = sum(a.indicators.months_served for a in rated)
    advisor_score = (
        sum(
            (a.indicators.months_served * a.score for a in rated if a.score is not None),
            Fraction(0),
        )
        / weight
        if weight
        else None
    )
    complaints = sum(a.indicators.substantiated_complaints for a in assignments)
    exclusions = award_exclusions(
        policy,
        rated_verdicts=[a.verdict for a in rated],
        substantiated_complaints=complaints,
        ratings=len(scores),
        advisor_score=advisor_score,
    )
    appointments = sorted(
        attributed.of_type(Appointment),
        key=lambda a: (a.appointed_on, a.occurred_at, a.event_id.int),
    )
    named = [a for a in appointments if a.appointed_on < following]
    most = attributed.periods.most_villages_at_once(first, following)
    return AdvisorYearAppraisal(
        advisor_id=attributed.advisor_id,
        year=year,
        policy_id=policy_id,
        name=named[-1].name if named else None,
        first_appointed_on=appointments[0].appointed_on if appointments else None,
        assignments=tuple(assignments),
        score=advisor_score,
        score_report=None
        if advisor_score is None
        else report_value(advisor_score, policy.report_decimal_places),
        satisfaction_bayes=bayesian_mean(scores, policy),
        ratings=len(scores),
        substantiated_complaints=complaints,
        public_interest_hours=sum(
            (a.indicators.public_interest_hours for a in assignments), Fraction(0)
        ),
        eligible_for_awards=not exclusions,
        award_exclusions=exclusions,
        most_villages_at_once=most,
        load_flagged=most > policy.load.max_villages_at_once,
        unassigned_event_ids=_unassigned_ids(attributed, year),
        calendar_exact=calendar.covers(year),
    )


def appraise_advisor_year(
    policy_id: str,
    policy: PolicyDocument,
    history: AdvisorHistory,
    year: int,
    previous_verdicts: Mapping[str, Verdict],
    calendar: WorkdayCalendar,
) -> AdvisorYearAppraisal:
    """Appraise every assignment the advisor served in ``year``, and the advisor as a whole.

    ``previous_verdicts`` maps village_id to the same assignment's current verdict for
    ``year - 1``; villages missing from it had none.
    """
    attributed = attribute(history, policy.zone)
    effective = _effective_intervals(attributed)
    return _appraise_year(
        attributed, effective, policy_id, policy, year, previous_verdicts, calendar
    )


class _AttributedByZone:
    """One attribution and one overlap rule per time zone, shared by every year appraised.

    Both depend only on the history and the zone, never on the year's policy numbers.
    """

    def __init__(self, history: AdvisorHistory) -> None:
        self._history = history
        self._by_zone: dict[str, tuple[AttributedHistory, tuple[OnsiteInterval, ...]]] = {}

    def __call__(
        self, policy: PolicyDocument
    ) -> tuple[AttributedHistory, tuple[OnsiteInterval, ...]]:
        zone_key = policy.service.timezone
        found = self._by_zone.get(zone_key)
        if found is None:
            attributed = attribute(self._history, policy.zone)
            found = self._by_zone[zone_key] = (attributed, _effective_intervals(attributed))
        return found


def previous_year_verdicts(
    history: AdvisorHistory,
    year: int,
    policy_for_year: PolicyForYear,
    calendar: WorkdayCalendar,
) -> dict[str, Verdict]:
    """The current verdicts for ``year - 1``, by village_id, "computed the same way".

    Each year's verdict depends on the year before, so this appraises every year from the
    advisor's first appointment up to ``year - 1`` with the policy in force for that year.
    """
    appointed = [fact for fact in history.facts if isinstance(fact, Appointment)]
    if not appointed:
        return {}
    verdicts: dict[str, Verdict] = {}
    attributed_in = _AttributedByZone(history)
    for earlier in range(min(a.appointed_on.year for a in appointed), year):
        policy_id, policy = policy_for_year(earlier)
        attributed, effective = attributed_in(policy)
        appraisal = _appraise_year(
            attributed, effective, policy_id, policy, earlier, verdicts, calendar
        )
        verdicts = {a.village_id: a.verdict for a in appraisal.assignments}
    return verdicts


def appraise_years(
    history: AdvisorHistory,
    policy_for_year: PolicyForYear,
    calendar: WorkdayCalendar,
    through_year: int,
    *,
    from_year: int | None = None,
    previous_verdicts: Mapping[str, Verdict] | None = None,
) -> tuple[AdvisorYearAppraisal, ...]:
    """Appraise every year from the advisor's first appointment through ``through_year``.

    Each year's verdicts feed the next year's CONSECUTIVE_RECTIFY check, so years are
    appraised in order. Years in which no village was served are left out. Empty when
    the advisor was never appointed.

    With ``from_year``, only the years from it are appraised (and returned), the year
    before having given ``previous_verdicts`` (village_id → verdict): for a caller that
    holds the earlier years of this history already. The whole history is still read
    (attribution and the overlap rule look across years).
    """
    appointed = [fact.appointed_on.year for fact in history.facts if isinstance(fact, Appointment)]
    if not appointed:
        return ()
    results: list[AdvisorYearAppraisal] = []
    previous: dict[str, Verdict] = {}
    start = min(appointed)
    if from_year is not None and from_year > start:
        start, previous = from_year, dict(previous_verdicts or {})
    attributed_in = _AttributedByZone(history)
    for year in range(start, through_year + 1):
        policy_id, policy = policy_for_year(year)
        attributed, effective = attributed_in(policy)
        appraisal = _appraise_year(
            attributed, effective, policy_id, policy, year, previous, calendar
        )
        previous = {a.village_id: a.verdict for a in appraisal.assignments}
        if appraisal.assignments:
            results.append(appraisal)
    return tuple(results)
