"""The verdict (优留劣出): REPLACE 调整 > RECTIFY 整改 > RETAIN 保留, with its reasons."""

from __future__ import annotations

from fractions import Fraction

from appraisal.policy.document import PolicyDocument, exact
from appraisal.policy.facts import Grade, Verdict
from appraisal.policy.indicators import Indicators
from appraisal.policy.quantities import report_value
from appraisal.policy.reasons import Reason, ReasonCode, reason
from appraisal.policy.score import Requirements

CONSECUTIVE_RECTIFY_YEARS = 2
"""The rule compares this year and the one before: two RECTIFY years in a row."""

__all__ = ["decide_verdict", "not_rated"]


def not_rated(months_served: int, policy: PolicyDocument) -> tuple[Verdict, tuple[Reason, ...]]:
    """NOT_RATED and its INSUFFICIENT_SERVICE reason, for S below the policy minimum."""
    return Verdict.NOT_RATED, (
        reason(
            ReasonCode.INSUFFICIENT_SERVICE,
            months_served,
            policy.service.min_months_served_to_rate,
        ),
    )


def decide_verdict(
    *,
    indicators: Indicators,
    requirements: Requirements,
    score: Fraction,
    grade: Grade,
    previous_verdict: Verdict | None,
    policy: PolicyDocument,
) -> tuple[Verdict, tuple[Reason, ...]]:
    """The verdict of a rated assignment-year and every reason that fired (DESIGN §5).

    Each condition is tested as written, so overlapping ones are all listed: S − C = 7
    fires both NONCOMPLIANT_MONTHS_6_PLUS and NONCOMPLIANT_MONTHS_3_PLUS. Grade and
    complaint reasons are exclusive by construction (one grade; K ≥ 2 is not K = 1).
    CONSECUTIVE_RECTIFY fires only when the verdict would otherwise be RECTIFY.
    """
    limits = policy.verdicts
    places = policy.report_decimal_places
    shown_score = report_value(score, places)
    complaints = indicators.substantiated_complaints
    short_months = indicators.months_served - indicators.months_compliant

    replace: list[Reason] = []
    if grade is Grade.FAIL:
        replace.append(reason(ReasonCode.GRADE_FAIL, shown_score, policy.grades.basic))
    if complaints >= limits.replace_min_substantiated_complaints:
        replace.append(
            reason(
                ReasonCode.COMPLAINTS_2_PLUS,
                complaints,
                limits.replace_min_substantiated_complaints,
            )
        )
    if short_months >= limits.replace_min_noncompliant_months:
        replace.append(
            reason(
                ReasonCode.NONCOMPLIANT_MONTHS_6_PLUS,
                short_months,
                limits.replace_min_noncompliant_months,
            )
        )

    rectify: list[Reason] = []
    if grade is Grade.BASIC:
        rectify.append(reason(ReasonCode.GRADE_BASIC, shown_score, policy.grades.competent))
    if (
        limits.rectify_min_substantiated_complaints
        <= complaints
        < limits.replace_min_substantiated_complaints
    ):
        rectify.append(
            reason(ReasonCode.COMPLAINT_1, complaints, limits.rectify_min_substantiated_complaints)
        )
    if short_months >= limits.rectify_min_noncompliant_months:
        rectify.append(
            reason(
                ReasonCode.NONCOMPLIANT_MONTHS_3_PLUS,
                short_months,
                limits.rectify_min_noncompliant_months,
            )
        )
    if indicators.lectures < requirements.lectures:
        rectify.append(
            reason(ReasonCode.LECTURES_SHORT, indicators.lectures, requirements.lectures)
        )
    if indicators.night_holiday_lectures < requirements.night_holiday_lectures:
        rectify.append(
            reason(
                ReasonCode.NIGHT_HOLIDAY_LECTURES_SHORT,
                indicators.night_holiday_lectures,
                requirements.night_holiday_lectures,
            )
        )
    mean = indicators.rating_mean
    if (
        mean is not None
        and indicators.ratings >= limits.low_satisfaction_min_ratings
        and mean < exact(limits.low_satisfaction_below_mean)
    ):
        rectify.append(
            reason(
                ReasonCode.LOW_SATISFACTION,
                report_value(mean, places),
                limits.low_satisfaction_below_mean,
            )
        )
    ratio = indicators.inspection_ratio
    if indicators.inspections >= limits.inspections_min_recorded and ratio < exact(
        limits.inspections_below_ratio
    ):
        rectify.append(
            reason(
                ReasonCode.INSPECTIONS_FAILED,
                report_value(ratio, places),
                limits.inspections_below_ratio,
            )
        )

    if replace:
        return Verdict.REPLACE, (*replace, *rectify)
    if rectify:
        if limits.replace_after_consecutive_rectify and previous_verdict == Verdict.RECTIFY:
            # Observed and threshold are counts of consecutive RECTIFY years, so the
            # reason carries numbers like every other (the verdict topic requires it).
            consecutive = reason(
                ReasonCode.CONSECUTIVE_RECTIFY, CONSECUTIVE_RECTIFY_YEARS, CONSECUTIVE_RECTIFY_YEARS
            )
            return Verdict.REPLACE, (consecutive, *rectify)
        return Verdict.RECTIFY, tuple(rectify)
    return Verdict.RETAIN, ()
