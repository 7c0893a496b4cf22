"""The monthly duty ledger (值班台账): on-site hours, off-site credit and compliance per month."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from fractions import Fraction

from appraisal.policy.attribution import AttributedHistory
from appraisal.policy.document import PolicyDocument, exact
from appraisal.policy.facts import Consultation, Lecture, OnsiteDuty
from appraisal.policy.quantities import (
    MONTHS_PER_YEAR,
    hours,
    local_date,
    month_label,
    month_span,
)

__all__ = [
    "MonthLedger",
    "OnsiteInterval",
    "answered_in_time",
    "apply_overlap_rule",
    "month_ledgers",
    "onsite_intervals",
]


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
    spans: list[OnsiteInterval] = []
    for fact in attributed.facts:
        if isinstance(fact, OnsiteDuty):
            spans.append(
                OnsiteInterval(
                    fact.event_id,
                    fact.village_id,
                    fact.started_at.astimezone(UTC),
                    fact.ended_at.astimezone(UTC),
                )
            )
        elif isinstance(fact, Lecture) and not fact.online:
            start = fact.started_at.astimezone(UTC)
            end = start + timedelta(minutes=fact.duration_minutes)
            spans.append(OnsiteInterval(fact.event_id, fact.village_id, start, end))
    return tuple(spans)


def apply_overlap_rule(intervals: Iterable[OnsiteInterval]) -> tuple[OnsiteInterval, ...]:
    """Count overlapping time once: each interval loses what earlier-starting ones cover.

    Intervals are taken in (start, event_id) order across all villages. Everything that
    starts earlier covers a prefix of any later interval up to the furthest end so far, so
    what remains of each interval is a single span (possibly empty, then dropped).
    """
    kept: list[OnsiteInterval] = []
    reach: datetime | None = None
    for interval in sorted(intervals, key=lambda i: (i.start, i.event_id)):
        start = interval.start if reach is None else max(interval.start, reach)
        if interval.end > start:
            kept.append(OnsiteInterval(interval.event_id, interval.village_id, start, interval.end))
        reach = interval.end if reach is None else max(reach, interval.end)
    return tuple(kept)


def answered_in_time(consultation: Consultation, policy: PolicyDocument) -> bool:
    """Answered at most the reply window after it was asked (exactly the window counts)."""
    if consultation.answered_at is None:
        return False
    waited = hours(consultation.answered_at - consultation.asked_at)
    return waited <= exact(policy.credit.reply_window_hours)


def _raw_credit_by_month(
    attributed: AttributedHistory, policy: PolicyDocument, village_id: str, year: int
) -> dict[int, Fraction]:
    zone = attributed.zone
    per_consultation = exact(policy.credit.hours_per_consultation)
    credit: dict[int, Fraction] = {}
    for fact in attributed.facts:
        if isinstance(fact, Consultation) and fact.village_id == village_id:
            if fact.channel not in policy.credit.channels or not answered_in_time(fact, policy):
                continue
            day, earned = local_date(fact.occurred_at, zone), per_consultation
        elif isinstance(fact, Lecture) and fact.village_id == village_id and fact.online:
            if not policy.credit.online_lectures_credited:
                continue
            day = local_date(fact.started_at, zone)
            earned = hours(timedelta(minutes=fact.duration_minutes))
        else:
            continue
        if day.year == year:
            credit[day.month] = credit.get(day.month, Fraction(0)) + earned
    return credit


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
    zone = attributed.zone
    requirement = exact(policy.service.monthly_requirement_hours)
    cap = requirement * exact(policy.credit.cap_fraction_of_requirement)
    mine = [interval for interval in effective if interval.village_id == village_id]
    raw_credit_by_month = _raw_credit_by_month(attributed, policy, village_id, year)
    rows: list[MonthLedger] = []
    for month in range(1, MONTHS_PER_YEAR + 1):
        start, end = (moment.astimezone(UTC) for moment in month_span(year, month, zone))
        onsite = Fraction(0)
        present = False
        for interval in mine:
            overlap = min(interval.end, end) - max(interval.start, start)
            if overlap > timedelta(0):
                onsite += hours(overlap)
                present = True
        active_days = attributed.periods.active_days(
            village_id, start.astimezone(zone).date(), end.astimezone(zone).date()
        )
        served = active_days >= policy.service.served_month_min_active_days
        raw_credit = raw_credit_by_month.get(month, Fraction(0))
        capped = min(raw_credit, cap)
        rows.append(
            MonthLedger(
                month=month_label(year, month),
                active_days=active_days,
                served=served,
                onsite_hours=onsite,
                raw_credit_hours=raw_credit,
                capped_credit_hours=capped,
                has_onsite_interval=present,
                compliant=served and present and onsite + capped >= requirement,
            )
        )
    return tuple(rows)
