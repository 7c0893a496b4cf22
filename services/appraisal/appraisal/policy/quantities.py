"""Exact quantities: hours as fractions, local days and months, half-up rounding for reports."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import date, datetime, timedelta, tzinfo
from decimal import Decimal
from fractions import Fraction

__all__ = [
    "MONTHS_PER_YEAR",
    "ceil_div",
    "days_of",
    "hours",
    "local_date",
    "month_label",
    "month_span",
    "report_value",
    "round_half_up",
]

MONTHS_PER_YEAR = 12
_MICROSECONDS_PER_HOUR = 3_600_000_000


def hours(span: timedelta) -> Fraction:
    """The exact length of ``span`` in hours."""
    return Fraction(span // timedelta(microseconds=1), _MICROSECONDS_PER_HOUR)


def local_date(moment: datetime, zone: tzinfo) -> date:
    """The calendar date of ``moment`` in ``zone``."""
    return moment.astimezone(zone).date()


def month_span(year: int, month: int, zone: tzinfo) -> tuple[datetime, datetime]:
    """The half-open instant range [first local midnight, next month's first local midnight)."""
    start = datetime(year, month, 1, tzinfo=zone)
    end = (
        datetime(year + 1, 1, 1, tzinfo=zone)
        if month == MONTHS_PER_YEAR
        else datetime(year, month + 1, 1, tzinfo=zone)
    )
    return start, end


def month_label(year: int, month: int) -> str:
    """``YYYY-MM``, the contract's month notation."""
    return f"{year:04d}-{month:02d}"


def days_of(first: date, last_exclusive: date) -> Iterator[date]:
    """Every date in [first, last_exclusive)."""
    day = first
    while day < last_exclusive:
        yield day
        day += timedelta(days=1)


def ceil_div(numerator: int, denominator: int) -> int:
    """⌈numerator / denominator⌉ on integers, so no float is ever involved."""
    return -(-numerator // denominator)


def round_half_up(value: Fraction, quantum: Decimal) -> Decimal:
    """``value`` rounded to a multiple of ``quantum``, ties away from zero (ROUND_HALF_UP)."""
    steps = abs(value) / Fraction(quantum)
    whole = math.floor(steps + Fraction(1, 2))
    signed = -whole if value < 0 else whole
    return (Decimal(signed) * quantum).quantize(quantum)


def report_value(value: Fraction, places: int) -> Decimal:
    """An exact value as reports show it: half-up to ``places`` decimals."""
    return round_half_up(value, Decimal(1).scaleb(-places))
