"""Which recorded facts count, and for which assignment (归属).

Before any rule looks at a history (DESIGN §5, "Attribution"):

1. repeated events (same ``event_id``) collapse to one;
2. voided facts, and the voids themselves, are removed — a void may be recorded before
   its target and still applies;
3. facts for a village the advisor was not assigned to on their attribution date are
   set aside as ``unassigned``: they count nowhere but are reported.

Only then do the overlap rule, ratings, complaints and everything else run.
"""

from __future__ import annotations

import uuid
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import TypeAlias, TypeVar

from appraisal.policy.facts import (
    ACTIVITY_TYPES,
    VOIDABLE_TYPES,
    AdvisorHistory,
    Appointment,
    AssignmentEnded,
    CommitteeAdvice,
    ComplaintFiled,
    ComplaintResolved,
    Consultation,
    DocumentDrafted,
    Fact,
    Inspection,
    Lecture,
    LegalAidReferral,
    Mediation,
    OnsiteDuty,
    Rating,
    Voided,
)
from appraisal.policy.quantities import MONTHS_PER_YEAR, local_date

_T = TypeVar("_T")

DatedFact: TypeAlias = (
    OnsiteDuty
    | Lecture
    | Mediation
    | Consultation
    | DocumentDrafted
    | LegalAidReferral
    | CommitteeAdvice
    | Rating
    | ComplaintFiled
)
"""Facts attributed by a local date (every village fact except inspections)."""

__all__ = [
    "AssignmentPeriods",
    "AttributedHistory",
    "DatedFact",
    "apply_voids",
    "attribute",
    "attribution_date",
    "distinct_facts",
]


def distinct_facts(facts: Iterable[Fact]) -> tuple[Fact, ...]:
    """One fact per ``event_id``, ordered by ``event_id``.

    Ingest derives the id from source and source id, so a repeated id is the same event
    re-sent. Should two different payloads ever share an id, the one with the smallest
    ``repr`` is kept, so the choice never depends on arrival order.
    """
    chosen: dict[uuid.UUID, Fact] = {}
    for fact in facts:
        kept = chosen.get(fact.event_id)
        if kept is None or repr(fact) < repr(kept):
            chosen[fact.event_id] = fact
    return tuple(chosen[event_id] for event_id in sorted(chosen))


def apply_voids(facts: Iterable[Fact]) -> tuple[Fact, ...]:
    """``facts`` without the voids and without the activities, ratings and inspections they void.

    A void aimed at any other kind of fact (an appointment, a complaint, another void) has
    no effect: the contract only lets activities, ratings and inspections be voided.
    """
    facts = tuple(facts)
    targets = {fact.target_event_id for fact in facts if isinstance(fact, Voided)}
    return tuple(
        fact
        for fact in facts
        if not isinstance(fact, Voided)
        and not (isinstance(fact, VOIDABLE_TYPES) and fact.event_id in targets)
    )


@dataclass(frozen=True, slots=True)
class AssignmentPeriods:
    """The dates on which the advisor served each village (appointed_on incl., ended_on excl.)."""

    periods: dict[str, tuple[tuple[date, date | None], ...]]

    @classmethod
    def from_facts(cls, facts: Iterable[Fact]) -> AssignmentPeriods:
        """Pair appointments and ends per village by date.

        On any day the assignment is in the state set by the latest appointment or end
        dated on or before it; changes on the same date apply in (occurred_at, event_id)
        order. So a re-appointment while serving changes nothing, an end while not serving
        changes nothing, and an advisor may be appointed again after an end.
        """
        changes: dict[str, list[tuple[date, datetime, uuid.UUID, bool]]] = {}
        for fact in facts:
            if isinstance(fact, Appointment):
                key = (fact.appointed_on, fact.occurred_at, fact.event_id, True)
            elif isinstance(fact, AssignmentEnded):
                key = (fact.ended_on, fact.occurred_at, fact.event_id, False)
            else:
                continue
            changes.setdefault(fact.village_id, []).append(key)
        periods: dict[str, tuple[tuple[date, date | None], ...]] = {}
        for village_id in sorted(changes):
            ordered = sorted(changes[village_id], key=lambda c: (c[0], c[1], c[2]))
            spans: list[tuple[date, date | None]] = []
            opened: date | None = None
            for day, _, _, appoints in ordered:
                if appoints and opened is None:
                    opened = day
                elif not appoints and opened is not None:
                    if day > opened:
                        spans.append((opened, day))
                    opened = None
            if opened is not None:
                spans.append((opened, None))
            periods[village_id] = tuple(spans)
        return cls(periods)

    def is_active(self, village_id: str, day: date) -> bool:
        """Whether the advisor served ``village_id`` on ``day``."""
        spans = self.periods.get(village_id, ())
        index = bisect_right([start for start, _ in spans], day) - 1
        if index < 0:
            return False
        end = spans[index][1]
        return end is None or day < end

    def active_days(self, village_id: str, first: date, last_exclusive: date) -> int:
        """How many days of [first, last_exclusive) the advisor served ``village_id``."""
        total = 0
        for start, end in self.periods.get(village_id, ()):
            lo = max(start, first)
            hi = last_exclusive if end is None else min(end, last_exclusive)
            if hi > lo:
                total += (hi - lo).days
        return total

    def villages_active_between(self, first: date, last_exclusive: date) -> tuple[str, ...]:
        """Villages served on at least one day of [first, last_exclusive), sorted."""
        return tuple(
            village_id
            for village_id in sorted(self.periods)
            if self.active_days(village_id, first, last_exclusive) > 0
        )

    def most_villages_at_once(self, first: date, last_exclusive: date) -> int:
        """The largest number of villages served on one day of [first, last_exclusive)."""
        deltas: dict[date, int] = {}
        for spans in self.periods.values():
            for start, end in spans:
                lo = max(start, first)
                hi = last_exclusive if end is None else min(end, last_exclusive)
                if hi > lo:
                    deltas[lo] = deltas.get(lo, 0) + 1
                    deltas[hi] = deltas.get(hi, 0) - 1
        most = current = 0
        for day in sorted(deltas):
            current += deltas[day]
            most = max(most, current)
        return most


def attribution_date(fact: DatedFact, zone: tzinfo) -> date:
    """The local date that decides a fact's assignment, month and year.

    Duty and lecture intervals go by their start; everything else by ``occurred_at``.
    (Inspections go by their ``month`` field instead.)
    """
    if isinstance(fact, OnsiteDuty | Lecture):
        return local_date(fact.started_at, zone)
    return local_date(fact.occurred_at, zone)


def _is_assigned(periods: AssignmentPeriods, fact: Fact, zone: tzinfo) -> bool:
    if isinstance(fact, Appointment | AssignmentEnded | Voided | ComplaintResolved):
        return True
    if isinstance(fact, Inspection):
        year, month = fact.year_month
        first = date(year, month, 1)
        following = date(year + 1, 1, 1) if month == MONTHS_PER_YEAR else date(year, month + 1, 1)
        return periods.active_days(fact.village_id, first, following) > 0
    return periods.is_active(fact.village_id, attribution_date(fact, zone))


@dataclass(frozen=True, slots=True)
class AttributedHistory:
    """A history after dedup, voids and the assignment check: what the rules count."""

    advisor_id: str
    zone: tzinfo
    facts: tuple[Fact, ...]
    """Facts that count, ordered by event_id."""
    unassigned: tuple[Fact, ...]
    """Facts for a village not served on their date (inspections: in their month)."""
    periods: AssignmentPeriods
    activity_ids: frozenset[uuid.UUID]
    """Ids of this advisor's counting activities (what a rating may cite)."""

    def of_type(self, kind: type[_T]) -> tuple[_T, ...]:
        """The counting facts of one type."""
        return tuple(fact for fact in self.facts if isinstance(fact, kind))


def attribute(history: AdvisorHistory, zone: tzinfo) -> AttributedHistory:
    """Dedup, apply voids, then split assigned from unassigned facts (in that order)."""
    live = apply_voids(distinct_facts(history.facts))
    periods = AssignmentPeriods.from_facts(live)
    counted: list[Fact] = []
    unassigned: list[Fact] = []
    for fact in live:
        (counted if _is_assigned(periods, fact, zone) else unassigned).append(fact)
    return AttributedHistory(
        advisor_id=history.advisor_id,
        zone=zone,
        facts=tuple(counted),
        unassigned=tuple(unassigned),
        periods=periods,
        activity_ids=frozenset(f.event_id for f in counted if isinstance(f, ACTIVITY_TYPES)),
    )
