"""The appraisal policy document (考核办法, DESIGN §6) and how a county's policy is chosen.

Every number of DESIGN §5 is a field here; the rule functions read nothing else. The
built-in default (``DEFAULT_POLICY``) is §5 exactly. Counties publish their own documents
with ``policy.published.v1``; ``select_policy`` picks the one in force.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import date, time
from decimal import Decimal
from fractions import Fraction
from typing import Annotated, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from appraisal.policy.facts import Grade

__all__ = [
    "BUILTIN_POLICY_ID",
    "DEFAULT_POLICY",
    "PROVINCE_DEFAULT_COUNTY_ID",
    "AwardRules",
    "CreditRules",
    "GradeBands",
    "LoadRules",
    "PolicyDocument",
    "PublishedPolicy",
    "RequirementRules",
    "SatisfactionRules",
    "ScoreWeights",
    "ServiceRules",
    "SubsidyRules",
    "VerdictThresholds",
    "exact",
    "select_policy",
]

BUILTIN_POLICY_ID = "builtin-default-v1"
"""``policy_id`` recorded on verdicts computed with the built-in default policy."""

PROVINCE_DEFAULT_COUNTY_ID = "000000"
"""``county_id`` under which the province publishes its default policy (DESIGN §3)."""

NonNegativeDecimal = Annotated[Decimal, Field(ge=0)]
Points = Annotated[Decimal, Field(ge=0, le=100)]
Ratio = Annotated[Decimal, Field(ge=0, le=1)]


@functools.lru_cache(maxsize=1024)
def exact(value: Decimal | int) -> Fraction:
    """The exact rational value of a policy number (Decimal → Fraction loses nothing).

    Cached: rules convert the same few policy numbers for every assignment-year, and a
    Fraction is immutable. Equal keys (``Decimal("0.5")``, ``Decimal("0.50")``) have
    the same exact value, so sharing one result is safe.
    """
    return Fraction(value)


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ServiceRules(_Section):
    """What counts as a served and a compliant month (履职月份)."""

    timezone: str = Field(
        default="Asia/Shanghai",
        description="IANA zone in which days, months and years are cut.",
    )
    served_month_min_active_days: int = Field(
        default=15,
        ge=1,
        le=31,
        description="A month is served when the assignment is active on at least this many days.",
    )
    min_months_served_to_rate: int = Field(
        default=3,
        ge=1,
        le=12,
        description="Fewer served months than this in a year → NOT_RATED (INSUFFICIENT_SERVICE).",
    )
    monthly_requirement_hours: NonNegativeDecimal = Field(
        default=Decimal(4),
        description="On-site hours plus capped off-site credit a served month needs to comply.",
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value


class CreditRules(_Section):
    """Off-site service credit (非现场服务折抵) counted towards the monthly requirement."""

    hours_per_consultation: NonNegativeDecimal = Field(
        default=Decimal("0.25"),
        description="Credit hours per off-site consultation answered within the reply window.",
    )
    channels: tuple[str, ...] = Field(
        default=("wechat", "phone", "hotline_12348", "online_platform"),
        description="Consultation channels that are off site: they earn credit and count for "
        "responsiveness.",
    )
    reply_window_hours: NonNegativeDecimal = Field(
        default=Decimal(24),
        description="A consultation answered at most this many hours after it was asked "
        "is answered in time (exactly the window counts).",
    )
    online_lectures_credited: bool = Field(
        default=True,
        description="Whether an online lecture's duration is credited to the month it starts.",
    )
    cap_fraction_of_requirement: Ratio = Field(
        default=Decimal("0.5"),
        description="Monthly credit is capped at this fraction of the monthly requirement.",
    )


class RequirementRules(_Section):
    """Yearly activity requirements, in integer form so no float rounding is involved."""

    months_per_required_lecture: int = Field(
        default=3,
        ge=1,
        description="One lecture required per this many served months: ⌈S/3⌉ = ceil(4T).",
    )
    months_per_required_night_holiday_lecture: int = Field(
        default=6,
        ge=1,
        description="One night/holiday lecture required per this many served months: "
        "⌈S/6⌉ = ceil(2T).",
    )
    months_per_required_mediation: int = Field(
        default=3,
        ge=1,
        description="One mediation expected per this many served months: ⌈S/3⌉ = ceil(4T).",
    )
    months_per_required_governance_item: int = Field(
        default=3,
        ge=1,
        description="One committee advice or legal-aid referral expected per this many served "
        "months: ⌈S/3⌉ = ceil(4T).",
    )
    consultations_per_served_month: int = Field(
        default=2,
        ge=1,
        description="Consultations plus documents expected per served month: 2S = ceil(24T).",
    )
    night_starts_at: time = Field(
        default=time(18, 0),
        description="A lecture starting at or after this local time is a night lecture.",
    )
    night_ends_at: time = Field(
        default=time(8, 0),
        description="A lecture starting before this local time is a night lecture.",
    )

    @field_validator("night_starts_at", "night_ends_at")
    @classmethod
    def _wall_clock(cls, value: time) -> time:
        # Compared with the local time of day of each lecture: "18:00+08:00" cannot be.
        if value.tzinfo is not None:
            raise ValueError("a local time of day without an offset, e.g. 18:00")
        return value


class ScoreWeights(_Section):
    """Points of each score part (total 100) and the complaint penalty."""

    duty_compliance: Points = Field(default=Decimal(30), description="Points for C/S.")
    lectures: Points = Field(default=Decimal(10), description="Points for lectures.")
    lectures_night_holiday_share: Ratio = Field(
        default=Decimal("0.5"),
        description="Share of the lecture points earned by night/holiday lectures; the rest "
        "by all lectures.",
    )
    mediations: Points = Field(default=Decimal(10), description="Points for mediations.")
    consultations: Points = Field(
        default=Decimal(10), description="Points for consultations plus documents drafted."
    )
    governance: Points = Field(
        default=Decimal(5), description="Points for committee advice plus legal-aid referrals."
    )
    responsiveness: Points = Field(default=Decimal(10), description="Points for ρ.")
    satisfaction: Points = Field(
        default=Decimal(20), description="Points for the Bayesian satisfaction mean b."
    )
    inspections: Points = Field(default=Decimal(5), description="Points for the pass ratio ι.")
    complaint_penalty: Points = Field(
        default=Decimal(10), description="Points deducted per substantiated complaint."
    )
    score_floor: NonNegativeDecimal = Field(
        default=Decimal(0), description="The score never drops below this."
    )


class GradeBands(_Section):
    """Lowest score of each grade (inclusive); below ``basic`` is FAIL."""

    excellent: Points = Field(default=Decimal(90), description="Score ≥ this → EXCELLENT 优秀.")
    competent: Points = Field(default=Decimal(75), description="Score ≥ this → COMPETENT 合格.")
    basic: Points = Field(default=Decimal(60), description="Score ≥ this → BASIC 基本合格.")

    @model_validator(mode="after")
    def _descending(self) -> Self:
        if not self.excellent >= self.competent >= self.basic:
            raise ValueError("grade bands must satisfy excellent ≥ competent ≥ basic")
        return self


class VerdictThresholds(_Section):
    """When a verdict is REPLACE (调整) or RECTIFY (整改)."""

    replace_min_substantiated_complaints: int = Field(
        default=2, ge=1, description="K ≥ this → REPLACE (COMPLAINTS_2_PLUS)."
    )
    replace_min_noncompliant_months: int = Field(
        default=6, ge=1, description="S − C ≥ this → REPLACE (NONCOMPLIANT_MONTHS_6_PLUS)."
    )
    replace_after_consecutive_rectify: bool = Field(
        default=True,
        description="A RECTIFY following a RECTIFY of the same assignment's previous year "
        "becomes REPLACE (连续两年整改, CONSECUTIVE_RECTIFY).",
    )
    rectify_min_substantiated_complaints: int = Field(
        default=1,
        ge=1,
        description="K ≥ this (and below the REPLACE threshold) → RECTIFY (COMPLAINT_1).",
    )
    rectify_min_noncompliant_months: int = Field(
        default=3, ge=1, description="S − C ≥ this → RECTIFY (NONCOMPLIANT_MONTHS_3_PLUS)."
    )
    low_satisfaction_min_ratings: int = Field(
        default=10, ge=0, description="LOW_SATISFACTION needs at least this many valid ratings."
    )
    low_satisfaction_below_mean: NonNegativeDecimal = Field(
        default=Decimal("3.5"), description="Raw mean r̄ below this → RECTIFY (LOW_SATISFACTION)."
    )
    inspections_min_recorded: int = Field(
        default=4, ge=0, description="INSPECTIONS_FAILED needs at least this many inspections."
    )
    inspections_below_ratio: Ratio = Field(
        default=Decimal("0.75"), description="Pass ratio ι below this → RECTIFY."
    )

    @model_validator(mode="after")
    def _rectify_below_replace(self) -> Self:
        if self.rectify_min_substantiated_complaints > self.replace_min_substantiated_complaints:
            raise ValueError("the RECTIFY complaint threshold exceeds the REPLACE one")
        return self


class SatisfactionRules(_Section):
    """Citizen ratings (群众满意度) and their Bayesian mean b = (w·μ + Σ)/(w + n)."""

    rating_min: int = Field(default=1, description="Lowest valid score.")
    rating_max: int = Field(default=5, description="Highest valid score.")
    prior_mean: NonNegativeDecimal = Field(
        default=Decimal("4.0"), description="Prior mean μ of the Bayesian satisfaction mean."
    )
    prior_weight: NonNegativeDecimal = Field(
        default=Decimal(5), description="Prior weight w (in ratings) of the Bayesian mean."
    )
    ratings_per_citizen_per_day: int = Field(
        default=1,
        ge=1,
        description="Valid ratings per citizen_ref per assignment per local day; the earliest "
        "(occurred_at, then event_id) count.",
    )

    @model_validator(mode="after")
    def _scale(self) -> Self:
        if self.rating_min >= self.rating_max:
            raise ValueError("rating_min must be below rating_max")
        if not self.rating_min <= self.prior_mean <= self.rating_max:
            raise ValueError("prior_mean must lie on the rating scale")
        return self


class AwardRules(_Section):
    """Lawyer-association awards: 社会责任贡献奖 and 公益爱心奖."""

    min_ratings: int = Field(default=10, ge=0, description="Eligible advisors have n ≥ this.")
    min_advisor_score: Points = Field(
        default=Decimal(75), description="Eligible advisors have an advisor score ≥ this."
    )
    max_substantiated_complaints: int = Field(
        default=0, ge=0, description="Eligible advisors have K ≤ this over all assignments."
    )
    top_n: int = Field(default=10, ge=1, description="Shortlist length per category.")
    public_interest_hours_per_mediation: NonNegativeDecimal = Field(
        default=Decimal(2),
        description="Hours each mediation adds to public-interest hours (公益法律服务时长).",
    )


class SubsidyRules(_Section):
    """Government purchase of service (政府购买服务): base × S/12 × grade factor."""

    base_yuan_per_village_year: NonNegativeDecimal = Field(
        default=Decimal(20000), description="Subsidy for a full year in one village, in yuan."
    )
    factor_excellent: NonNegativeDecimal = Field(
        default=Decimal("1.0"), description="Grade factor for EXCELLENT."
    )
    factor_competent: NonNegativeDecimal = Field(
        default=Decimal("0.9"), description="Grade factor for COMPETENT."
    )
    factor_basic: NonNegativeDecimal = Field(
        default=Decimal("0.7"), description="Grade factor for BASIC."
    )
    factor_fail: NonNegativeDecimal = Field(
        default=Decimal(0), description="Grade factor for FAIL."
    )
    rounding_quantum_yuan: Decimal = Field(
        default=Decimal("0.01"),
        gt=0,
        description="The subsidy is rounded half-up to this (0.01 = the fen 分).",
    )

    def factor(self, grade: Grade) -> Decimal:
        """The grade factor for ``grade``."""
        return {
            Grade.EXCELLENT: self.factor_excellent,
            Grade.COMPETENT: self.factor_competent,
            Grade.BASIC: self.factor_basic,
            Grade.FAIL: self.factor_fail,
        }[grade]


class LoadRules(_Section):
    """Advisor load (Jiangsu and Anhui cap one advisor at 5 villages)."""

    max_villages_at_once: int = Field(
        default=5, ge=1, description="Serving more villages than this on one day flags the advisor."
    )


class PolicyDocument(_Section):
    """Every number of the appraisal rules (DESIGN §5), as published in ``policy.published.v1``."""

    service: ServiceRules = Field(
        default_factory=ServiceRules, description="Served and compliant months."
    )
    credit: CreditRules = Field(
        default_factory=CreditRules, description="Off-site service credit (非现场服务折抵)."
    )
    requirements: RequirementRules = Field(
        default_factory=RequirementRules, description="Yearly activity requirements."
    )
    weights: ScoreWeights = Field(default_factory=ScoreWeights, description="Score parts.")
    grades: GradeBands = Field(default_factory=GradeBands, description="Grade bands.")
    verdicts: VerdictThresholds = Field(
        default_factory=VerdictThresholds, description="Verdict thresholds."
    )
    satisfaction: SatisfactionRules = Field(
        default_factory=SatisfactionRules, description="Citizen ratings."
    )
    awards: AwardRules = Field(default_factory=AwardRules, description="Award eligibility.")
    subsidy: SubsidyRules = Field(default_factory=SubsidyRules, description="Subsidy.")
    load: LoadRules = Field(default_factory=LoadRules, description="Load flag.")
    report_decimal_places: int = Field(
        default=2, ge=0, le=10, description="Reports round exact values to this many decimals."
    )

    @property
    def zone(self) -> ZoneInfo:
        """The time zone days, months and years are cut in."""
        return ZoneInfo(self.service.timezone)


DEFAULT_POLICY = PolicyDocument()
"""The built-in default policy: DESIGN §5 exactly (``policy_id`` = ``BUILTIN_POLICY_ID``)."""


class PublishedPolicy(BaseModel):
    """A policy document as published for a county (``policy.published.v1``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    policy_id: str = Field(description="Identifier recorded on every verdict computed with it.")
    county_id: str = Field(description='6-digit county code; "000000" is the province default.')
    effective_from: date = Field(description="Applies to years starting on or after this date.")
    document: PolicyDocument = Field(description="The policy itself.")


def select_policy(
    published: Iterable[PublishedPolicy], county_id: str, year: int
) -> tuple[str, PolicyDocument]:
    """The policy in force for ``county_id`` in ``year`` (DESIGN §6).

    Among the county's own publications with ``effective_from`` ≤ 1 January of ``year``
    the latest wins; when the county has none in force, the same rule picks among the
    province default's (county "000000"); failing both, the built-in default. Two
    publications with the same ``effective_from`` are ordered by ``policy_id`` (the greater
    wins), then by the document's canonical JSON, so the answer never depends on input order.
    """
    year_start = date(year, 1, 1)
    candidates = [p for p in published if p.effective_from <= year_start]
    for scope in (county_id, PROVINCE_DEFAULT_COUNTY_ID):
        in_scope = [p for p in candidates if p.county_id == scope]
        if in_scope:
            chosen = max(
                in_scope,
                key=lambda p: (p.effective_from, p.policy_id, p.document.model_dump_json()),
            )
            return chosen.policy_id, chosen.document
    return BUILTIN_POLICY_ID, DEFAULT_POLICY
