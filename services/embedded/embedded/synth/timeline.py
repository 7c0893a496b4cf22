"""Local time as plain integers, so millions of timestamps cost almost nothing.

Every instant the generator handles is a number of seconds since 2000-01-01 00:00
Beijing time (Asia/Shanghai has been UTC+08:00 without daylight saving since 1991),
and every day is a day number since that date. Arithmetic is integer arithmetic;
only the final text goes through a per-day cache of ``YYYY-MM-DD`` strings.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Final

from appraisal.policy import PrcCalendar

__all__ = [
    "DAY",
    "HOUR",
    "MINUTE",
    "Timeline",
    "date_of",
    "day_number",
    "month_days",
]

MINUTE: Final = 60
HOUR: Final = 3600
DAY: Final = 86_400
OFFSET: Final = "+08:00"
_EPOCH_ORDINAL: Final = date(2000, 1, 1).toordinal()
_EPOCH_WEEKDAY: Final = date(2000, 1, 1).weekday()
_clock_texts: list[str] = []


def _clock() -> list[str]:
    """``THH:MM:SS+08:00`` for each second of a day (built once, about 6 MB)."""
    if not _clock_texts:
        two = [f"{n:02d}" for n in range(60)]
        _clock_texts.extend(
            f"T{hh}:{mm}:{ss}{OFFSET}" for hh in two[:24] for mm in two for ss in two
        )
    return _clock_texts


def day_number(day: date) -> int:
    """Days since 2000-01-01."""
    return day.toordinal() - _EPOCH_ORDINAL


def date_of(number: int) -> date:
    """The date of a day number."""
    return date.fromordinal(_EPOCH_ORDINAL + number)


def month_days(year: int, month: int) -> tuple[int, int]:
    """Day numbers [first, following) of a calendar month."""
    first = date(year, month, 1)
    following = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return day_number(first), day_number(following)


class Timeline:
    """Text and calendar facts of every day the generator may touch.

    The PRC working-day calendar is the one the appraisal rules use (``PrcCalendar``),
    so a lecture the generator means as a holiday lecture is one for the rules too.
    """

    def __init__(self, first_year: int, last_year: int) -> None:
        # Appointments are decided in the December before the first year; late
        # ledgers and complaint reviews land in the spring after the last one.
        start = day_number(date(first_year - 2, 12, 1))
        stop = day_number(date(last_year + 2, 1, 1))
        calendar = PrcCalendar()
        self._clock = _clock()
        self._first = start
        self._text: list[str] = []
        self._working: list[bool] = []
        day = date_of(start)
        for _ in range(start, stop):
            self._text.append(day.isoformat())
            self._working.append(calendar.is_working_day(day))
            day += timedelta(days=1)

    def date_text(self, day: int) -> str:
        """``YYYY-MM-DD`` of a day number."""
        return self._text[day - self._first]

    def iso(self, moment: int) -> str:
        """RFC 3339 text of a local instant, e.g. ``2025-03-05T19:30:00+08:00``."""
        day, second = divmod(moment, DAY)
        return self._text[day - self._first] + self._clock[second]

    def working_days(self, first: int, following: int) -> list[int]:
        """The working days among [first, following)."""
        working, base = self._working, self._first
        return [d for d in range(first, following) if working[d - base]]

    def is_working_day(self, day: int) -> bool:
        """True on a PRC working day (make-up Saturdays included, public holidays not)."""
        return self._working[day - self._first]

    @staticmethod
    def weekday(day: int) -> int:
        """Monday = 0 … Sunday = 6."""
        return (_EPOCH_WEEKDAY + day) % 7
