"""The rules read every number from the policy document: changing it changes the result."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest

from appraisal.policy import (
    DEFAULT_POLICY,
    AssignmentAppraisal,
    PolicyDocument,
    Verdict,
    appraise_assignment,
)
from appraisal.policy.document import (
    CreditRules,
    SatisfactionRules,
    ServiceRules,
    VerdictThresholds,
)
from tests.unit.policy.builders import WEEKDAYS, HistoryBuilder, at, serve_year

pytestmark = pytest.mark.unit


def appointed() -> HistoryBuilder:
    b = HistoryBuilder()
    b.appoint("V1", date(2024, 1, 1))
    return b


def run(
    b: HistoryBuilder, policy: PolicyDocument, previous: Verdict | None = None
) -> AssignmentAppraisal:
    return appraise_assignment("p", policy, b.history(), "V1", 2024, previous, WEEKDAYS)


def test_online_lectures_earn_no_credit_when_the_policy_says_so() -> None:
    b = appointed()
    b.lecture("V1", at(2024, 3, 5, 10), minutes=60, online=True)
    policy = PolicyDocument(credit=CreditRules(online_lectures_credited=False))
    assert run(b, DEFAULT_POLICY).ledger[2].raw_credit_hours == 1
    assert run(b, policy).ledger[2].raw_credit_hours == 0


def test_the_served_month_threshold_comes_from_the_policy() -> None:
    b = HistoryBuilder()
    b.appoint("V1", date(2024, 4, 16))  # 15 days of April
    policy = PolicyDocument(service=ServiceRules(served_month_min_active_days=20))
    assert run(b, DEFAULT_POLICY).ledger[3].served
    assert not run(b, policy).ledger[3].served


def test_the_monthly_requirement_comes_from_the_policy() -> None:
    b = appointed()
    b.duty("V1", at(2024, 3, 4, 9), at(2024, 3, 4, 11))
    policy = PolicyDocument(service=ServiceRules(monthly_requirement_hours=Decimal(2)))
    assert not run(b, DEFAULT_POLICY).ledger[2].compliant
    assert run(b, policy).ledger[2].compliant


def test_months_are_cut_in_the_policy_time_zone() -> None:
    b = appointed()
    b.duty("V1", at(2024, 3, 1, 1), at(2024, 3, 1, 5))  # 17:00–21:00 UTC on 29 February
    policy = PolicyDocument(service=ServiceRules(timezone="UTC"))
    assert run(b, DEFAULT_POLICY).ledger[2].onsite_hours == 4
    assert run(b, policy).ledger[1].onsite_hours == 4


def test_a_policy_may_keep_consecutive_rectify_as_rectify() -> None:
    b = serve_year(HistoryBuilder(), substantiated_complaints=1)
    policy = PolicyDocument(verdicts=VerdictThresholds(replace_after_consecutive_rectify=False))
    assert run(b, DEFAULT_POLICY, Verdict.RECTIFY).verdict is Verdict.REPLACE
    assert run(b, policy, Verdict.RECTIFY).verdict is Verdict.RECTIFY


def test_the_daily_rating_allowance_comes_from_the_policy() -> None:
    b = appointed()
    for hour in (9, 10, 11):
        b.rating("V1", at(2024, 5, 1, hour), 5, citizen="c1")
    policy = PolicyDocument(satisfaction=SatisfactionRules(ratings_per_citizen_per_day=2))
    assert run(b, DEFAULT_POLICY).indicators.ratings == 1
    assert run(b, policy).indicators.ratings == 2


def test_the_bayesian_prior_comes_from_the_policy() -> None:
    b = appointed()
    b.rating("V1", at(2024, 5, 1, 9), 1, citizen="c1")
    policy = PolicyDocument(
        satisfaction=SatisfactionRules(prior_mean=Decimal(3), prior_weight=Decimal(1))
    )
    # (5·4 + 1)/6 = 7/2 by default; (1·3 + 1)/2 = 2 under the draft
    assert run(b, DEFAULT_POLICY).indicators.satisfaction_bayes == Fraction(7, 2)
    assert run(b, policy).indicators.satisfaction_bayes == 2
