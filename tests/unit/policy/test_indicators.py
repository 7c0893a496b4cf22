"""Indicators: night/holiday lectures, ratings, complaints, inspections, counts."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from fractions import Fraction

import pytest

from appraisal.policy import (
    DEFAULT_POLICY,
    AssignmentAppraisal,
    ComplaintResolved,
    Inspection,
    PrcCalendar,
    Rating,
    WorkdayCalendar,
    appraise_assignment,
)
from tests.unit.policy.builders import WEEKDAYS, HistoryBuilder, at

pytestmark = pytest.mark.unit


def appraise(
    b: HistoryBuilder, village: str = "V1", calendar: WorkdayCalendar = WEEKDAYS
) -> AssignmentAppraisal:
    return appraise_assignment("p", DEFAULT_POLICY, b.history(), village, 2024, None, calendar)


def appointed(*villages: str) -> HistoryBuilder:
    b = HistoryBuilder()
    for village in villages:
        b.appoint(village, date(2024, 1, 1))
    return b


@pytest.mark.parametrize(
    ("start", "night_or_holiday"),
    [
        (at(2024, 3, 5, 18), True),  # Tuesday 18:00: the window starts
        (at(2024, 3, 5, 17, 59), False),
        (at(2024, 3, 5, 7, 59), True),
        (at(2024, 3, 5, 8), False),  # 08:00: the window has ended
        (at(2024, 3, 5, 23, 30), True),
        (at(2024, 10, 1, 10), True),  # National Day 国庆节 (a Tuesday)
        (at(2024, 10, 12, 10), False),  # Saturday made a working day (调休)
        (at(2024, 10, 19, 10), True),  # an ordinary Saturday
        (at(2024, 2, 4, 10), False),  # Sunday made a working day
    ],
    ids=[
        "18:00 is night",
        "17:59 is day",
        "07:59 is night",
        "08:00 is day",
        "late evening",
        "a public holiday morning",
        "a make-up working Saturday",
        "a weekend morning",
        "a make-up working Sunday",
    ],
)
def test_a_lecture_is_night_or_holiday_by_its_local_start(
    start: datetime, night_or_holiday: bool
) -> None:
    b = appointed("V1")
    b.lecture("V1", start)
    indicators = appraise(b, calendar=PrcCalendar()).indicators
    assert (indicators.lectures, indicators.night_holiday_lectures) == (1, int(night_or_holiday))


def test_a_lecture_is_counted_in_the_month_and_year_it_starts() -> None:
    b = HistoryBuilder()
    b.appoint("V1", date(2023, 1, 1))
    b.lecture("V1", at(2023, 12, 31, 23, 30), minutes=120)
    assert appraise(b).indicators.lectures == 0
    assert (
        appraise_assignment(
            "p", DEFAULT_POLICY, b.history(), "V1", 2023, None, WEEKDAYS
        ).indicators.lectures
        == 1
    )


def test_counts_per_activity_kind() -> None:
    b = appointed("V1")
    when = at(2024, 4, 2, 10)
    b.mediation("V1", when)
    b.document("V1", when)
    b.document("V1", when)
    b.advice("V1", when)
    b.referral("V1", when)
    b.referral("V1", when)
    b.referral("V1", when)
    b.consultation("V1", when, None, channel="onsite")
    b.consultation("V1", when, when, channel="onsite")
    indicators = appraise(b).indicators
    assert (
        indicators.mediations,
        indicators.documents,
        indicators.committee_advice,
        indicators.legal_aid_referrals,
        indicators.consultations,
    ) == (1, 2, 1, 3, 1)
    # no off-site consultation at all: ρ = 1
    assert indicators.responsiveness == 1


def test_public_interest_hours_add_on_site_hours_capped_credit_and_two_per_mediation() -> None:
    b = appointed("V1")
    b.duty("V1", at(2024, 3, 4, 9), at(2024, 3, 4, 12))
    b.lecture("V1", at(2024, 3, 5, 10), minutes=300, online=True)  # 5 h raw, capped at 2 h
    b.mediation("V1", at(2024, 3, 6, 10))
    b.mediation("V1", at(2024, 7, 6, 10))
    # 3 + 2 + 2·2 = 9
    assert appraise(b).indicators.public_interest_hours == 9


def test_ratings_give_a_raw_and_a_bayesian_mean() -> None:
    b = appointed("V1")
    for i, score in enumerate([5, 4, 2]):
        b.rating("V1", at(2024, 5, 1, 10), score, citizen=f"c{i}")
    indicators = appraise(b).indicators
    # r̄ = 11/3; b = (5·4 + 11)/(5 + 3) = 31/8
    assert (indicators.ratings, indicators.rating_mean) == (3, Fraction(11, 3))
    assert indicators.satisfaction_bayes == Fraction(31, 8)


def test_without_ratings_the_bayesian_mean_is_the_prior() -> None:
    indicators = appraise(appointed("V1")).indicators
    assert (indicators.ratings, indicators.rating_mean) == (0, None)
    assert indicators.satisfaction_bayes == 4


def test_one_rating_per_citizen_per_local_day_the_earliest_counts() -> None:
    b = appointed("V1", "V2")
    late = b.rating("V1", at(2024, 5, 1, 20), 1, citizen="c1")
    early = b.rating("V1", at(2024, 5, 1, 9), 5, citizen="c1")
    next_day = b.rating("V1", at(2024, 5, 2, 0, 0), 3, citizen="c1")
    other_village = b.rating("V2", at(2024, 5, 1, 10), 2, citizen="c1")
    v1 = appraise(b, "V1")
    assert v1.indicators.ratings == 2  # early (5) and next_day (3)
    assert v1.indicators.rating_mean == 4
    assert v1.duplicate_rating_event_ids == (late,)
    assert appraise(b, "V2").indicators.ratings == 1
    assert {early, next_day, other_village}.isdisjoint(v1.invalid_rating_event_ids)


def test_duplicate_ratings_at_the_same_instant_go_by_event_id() -> None:
    b = appointed("V1")
    first = b.rating("V1", at(2024, 5, 1, 9), 5, citizen="c1")
    second = b.rating("V1", at(2024, 5, 1, 9), 1, citizen="c1")
    kept, dropped = sorted([first, second])
    appraisal = appraise(b)
    assert appraisal.duplicate_rating_event_ids == (dropped,)
    assert appraisal.indicators.rating_mean == (5 if kept == first else 1)


def test_the_rating_day_is_the_beijing_day() -> None:
    b = appointed("V1")
    # 23:30 and 00:30 Beijing time are different local days (same UTC day)
    b.rating("V1", at(2024, 5, 1, 23, 30), 5, citizen="c1")
    b.rating("V1", at(2024, 5, 2, 0, 30), 5, citizen="c1")
    assert appraise(b).indicators.ratings == 2


def test_a_rating_citing_another_advisors_activity_is_invalid() -> None:
    other = HistoryBuilder("A-0002")
    other.appoint("V1", date(2024, 1, 1))
    foreign_activity = other.mediation("V1", at(2024, 5, 1, 9))
    b = appointed("V1")
    own_activity = b.mediation("V1", at(2024, 5, 1, 9))
    valid = b.rating("V1", at(2024, 5, 1, 12), 5, citizen="c1", activity=own_activity)
    invalid = b.rating("V1", at(2024, 5, 1, 12), 1, citizen="c2", activity=foreign_activity)
    appraisal = appraise(b)
    assert appraisal.invalid_rating_event_ids == (invalid,)
    assert valid not in appraisal.invalid_rating_event_ids
    assert appraisal.indicators.ratings == 1


def test_a_rating_citing_an_activity_in_another_of_the_advisors_villages_is_valid() -> None:
    b = appointed("V1", "V2")
    elsewhere = b.mediation("V2", at(2024, 5, 1, 9))
    b.rating("V1", at(2024, 5, 1, 12), 5, citizen="c1", activity=elsewhere)
    assert appraise(b).indicators.ratings == 1


def test_a_rating_citing_a_voided_activity_is_invalid() -> None:
    b = appointed("V1")
    activity = b.mediation("V1", at(2024, 5, 1, 9))
    b.void(activity, at(2024, 5, 3))
    rating = b.rating("V1", at(2024, 5, 1, 12), 5, citizen="c1", activity=activity)
    assert appraise(b).invalid_rating_event_ids == (rating,)


def test_a_rating_citing_a_non_activity_is_invalid() -> None:
    b = appointed("V1")
    inspection = b.inspection("V1", "2024-05")
    rating = b.rating("V1", at(2024, 5, 1, 12), 5, citizen="c1", activity=inspection)
    assert appraise(b).invalid_rating_event_ids == (rating,)


def test_an_invalid_rating_does_not_take_the_citizens_place_for_the_day() -> None:
    b = appointed("V1")
    b.rating("V1", at(2024, 5, 1, 9), 1, citizen="c1", activity=uuid.uuid4())
    b.rating("V1", at(2024, 5, 1, 10), 5, citizen="c1")
    appraisal = appraise(b)
    assert (appraisal.indicators.ratings, appraisal.indicators.rating_mean) == (1, Fraction(5))


def test_a_voided_rating_counts_for_nothing() -> None:
    b = appointed("V1")
    rating = b.rating("V1", at(2024, 5, 1, 9), 1, citizen="c1")
    b.void(rating, at(2024, 5, 2))
    assert appraise(b).indicators.ratings == 0


@pytest.mark.parametrize(
    ("resolutions", "substantiated"),
    [
        ([(at(2024, 6, 1), True)], 1),
        ([(at(2024, 6, 1), False)], 0),
        ([(at(2024, 6, 1), True), (at(2024, 7, 1), False)], 0),
        ([(at(2024, 7, 1), False), (at(2024, 6, 1), True)], 0),
        ([(at(2024, 6, 1), False), (at(2024, 7, 1), True)], 1),
        ([(at(2025, 2, 1), True)], 1),
        ([], 0),
    ],
    ids=[
        "substantiated",
        "not substantiated",
        "resolved twice: the later overturns",
        "resolved twice, recorded out of order",
        "resolved twice: the later substantiates",
        "resolved in the next year, counted in the filing year",
        "unresolved",
    ],
)
def test_a_complaint_is_judged_by_its_latest_resolution(
    resolutions: list[tuple[datetime, bool]], substantiated: int
) -> None:
    b = appointed("V1")
    b.complaint("V1", at(2024, 5, 1), "C-1")
    for when, verdict in resolutions:
        b.resolve("C-1", when, verdict)
    assert appraise(b).indicators.substantiated_complaints == substantiated


def test_two_resolutions_at_the_same_instant_go_by_event_id() -> None:
    b = appointed("V1")
    b.complaint("V1", at(2024, 5, 1), "C-1")
    yes = b.resolve("C-1", at(2024, 6, 1), True)
    no = b.resolve("C-1", at(2024, 6, 1), False)
    assert appraise(b).indicators.substantiated_complaints == (1 if yes > no else 0)


def test_a_complaint_filed_twice_counts_once() -> None:
    b = appointed("V1")
    b.complaint("V1", at(2024, 5, 1), "C-1")
    b.complaint("V1", at(2024, 5, 2), "C-1")
    b.resolve("C-1", at(2024, 6, 1), True)
    assert appraise(b).indicators.substantiated_complaints == 1


@pytest.mark.parametrize(
    ("present", "ledger", "wechat", "passed"),
    [
        (True, True, True, 1),
        (False, True, True, 0),
        (True, False, True, 0),
        (True, True, False, 0),
    ],
)
def test_an_inspection_passes_only_when_all_three_checks_hold(
    present: bool, ledger: bool, wechat: bool, passed: int
) -> None:
    b = appointed("V1")
    b.inspection("V1", "2024-05", present, ledger, wechat)
    indicators = appraise(b).indicators
    assert (indicators.inspections, indicators.inspections_passed) == (1, passed)


def test_an_inspection_counts_in_its_month_not_when_it_was_recorded() -> None:
    b = HistoryBuilder()
    b.appoint("V1", date(2023, 12, 1))
    b.add(Inspection(b.new_id(), at(2024, 1, 3), "V1", "2023-12", "司法所", True, True, True))
    assert appraise(b).indicators.inspections == 0
    december = appraise_assignment("p", DEFAULT_POLICY, b.history(), "V1", 2023, None, WEEKDAYS)
    assert december.indicators.inspections == 1


SMALL_ID, LARGE_ID = uuid.UUID(int=1), uuid.UUID(int=2)


def test_the_earliest_rating_counts_even_when_its_event_id_is_greater() -> None:
    b = appointed("V1")
    b.add(Rating(SMALL_ID, at(2024, 5, 1, 20), "R-1", "V1", None, 1, "wechat", "c1", ""))
    b.add(Rating(LARGE_ID, at(2024, 5, 1, 9), "R-2", "V1", None, 5, "wechat", "c1", ""))
    appraisal = appraise(b)
    assert appraisal.duplicate_rating_event_ids == (SMALL_ID,)
    assert appraisal.indicators.rating_mean == 5


def test_the_latest_resolution_wins_even_when_its_event_id_is_smaller() -> None:
    b = appointed("V1")
    b.complaint("V1", at(2024, 5, 1), "C-1")
    b.add(ComplaintResolved(SMALL_ID, at(2024, 7, 1), "C-1", False))
    b.add(ComplaintResolved(LARGE_ID, at(2024, 6, 1), "C-1", True))
    assert appraise(b).indicators.substantiated_complaints == 0
