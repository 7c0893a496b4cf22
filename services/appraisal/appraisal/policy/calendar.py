"""The PRC working-day calendar (法定工作日) used for night/holiday lectures.

``chinese_calendar`` knows each year's public holidays and make-up working days (调休)
as published by the State Council; it covers a bounded range of years and raises
``NotImplementedError`` outside it. For those years ``PrcCalendar`` falls back to an
approximation: weekends are non-working days, plus the public holidays fixed in the
Gregorian calendar (New Year 1 Jan, Labour Day 1 May — and 2 May from 2025 — and National
Day 1–3 Oct). Lunar holidays (Spring Festival, Qingming, Dragon Boat, Mid-Autumn) and
make-up working days are unknown there, so results for such years are approximate and
``covers(year)`` says so.
"""

from __future__ import annotations

import functools
from datetime import date
from typing import Protocol

import chinese_calendar

__all__ = ["PrcCalendar", "WorkdayCalendar", "covered"]

_SATURDAY = 5
# 2024 amendment of 《全国年节及纪念日放假办法》, in force from 2025: Labour Day gains 2 May.
_LABOUR_DAY_TWO_DAYS_FROM = 2025
_FIXED_HOLIDAYS: tuple[tuple[int, int], ...] = ((1, 1), (5, 1), (10, 1), (10, 2), (10, 3))


class WorkdayCalendar(Protocol):
    """Which local dates are working days; injected into the rules so tests can fix it."""

    def is_working_day(self, day: date) -> bool:
        """True when ``day`` is a working day (a make-up Saturday is; a holiday is not)."""
        ...

    def covers(self, year: int) -> bool:
        """True when the calendar knows ``year`` exactly (not an approximation)."""
        ...


@functools.cache
def covered(year: int) -> bool:
    """Whether ``chinese_calendar`` has the official holiday table for ``year``."""
    try:
        chinese_calendar.is_workday(date(year, 1, 1))
    except NotImplementedError:
        return False
    return True


def _fallback_is_working_day(day: date) -> bool:
    if day.weekday() >= _SATURDAY:
        return False
    if (day.month, day.day) in _FIXED_HOLIDAYS:
        return False
    return not (day.year >= _LABOUR_DAY_TWO_DAYS_FROM and (day.month, day.day) == (5, 2))


@functools.cache
def _is_working_day(day: date) -> bool:
    if covered(day.year):
        return bool(chinese_calendar.is_workday(day))
    return _fallback_is_working_day(day)


class PrcCalendar:
    """The official PRC calendar where known, the documented approximation elsewhere."""

    def is_working_day(self, day: date) -> bool:
        """True when ``day`` is a PRC working day (approximate outside covered years)."""
        return _is_working_day(day)

    def covers(self, year: int) -> bool:
        """True when ``year`` is in ``chinese_calendar``'s official tables."""
        return covered(year)
