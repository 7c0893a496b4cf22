"""Fact ledgers: aggregates that record each wire event at most once.

An advisor's history and a county's register are both *ledgers of facts*: plain,
frozen value objects (see `appraisal.policy.facts`) keyed by the wire `event_id`.
Recording a fact whose id the ledger already holds triggers nothing, so replays,
redeliveries and re-sent events never change state twice (DESIGN §4).

Memory: a ledger holds the facts the rules need anyway, indexed by the 128-bit
integer of each fact's event id (the very int object its UUID holds, so the index
costs no object of its own). Deciding what is new needs only the ids: the write
side's cache keeps advisors that way (`keep_ids_only`, issue #8), and reads that
need the facts load them from the store.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any, ClassVar, Protocol
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.domain import Snapshot as LibrarySnapshot

from appraisal.domain.packed import FactCodec, PackedFacts


class Fact(Protocol):
    """What a ledger needs of a fact: its wire identity and when it happened."""

    @property
    def event_id(self) -> UUID: ...

    @property
    def occurred_at(self) -> datetime: ...


class FactsNotHeld(LookupError):
    """The ledger keeps only its facts' ids (`FactLedger.keep_ids_only`)."""


class FactIds:
    """The ids of a ledger's facts without the facts: what `knows` and `record` need.

    Takes an item as the facts' dict does, so `FactRecorded.apply` (and a cached
    ledger fast-forwarded by the store's newer events) records into it unchanged.

    Compact: the 128-bit ids sit sorted in two arrays of 64-bit halves (16 bytes an
    id), looked up by bisection in C; new ids wait in a small set until
    `MERGE_AT` of them are merged in. A set of int objects cost ~106 bytes an id
    (the int 45, its slot in a set kept under 60 % full ~61): ~110 MB of the
    service's memory at 1M events (issue #8, B4).
    """

    __slots__ = ("_high", "_low", "_new")
    MERGE_AT = 128
    _MASK = (1 << 64) - 1

    def __init__(self, ids: Iterable[int] = ()) -> None:
        self._high = array("Q")
        self._low = array("Q")
        self._new: set[int] = set()
        given = set(ids)
        for key in given:
            _check(key)
        self._merge(given)

    def __setitem__(self, key: int, _fact: object) -> None:
        # A ledger records only ids it does not know (`FactLedger.record`), and the
        # store holds each once: no lookup first (a repeat would be counted twice by
        # `len` until the next merge drops it; `in` is right either way).
        _check(key)
        self._new.add(key)
        if len(self._new) >= self.MERGE_AT:
            new, self._new = self._new, set()
            self._merge(new)

    def __contains__(self, key: object) -> bool:
        if key in self._new:
            return True
        if type(key) is not int or key < 0 or key >> 128:
            return False
        high, low = key >> 64, key & self._MASK
        highs, lows = self._high, self._low
        i = bisect_left(highs, high)
        n = len(highs)
        while i < n and highs[i] == high:  # ids sharing their high half: a short run
            if lows[i] == low:
                return True
            i += 1
        return False

    def __len__(self) -> int:
        return len(self._high) + len(self._new)

    def __iter__(self) -> Iterator[int]:
        for high, low in zip(self._high, self._low, strict=True):
            yield high << 64 | low
        yield from self._new

    def _merge(self, ids: set[int]) -> None:
        """Merge `ids` (checked, not in `_new`) into the sorted halves."""
        merged = list(dict.fromkeys(sorted((*self, *ids))))  # sorted, each id once
        self._high = array("Q", (key >> 64 for key in merged))
        self._low = array("Q", (key & self._MASK for key in merged))
        self._new = set()


def _check(key: int) -> None:
    if key < 0 or key >> 128:
        raise ValueError(f"a fact id is a 128-bit unsigned integer, got {key}")


class FactLedger(Aggregate):
    """Base for aggregates whose state is a set of facts, each recorded once.

    v2 keys the facts by `event_id.int` instead of `event_id.hex`: a 32-digit string
    per fact was 81 of the ~480 bytes a fact costs in memory (issue #8). Snapshots
    taken as v1 (keyed by hex) are upcast on load.
    """

    class_version = 2

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        # Each key was its fact's `event_id.hex`: index by the int the fact already holds.
        state["_facts"] = {fact.event_id.int: fact for fact in state["_facts"].values()}

    class Snapshot(LibrarySnapshot):
        """A ledger's snapshot, its facts stored as a list: JSON object keys are text,
        and the ledger's are integers."""

        @classmethod
        def take(cls, aggregate: Any) -> Any:
            snapshot = super().take(aggregate)
            snapshot.state["_facts"] = list(aggregate._held().values())
            return snapshot

        def mutate(self, _: None) -> Any:
            ledger = super().mutate(None)
            facts = vars(ledger)["_facts"]
            if isinstance(facts, list):
                vars(ledger)["_facts"] = {fact.event_id.int: fact for fact in facts}
            return ledger

    class FactRecorded(Aggregate.Event):
        """A fact was recorded, with the county its wire event named.

        v2 added `recorded_at` (when ingest accepted the wire event), kept for the
        auditors' history view; events stored as v1 are upcast with None.
        """

        class_version = 2

        fact: Any
        county_id: str
        recorded_at: datetime | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["recorded_at"] = None

        def apply(self, aggregate: Any) -> None:
            aggregate._facts[self.fact.event_id.int] = self.fact
            if self.county_id:
                aggregate.county_id = self.county_id

    cached_with_facts: ClassVar[bool] = True
    """Whether the application's cache keeps this kind of ledger with its facts (else
    `keep_ids_only`: the write side decides what is new from the ids alone)."""

    def __init__(self) -> None:
        self._facts: dict[int, Any] | FactIds | PackedFacts = {}

    def knows(self, event_id: UUID) -> bool:
        """True when a fact with this wire event id has been recorded."""
        return event_id.int in self._facts

    def record(self, fact: Fact, county_id: str = "", recorded_at: datetime | None = None) -> bool:
        """Record `fact` unless its event id is already here; True when recorded."""
        if self.knows(fact.event_id):
            return False
        self.trigger_event(
            self.FactRecorded, fact=fact, county_id=county_id, recorded_at=recorded_at
        )
        return True

    @property
    def fact_count(self) -> int:
        return len(self._facts)

    @property
    def holds_facts(self) -> bool:
        """False once `keep_ids_only` dropped the facts."""
        return not isinstance(self._facts, FactIds)

    def keep_ids_only(self) -> None:
        """Drop the facts and keep their ids: still enough for `knows`, `record` and
        `fact_count`, no longer for `facts()` or a snapshot (both raise FactsNotHeld).

        A fact costs ~400 bytes in memory, its id ~35: the appraisal service's write
        side held every advisor's whole history only to tell new facts from old ones
        (issue #8, B4)."""
        if not isinstance(self._facts, FactIds):
            self._facts = FactIds(self._facts)

    def keep_packed(self, codec: FactCodec) -> None:
        """Keep the facts packed into bytes (`PackedFacts`): 38–165 bytes a fact (~90
        on average) instead of ~366, decoded again on each `facts()` (~2.3 µs a fact).
        For the projector's copies, read only to be appraised (issue #8, B4). Not from
        ids only."""
        facts = self._held()
        if not isinstance(facts, PackedFacts):
            self._facts = PackedFacts(codec, facts.values())

    def _held(self) -> dict[int, Any] | PackedFacts:
        facts = self._facts
        if isinstance(facts, FactIds):
            raise FactsNotHeld(
                f"{type(self).__name__} {self.id} keeps only its facts' ids (a cached "
                f"copy of the write side); load it from the store to read its facts"
            )
        return facts

    def facts(self) -> tuple[Any, ...]:
        """All facts in a canonical order (event time, then id): never arrival order."""
        facts = self._held()
        if isinstance(facts, PackedFacts):
            return tuple(facts.values())  # kept in that order
        return tuple(sorted(facts.values(), key=_canonical))

    def facts_of(self, *kinds: type) -> tuple[Any, ...]:
        """The facts of these classes, in the canonical order of `facts()`.

        Filtered before sorting: a county's few policies and closes among its
        thousands of village registrations cost a scan, not a sort (issue #8, B3)."""
        facts = self._held()
        if isinstance(facts, PackedFacts):
            return tuple(f for f in facts.values() if isinstance(f, kinds))
        return tuple(sorted((f for f in facts.values() if isinstance(f, kinds)), key=_canonical))


def _canonical(fact: Any) -> tuple[datetime, int]:
    # `event_id.int` orders exactly as the 32-digit `.hex` and costs no formatting.
    # The instant in UTC orders exactly as `occurred_at`, but every parsed offset is its
    # own tzinfo object and comparing aware datetimes across tzinfo objects goes through
    # utcoffset(); in UTC they share one tzinfo (a shuffled ledger sorts ~3.5x faster).
    return (fact.occurred_at.astimezone(UTC), fact.event_id.int)
