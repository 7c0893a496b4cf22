"""Worked examples: every grade band and every reason code, computed by hand.

``serve_year`` with its defaults scores
  duty 30·12/12 = 30, lectures 10·(½·4/4 + ½·2/2) = 10, mediations 10·min(1, 4/4) = 10,
  consultations 10·min(1, 24/24) = 10, governance 5·min(1, 4/4) = 5, responsiveness 10·1,
  satisfaction 20·(4 − 1)/4 = 15 (no ratings: b = prior 4.0), inspections 5·1 (none)
  = 95.
Each example changes a few inputs and states the arithmetic.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest

from appraisal.policy import (
    DEFAULT_POLICY,
    AssignmentAppraisal,
    Grade,
    ReasonCode,
    Verdict,
    appraise_assignment,
    previous_year_verdicts,
)
from appraisal.policy.quantities import round_half_up
from tests.unit.policy.builders import WEEKDAYS, HistoryBuilder, at, serve_year

pytestmark = pytest.mark.unit

R = ReasonCode


def appraise(previous: Verdict | None = None, **scenario: Any) -> AssignmentAppraisal:
    history = serve_year(HistoryBuilder(), "V1", 2024, **scenario).history()
    return appraise_assignment("p", DEFAULT_POLICY, history, "V1", 2024, previous, WEEKDAYS)


@dataclass(frozen=True)
class Example:
    scenario: dict[str, Any]
    score: Fraction
    grade: Grade
    verdict: Verdict
    reasons: list[tuple[ReasonCode, object, object]] = field(default_factory=list)
    previous: Verdict | None = None


GRADE_BANDS = {
    "the default year is EXCELLENT": Example({}, Fraction(95), Grade.EXCELLENT, Verdict.RETAIN),
    # 95 − 5 (no governance) = 90
    "exactly 90 is EXCELLENT": Example(
        {"governance": 0}, Fraction(90), Grade.EXCELLENT, Verdict.RETAIN
    ),
    # 95 − 10 (no mediation) = 85
    "85 is COMPETENT": Example({"mediations": 0}, Fraction(85), Grade.COMPETENT, Verdict.RETAIN),
    # 95 − 10 (mediations) − 10 (consultations) = 75
    "exactly 75 is COMPETENT": Example(
        {"mediations": 0, "consultations": 0}, Fraction(75), Grade.COMPETENT, Verdict.RETAIN
    ),
    # 95 − 10 − 10 − 5 (governance) = 70
    "70 is BASIC": Example(
        {"mediations": 0, "consultations": 0, "governance": 0},
        Fraction(70),
        Grade.BASIC,
        Verdict.RECTIFY,
        [(R.GRADE_BASIC, Decimal("70.00"), 75)],
    ),
    # 95 − 10 − 10 − 5 − 5 (C = 10: 30·10/12 = 25) − 5 (3 failed inspections: ι = 0) = 60;
    # S − C = 2 and only 3 inspections, so no other reason fires
    "exactly 60 is BASIC": Example(
        {
            "mediations": 0,
            "consultations": 0,
            "governance": 0,
            "compliant_months": 10,
            "inspections_failed": 3,
        },
        Fraction(60),
        Grade.BASIC,
        Verdict.RECTIFY,
        [(R.GRADE_BASIC, Decimal("60.00"), 75)],
    ),
    # as above, plus one rating of 3: b = (5·4 + 3)/(5 + 1) = 23/6,
    # satisfaction 20·(23/6 − 1)/4 = 85/6 instead of 15: 60 − 5/6 = 355/6 ≈ 59.17
    "just below 60 is FAIL": Example(
        {
            "mediations": 0,
            "consultations": 0,
            "governance": 0,
            "compliant_months": 10,
            "inspections_failed": 3,
            "ratings": [3],
        },
        Fraction(355, 6),
        Grade.FAIL,
        Verdict.REPLACE,
        [(R.GRADE_FAIL, Decimal("59.17"), 60)],
    ),
}

REASON_EXAMPLES = {
    "GRADE_FAIL": GRADE_BANDS["just below 60 is FAIL"],
    # K = 2: 95 − 2·10 = 75, COMPETENT, but two substantiated complaints replace
    "COMPLAINTS_2_PLUS": Example(
        {"substantiated_complaints": 2},
        Fraction(75),
        Grade.COMPETENT,
        Verdict.REPLACE,
        [(R.COMPLAINTS_2_PLUS, 2, 2)],
    ),
    # C = 6 of S = 12: duty 30·6/12 = 15, score 80; S − C = 6 ≥ 6 and also ≥ 3
    "NONCOMPLIANT_MONTHS_6_PLUS": Example(
        {"compliant_months": 6},
        Fraction(80),
        Grade.COMPETENT,
        Verdict.REPLACE,
        [(R.NONCOMPLIANT_MONTHS_6_PLUS, 6, 6), (R.NONCOMPLIANT_MONTHS_3_PLUS, 6, 3)],
    ),
    # K = 1: 95 − 10 = 85 would be RECTIFY; the previous year was RECTIFY too
    "CONSECUTIVE_RECTIFY": Example(
        {"substantiated_complaints": 1},
        Fraction(85),
        Grade.COMPETENT,
        Verdict.REPLACE,
        [(R.CONSECUTIVE_RECTIFY, 2, 2), (R.COMPLAINT_1, 1, 1)],
        previous=Verdict.RECTIFY,
    ),
    "GRADE_BASIC": GRADE_BANDS["70 is BASIC"],
    # K = 1: 95 − 10 = 85
    "COMPLAINT_1": Example(
        {"substantiated_complaints": 1},
        Fraction(85),
        Grade.COMPETENT,
        Verdict.RECTIFY,
        [(R.COMPLAINT_1, 1, 1)],
    ),
    # C = 9: duty 30·9/12 = 22.5, score 87.5; S − C = 3
    "NONCOMPLIANT_MONTHS_3_PLUS": Example(
        {"compliant_months": 9},
        Fraction(175, 2),
        Grade.COMPETENT,
        Verdict.RECTIFY,
        [(R.NONCOMPLIANT_MONTHS_3_PLUS, 3, 3)],
    ),
    # L = 3 of ⌈12/3⌉ = 4: lectures 10·(½·3/4 + ½·2/2) = 8.75, score 93.75
    "LECTURES_SHORT": Example(
        {"lectures": 3},
        Fraction(375, 4),
        Grade.EXCELLENT,
        Verdict.RECTIFY,
        [(R.LECTURES_SHORT, 3, 4)],
    ),
    # LN = 1 of ⌈12/6⌉ = 2: lectures 10·(½·4/4 + ½·1/2) = 7.5, score 92.5
    "NIGHT_HOLIDAY_LECTURES_SHORT": Example(
        {"night_lectures": 1},
        Fraction(185, 2),
        Grade.EXCELLENT,
        Verdict.RECTIFY,
        [(R.NIGHT_HOLIDAY_LECTURES_SHORT, 1, 2)],
    ),
    # n = 10 ratings of 3: r̄ = 3 < 3.5; b = (5·4 + 30)/(5 + 10) = 10/3,
    # satisfaction 20·(10/3 − 1)/4 = 35/3; score 80 + 35/3 = 275/3 ≈ 91.67
    "LOW_SATISFACTION": Example(
        {"ratings": [3] * 10},
        Fraction(275, 3),
        Grade.EXCELLENT,
        Verdict.RECTIFY,
        [(R.LOW_SATISFACTION, Decimal("3.00"), Decimal("3.5"))],
    ),
    # 4 inspections, 2 passed: ι = 0.5 < 0.75; inspections 5·0.5 = 2.5, score 92.5
    "INSPECTIONS_FAILED": Example(
        {"inspections_passed": 2, "inspections_failed": 2},
        Fraction(185, 2),
        Grade.EXCELLENT,
        Verdict.RECTIFY,
        [(R.INSPECTIONS_FAILED, Decimal("0.50"), Decimal("0.75"))],
    ),
}

NOT_TRIGGERED = {
    # 9 ratings of 3: n < 10, so a low mean alone does not rectify.
    # b = (20 + 27)/14 = 47/14; satisfaction 20·(33/14)/4 = 165/14; score 80 + 165/14
    "nine low ratings are too few to judge": Example(
        {"ratings": [3] * 9}, 80 + Fraction(165, 14), Grade.EXCELLENT, Verdict.RETAIN
    ),
    # 10 ratings averaging exactly 3.5 (5×3 + 5×4 = 35): not below 3.5.
    # b = (20 + 35)/15 = 11/3; satisfaction 20·(8/3)/4 = 40/3; score 80 + 40/3
    "a mean of exactly 3.5 is not low": Example(
        {"ratings": [3, 4] * 5}, 80 + Fraction(40, 3), Grade.EXCELLENT, Verdict.RETAIN
    ),
    # 3 of 4 inspections passed: ι = 0.75 is not below 0.75; 5·0.75 = 3.75, score 93.75
    "an inspection ratio of exactly 0.75 passes": Example(
        {"inspections_passed": 3, "inspections_failed": 1},
        Fraction(375, 4),
        Grade.EXCELLENT,
        Verdict.RETAIN,
    ),
    # 3 failed inspections: fewer than 4 recorded; ι = 0, score 90
    "three failed inspections are too few to judge": Example(
        {"inspections_failed": 3}, Fraction(90), Grade.EXCELLENT, Verdict.RETAIN
    ),
    # C = 10: S − C = 2 < 3; duty 25, score 90
    "two non-compliant months are tolerated": Example(
        {"compliant_months": 10}, Fraction(90), Grade.EXCELLENT, Verdict.RETAIN
    ),
    # A previous RECTIFY does not matter when this year is RETAIN
    "a RETAIN after a RECTIFY stays RETAIN": Example(
        {}, Fraction(95), Grade.EXCELLENT, Verdict.RETAIN, previous=Verdict.RECTIFY
    ),
    # K = 10: 95 − 100 = −5, floored at 0
    "the score never drops below 0": Example(
        {"substantiated_complaints": 10},
        Fraction(0),
        Grade.FAIL,
        Verdict.REPLACE,
        [(R.GRADE_FAIL, Decimal("0.00"), 60), (R.COMPLAINTS_2_PLUS, 10, 2)],
    ),
}


def check(example: Example) -> AssignmentAppraisal:
    appraisal = appraise(example.previous, **example.scenario)
    assert appraisal.score == example.score
    assert appraisal.grade is example.grade
    assert appraisal.verdict is example.verdict
    assert [(r.code, r.observed, r.threshold) for r in appraisal.reasons] == example.reasons
    return appraisal


@pytest.mark.parametrize("example", GRADE_BANDS.values(), ids=GRADE_BANDS.keys())
def test_each_grade_band_from_a_worked_example(example: Example) -> None:
    check(example)


@pytest.mark.parametrize("example", REASON_EXAMPLES.values(), ids=REASON_EXAMPLES.keys())
def test_each_reason_code_from_a_worked_example(example: Example) -> None:
    appraisal = check(example)
    for reason in appraisal.reasons:
        assert reason.message_zh
        assert reason.message_en
        assert str(reason.observed) in reason.message_en


@pytest.mark.parametrize("example", NOT_TRIGGERED.values(), ids=NOT_TRIGGERED.keys())
def test_thresholds_are_applied_exactly(example: Example) -> None:
    check(example)


def test_every_reason_code_has_a_worked_example() -> None:
    covered = {r[0] for e in REASON_EXAMPLES.values() for r in e.reasons}
    assert covered | {R.INSUFFICIENT_SERVICE} == set(ReasonCode)


def test_fewer_than_three_served_months_is_not_rated() -> None:
    appraisal = appraise(months_served=2)
    assert appraisal.verdict is Verdict.NOT_RATED
    assert (appraisal.score, appraisal.grade, appraisal.subsidy_yuan) == (None, None, None)
    assert [(r.code, r.observed, r.threshold) for r in appraisal.reasons] == [
        (R.INSUFFICIENT_SERVICE, 2, 3)
    ]
    assert appraisal.reasons[0].message_zh == "本年度履职月份 2 个，少于 3 个，不予评定"


def test_three_served_months_are_rated_against_requirements_for_three_months() -> None:
    appraisal = appraise(months_served=3)
    # ⌈3/3⌉ = 1 lecture, ⌈3/6⌉ = 1 night lecture, 1 mediation, 2·3 = 6 consultations, 1 advice
    requirements = appraisal.requirements
    assert (
        requirements.lectures,
        requirements.night_holiday_lectures,
        requirements.mediations,
        requirements.consultations,
        requirements.governance,
    ) == (1, 1, 1, 6, 1)
    assert (appraisal.score, appraisal.verdict) == (Fraction(95), Verdict.RETAIN)


def test_responsiveness_counts_off_site_replies_within_24_hours() -> None:
    b = serve_year(HistoryBuilder(), "V1", 2024)
    for day in (2, 3, 4):
        asked = at(2024, 5, day, 20)
        b.consultation("V1", asked, at(2024, 5, day + 1, 20), channel="wechat")
    b.consultation("V1", at(2024, 5, 6, 9), None, channel="phone")
    appraisal = appraise_assignment("p", DEFAULT_POLICY, b.history(), "V1", 2024, None, WEEKDAYS)
    # ρ = 3/4, responsiveness 10·3/4 = 7.5: score 95 − 2.5 = 92.5
    assert appraisal.indicators.responsiveness == Fraction(3, 4)
    assert appraisal.score == Fraction(185, 2)


def test_the_report_score_is_rounded_half_up_to_two_decimals() -> None:
    appraisal = check(REASON_EXAMPLES["LOW_SATISFACTION"])
    assert appraisal.score_report == Decimal("91.67")  # 275/3 = 91.666…


@pytest.mark.parametrize(
    ("scenario", "subsidy"),
    [
        ({}, Decimal("20000.00")),  # 20000 × 12/12 × 1.0
        ({"mediations": 0}, Decimal("18000.00")),  # COMPETENT: 20000 × 12/12 × 0.9
        ({"mediations": 0, "consultations": 0, "governance": 0}, Decimal("14000.00")),  # × 0.7
        ({"substantiated_complaints": 4}, Decimal("0.00")),  # 95 − 40 = 55, FAIL: × 0
        ({"months_served": 7}, Decimal("11666.67")),  # 20000 × 7/12 = 11666.666…
        # BASIC over 5 months: 20000 × 5/12 × 0.7 = 5833.333…
        (
            {"months_served": 5, "mediations": 0, "consultations": 0, "governance": 0},
            Decimal("5833.33"),
        ),
    ],
    ids=["EXCELLENT", "COMPETENT", "BASIC", "FAIL", "seven months", "five months BASIC"],
)
def test_the_subsidy_is_base_times_months_times_grade_factor(
    scenario: dict[str, Any], subsidy: Decimal
) -> None:
    assert appraise(**scenario).subsidy_yuan == subsidy


@pytest.mark.parametrize(
    ("value", "rounded"),
    [
        (Fraction(1, 200), Decimal("0.01")),
        (Fraction(-1, 200), Decimal("-0.01")),
        (Fraction(2675, 1000), Decimal("2.68")),
        (Fraction(1, 3), Decimal("0.33")),
        (Fraction(0), Decimal("0.00")),
    ],
)
def test_half_up_rounding_is_exact(value: Fraction, rounded: Decimal) -> None:
    assert round_half_up(value, Decimal("0.01")) == rounded
    assert str(round_half_up(value, Decimal("0.01"))) == str(rounded)


def test_two_consecutive_rectify_years_replace_the_advisor() -> None:
    b = HistoryBuilder()
    b.appoint("V1", date(2023, 1, 1))
    for year in (2023, 2024):
        for m in range(1, 13):
            b.duty("V1", at(year, m, 10, 9), at(year, m, 10, 13))
        for i in range(4):
            b.lecture("V1", at(year, 3 * i + 1, 11, 19), online=True)
            b.mediation("V1", at(year, 3 * i + 1, 13, 15))
            b.advice("V1", at(year, 3 * i + 1, 16, 15))
        for i in range(24):
            asked = at(year, i // 2 + 1, 14, 9, i)
            b.consultation("V1", asked, asked, channel="onsite")
        b.complaint("V1", at(year, 6, 1), f"C-{year}")
        b.resolve(f"C-{year}", at(year, 6, 20), substantiated=True)
    history = b.history()

    def in_force(year: int) -> tuple[str, Any]:
        return "p", DEFAULT_POLICY

    assert previous_year_verdicts(history, 2023, in_force, WEEKDAYS) == {}
    assert previous_year_verdicts(history, 2024, in_force, WEEKDAYS) == {"V1": Verdict.RECTIFY}
    first = appraise_assignment("p", DEFAULT_POLICY, history, "V1", 2023, None, WEEKDAYS)
    second = appraise_assignment(
        "p", DEFAULT_POLICY, history, "V1", 2024, Verdict.RECTIFY, WEEKDAYS
    )
    # each year: 95 − 10 (one complaint) = 85, COMPLAINT_1
    assert (first.verdict, first.score) == (Verdict.RECTIFY, Fraction(85))
    assert second.verdict is Verdict.REPLACE
    assert [r.code for r in second.reasons] == [R.CONSECUTIVE_RECTIFY, R.COMPLAINT_1]
    assert previous_year_verdicts(history, 2025, in_force, WEEKDAYS) == {"V1": Verdict.REPLACE}
