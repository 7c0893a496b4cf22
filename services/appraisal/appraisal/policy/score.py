"""The 0–100 score (考核得分), its grade and the service subsidy."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from appraisal.policy.document import PolicyDocument, exact
from appraisal.policy.facts import Grade
from appraisal.policy.indicators import Indicators
from appraisal.policy.quantities import MONTHS_PER_YEAR, ceil_div, round_half_up

__all__ = [
    "Requirements",
    "ScoreParts",
    "final_score",
    "grade_for",
    "requirements_for",
    "score_parts_for",
    "subsidy_for",
]


@dataclass(frozen=True, slots=True)
class Requirements:
    """The integer yearly requirements for S served months (no float rounding anywhere)."""

    lectures: int
    """⌈S/3⌉ = ceil(4T)."""
    night_holiday_lectures: int
    """⌈S/6⌉ = ceil(2T)."""
    mediations: int
    """⌈S/3⌉ = ceil(4T)."""
    consultations: int
    """2S = ceil(24T), met by consultations plus documents drafted."""
    governance: int
    """⌈S/3⌉ = ceil(4T), met by committee advice plus legal-aid referrals."""


@dataclass(frozen=True, slots=True)
class ScoreParts:
    """Each part of the score, exact; ``complaints`` is zero or negative."""

    duty_compliance: Fraction
    lectures: Fraction
    mediations: Fraction
    consultations: Fraction
    governance: Fraction
    responsiveness: Fraction
    satisfaction: Fraction
    inspections: Fraction
    complaints: Fraction

    @property
    def total(self) -> Fraction:
        """The sum of the parts, before the floor."""
        return (
            self.duty_compliance
            + self.lectures
            + self.mediations
            + self.consultations
            + self.governance
            + self.responsiveness
            + self.satisfaction
            + self.inspections
            + self.complaints
        )


def requirements_for(months_served: int, policy: PolicyDocument) -> Requirements:
    """The yearly requirements of an assignment that served ``months_served`` months."""
    rules = policy.requirements
    return Requirements(
        lectures=ceil_div(months_served, rules.months_per_required_lecture),
        night_holiday_lectures=ceil_div(
            months_served, rules.months_per_required_night_holiday_lecture
        ),
        mediations=ceil_div(months_served, rules.months_per_required_mediation),
        consultations=months_served * rules.consultations_per_served_month,
        governance=ceil_div(months_served, rules.months_per_required_governance_item),
    )


def _share(done: int, required: int) -> Fraction:
    """min(1, done / required); a zero requirement is met."""
    if required <= 0:
        return Fraction(1)
    return min(Fraction(1), Fraction(done, required))


def score_parts_for(
    indicators: Indicators, requirements: Requirements, policy: PolicyDocument
) -> ScoreParts:
    """The score parts of a rated assignment-year (S ≥ 1), per the table of DESIGN §5."""
    weights = policy.weights
    scale = policy.satisfaction
    night_share = exact(weights.lectures_night_holiday_share)
    lecture_share = (1 - night_share) * _share(
        indicators.lectures, requirements.lectures
    ) + night_share * _share(indicators.night_holiday_lectures, requirements.night_holiday_lectures)
    satisfaction_share = (indicators.satisfaction_bayes - scale.rating_min) / (
        scale.rating_max - scale.rating_min
    )
    return ScoreParts(
        duty_compliance=exact(weights.duty_compliance)
        * Fraction(indicators.months_compliant, indicators.months_served),
        lectures=exact(weights.lectures) * lecture_share,
        mediations=exact(weights.mediations)
        * _share(indicators.mediations, requirements.mediations),
        consultations=exact(weights.consultations)
        * _share(indicators.consultations + indicators.documents, requirements.consultations),
        governance=exact(weights.governance)
        * _share(
            indicators.committee_advice + indicators.legal_aid_referrals, requirements.governance
        ),
        responsiveness=exact(weights.responsiveness) * indicators.responsiveness,
        satisfaction=exact(weights.satisfaction) * satisfaction_share,
        inspections=exact(weights.inspections) * indicators.inspection_ratio,
        complaints=-exact(weights.complaint_penalty) * indicators.substantiated_complaints,
    )


def final_score(parts: ScoreParts, policy: PolicyDocument) -> Fraction:
    """The score: the parts' sum, never below the floor."""
    return max(exact(policy.weights.score_floor), parts.total)


def grade_for(score: Fraction, policy: PolicyDocument) -> Grade:
    """The grade band of an exact score (bands are inclusive lower bounds)."""
    bands = policy.grades
    if score >= exact(bands.excellent):
        return Grade.EXCELLENT
    if score >= exact(bands.competent):
        return Grade.COMPETENT
    if score >= exact(bands.basic):
        return Grade.BASIC
    return Grade.FAIL


def subsidy_for(months_served: int, grade: Grade, policy: PolicyDocument) -> Decimal:
    """base × S/12 × grade factor, rounded half-up to the quantum (the fen)."""
    rules = policy.subsidy
    amount = (
        exact(rules.base_yuan_per_village_year)
        * Fraction(months_served, MONTHS_PER_YEAR)
        * exact(rules.factor(grade))
    )
    return round_half_up(amount, rules.rounding_quantum_yuan)
