"""The PRC working-day calendar, and its approximation outside chinese_calendar's years."""

from __future__ import annotations

from datetime import date

import pytest

from appraisal.policy import PrcCalendar, covered

pytestmark = pytest.mark.unit

CALENDAR = PrcCalendar()
UNCOVERED_YEAR = 2031


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2024, 10, 1), False),  # Tuesday, National Day 国庆节
        (date(2024, 10, 7), False),  # Monday, in-lieu rest day of the National Day week
        (date(2024, 10, 12), True),  # Saturday, make-up working day (调休上班)
        (date(2024, 2, 4), True),  # Sunday, make-up working day for Spring Festival
        (date(2024, 2, 12), False),  # Monday, Spring Festival 春节
        (date(2024, 4, 4), False),  # Thursday, Qingming 清明节
        (date(2024, 3, 9), False),  # an ordinary Saturday
        (date(2024, 3, 11), True),  # an ordinary Monday
    ],
    ids=[
        "a 2024 public holiday",
        "a 2024 in-lieu rest day",
        "a 2024 make-up working Saturday",
        "a 2024 make-up working Sunday",
        "the 2024 Spring Festival",
        "the 2024 Qingming festival",
        "an ordinary weekend",
        "an ordinary weekday",
    ],
)
def test_covered_years_use_the_official_table(day: date, working: bool) -> None:
    assert covered(day.year)
    assert CALENDAR.covers(day.year)
    assert CALENDAR.is_working_day(day) is working


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(UNCOVERED_YEAR, 1, 1), False),  # Wednesday, New Year 元旦
        (date(UNCOVERED_YEAR, 5, 1), False),  # Thursday, Labour Day
        (date(UNCOVERED_YEAR, 5, 2), False),  # Friday, Labour Day's second day since 2025
        (date(UNCOVERED_YEAR, 10, 1), False),  # Wednesday, National Day
        (date(UNCOVERED_YEAR, 10, 3), False),  # Friday, National Day
        (date(UNCOVERED_YEAR, 10, 6), True),  # Monday: in-lieu days are unknown
        (date(UNCOVERED_YEAR, 3, 8), False),  # Saturday
        (date(UNCOVERED_YEAR, 3, 10), True),  # Monday
    ],
    ids=[
        "New Year",
        "Labour Day",
        "Labour Day second day",
        "National Day first day",
        "National Day third day",
        "a Monday after National Day",
        "a weekend",
        "a weekday",
    ],
)
def test_uncovered_years_fall_back_to_weekends_and_fixed_date_holidays(
    day: date, working: bool
) -> None:
    assert not covered(UNCOVERED_YEAR)
    assert not CALENDAR.covers(UNCOVERED_YEAR)
    assert CALENDAR.is_working_day(day) is working


def test_before_2025_labour_day_is_one_day_in_the_fallback() -> None:
    assert not covered(2003)
    assert CALENDAR.is_working_day(date(2003, 5, 2))  # Friday
    assert not CALENDAR.is_working_day(date(2003, 5, 1))
