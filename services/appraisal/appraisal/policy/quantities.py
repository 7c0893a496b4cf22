"""Exact quantities: hours as fractions, local days and months, half-up rounding for reports."""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Iterator
from datetime import date, datetime, timedelta, tzinfo
from decimal import Decimal
from fractions import Fraction

__all__ = [
    "MONTHS_PER_YEAR",
    "ceil_div",
    "days_of",
    "exact_sum",
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


def exact_sum(values: Iterable[Fraction]) -> Fraction:
    """Σ values, exactly, as one Fraction at the end.

    Equal to ``sum(values, Fraction(0))``; ledger values share a few denominators, so
    accumulating numerator and denominator as integers skips a Fraction per addition.
    """
    numerator, denominator = 0, 1
    for value in values:
        n, d = value.numerator, value.denominator
        if d == denominator:
            numerator += n
        else:
            g = math.gcd(denominator, d)
            numerator = numerator * (d // g) + n * (denominator // g)
            denominator = denominator // g * d
    return Fraction(numerator, denominator)


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
    # With value = a/b and quantum = c/d (b, c, d > 0), the number of whole quanta is
    # ⌊|a|·d/(b·c) + 1/2⌋ = ⌊(2·|a|·d + b·c) / (2·b·c)⌋: integers only, no Fraction.
    a, b = value.numerator, value.denominator
    c, d = _ratio(quantum)
    whole = (2 * abs(a) * d + b * c) // (2 * b * c)
    signed = -whole if a < 0 else whole
    return (Decimal(signed) * quantum).quantize(quantum)


@functools.lru_cache(maxsize=64)
def _ratio(quantum: Decimal) -> tuple[int, int]:
    return quantum.as_integer_ratio()


@functools.lru_cache(maxsize=16)
def _quantum(places: int) -> Decimal:
    return Decimal(1).scaleb(-places)


def report_value(value: Fraction, places: int) -> Decimal:
    """An exact value as reports show it: half-up to ``places`` decimals."""
    return round_half_up(value, _quantum(places))
