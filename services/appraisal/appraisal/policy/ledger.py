"""The monthly duty ledger (值班台账): on-site hours, off-site credit and compliance per month."""

from __future__ import annotations

import functools
import math
import uuid
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import Decimal
from fractions import Fraction

from appraisal.policy.attribution import AttributedHistory
from appraisal.policy.document import PolicyDocument, exact
from appraisal.policy.facts import Consultation, Lecture, OnsiteDuty
from appraisal.policy.quantities import (
    MONTHS_PER_YEAR,
    month_label,
    month_span,
)

__all__ = [
    "MonthLedger",
    "OnsiteInterval",
    "answered_in_time",
    "apply_overlap_rule",
    "assignment_offsite_in_time",
    "month_ledgers",
    "offsite_in_time",
    "onsite_intervals",
]

_MICROSECONDS_PER_HOUR = 3_600_000_000
_MINUTES_PER_HOUR = 60
_MAX_MICROSECONDS = timedelta.max // timedelta(microseconds=1)
_ONE_MICROSECOND = timedelta(microseconds=1)
_NO_TIME = timedelta(0)
_ZERO = Fraction(0)


@dataclass(frozen=True, slots=True)
class OnsiteInterval:
    """A span of on-site presence (duty or non-online lecture) in one village, in UTC."""

    event_id: uuid.UUID
    village_id: str
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class MonthLedger:
    """One month of one assignment: the row a county bureau checks in the ledger."""

    month: str
    """``YYYY-MM``."""
    active_days: int
    served: bool
    onsite_hours: Fraction
    raw_credit_hours: Fraction
    capped_credit_hours: Fraction
    has_onsite_interval: bool
    compliant: bool


def onsite_intervals(attributed: AttributedHistory) -> tuple[OnsiteInterval, ...]:
    """The advisor's on-site intervals in every village: duties and non-online lectures."""
    spans = [
        OnsiteInterval(
            duty.event_id,
            duty.village_id,
            duty.started_at.astimezone(UTC),
            duty.ended_at.astimezone(UTC),
        )
        for duty in attributed.of_type(OnsiteDuty)
    ]
    lectures = [lecture for lecture in attributed.of_type(Lecture) if not lecture.online]
    for lecture in lectures:
        start = lecture.started_at.astimezone(UTC)
        end = start + timedelta(minutes=lecture.duration_minutes)
        spans.append(OnsiteInterval(lecture.event_id, lecture.village_id, start, end))
    if lectures and len(spans) > len(lectures):
        # Two runs, each in event_id order: merged back into the history's order.
        spans.sort(key=lambda span: span.event_id.int)
    return tuple(spans)


def apply_overlap_rule(intervals: Iterable[OnsiteInterval]) -> tuple[OnsiteInterval, ...]:
    """Count overlapping time once: each interval loses what earlier-starting ones cover.

    Intervals are taken in (start, event_id) order across all villages. Everything that
    starts earlier covers a prefix of any later interval up to the furthest end so far, so
    what remains of each interval is a single span (possibly empty, then dropped).
    """
    kept: list[OnsiteInterval] = []
    reach: datetime | None = None
    # A UUID orders by its int; the int key avoids a Python-level UUID.__lt__ per comparison.
    for interval in sorted(intervals, key=lambda i: (i.start, i.event_id.int)):
        start = interval.start if reach is None else max(interval.start, reach)
        if interval.end > start:
            kept.append(
                interval
                if start == interval.start
                else OnsiteInterval(interval.event_id, interval.village_id, start, interval.end)
            )
        reach = interval.end if reach is None else max(reach, interval.end)
    return tuple(kept)


@functools.lru_cache(maxsize=64)
def _reply_window(window_hours: Decimal) -> timedelta:
    """The reply window as the longest wait that still counts, to the microsecond.

    A wait of w whole microseconds is in time iff w / 3.6e9 ≤ window, i.e. iff
    w ≤ ⌊window · 3.6e9⌋: comparing timedeltas is then exact, with no Fraction per
    consultation. A window beyond what a timedelta holds admits every wait.
    """
    limit = math.floor(exact(window_hours) * _MICROSECONDS_PER_HOUR)
    if limit >= _MAX_MICROSECONDS:
        return timedelta.max
    return timedelta(microseconds=limit)


def answered_in_time(consultation: Consultation, policy: PolicyDocument) -> bool:
    """Answered at most the reply window after it was asked (exactly the window counts)."""
    if consultation.answered_at is None:
        return False
    waited = consultation.answered_at - consultation.asked_at
    return waited <= _reply_window(policy.credit.reply_window_hours)


def offsite_in_time(
    consultations: Iterable[Consultation], policy: PolicyDocument
) -> tuple[int, tuple[Consultation, ...]]:
    """How many of ``consultations`` are off site, and those answered in time.

    The same test as ``answered_in_time`` on channels that earn credit, done for a whole
    assignment-year at once (it is the inner loop of both the credit and ρ).
    """
    channels = policy.credit.channels
    window = _reply_window(policy.credit.reply_window_hours)
    offsite = 0
    in_time: list[Consultation] = []
    for consultation in consultations:
        if consultation.channel in channels:
            offsite += 1
            answered = consultation.answered_at
            if answered is not None and answered - consultation.asked_at <= window:
                in_time.append(consultation)
    return offsite, tuple(in_time)


def assignment_offsite_in_time(
    attributed: AttributedHistory, policy: PolicyDocument, village_id: str, year: int
) -> tuple[int, tuple[Consultation, ...]]:
    """``offsite_in_time`` of the assignment-year's consultations.

    Both the credit (here) and ρ (indicators) need it; it is computed once per attributed
    history and key, since the datetime arithmetic is the costly part.
    """
    rules = policy.credit
    key = ("offsite_in_time", village_id, year, rules.channels, rules.reply_window_hours)
    return attributed.derived(
        key,
        lambda: offsite_in_time(attributed.dated_in(Consultation, village_id, year), policy),
    )


def _raw_credit_by_month(
    attributed: AttributedHistory, policy: PolicyDocument, village_id: str, year: int
) -> dict[int, Fraction]:
    # Counted as integers (consultations, lecture minutes) and made exact once per month:
    # n · (p/q) + m/60 = (60·n·p + m·q) / (60·q), one Fraction instead of three.
    rules = policy.credit
    consultations: dict[int, int] = {}
    _, in_time = assignment_offsite_in_time(attributed, policy, village_id, year)
    for consultation in in_time:
        month = attributed.date_of(consultation).month
        consultations[month] = consultations.get(month, 0) + 1
    minutes: dict[int, int] = {}
    if rules.online_lectures_credited:
        for lecture in attributed.dated_in(Lecture, village_id, year):
            if lecture.online:
                month = attributed.date_of(lecture).month
                minutes[month] = minutes.get(month, 0) + lecture.duration_minutes
    per = exact(rules.hours_per_consultation)
    p, q = per.numerator, per.denominator
    return {
        month: Fraction(
            _MINUTES_PER_HOUR * consultations.get(month, 0) * p + minutes.get(month, 0) * q,
            _MINUTES_PER_HOUR * q,
        )
        for month in sorted(consultations.keys() | minutes.keys())
    }


@functools.lru_cache(maxsize=256)
def _months_of(year: int, zone: tzinfo) -> tuple[tuple[datetime, ...], tuple[date, ...]]:
    """The year's 13 month boundaries: as UTC instants, and as the local dates they fall on."""
    bounds = [month_span(year, month, zone)[0] for month in range(1, MONTHS_PER_YEAR + 1)]
    bounds.append(month_span(year, MONTHS_PER_YEAR, zone)[1])
    instants = tuple(moment.astimezone(UTC) for moment in bounds)
    return instants, tuple(moment.astimezone(zone).date() for moment in instants)


def _onsite_by_month(
    effective: tuple[OnsiteInterval, ...], village_id: str, bounds: tuple[datetime, ...]
) -> tuple[list[int], list[bool]]:
    """Microseconds on site per month (index 0–11) and whether a month has an interval.

    Each interval is clipped to the months it touches, found by bisecting the month
    boundaries, rather than every interval being tried against every month.
    """
    micros = [0] * MONTHS_PER_YEAR
    present = [False] * MONTHS_PER_YEAR
    first, last = bounds[0], bounds[MONTHS_PER_YEAR]
    for interval in effective:
        if interval.village_id != village_id or interval.end <= first or interval.start >= last:
            continue
        month = max(bisect_right(bounds, interval.start) - 1, 0)
        while month < MONTHS_PER_YEAR and bounds[month] < interval.end:
            overlap = min(interval.end, bounds[month + 1]) - max(interval.start, bounds[month])
            if overlap > _NO_TIME:
                micros[month] += overlap // _ONE_MICROSECOND
                present[month] = True
            month += 1
    return micros, present


def month_ledgers(
    attributed: AttributedHistory,
    policy: PolicyDocument,
    effective: tuple[OnsiteInterval, ...],
    village_id: str,
    year: int,
) -> tuple[MonthLedger, ...]:
    """The twelve monthly rows of one assignment-year.

    ``effective`` are the advisor's on-site intervals after the overlap rule. Hours are
    clipped to each local month; a month has an on-site interval when some effective
    interval of this village lies (for a positive time) inside it.
    """
    requirement = exact(policy.service.monthly_requirement_hours)
    cap = requirement * exact(policy.credit.cap_fraction_of_requirement)
    bounds, local_bounds = _months_of(year, attributed.zone)
    micros, present = _onsite_by_month(effective, village_id, bounds)
    raw_credit_by_month = _raw_credit_by_month(attributed, policy, village_id, year)
    min_days = policy.service.served_month_min_active_days
    # Most months have no credit: min(0, cap) is 0 itself whenever cap ≥ 0.
    zero_is_capped = cap >= 0
    rows: list[MonthLedger] = []
    for index in range(MONTHS_PER_YEAR):
        month = index + 1
        onsite = Fraction(micros[index], _MICROSECONDS_PER_HOUR) if micros[index] else _ZERO
        active_days = attributed.periods.active_days(
            village_id, local_bounds[index], local_bounds[index + 1]
        )
        served = active_days >= min_days
        raw_credit = raw_credit_by_month.get(month, _ZERO)
        capped = raw_credit if raw_credit is _ZERO and zero_is_capped else min(raw_credit, cap)
        rows.append(
            MonthLedger(
                month=month_label(year, month),
                active_days=active_days,
                served=served,
                onsite_hours=onsite,
                raw_credit_hours=raw_credit,
                capped_credit_hours=capped,
                has_onsite_interval=present[index],
                compliant=served and present[index] and onsite + capped >= requirement,
            )
        )
    return tuple(rows)
