"""The monthly ledger: served months, on-site hours, off-site credit, compliance."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from fractions import Fraction

import pytest

from appraisal.policy import DEFAULT_POLICY, MonthLedger, appraise_assignment
from tests.unit.policy.builders import WEEKDAYS, HistoryBuilder, at

pytestmark = pytest.mark.unit


def ledger(b: HistoryBuilder, village: str = "V1", year: int = 2024) -> tuple[MonthLedger, ...]:
    return appraise_assignment(
        "p", DEFAULT_POLICY, b.history(), village, year, None, WEEKDAYS
    ).ledger


def month(rows: tuple[MonthLedger, ...], number: int) -> MonthLedger:
    return rows[number - 1]


@pytest.mark.parametrize(
    ("appointed_on", "active_days", "served"),
    [
        (date(2024, 4, 16), 15, True),  # 16..30 April = 15 days
        (date(2024, 4, 17), 14, False),  # 17..30 April = 14 days
        (date(2024, 2, 15), 15, True),  # 15..29 February (leap year) = 15 days
    ],
    ids=["exactly 15 active days is served", "14 active days is not", "a leap February"],
)
def test_a_month_is_served_from_15_active_days(
    appointed_on: date, active_days: int, served: bool
) -> None:
    b = HistoryBuilder()
    b.appoint("V1", appointed_on)
    row = month(ledger(b), appointed_on.month)
    assert (row.active_days, row.served) == (active_days, served)


def test_an_ended_on_date_is_not_an_active_day() -> None:
    b = HistoryBuilder()
    b.appoint("V1", date(2024, 5, 1))
    b.end("V1", date(2024, 5, 16))  # active 1..15 May = 15 days
    rows = ledger(b)
    assert (month(rows, 5).active_days, month(rows, 5).served) == (15, True)
    assert month(rows, 6).active_days == 0


def test_four_on_site_hours_make_a_served_month_compliant() -> None:
    b = HistoryBuilder()
    b.appoint("V1", date(2024, 1, 1))
    b.duty("V1", at(2024, 3, 4, 9), at(2024, 3, 4, 13))
    b.duty("V1", at(2024, 4, 4, 9), at(2024, 4, 4, 12, 59, 59))
    rows = ledger(b)
    assert month(rows, 3).onsite_hours == 4
    assert month(rows, 3).compliant
    assert month(rows, 4).onsite_hours == Fraction(4 * 3600 - 1, 3600)
    assert not month(rows, 4).compliant


def consultations(b: HistoryBuilder, count: int, day: datetime, channel: str = "wechat") -> None:
    for i in range(count):
        asked = day + timedelta(minutes=i)
        b.consultation("V1", asked, asked + timedelta(hours=1), channel=channel)


@pytest.mark.parametrize(
    ("onsite_hours", "answered", "raw", "capped", "compliant"),
    [
        # 2 h on site + 8 × 0.25 h = 2 h credit, exactly the cap 50 % × 4 h: 2 + 2 = 4
        (2, 8, Fraction(2), Fraction(2), True),
        # 7 × 0.25 = 1.75 h: 2 + 1.75 = 3.75 < 4
        (2, 7, Fraction(7, 4), Fraction(7, 4), False),
        # 12 × 0.25 = 3 h raw, capped at 2 h: 1 + 2 = 3 < 4
        (1, 12, Fraction(3), Fraction(2), False),
        # 3 h + min(3, 2) = 5 ≥ 4
        (3, 12, Fraction(3), Fraction(2), True),
    ],
    ids=[
        "credit exactly at the cap completes the month",
        "credit just short",
        "credit beyond the cap is cut",
        "capped credit plus enough on-site hours",
    ],
)
def test_off_site_credit_is_capped_at_half_the_requirement(
    onsite_hours: int, answered: int, raw: Fraction, capped: Fraction, compliant: bool
) -> None:
    b = HistoryBuilder()
    b.appoint("V1", date(2024, 1, 1))
    b.duty("V1", at(2024, 3, 4, 9), at(2024, 3, 4, 9 + onsite_hours))
    consultations(b, answered, at(2024, 3, 6, 9))
    row = month(ledger(b), 3)
    assert (row.raw_credit_hours, row.capped_credit_hours, row.compliant) == (
        raw,
        capped,
        compliant,
    )


def test_credit_alone_never_makes_a_month_compliant() -> None:
    b = HistoryBuilder()
    b.appoint("V1", date(2024, 1, 1))
    consultations(b, 40, at(2024, 3, 6, 9))
    b.lecture("V1", at(2024, 3, 8, 10), minutes=240, online=True)
    row = month(ledger(b), 3)
    # 40 × 0.25 + 4 = 14 h raw, 2 h capped, but no on-site interval at all
    assert (row.raw_credit_hours, row.capped_credit_hours) == (Fraction(14), Fraction(2))
    assert not row.has_onsite_interval
    assert not row.compliant


@pytest.mark.parametrize(
    ("delay", "credited"),
    [
        (timedelta(hours=24), True),
        (timedelta(hours=24, seconds=1), False),
        (timedelta(0), True),
    ],
    ids=["a reply exactly 24 h later counts", "one second later does not", "an instant reply"],
)
def test_a_consultation_earns_credit_when_answered_within_24_hours(
    delay: timedelta, credited: bool
) -> None:
    b = HistoryBuilder()
    b.appoint("V1", date(2024, 1, 1))
    asked = at(2024, 3, 6, 9)
    b.consultation("V1", asked, asked + delay, channel="hotline_12348")
    appraisal = appraise_assignment("p", DEFAULT_POLICY, b.history(), "V1", 2024, None, WEEKDAYS)
    assert month(appraisal.ledger, 3).raw_credit_hours == (Fraction(1, 4) if credited else 0)
    assert appraisal.indicators.responsiveness == (1 if credited else 0)


@pytest.mark.parametrize(
    ("channel", "credited"),
    [
        ("wechat", True),
        ("phone", True),
        ("hotline_12348", True),
        ("online_platform", True),
        ("onsite", False),
    ],
)
def test_only_off_site_channels_earn_credit(channel: str, credited: bool) -> None:
    b = HistoryBuilder()
    b.appoint("V1", date(2024, 1, 1))
    asked = at(2024, 3, 6, 9)
    b.consultation("V1", asked, asked, channel=channel)
    assert month(ledger(b), 3).raw_credit_hours == (Fraction(1, 4) if credited else 0)


def test_an_unanswered_consultation_earns_nothing_and_lowers_responsiveness() -> None:
    b = HistoryBuilder()
    b.appoint("V1", date(2024, 1, 1))
    asked = at(2024, 3, 6, 9)
    b.consultation("V1", asked, None)
    b.consultation("V1", asked, asked)
    appraisal = appraise_assignment("p", DEFAULT_POLICY, b.history(), "V1", 2024, None, WEEKDAYS)
    # ρ = 1 answered in time / 2 off-site consultations; Q counts only the answered one
    assert appraisal.indicators.responsiveness == Fraction(1, 2)
    assert appraisal.indicators.consultations == 1


def test_an_online_lecture_is_credited_to_the_month_it_starts() -> None:
    b = HistoryBuilder()
    b.appoint("V1", date(2024, 1, 1))
    b.lecture("V1", at(2024, 3, 31, 23), minutes=90, online=True)
    rows = ledger(b)
    assert (month(rows, 3).raw_credit_hours, month(rows, 4).raw_credit_hours) == (
        Fraction(3, 2),
        Fraction(0),
    )


def test_an_interval_crossing_midnight_at_a_month_end_is_split_between_months() -> None:
    b = HistoryBuilder()
    b.appoint("V1", date(2024, 1, 1))
    b.duty("V1", at(2024, 1, 31, 22), at(2024, 2, 1, 2))
    rows = ledger(b)
    # 22:00–24:00 on 31 January, 00:00–02:00 on 1 February
    assert (month(rows, 1).onsite_hours, month(rows, 2).onsite_hours) == (Fraction(2), Fraction(2))
    assert month(rows, 2).has_onsite_interval


def test_an_interval_crossing_new_year_counts_in_both_years() -> None:
    b = HistoryBuilder()
    b.appoint("V1", date(2023, 1, 1))
    b.duty("V1", at(2023, 12, 31, 21), at(2024, 1, 1, 3))
    assert month(ledger(b, year=2023), 12).onsite_hours == 3  # 21:00–24:00
    assert month(ledger(b, year=2024), 1).onsite_hours == 3  # 00:00–03:00


def test_months_are_cut_in_beijing_time_not_utc() -> None:
    b = HistoryBuilder()
    b.appoint("V1", date(2024, 1, 1))
    # 17:00–21:00 UTC on 29 February is 01:00–05:00 on 1 March in Beijing
    b.duty("V1", datetime(2024, 2, 29, 17, tzinfo=UTC), datetime(2024, 2, 29, 21, tzinfo=UTC))
    rows = ledger(b)
    assert (month(rows, 2).onsite_hours, month(rows, 3).onsite_hours) == (Fraction(0), Fraction(4))


def test_a_non_online_lecture_is_an_on_site_interval() -> None:
    b = HistoryBuilder()
    b.appoint("V1", date(2024, 1, 1))
    b.lecture("V1", at(2024, 3, 8, 19), minutes=120)
    b.duty("V1", at(2024, 3, 9, 9), at(2024, 3, 9, 11))
    row = month(ledger(b), 3)
    assert (row.onsite_hours, row.has_onsite_interval, row.compliant) == (Fraction(4), True, True)


def test_overlapping_duties_in_two_villages_count_once_for_the_earlier_start() -> None:
    b = HistoryBuilder()
    b.appoint("V1", date(2024, 1, 1))
    b.appoint("V2", date(2024, 1, 1))
    b.duty("V1", at(2024, 3, 4, 9), at(2024, 3, 4, 12))
    b.duty("V2", at(2024, 3, 4, 11), at(2024, 3, 4, 14))
    # V1 keeps 09–12 (3 h); V2 loses the overlapping 11–12 and keeps 12–14 (2 h)
    assert month(ledger(b, "V1"), 3).onsite_hours == 3
    assert month(ledger(b, "V2"), 3).onsite_hours == 2


def test_an_interval_inside_an_earlier_one_counts_for_nothing() -> None:
    b = HistoryBuilder()
    b.appoint("V1", date(2024, 1, 1))
    b.appoint("V2", date(2024, 1, 1))
    b.duty("V1", at(2024, 3, 4, 9), at(2024, 3, 4, 17))
    b.duty("V2", at(2024, 3, 4, 10), at(2024, 3, 4, 12))
    row = month(ledger(b, "V2"), 3)
    assert (row.onsite_hours, row.has_onsite_interval) == (Fraction(0), False)


def test_overlapping_intervals_with_the_same_start_go_by_event_id() -> None:
    b = HistoryBuilder()
    b.appoint("V1", date(2024, 1, 1))
    b.appoint("V2", date(2024, 1, 1))
    first = b.duty("V1", at(2024, 3, 4, 9), at(2024, 3, 4, 11))
    second = b.duty("V2", at(2024, 3, 4, 9), at(2024, 3, 4, 12))
    winner, loser = ("V1", "V2") if first < second else ("V2", "V1")
    hours = {"V1": 2, "V2": 3}
    assert month(ledger(b, winner), 3).onsite_hours == hours[winner]
    assert month(ledger(b, loser), 3).onsite_hours == 3 - hours[winner]


def test_an_unassigned_interval_is_removed_before_the_overlap_rule() -> None:
    b = HistoryBuilder()
    b.appoint("V1", date(2024, 1, 1))
    b.duty("V9", at(2024, 3, 4, 8), at(2024, 3, 4, 12))  # V9 was never assigned
    b.duty("V1", at(2024, 3, 4, 9), at(2024, 3, 4, 13))
    assert month(ledger(b), 3).onsite_hours == 4


def test_a_voided_interval_is_removed_before_the_overlap_rule() -> None:
    b = HistoryBuilder()
    b.appoint("V1", date(2024, 1, 1))
    b.appoint("V2", date(2024, 1, 1))
    mistaken = b.duty("V2", at(2024, 3, 4, 8), at(2024, 3, 4, 12))
    b.duty("V1", at(2024, 3, 4, 9), at(2024, 3, 4, 13))
    b.void(mistaken, at(2024, 3, 5))
    assert month(ledger(b, "V1"), 3).onsite_hours == 4
    assert month(ledger(b, "V2"), 3).onsite_hours == 0
