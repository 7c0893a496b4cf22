"""Behaviour profiles: how an advisor works in a year, and the verdict that must follow.

A profile turns the months an assignment was served into exact yearly targets (how
many lectures, which months lack on-site duty, how many ratings with which scores…).
Everything the score or a verdict rule looks at is an exact count, so the verdict,
the reasons and the grade of a profile do not depend on the seed; the seed only moves
things that cannot change them (days, times, channels, texts, and volume beyond what
the rules saturate at).

The numbers are designed against the built-in default policy (DESIGN §5); the
requirements are read from it, so the profiles follow it if it changes, but the
expected scores in the comments are for today's default.
"""

from __future__ import annotations

import enum
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Final

from appraisal.policy import DEFAULT_POLICY, Grade, ReasonCode, Verdict

__all__ = [
    "PROFILES",
    "RATING_MIXES",
    "Needs",
    "Outcome",
    "PlanContext",
    "Profile",
    "ProfileSpec",
    "YearTargets",
    "expected_outcome",
    "rating_counts",
    "targets_for",
]

# Yearly volume of an ordinary advisor in one village at the default scale
# (calibrated so the default county has about 100,000 events a year).
BASE_CONSULTATIONS: Final = 235
BASE_DOCUMENTS: Final = 20
BASE_RATINGS: Final = 186

RATING_MIXES: Final[dict[str, tuple[int, int, int, int, int]]] = {
    # per cent of scores 1…5, and the mean they give
    "glowing": (0, 1, 4, 20, 75),  # 4.69
    "good": (1, 3, 8, 38, 50),  # 4.33
    "fair": (3, 5, 15, 45, 32),  # 3.98
    "mediocre": (5, 8, 22, 40, 25),  # 3.72
    "poor": (10, 20, 25, 30, 15),  # 3.20
    "bad": (25, 25, 25, 15, 10),  # 2.60
}


class Profile(enum.StrEnum):
    """How an advisor behaves in the focus year (the last generated year)."""

    EXEMPLARY = "exemplary"
    STEADY = "steady"
    COMPETENT = "competent"
    BASIC = "basic"
    LECTURE_SHY = "lecture_shy"
    NIGHT_SHY = "night_shy"
    UNPOPULAR = "unpopular"
    LAX_INSPECTIONS = "lax_inspections"
    ONE_COMPLAINT = "one_complaint"
    PATCHY_DUTY = "patchy_duty"
    CHRONIC = "chronic"
    FAILING = "failing"
    ABSENTEE = "absentee"
    COMPLAINED = "complained"
    NEWCOMER = "newcomer"
    LATE_APPOINTEE = "late_appointee"
    RESIGNED = "resigned"
    SUCCESSOR = "successor"
    OVERLOADED = "overloaded"


@dataclass(frozen=True, slots=True)
class Needs:
    """The yearly requirements of S served months under the default policy."""

    months_served: int
    lectures: int
    night_lectures: int
    mediations: int
    consultations: int
    governance: int

    @classmethod
    def of(cls, months_served: int) -> Needs:
        """⌈S/3⌉ lectures, ⌈S/6⌉ night/holiday lectures, … (DESIGN §5)."""
        rules = DEFAULT_POLICY.requirements

        def per(months: int) -> int:
            return -(-months_served // months)

        return cls(
            months_served=months_served,
            lectures=per(rules.months_per_required_lecture),
            night_lectures=per(rules.months_per_required_night_holiday_lecture),
            mediations=per(rules.months_per_required_mediation),
            consultations=months_served * rules.consultations_per_served_month,
            governance=per(rules.months_per_required_governance_item),
        )


@dataclass(frozen=True, slots=True)
class YearTargets:
    """Exact yearly counts for one assignment-year."""

    skipped_months: int
    """Served months without enough on-site duty (non-compliant)."""
    lectures: int
    night_lectures: int
    """Of the lectures, those starting at night or on a non-working day."""
    mediations: int
    consultations: int
    """All channels; on-site ones happen during duty."""
    documents: int
    committee_advice: int
    referrals: int
    late_share: float
    """Share of the off-site consultations not answered within 24 h."""
    unanswered_share: float
    """Share of those late ones never answered at all."""
    ratings: int
    """Valid ratings (duplicates and invalid ones come on top)."""
    rating_mix: str
    substantiated_complaints: int = 0
    unfounded_complaints: int = 0
    complaint_reviewed: bool = False
    """The first substantiated complaint was first resolved unfounded, then upheld on review."""
    resolution_after_close: bool = False
    """The substantiated complaint is filed in December and resolved after the year closes."""
    failed_inspections: int = 0


@dataclass(slots=True)
class PlanContext:
    """What a profile may look at when it sets its targets."""

    need: Needs
    active_fraction: float
    """Days served in the year / days of the year."""
    inspections: int
    """Months in which the township office inspects this assignment."""
    volume: float
    rng: random.Random

    def pick(self, low: int, high: int) -> int:
        """A uniform integer in [low, high]."""
        return low + int(self.rng.random() * (high - low + 1))

    def share(self, low: float, high: float) -> float:
        """A uniform share in [low, high)."""
        return low + self.rng.random() * (high - low)

    def scaled(self, base: float, floor: int) -> int:
        """A volume count: base × volume × time served, never below ``floor``."""
        return max(floor, round(base * self.volume * self.active_fraction))


def rating_counts(total: int, mix: str) -> tuple[int, int, int, int, int]:
    """How many of ``total`` ratings score 1…5 under a mix (largest remainder, exact)."""
    weights = RATING_MIXES[mix]
    raw = [total * w for w in weights]
    counts = [r // 100 for r in raw]
    order = sorted(range(5), key=lambda i: (-(raw[i] % 100), i))
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    return counts[0], counts[1], counts[2], counts[3], counts[4]


# ---------------------------------------------------------------------------
# Targets. Scores in comments are for twelve served months.


def _steady(c: PlanContext) -> YearTargets:
    """The ordinary advisor: varies by seed, always RETAIN, score ≈ 83–98."""
    need = c.need
    lectures = need.lectures + c.pick(0, 2)
    governance = max(0, need.governance + c.pick(-1, 2))
    referrals = c.pick(0, min(2, governance))
    return YearTargets(
        skipped_months=c.pick(0, min(2, need.months_served // 5)),
        lectures=lectures,
        night_lectures=min(lectures, need.night_lectures + c.pick(0, 1)),
        mediations=max(0, need.mediations + c.pick(-1, 3)),
        consultations=c.scaled(BASE_CONSULTATIONS, 2 * need.months_served + 6),
        documents=c.scaled(BASE_DOCUMENTS, 2),
        committee_advice=governance - referrals,
        referrals=referrals,
        late_share=c.share(0.03, 0.2),
        unanswered_share=0.2,
        ratings=c.scaled(BASE_RATINGS, 12),
        rating_mix="good" if c.rng.random() < 0.5 else "fair",
        unfounded_complaints=1 if c.rng.random() < 0.1 else 0,
        failed_inspections=c.pick(0, c.inspections // 6),
    )


def _solid(c: PlanContext) -> YearTargets:
    """A good year with no random knob: the base the problem profiles deviate from (95.6)."""
    need = c.need
    return YearTargets(
        skipped_months=0,
        lectures=need.lectures + 1,
        night_lectures=need.night_lectures,
        mediations=need.mediations,
        consultations=c.scaled(BASE_CONSULTATIONS, 2 * need.months_served + 6),
        documents=c.scaled(BASE_DOCUMENTS, 2),
        committee_advice=max(0, need.governance - 1),
        referrals=min(1, need.governance),
        late_share=0.1,
        unanswered_share=0.2,
        ratings=c.scaled(BASE_RATINGS * 0.8, 12),
        rating_mix="good",
    )


def _exemplary(c: PlanContext) -> YearTargets:
    # 30 + 10 + 10 + 10 + 5 + ≥9.6 + ≥18.2 + 5 ≥ 97.8: EXCELLENT, award material.
    need = c.need
    return replace(
        _steady(c),
        skipped_months=0,
        lectures=need.lectures + c.pick(2, 3),
        night_lectures=need.night_lectures + c.pick(1, 2),
        mediations=need.mediations + c.pick(2, 5),
        consultations=c.scaled(BASE_CONSULTATIONS * 1.15, 2 * need.months_served + 8),
        committee_advice=need.governance + c.pick(1, 3),
        referrals=c.pick(1, 3),
        late_share=c.share(0.0, 0.04),
        ratings=c.scaled(BASE_RATINGS * 1.1, 15),
        rating_mix="glowing",
        unfounded_complaints=0,
        failed_inspections=0,
    )


def _competent(c: PlanContext) -> YearTargets:
    # 25 + 10 + 5 + 10 + 2.5 + 8 + 14.9 + 4.2 ≈ 79.6: COMPETENT, still award-eligible.
    need = c.need
    return replace(
        _solid(c),
        skipped_months=min(2, need.months_served // 5),
        lectures=need.lectures,
        mediations=max(0, need.mediations - 2),
        committee_advice=max(0, need.governance - 2),
        referrals=0,
        late_share=0.2,
        rating_mix="fair",
        failed_inspections=c.inspections // 6,
    )


def _basic(c: PlanContext) -> YearTargets:
    # 25 + 10 + 2.5 + ≈4.6 + 1.25 + ≈4.4 + 13.8 + 4.2 ≈ 66: BASIC and nothing else.
    need = c.need
    return replace(
        _solid(c),
        skipped_months=2,
        lectures=need.lectures,
        mediations=1,
        consultations=need.months_served,
        documents=0,
        committee_advice=1,
        referrals=0,
        late_share=0.5,
        unanswered_share=0.3,
        ratings=30,
        rating_mix="mediocre",
        failed_inspections=c.inspections // 6,
    )


def _lecture_shy(c: PlanContext) -> YearTargets:
    # 30 + 7.5 + 5 + 10 + 5 + 8 + 15 + 4.6 ≈ 85: LECTURES_SHORT only.
    need = c.need
    return replace(
        _solid(c),
        lectures=max(need.night_lectures, need.lectures - 2),
        mediations=max(0, need.mediations - 2),
        late_share=0.2,
        rating_mix="fair",
        failed_inspections=min(1, c.inspections // 6),
    )


def _night_shy(c: PlanContext) -> YearTargets:
    # 30 + 5 + 5 + 10 + 5 + 8 + 15 + 4.6 ≈ 82.6: NIGHT_HOLIDAY_LECTURES_SHORT only.
    need = c.need
    return replace(
        _solid(c),
        lectures=need.lectures + 2,
        night_lectures=0,
        mediations=max(0, need.mediations - 2),
        late_share=0.2,
        rating_mix="fair",
        failed_inspections=min(1, c.inspections // 6),
    )


def _unpopular(c: PlanContext) -> YearTargets:
    # 30 + 10 + 7.5 + 10 + 5 + 8 + ≈11.2 + 5 ≈ 86.7: LOW_SATISFACTION only.
    return replace(
        _solid(c),
        mediations=max(0, c.need.mediations - 1),
        late_share=0.2,
        ratings=c.scaled(BASE_RATINGS * 0.7, 20),
        rating_mix="poor",
    )


def _lax_inspections(c: PlanContext) -> YearTargets:
    # 30 + 10 + 10 + 10 + 5 + 9 + 16.6 + 2.9 ≈ 93.5: EXCELLENT yet INSPECTIONS_FAILED.
    return replace(
        _solid(c),
        night_lectures=c.need.night_lectures + 1,
        failed_inspections=math.ceil(c.inspections * 0.4),
    )


def _one_complaint(c: PlanContext) -> YearTargets:
    # 95.6 − 10 ≈ 85.6: COMPLAINT_1 only; upheld after the year is closed (an amendment).
    return replace(
        _solid(c), substantiated_complaints=1, unfounded_complaints=1, resolution_after_close=True
    )


def _patchy_duty(c: PlanContext) -> YearTargets:
    # 20 + 10 + 10 + 10 + 5 + 9 + 16.6 + 4.6 ≈ 85.2: NONCOMPLIANT_MONTHS_3_PLUS only.
    return replace(_solid(c), skipped_months=4, failed_inspections=min(1, c.inspections // 6))


def _chronic(c: PlanContext) -> YearTargets:
    # 22.5 + 8.75 + 10 + 10 + 5 + 8.5 + 15 + 4.6 ≈ 84.3: RECTIFY two years running.
    need = c.need
    return replace(
        _solid(c),
        skipped_months=3,
        lectures=need.lectures - 1,
        late_share=0.15,
        rating_mix="fair",
        failed_inspections=min(1, c.inspections // 6),
    )


def _failing(c: PlanContext) -> YearTargets:
    # 17.5 + 1.25 + 0 + 2.5 + 0 + ≈5 + ≈9.8 + 2.5 ≈ 38: FAIL with six reasons.
    return replace(
        _solid(c),
        skipped_months=5,
        lectures=1,
        night_lectures=0,
        mediations=0,
        consultations=6,
        documents=0,
        committee_advice=0,
        referrals=0,
        late_share=0.6,
        unanswered_share=0.5,
        ratings=14,
        rating_mix="bad",
        unfounded_complaints=1,
        failed_inspections=c.inspections // 2,
    )


def _absentee(c: PlanContext) -> YearTargets:
    # 12.5 + 10 + 10 + 10 + 5 + 6 + 13.8 + 4.2 ≈ 71.5: seven months away, BASIC.
    return replace(
        _solid(c),
        skipped_months=7,
        lectures=c.need.lectures,
        consultations=c.scaled(BASE_CONSULTATIONS * 0.6, 2 * c.need.months_served + 6),
        late_share=0.4,
        ratings=c.scaled(BASE_RATINGS * 0.5, 20),
        rating_mix="mediocre",
        failed_inspections=c.inspections // 6,
    )


def _complained(c: PlanContext) -> YearTargets:
    # 30 + 10 + 10 + 10 + 5 + 7 + 13.8 + 5 − 20 ≈ 70.8: two upheld complaints, BASIC.
    return replace(
        _solid(c),
        late_share=0.3,
        ratings=c.scaled(BASE_RATINGS * 0.6, 20),
        rating_mix="mediocre",
        substantiated_complaints=2,
        unfounded_complaints=1,
        complaint_reviewed=True,
    )


TargetsFn = Callable[[PlanContext], YearTargets]
R = ReasonCode


@dataclass(frozen=True, slots=True)
class ProfileSpec:
    """A profile: its targets and the outcome they must produce in the focus year."""

    profile: Profile
    summary: str
    targets: TargetsFn
    verdict: Verdict
    reasons: tuple[ReasonCode, ...]
    grade: Grade | None
    """None when the seed decides between COMPETENT and EXCELLENT (or NOT_RATED)."""


def _spec(
    profile: Profile,
    summary: str,
    targets: TargetsFn,
    verdict: Verdict = Verdict.RETAIN,
    reasons: tuple[ReasonCode, ...] = (),
    grade: Grade | None = None,
) -> ProfileSpec:
    return ProfileSpec(profile, summary, targets, verdict, reasons, grade)


PROFILES: Final[dict[Profile, ProfileSpec]] = {
    spec.profile: spec
    for spec in (
        _spec(Profile.EXEMPLARY, "does everything, well rated", _exemplary, grade=Grade.EXCELLENT),
        _spec(Profile.STEADY, "ordinary good advisor (most of the county)", _steady),
        _spec(Profile.COMPETENT, "adequate, a little thin", _competent, grade=Grade.COMPETENT),
        _spec(
            Profile.BASIC,
            "does the minimum, slow to answer",
            _basic,
            Verdict.RECTIFY,
            (R.GRADE_BASIC,),
            Grade.BASIC,
        ),
        _spec(
            Profile.LECTURE_SHY,
            "too few lectures",
            _lecture_shy,
            Verdict.RECTIFY,
            (R.LECTURES_SHORT,),
            Grade.COMPETENT,
        ),
        _spec(
            Profile.NIGHT_SHY,
            "lectures only in office hours",
            _night_shy,
            Verdict.RECTIFY,
            (R.NIGHT_HOLIDAY_LECTURES_SHORT,),
            Grade.COMPETENT,
        ),
        _spec(
            Profile.UNPOPULAR,
            "citizens rate the service poorly",
            _unpopular,
            Verdict.RECTIFY,
            (R.LOW_SATISFACTION,),
            Grade.COMPETENT,
        ),
        _spec(
            Profile.LAX_INSPECTIONS,
            "fails the township's monthly checks",
            _lax_inspections,
            Verdict.RECTIFY,
            (R.INSPECTIONS_FAILED,),
            Grade.EXCELLENT,
        ),
        _spec(
            Profile.ONE_COMPLAINT,
            "one complaint upheld (after the year closed)",
            _one_complaint,
            Verdict.RECTIFY,
            (R.COMPLAINT_1,),
            Grade.COMPETENT,
        ),
        _spec(
            Profile.PATCHY_DUTY,
            "four months short of on-site duty",
            _patchy_duty,
            Verdict.RECTIFY,
            (R.NONCOMPLIANT_MONTHS_3_PLUS,),
            Grade.COMPETENT,
        ),
        _spec(
            Profile.CHRONIC,
            "rectify-worthy two years running",
            _chronic,
            Verdict.REPLACE,
            (R.CONSECUTIVE_RECTIFY, R.NONCOMPLIANT_MONTHS_3_PLUS, R.LECTURES_SHORT),
            Grade.COMPETENT,
        ),
        _spec(
            Profile.FAILING,
            "little service, poor ratings, failed checks",
            _failing,
            Verdict.REPLACE,
            (
                R.GRADE_FAIL,
                R.NONCOMPLIANT_MONTHS_3_PLUS,
                R.LECTURES_SHORT,
                R.NIGHT_HOLIDAY_LECTURES_SHORT,
                R.LOW_SATISFACTION,
                R.INSPECTIONS_FAILED,
            ),
            Grade.FAIL,
        ),
        _spec(
            Profile.ABSENTEE,
            "seven months without on-site duty",
            _absentee,
            Verdict.REPLACE,
            (R.NONCOMPLIANT_MONTHS_6_PLUS, R.GRADE_BASIC, R.NONCOMPLIANT_MONTHS_3_PLUS),
            Grade.BASIC,
        ),
        _spec(
            Profile.COMPLAINED,
            "two complaints upheld (one on review); replaced in October",
            _complained,
            Verdict.REPLACE,
            (R.COMPLAINTS_2_PLUS, R.GRADE_BASIC),
            Grade.BASIC,
        ),
        _spec(
            Profile.NEWCOMER,
            "takes over the replaced advisor's village on 20 October (S = 2)",
            _steady,
            Verdict.NOT_RATED,
            (R.INSUFFICIENT_SERVICE,),
        ),
        _spec(
            Profile.LATE_APPOINTEE,
            "appointed on 10 November to a village that had none (S = 2)",
            _steady,
            Verdict.NOT_RATED,
            (R.INSUFFICIENT_SERVICE,),
        ),
        _spec(Profile.RESIGNED, "steady, resigns on 1 July", _steady),
        _spec(Profile.SUCCESSOR, "steady, takes over on 1 July", _steady),
        _spec(Profile.OVERLOADED, "steady in six villages at once (load flag)", _steady),
    )
}
"""Every profile. Those with fixed reasons appear once in every county (the showcase)."""


def targets_for(profile: Profile, year: int, focus_year: int) -> TargetsFn:
    """The targets of a profile in a year: the profile in the focus year, steady before.

    The chronic advisor is rectify-worthy the year before too, so the focus year's
    RECTIFY becomes REPLACE (CONSECUTIVE_RECTIFY). Every other problem is new in the
    focus year, so earlier years never chain into it.
    """
    if year == focus_year or (profile is Profile.CHRONIC and year == focus_year - 1):
        return PROFILES[profile].targets
    return _steady


@dataclass(frozen=True, slots=True)
class Outcome:
    """The verdict an assignment-year must get."""

    verdict: Verdict
    reasons: tuple[ReasonCode, ...]
    grade: Grade | None


_CHRONIC_FIRST_YEAR = Outcome(
    Verdict.RECTIFY, (R.NONCOMPLIANT_MONTHS_3_PLUS, R.LECTURES_SHORT), Grade.COMPETENT
)


def expected_outcome(
    profile: Profile, year: int, focus_year: int, months_served: int, rated_year_before: bool
) -> Outcome:
    """What the default policy must conclude for an assignment-year of this profile.

    ``rated_year_before``: the same assignment was rated the year before (the chronic
    advisor's consecutive RECTIFY needs it; without a carried-over year it stays RECTIFY).
    """
    if months_served < DEFAULT_POLICY.service.min_months_served_to_rate:
        return Outcome(Verdict.NOT_RATED, (R.INSUFFICIENT_SERVICE,), None)
    if profile is Profile.CHRONIC and year == focus_year - 1:
        return _CHRONIC_FIRST_YEAR
    if year != focus_year:
        return Outcome(Verdict.RETAIN, (), None)
    if profile is Profile.CHRONIC and not rated_year_before:
        return _CHRONIC_FIRST_YEAR
    spec = PROFILES[profile]
    return Outcome(spec.verdict, spec.reasons, spec.grade)
