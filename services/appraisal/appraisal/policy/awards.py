"""Award shortlists (评优): 社会责任贡献奖 and 公益爱心奖, per county and year."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from fractions import Fraction

from appraisal.policy.appraise import AdvisorYearAppraisal
from appraisal.policy.document import PolicyDocument
from appraisal.policy.eligibility import award_exclusions
from appraisal.policy.facts import Verdict
from appraisal.policy.reasons import Reason

__all__ = [
    "AwardCandidate",
    "AwardCategory",
    "AwardEntry",
    "AwardExclusion",
    "AwardShortlist",
    "rank_awards",
]


class AwardCategory(enum.StrEnum):
    """The lawyer association's award categories."""

    SOCIAL_RESPONSIBILITY = "social_responsibility"  # 社会责任贡献奖: public-interest hours
    PUBLIC_WELFARE = "public_welfare"  # 公益爱心奖: advisor score


@dataclass(frozen=True, slots=True)
class AwardEntry:
    """One shortlisted advisor, with everything its rank was decided on."""

    rank: int
    advisor_id: str
    name: str | None
    value: Fraction
    """Public-interest hours or advisor score, depending on the category."""
    score: Fraction
    satisfaction_bayes: Fraction
    ratings: int
    first_appointed_on: date | None


@dataclass(frozen=True, slots=True)
class AwardExclusion:
    """An advisor not eligible for the category, and every gate it failed."""

    advisor_id: str
    reasons: tuple[Reason, ...]


@dataclass(frozen=True, slots=True)
class AwardShortlist:
    """The top N eligible advisors of a category, plus who was excluded and why."""

    category: AwardCategory
    entries: tuple[AwardEntry, ...]
    excluded: tuple[AwardExclusion, ...]
    eligible: int
    """Eligible advisors, shortlisted or not."""


@dataclass(frozen=True, slots=True)
class AwardCandidate:
    """What the award ranking needs of one advisor-year, and nothing more.

    Small enough to keep beside each advisor-year in a read model, so a county's
    shortlist is re-ranked without re-appraising every advisor of the county.
    """

    advisor_id: str
    name: str | None
    rated_verdicts: tuple[Verdict, ...]
    substantiated_complaints: int
    ratings: int
    score: Fraction | None
    satisfaction_bayes: Fraction
    public_interest_hours: Fraction
    first_appointed_on: date | None

    @classmethod
    def of(cls, advisor: AdvisorYearAppraisal) -> AwardCandidate:
        """The candidate standing of an appraised advisor-year."""
        return cls(
            advisor_id=advisor.advisor_id,
            name=advisor.name,
            rated_verdicts=tuple(a.verdict for a in advisor.assignments if a.rated),
            substantiated_complaints=advisor.substantiated_complaints,
            ratings=advisor.ratings,
            score=advisor.score,
            satisfaction_bayes=advisor.satisfaction_bayes,
            public_interest_hours=advisor.public_interest_hours,
            first_appointed_on=advisor.first_appointed_on,
        )


def _value(advisor: AwardCandidate, category: AwardCategory) -> Fraction:
    if category is AwardCategory.SOCIAL_RESPONSIBILITY:
        return advisor.public_interest_hours
    assert advisor.score is not None  # eligible advisors have a rated assignment
    return advisor.score


def rank_awards(
    policy: PolicyDocument,
    candidates: Iterable[AwardCandidate | AdvisorYearAppraisal],
    category: AwardCategory,
) -> AwardShortlist:
    """Rank eligible advisors of one county-year and keep the top N (DESIGN §5, Awards).

    Eligibility is re-checked with ``policy``. Order: higher value, then higher b, then
    more valid ratings, then earlier first appointment, then advisor_id ascending — a
    total order, so ranks never tie and never depend on input order.
    """
    advisors = sorted(
        (c if isinstance(c, AwardCandidate) else AwardCandidate.of(c) for c in candidates),
        key=lambda a: a.advisor_id,
    )
    ids = [a.advisor_id for a in advisors]
    if len(set(ids)) != len(ids):
        raise ValueError("each advisor may appear only once in an award ranking")
    eligible: list[AwardCandidate] = []
    excluded: list[AwardExclusion] = []
    for advisor in advisors:
        reasons = award_exclusions(
            policy,
            rated_verdicts=advisor.rated_verdicts,
            substantiated_complaints=advisor.substantiated_complaints,
            ratings=advisor.ratings,
            advisor_score=advisor.score,
        )
        if reasons:
            excluded.append(AwardExclusion(advisor.advisor_id, reasons))
        else:
            eligible.append(advisor)
    ranked = sorted(
        eligible,
        key=lambda a: (
            -_value(a, category),
            -a.satisfaction_bayes,
            -a.ratings,
            a.first_appointed_on or date.max,
            a.advisor_id,
        ),
    )
    entries = tuple(
        AwardEntry(
            rank=position,
            advisor_id=advisor.advisor_id,
            name=advisor.name,
            value=_value(advisor, category),
            score=_value(advisor, AwardCategory.PUBLIC_WELFARE),
            satisfaction_bayes=advisor.satisfaction_bayes,
            ratings=advisor.ratings,
            first_appointed_on=advisor.first_appointed_on,
        )
        for position, advisor in enumerate(ranked[: policy.awards.top_n], start=1)
    )
    return AwardShortlist(category, entries, tuple(excluded), len(eligible))
