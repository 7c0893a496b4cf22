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

import enum
import uuid
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable
from dataclasses import InitVar, dataclass, field
from datetime import date, datetime, tzinfo
from operator import attrgetter
from typing import Any, NamedTuple, TypeAlias, TypeVar, cast

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

_D = TypeVar("_D", bound=DatedFact)

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
    # Keyed and sorted by the UUID's int: the same order (a UUID compares by its int),
    # without a Python-level UUID.__hash__/__lt__ per fact.
    facts = tuple(facts)
    ids = [fact.event_id.int for fact in facts]
    if len(set(ids)) == len(ids):  # the usual case: a ledger holds each id once
        return tuple([facts[i] for i in sorted(range(len(ids)), key=ids.__getitem__)])
    chosen: dict[int, Fact] = {}
    for fact in facts:
        key = fact.event_id.int
        kept = chosen.get(key)
        if kept is None or repr(fact) < repr(kept):
            chosen[key] = fact
    return tuple(chosen[key] for key in sorted(chosen))


def apply_voids(facts: Iterable[Fact]) -> tuple[Fact, ...]:
    """``facts`` without the voids and without the activities, ratings and inspections they void.

    A void aimed at any other kind of fact (an appointment, a complaint, another void) has
    no effect: the contract only lets activities, ratings and inspections be voided.
    """
    facts = tuple(facts)
    targets = {fact.target_event_id.int for fact in facts if isinstance(fact, Voided)}
    return tuple(
        fact
        for fact in facts
        if not isinstance(fact, Voided)
        and not (fact.event_id.int in targets and isinstance(fact, VOIDABLE_TYPES))
    )


@dataclass(frozen=True, slots=True)
class AssignmentPeriods:
    """The dates on which the advisor served each village (appointed_on incl., ended_on excl.)."""

    periods: dict[str, tuple[tuple[date, date | None], ...]]
    _starts: dict[str, list[date]] = field(init=False, repr=False, compare=False)
    """Each village's span starts, for bisecting: ``is_active`` runs once per fact."""

    def __post_init__(self) -> None:
        starts = {village: [start for start, _ in spans] for village, spans in self.periods.items()}
        object.__setattr__(self, "_starts", starts)

    @classmethod
    def from_facts(cls, facts: Iterable[Fact]) -> AssignmentPeriods:
        """Pair appointments and ends per village by date.

        On any day the assignment is in the state set by the latest appointment or end
        dated on or before it; changes on the same date apply in (occurred_at, event_id)
        order. So a re-appointment while serving changes nothing, an end while not serving
        changes nothing, and an advisor may be appointed again after an end.
        """
        changes: dict[str, list[tuple[date, datetime, int, bool]]] = {}
        for fact in facts:
            if isinstance(fact, Appointment):
                key = (fact.appointed_on, fact.occurred_at, fact.event_id.int, True)
            elif isinstance(fact, AssignmentEnded):
                key = (fact.ended_on, fact.occurred_at, fact.event_id.int, False)
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
        starts = self._starts.get(village_id)
        if not starts:
            return False
        index = bisect_right(starts, day) - 1
        if index < 0:
            return False
        end = self.periods[village_id][index][1]
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


class _AttributedBy(enum.Enum):
    """What decides a fact's assignment (DESIGN §5, "Attribution")."""

    NOTHING = enum.auto()
    """Appointments, ends, voids and resolutions belong to no village-day: always counted."""
    START = enum.auto()
    """Duty and lecture intervals: the local date they start."""
    OCCURRENCE = enum.auto()
    """Every other village fact: the local date of ``occurred_at``."""
    MONTH = enum.auto()
    """Inspections: any served day of their ``month``."""


class _Kind(NamedTuple):
    """What attribution needs to know of a fact type, looked up once per type."""

    attributed_by: _AttributedBy
    is_void: bool
    voidable: bool
    activity: bool


def _classify(kind: type) -> _Kind:
    if issubclass(kind, Appointment | AssignmentEnded | Voided | ComplaintResolved):
        how = _AttributedBy.NOTHING
    elif issubclass(kind, Inspection):
        how = _AttributedBy.MONTH
    elif issubclass(kind, OnsiteDuty | Lecture):
        how = _AttributedBy.START
    else:
        how = _AttributedBy.OCCURRENCE
    return _Kind(
        how,
        is_void=issubclass(kind, Voided),
        voidable=issubclass(kind, VOIDABLE_TYPES),
        activity=issubclass(kind, ACTIVITY_TYPES),
    )


_KINDS: dict[type, _Kind] = {}
_BY_DATE = frozenset({_AttributedBy.START, _AttributedBy.OCCURRENCE})


def _kind_of(kind: type) -> _Kind:
    # One dict lookup per fact instead of isinstance chains per fact (and per rule).
    found = _KINDS.get(kind)
    if found is None:
        found = _KINDS[kind] = _classify(kind)
    return found


def attribution_date(fact: DatedFact, zone: tzinfo) -> date:
    """The local date that decides a fact's assignment, month and year.

    Duty and lecture intervals go by their start; everything else by ``occurred_at``.
    (Inspections go by their ``month`` field instead.)
    """
    if isinstance(fact, OnsiteDuty | Lecture):
        return local_date(fact.started_at, zone)
    return local_date(fact.occurred_at, zone)


def _attribution_dates(facts: Iterable[Fact], zone: tzinfo) -> dict[int, date]:
    """``event_id.int`` → attribution date of every village-dated fact among ``facts``."""
    dates: dict[int, date] = {}
    for fact in facts:
        if _kind_of(type(fact)).attributed_by in _BY_DATE:
            item: Any = fact  # a DatedFact, as its type's attribution says
            dates[fact.event_id.int] = attribution_date(item, zone)
    return dates


def _inspected_month_served(periods: AssignmentPeriods, inspection: Inspection) -> bool:
    year, month = inspection.year_month
    first = date(year, month, 1)
    following = date(year + 1, 1, 1) if month == MONTHS_PER_YEAR else date(year, month + 1, 1)
    return periods.active_days(inspection.village_id, first, following) > 0


@dataclass(frozen=True, slots=True)
class _FactIndex:
    """Counting facts grouped the ways the rules ask for them, built in one pass."""

    dates: dict[int, date]
    """``event_id.int`` → attribution date (counting and unassigned dated facts)."""
    by_type: dict[type, tuple[Fact, ...]]
    """Exact type → facts, in event_id order."""
    dated: dict[tuple[type, str, int], tuple[Fact, ...]]
    """(exact type, village_id, attribution year) → facts, in event_id order."""
    types_of: dict[type, tuple[type, ...]]
    """Memo: the exact types present that are subclasses of a queried type."""
    derived: dict[Hashable, Any]
    """Memo: values rules derive from these facts, keyed by all they depend on."""

    @classmethod
    def build(cls, facts: tuple[Fact, ...], dates: dict[int, date]) -> _FactIndex:
        by_type: defaultdict[type, list[Fact]] = defaultdict(list)
        dated: defaultdict[tuple[type, str, int], list[Fact]] = defaultdict(list)
        for fact in facts:
            kind = type(fact)
            by_type[kind].append(fact)
            day = dates.get(fact.event_id.int)
            if day is not None:
                item: Any = fact  # a DatedFact: only those have dates
                dated[kind, item.village_id, day.year].append(fact)
        return cls.of_groups(dates, by_type, dated)

    @classmethod
    def of_groups(
        cls,
        dates: dict[int, date],
        by_type: dict[type, list[Fact]],
        dated: dict[tuple[type, str, int], list[Fact]],
    ) -> _FactIndex:
        return cls(
            dates,
            {kind: tuple(group) for kind, group in by_type.items()},
            {key: tuple(group) for key, group in dated.items()},
            {},
            {},
        )

    def present_types(self, kind: type) -> tuple[type, ...]:
        types = self.types_of.get(kind)
        if types is None:
            types = self.types_of[kind] = tuple(t for t in self.by_type if issubclass(t, kind))
        return types


@dataclass(frozen=True, slots=True)
class AttributedHistory:
    """A history after dedup, voids and the assignment check: what the rules count.

    The rules look at the same history once per village and year, so it is indexed once
    (by type, by village and attribution year, attribution dates) instead of being
    scanned and re-dated by every rule.
    """

    advisor_id: str
    zone: tzinfo
    facts: tuple[Fact, ...]
    """Facts that count, ordered by event_id."""
    unassigned: tuple[Fact, ...]
    """Facts for a village not served on their date (inspections: in their month)."""
    periods: AssignmentPeriods
    activity_ids: frozenset[uuid.UUID]
    """Ids of this advisor's counting activities (what a rating may cite)."""
    prebuilt_index: InitVar[_FactIndex | None] = None
    """The index of exactly these facts when the caller built it on the way (``attribute``
    does); built here otherwise."""
    _index: _FactIndex = field(init=False, repr=False, compare=False)

    def __post_init__(self, prebuilt_index: _FactIndex | None) -> None:
        index = prebuilt_index
        if index is None:
            dates = _attribution_dates((*self.facts, *self.unassigned), self.zone)
            index = _FactIndex.build(self.facts, dates)
        object.__setattr__(self, "_index", index)

    def of_type(self, kind: type[_T]) -> tuple[_T, ...]:
        """The counting facts of one type."""
        types = self._index.present_types(kind)
        if not types:
            return ()
        if len(types) == 1:
            return cast(tuple[_T, ...], self._index.by_type[types[0]])
        return tuple(fact for fact in self.facts if isinstance(fact, kind))

    def dated_in(self, kind: type[_D], village_id: str, year: int) -> tuple[_D, ...]:
        """The counting facts of one kind attributed to the village and the year (by
        ``attribution_date``), in event_id order."""
        types = self._index.present_types(kind)
        found: list[Any] = []
        for exact_type in types:
            found.extend(self._index.dated.get((exact_type, village_id, year), ()))
        if len(types) > 1:
            found.sort(key=lambda fact: fact.event_id.int)
        return tuple(found)

    def derived(self, key: Hashable, compute: Callable[[], _T]) -> _T:
        """``compute()``, once per key: for a value two rules derive from the same facts.

        ``key`` must name everything the value depends on besides these facts (the
        village, the year, the policy numbers used).
        """
        memo = self._index.derived
        if key not in memo:
            memo[key] = compute()
        return cast(_T, memo[key])

    def date_of(self, fact: DatedFact) -> date:
        """``attribution_date(fact, zone)``, looked up when the fact is one of this history's."""
        day = self._index.dates.get(fact.event_id.int)
        return attribution_date(fact, self.zone) if day is None else day


def attribute(history: AdvisorHistory, zone: tzinfo) -> AttributedHistory:
    """Dedup, apply voids, then split assigned from unassigned facts (in that order)."""
    facts = distinct_facts(history.facts)
    # Every appraisal runs this for every fact, so it works a type at a time: one
    # classification per type, and comprehensions instead of a branchy per-fact loop.
    groups: defaultdict[type, list[Any]] = defaultdict(list)
    for fact in facts:
        groups[type(fact)].append(fact)
    voided = {void.target_event_id.int for void in groups.get(Voided, ())}
    # Appointments and ends cannot be voided, so these are the periods of the live facts.
    periods = AssignmentPeriods.from_facts(facts)
    dates: dict[int, date] = {}
    by_type: dict[type, list[Fact]] = {}
    dated: defaultdict[tuple[type, str, int], list[Fact]] = defaultdict(list)
    counted: list[Fact] = []
    unassigned: list[Fact] = []
    activity_ids: list[uuid.UUID] = []
    for kind, group in groups.items():
        how, is_void, voidable, activity = _kind_of(kind)
        if is_void:
            continue
        if voidable and voided:  # what apply_voids removes
            group = [fact for fact in group if fact.event_id.int not in voided]
        if how is _AttributedBy.NOTHING:
            kept = group
        elif how is _AttributedBy.MONTH:
            kept = []
            for inspection in group:
                served = _inspected_month_served(periods, inspection)
                (kept if served else unassigned).append(inspection)
        else:
            if how is _AttributedBy.START:
                days = [fact.started_at.astimezone(zone).date() for fact in group]
            else:
                days = [fact.occurred_at.astimezone(zone).date() for fact in group]
            dates.update(zip([fact.event_id.int for fact in group], days, strict=True))
            kept = []
            for fact, day in zip(group, days, strict=True):
                if periods.is_active(fact.village_id, day):
                    kept.append(fact)
                    dated[kind, fact.village_id, day.year].append(fact)
                else:
                    unassigned.append(fact)
        if kept:
            by_type[kind] = kept
            counted.extend(kept)
            if activity:
                activity_ids.extend([fact.event_id for fact in kept])
    # Back to event_id order across types (each group already is).
    counted.sort(key=_event_id_int)
    unassigned.sort(key=_event_id_int)
    return AttributedHistory(
        advisor_id=history.advisor_id,
        zone=zone,
        facts=tuple(counted),
        unassigned=tuple(unassigned),
        periods=periods,
        activity_ids=frozenset(activity_ids),
        prebuilt_index=_FactIndex.of_groups(dates, by_type, dated),
    )


_event_id_int: Callable[[Fact], int] = attrgetter("event_id.int")
