"""Award eligibility (评优资格) of an advisor-year: every gate that fails is reported."""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

from appraisal.policy.document import PolicyDocument, exact
from appraisal.policy.facts import Verdict
from appraisal.policy.quantities import report_value
from appraisal.policy.reasons import ExclusionCode, Reason, exclusion

__all__ = ["award_exclusions"]


def award_exclusions(
    policy: PolicyDocument,
    *,
    rated_verdicts: Sequence[Verdict],
    substantiated_complaints: int,
    ratings: int,
    advisor_score: Fraction | None,
) -> tuple[Reason, ...]:
    """Why an advisor may not be shortlisted; empty when eligible.

    Eligible advisors have at least one rated assignment, every rated assignment RETAIN,
    K within the limit and n ≥ the minimum over all their assignments, and an advisor
    score (S-weighted mean over rated assignments) ≥ the minimum.
    """
    rules = policy.awards
    reasons: list[Reason] = []
    if not rated_verdicts:
        reasons.append(exclusion(ExclusionCode.NO_RATED_ASSIGNMENT, 0, 1))
    not_retained = sum(1 for verdict in rated_verdicts if verdict != Verdict.RETAIN)
    if not_retained:
        reasons.append(exclusion(ExclusionCode.VERDICT_NOT_RETAIN, not_retained, 0))
    if substantiated_complaints > rules.max_substantiated_complaints:
        reasons.append(
            exclusion(
                ExclusionCode.SUBSTANTIATED_COMPLAINTS,
                substantiated_complaints,
                rules.max_substantiated_complaints,
            )
        )
    if ratings < rules.min_ratings:
        reasons.append(exclusion(ExclusionCode.TOO_FEW_RATINGS, ratings, rules.min_ratings))
    if advisor_score is not None and advisor_score < exact(rules.min_advisor_score):
        reasons.append(
            exclusion(
                ExclusionCode.SCORE_BELOW_MINIMUM,
                report_value(advisor_score, policy.report_decimal_places),
                rules.min_advisor_score,
            )
        )
    return tuple(reasons)
