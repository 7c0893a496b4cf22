"""The eventsourcing Application: commands that record facts, queries that read them.

Persistence is chosen by environment (`PERSISTENCE_MODULE` = eventsourcing.sqlite |
eventsourcing.postgres | eventsourcing.popo), never in code. Writes happen in
batches: every fact of one Kafka batch, together with the Kafka position, goes
into the store in a single transaction (DESIGN §4).
"""

from __future__ import annotations

import contextlib
import dataclasses
import sys
import threading
import typing
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import MAXYEAR, MINYEAR, date, datetime, timezone, tzinfo
from typing import Any, ClassVar, Literal, TypeVar
from uuid import UUID

import orjson
from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.domain import DomainEvent
from eventsourcing.persistence import (
    JSONTranscoder,
    ProcessRecorder,
    Tracking,
    Transcoding,
    UUIDAsHex,
)
from eventsourcing.utils import Environment

from appraisal.domain.advisor import Advisor, AdvisorInOtherCounty, other_county
from appraisal.domain.county import County, CountyFact
from appraisal.domain.ids import advisor_stream_id, county_stream_id
from appraisal.domain.ledger import FactLedger
from appraisal.domain.packed import uuid_of_int
from appraisal.policy.facts import AdvisorHistory, Fact

StreamKind = Literal["advisor", "county"]
PG_PROCESS_RECORDER = "appraisal.pg_recorder:ArrayInsertProcessRecorder"
SQLITE_PROCESS_RECORDER = "appraisal.sqlite_recorder:StreamVersionsSQLiteRecorder"
TRANSCODER = "appraisal.application:OrjsonTranscoder"
L = TypeVar("L", bound=FactLedger)


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class SharedValues:
    """Makes equal values of facts one object: strings interned, and one `timezone` per
    UTC offset. Every parse (`fromisoformat`, pydantic) makes a new zone object per
    datetime (~80 bytes, ~2 per fact) and a new string per field, all held while a
    ledger is cached; ids, villages, channels and offsets repeat across facts."""

    # Fields unique by design (or free text): interning them would only grow the
    # interpreter's table of interned strings.
    UNIQUE = frozenset(
        {"case_ref", "citizen_ref", "comment", "complaint_id", "license_no", "rating_id", "summary"}
    )

    def __init__(self) -> None:
        self._zones: dict[tzinfo, tzinfo] = {}  # at most one per UTC offset

    def datetime(self, value: datetime) -> datetime:
        zone = value.tzinfo
        if zone is None:
            return value
        shared = self._zones.setdefault(zone, zone)
        if shared is zone:
            return value
        if type(shared) is timezone and not value.fold and MINYEAR < value.year < MAXYEAR:
            # The same wall time and zone as `replace(tzinfo=shared)` (equal zones have
            # equal offsets), ten times faster: `replace` parses keywords (0.7 µs, a
            # fifth of decoding a stored event, issue #8). Its fold is 0, as here; at
            # the ends of the calendar the shift through UTC could overflow.
            return value.astimezone(shared)
        return value.replace(tzinfo=shared)

    def fields(self, values: dict[str, Any]) -> dict[str, Any]:
        """`values` with its repeating strings interned, every datetime's zone shared,
        and equal datetimes one object: an activity's event time is usually one of its
        own instants (a duty's end, a lecture's start, a question's time), and each
        datetime object costs 48 bytes for as long as the fact is held (issue #8, B4)."""
        unique, intern, share = self.UNIQUE, sys.intern, self.datetime  # once per call
        seen: list[datetime] = []
        for name, value in values.items():
            if type(value) is str:
                if name not in unique:
                    values[name] = intern(value)
            elif isinstance(value, datetime):
                value = share(value)
                for prior in seen:
                    # Same zone object and fold: the same text, offset and instant.
                    if prior == value and prior.tzinfo is value.tzinfo and prior.fold == value.fold:
                        value = prior
                        break
                else:
                    seen.append(value)
                values[name] = value
        return values


SHARED = SharedValues()


class DatetimeSharingZones(Transcoding):
    """The library's `datetime_iso` (same name, same text), decoding every offset into
    one shared `timezone` object (`SharedValues`)."""

    type = datetime
    name = "datetime_iso"

    def encode(self, obj: datetime) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> datetime:
        return SHARED.datetime(datetime.fromisoformat(data))


class UUIDFromHex(UUIDAsHex):
    """The library's `uuid_hex` (same name, same text), decoding the 32 hex digits it
    writes without `UUID.__init__`'s clean-up of other forms (0.87 → 0.35 µs; one or
    two per stored event). Any other text goes to `UUID` as before."""

    def decode(self, data: str) -> UUID:
        if type(data) is str and len(data) == 32:
            # What `UUID(data)` does with 32 characters: `int(data, 16)`, then its slots.
            return uuid_of_int(int(data, 16))
        return super().decode(data)


class FactTranscoding(Transcoding):
    """Stores a fact dataclass as its fields under a stable name ("fact.Lecture").

    The name, not the module path, identifies the fact in the store, so fact
    classes can move between modules without rewriting history.
    """

    def __init__(self, cls: type[Any]) -> None:
        self.type = cls
        self.name = "fact." + cls.__name__
        self._fields = tuple(f.name for f in dataclasses.fields(cls))

    def encode(self, obj: Any) -> dict[str, Any]:
        return {name: getattr(obj, name) for name in self._fields}

    def encode_plain(self, obj: Any, uuid: Transcoding) -> dict[str, Any]:
        """`encode`, with every UUID already in its stored form (`uuid`'s), for a
        serialiser that would write UUIDs its own way; `_NotPlain` when a field holds
        anything but text, an integer, a boolean, None, a date, a datetime or a UUID."""
        data = {}
        for name in self._fields:
            value = getattr(obj, name)
            kind = type(value)
            if kind is UUID:
                value = {"_type_": uuid.name, "_data_": uuid.encode(value)}
            elif kind not in _PLAIN:
                raise _NotPlain(name)
            data[name] = value
        return data

    def decode(self, data: dict[str, Any]) -> Any:
        return self.type(**SHARED.fields(data))


class _FloatFound(Exception):
    """orjson made a float, perhaps of an integer beyond 64 bits."""


class _NotPlain(Exception):
    """A state holds something orjson would write otherwise than the library."""


_CONTAINERS_OR_FLOAT = frozenset({dict, list, float})
# Values orjson and the library write alike (the dates through the library's
# transcodings: orjson passes them to `default`).
_PLAIN = frozenset({str, int, bool, type(None), datetime, date})
_ORJSON_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


class OrjsonTranscoder(JSONTranscoder):
    """eventsourcing's JSON transcoder, writing and parsing stored state with orjson.

    Encoding gives the library's bytes: a state made of text, integers, booleans,
    None, datetimes and facts whose fields are those, dates or UUIDs, in dicts and
    lists — a recorded fact's event, a ledger's snapshot — is written by orjson,
    datetimes, dates and facts through the library's transcodings and UUIDs put in
    their stored form first (orjson would write them as text); anything else — a
    policy document, a float, an integer beyond 64 bits, a lone surrogate, a UUID
    outside a fact — is written by the library's encoder (tested byte for byte).

    Decoding gives the same objects: orjson parses into plain dicts and lists (half
    the time of `json` with an object hook on these states), then every dict,
    innermost first, goes through the library's own rule (`_decode_obj`), as the hook
    would have. orjson reads integers beyond 64 bits as floats, so state holding any
    float (rare: facts hold none) is parsed again by the library's decoder, as is text
    orjson refuses (NaN, lone surrogates).
    """

    def __init__(self) -> None:
        super().__init__()
        self._revive = self._reviver()

    def encode(self, obj: Any) -> bytes:
        try:
            alike = type(obj) is dict and self._alike(obj)
        except RecursionError:  # nesting too deep to check: the library decides
            alike = False
        if alike:
            try:
                return orjson.dumps(obj, default=self._plain, option=_ORJSON_OPTIONS)
            except orjson.JSONEncodeError:
                pass  # _NotPlain, or what orjson refuses: the library decides
        return super().encode(obj)

    def _alike(self, value: Any) -> bool:
        """Whether orjson would write `value` as the library does: text, integers,
        booleans, None, dates, datetimes and facts (their fields are checked as they
        are written), in dicts with text keys and lists, however nested."""
        kind = type(value)
        if kind in _PLAIN:
            return True
        if kind is dict:
            return all(type(key) is str for key in value) and all(
                self._alike(item) for item in value.values()
            )
        if kind is list:
            return all(self._alike(item) for item in value)
        return isinstance(self.types.get(kind), FactTranscoding)

    def _plain(self, obj: Any) -> dict[str, Any]:
        """orjson's `default`: a fact or a date(time) as the library writes it."""
        transcoding = self.types.get(type(obj))
        if isinstance(transcoding, FactTranscoding):
            data = transcoding.encode_plain(obj, self.types[UUID])
            return {"_type_": transcoding.name, "_data_": data}
        if transcoding is not None and type(obj) in _PLAIN:  # a date or a datetime
            return {"_type_": transcoding.name, "_data_": transcoding.encode(obj)}
        raise _NotPlain(type(obj).__name__)

    def decode(self, data: bytes) -> Any:
        try:
            return self._revive(orjson.loads(data))
        except (orjson.JSONDecodeError, _FloatFound):
            return super().decode(data)

    def _reviver(self) -> Callable[[Any], Any]:
        names = self.names  # registrations after this still count: the same dict
        decode_obj = self._decode_obj
        special = _CONTAINERS_OR_FLOAT

        def revive(value: Any) -> Any:
            kind = type(value)
            if kind is dict:
                for key, item in value.items():
                    if type(item) in special:
                        value[key] = revive(item)
                if len(value) == 2 and "_data_" in value:
                    transcoding = names.get(value.get("_type_"))
                    if transcoding is not None:
                        return transcoding.decode(value["_data_"])
                    return decode_obj(value)  # the library's answer, or its error
                return value
            if kind is list:
                return [revive(item) if type(item) in special else item for item in value]
            if kind is float:
                raise _FloatFound
            return value

        return revive


def mutate_all(aggregate: Any, events: Iterable[Any]) -> Any:
    """Apply `events` in order: eventsourcing's `project_aggregate` without its
    per-event runtime Protocol check (`isinstance(e, CanMutateProtocol)`), which on
    Python 3.11 cost more than decoding the event and dominated rebuilding ledgers.
    Every event of these streams is an `Aggregate.Event`."""
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate


def mutate_for_cache(aggregate: Any, events: Iterable[Any]) -> Any:
    """`mutate_all`, leaving the ledger as the application's cache keeps it (see
    `FactLedger.cached_with_facts`): a loaded advisor without its facts."""
    ledger = mutate_all(aggregate, events)
    _as_cached(ledger)
    return ledger


def _as_cached(ledger: Any) -> None:
    if isinstance(ledger, FactLedger) and not type(ledger).cached_with_facts:
        ledger.keep_ids_only()


FACT_TYPES: tuple[type[Any], ...] = (*typing.get_args(Fact), *typing.get_args(CountyFact))


@dataclass(frozen=True, slots=True)
class Recordable:
    """One fact for one stream (an advisor's history or a county's register)."""

    stream: StreamKind
    key: str
    fact: Any
    county_id: str
    recorded_at: datetime | None = None


@dataclass
class Screening:
    """`AppraisalApplication.screen`'s answer: items to record, items refused, and
    the advisors' ledgers it read."""

    kept: list[Recordable]
    refused: list[tuple[Recordable, AdvisorInOtherCounty]]
    loaded: dict[UUID, FactLedger]


@dataclass
class RecordOutcome:
    """What a batch changed: ids newly recorded, ids the store already held, and the
    items the advisors' ledgers refused (see `AppraisalApplication.screen`)."""

    recorded: list[UUID] = field(default_factory=list)
    duplicates: list[UUID] = field(default_factory=list)
    refused: list[tuple[Recordable, AdvisorInOtherCounty]] = field(default_factory=list)
    touched_advisors: set[str] = field(default_factory=set)
    touched_counties: set[str] = field(default_factory=set)


class AppraisalApplication(Application[UUID]):
    """Advisor histories and county registers, in one event store."""

    name = "appraisal"
    # Advisors are not snapshotted: the cache keeps them without their facts (a
    # snapshot needs them), and loading an advisor from a snapshot was barely faster
    # than from its events (1,008 facts: 3.2 vs 3.6 ms; decoding the facts is the
    # cost either way), while writing one cost the consumer ~2 ms per 500 facts and
    # stored every fact a second time (issue #8). Snapshots stored before still load.
    snapshotting_intervals: ClassVar[dict[type[Any], int]] = {County: 500}
    # Ledgers stay in an LRU cache (fast-forwarded from the store on every get, so
    # other instances' writes are seen); advisors by their facts' ids only
    # (`Advisor.cached_with_facts`). No deep copy on get: a failed write evicts
    # the ledgers it touched instead, so a half-applied one is never reused.
    env: ClassVar[dict[str, str]] = {
        "AGGREGATE_CACHE_MAXSIZE": "2000",
        "DEEPCOPY_FROM_AGGREGATE_CACHE": "n",
    }

    def __init__(self, env: Any = None) -> None:
        self._ledgers_lock = threading.RLock()  # see `ledger`
        super().__init__(env=env)

    def construct_env(self, name: str, env: Any = None) -> Environment:
        environment = super().construct_env(name, env)
        module = environment.get("PERSISTENCE_MODULE") or ""
        if not environment.get("PROCESS_RECORDER_TOPIC"):
            if module.endswith("postgres"):
                # Batches inserted as arrays psycopg dumps in C (`appraisal.pg_recorder`).
                environment["PROCESS_RECORDER_TOPIC"] = PG_PROCESS_RECORDER
            elif module.endswith("sqlite"):
                environment["PROCESS_RECORDER_TOPIC"] = SQLITE_PROCESS_RECORDER
        if not environment.get("TRANSCODER_TOPIC"):
            environment["TRANSCODER_TOPIC"] = TRANSCODER
        return environment

    def construct_recorder(self) -> ProcessRecorder:
        # A process recorder stores tracking (the Kafka position) in the same
        # transaction as the events it produced.
        return self.factory.process_recorder()

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())
        transcoder.register(DatetimeSharingZones())  # replaces the library's datetime_iso
        transcoder.register(UUIDFromHex())  # replaces the library's uuid_hex
        for cls in FACT_TYPES:
            transcoder.register(FactTranscoding(cls))

    # --- commands ------------------------------------------------------------

    def record(
        self,
        items: Iterable[Recordable],
        tracking: Tracking | None = None,
        loaded: dict[UUID, FactLedger] | None = None,
    ) -> RecordOutcome:
        """Record every fact not yet held, and `tracking`, in one transaction.

        Facts already recorded (same event id) are reported as duplicates and
        change nothing; facts an advisor refuses (another county) are reported as
        refused and change nothing. With `tracking`, a position recorded before
        raises IntegrityError and nothing of the batch is written. `loaded`: ledgers
        just read at their newest version (`screen`), used instead of reading again.
        """
        outcome = RecordOutcome()
        ledgers: dict[UUID, FactLedger] = dict(loaded or {})
        try:
            with self._ledgers_lock:
                self._record_items(items, tracking, ledgers, outcome)
        except BaseException:
            if self.repository.cache is not None:
                for stream_id in ledgers:
                    with contextlib.suppress(KeyError):
                        self.repository.cache.get(stream_id, evict=True)
            raise
        return outcome

    def _record_items(
        self,
        items: Iterable[Recordable],
        tracking: Tracking | None,
        ledgers: dict[UUID, FactLedger],
        outcome: RecordOutcome,
    ) -> None:
        for item in items:
            ledger = self._ledger_for(item.stream, item.key, ledgers)
            try:
                recorded = ledger.record(
                    item.fact, county_id=item.county_id, recorded_at=item.recorded_at
                )
            except AdvisorInOtherCounty as refusal:
                outcome.refused.append((item, refusal))
                continue
            if recorded:
                outcome.recorded.append(item.fact.event_id)
                if item.stream == "advisor":
                    outcome.touched_advisors.add(item.key)
                else:
                    outcome.touched_counties.add(item.key)
            else:
                outcome.duplicates.append(item.fact.event_id)
        processing = ProcessingEvent[UUID](tracking=tracking)
        for ledger in ledgers.values():
            # `processing.collect_events(ledger)`, without its two runtime Protocol
            # checks per ledger (~2 % of the consumer's samples, issue #8): a ledger
            # is an aggregate, never a domain event.
            processing.events.extend(ledger.collect_events())
            processing.aggregates[ledger.id] = ledger
        if processing.events or tracking is not None:
            recordings = self._record(processing)
            self._snapshot_ledgers(ledgers, processing)
            self._notify(recordings)
            if self.repository.cache is not None:
                for stream_id, ledger in ledgers.items():
                    _as_cached(ledger)
                    self.repository.cache.put(stream_id, ledger)

    def _snapshot_ledgers(
        self, ledgers: dict[UUID, FactLedger], processing: ProcessingEvent[UUID]
    ) -> None:
        """Snapshot every ledger whose new events reached a multiple of its interval.

        From the ledger in hand, which is at its newest version: the library's
        `take_snapshot` first rebuilds the aggregate from the store, which cost a
        fifth of the consumer's time (issue #8).
        """
        if self.snapshots is None:
            return
        due: dict[UUID, FactLedger] = {}
        for event in processing.events:
            ledger = ledgers[event.originator_id]
            interval = self.snapshotting_intervals.get(type(ledger))
            if interval and event.originator_version % interval == 0:
                due[event.originator_id] = ledger
        snapshots = []
        for ledger in due.values():
            snapshot_class: Any = getattr(type(ledger), "Snapshot", self.snapshot_class)
            snapshots.append(snapshot_class.take(ledger))
        if snapshots:
            self.snapshots.put(snapshots)

    def screen(self, items: Sequence[Recordable]) -> Screening:
        """Split `items` into those `record` would take and those it would refuse,
        writing nothing: the consumer dead-letters refusals before it stores the rest.

        Follows `Advisor.record` in order: within the batch the first new event files
        a new advisor; an event already held is a duplicate, never a refusal. The
        advisors it loaded can be handed to `record` so they are not read twice.
        """
        kept: list[Recordable] = []
        refused: list[tuple[Recordable, AdvisorInOtherCounty]] = []
        # In order of first appearance: `loaded` orders the batch's events (below).
        ids = {
            key: advisor_stream_id(key)
            for key in dict.fromkeys(item.key for item in items if item.stream == "advisor")
        }
        newest = self._newest_ledgers(list(ids.values()))
        stored: dict[str, Advisor | None] = {key: newest[i] for key, i in ids.items()}
        filed: dict[str, str] = {}
        batch: set[UUID] = set()
        for item in items:
            if item.stream != "advisor":
                kept.append(item)
                continue
            advisor = stored[item.key]
            under = filed.get(item.key) or (advisor.county_id if advisor is not None else "")
            event_id = item.fact.event_id
            held = event_id in batch or (advisor is not None and advisor.knows(event_id))
            if not held and other_county(under, item.county_id):
                refused.append((item, AdvisorInOtherCounty(item.key, under, item.county_id)))
                continue
            batch.add(event_id)
            filed[item.key] = under or item.county_id
            kept.append(item)
        loaded: dict[UUID, FactLedger] = {
            advisor.id: advisor for advisor in stored.values() if advisor is not None
        }
        return Screening(kept, refused, loaded)

    def _newest_ledgers(self, stream_ids: Sequence[UUID]) -> dict[UUID, Any]:
        """The newest ledger of each stream (None where the store has none), as
        `ledger` reads them. A cached ledger is fast-forwarded by reading its stream
        after its version, one query per stream; where the recorder can tell every
        stream's newest version in one query (`ArrayInsertProcessRecorder
        .stream_versions`), cached ledgers found current are used as they are, and
        only the others are read (`.sqlite_recorder` does the same on SQLite)."""
        found: dict[UUID, Any] = {}
        versions_of = getattr(self.recorder, "stream_versions", None)
        cache = self.repository.cache
        if versions_of is not None and cache is not None and stream_ids:
            with self._ledgers_lock:
                cached: dict[UUID, Any] = {}
                for stream_id in stream_ids:
                    with contextlib.suppress(KeyError):
                        cached[stream_id] = cache.get(stream_id)
                versions = versions_of(list(cached)) if cached else {}
                for stream_id, ledger in cached.items():
                    if versions.get(stream_id) == ledger.version:
                        found[stream_id] = ledger
        for stream_id in stream_ids:
            if stream_id not in found:
                try:
                    found[stream_id] = self.ledger(stream_id)
                except AggregateNotFoundError:
                    found[stream_id] = None
        return found

    def _ledger_for(
        self, stream: StreamKind, key: str, loaded: dict[UUID, FactLedger]
    ) -> FactLedger:
        stream_id = advisor_stream_id(key) if stream == "advisor" else county_stream_id(key)
        ledger = loaded.get(stream_id)
        if ledger is None:
            try:
                ledger = self.ledger(stream_id)
            except AggregateNotFoundError:
                ledger = Advisor(key) if stream == "advisor" else County(key)
            loaded[stream_id] = ledger
        return ledger

    # --- queries -------------------------------------------------------------

    def ledger(self, stream_id: UUID, version: int | None = None) -> Any:
        """The ledger of a stream: at `version` with its facts, from the store; else
        the newest, from the cache as it keeps it (an advisor by its facts' ids only,
        `FactLedger.cached_with_facts`) or loaded into it.

        Cached ledgers are shared, not copied: `record` changes them in place before
        its transaction commits, and a get fast-forwards them from the store. Both
        hold `_ledgers_lock`, or a read could apply stored events to a ledger that
        a batch being recorded had already moved on (`OriginatorVersionError`)."""
        if version is not None:
            return self.repository.get(stream_id, version=version, projector_func=mutate_all)
        with self._ledgers_lock:
            return self.repository.get(stream_id, projector_func=mutate_for_cache)

    def knows(self, stream: StreamKind, key: str, event_id: UUID) -> bool:
        """Whether the advisor's (or county's) ledger holds the fact `event_id`."""
        stream_id = advisor_stream_id(key) if stream == "advisor" else county_stream_id(key)
        try:
            return bool(self.ledger(stream_id).knows(event_id))
        except AggregateNotFoundError:
            return False

    def filed_county(self, advisor_id: str) -> str | None:
        """The county the advisor is filed under (None for an unknown advisor)."""
        try:
            return str(self.ledger(advisor_stream_id(advisor_id)).county_id)
        except AggregateNotFoundError:
            return None

    def advisor(self, advisor_id: str, *, as_of: datetime | None = None) -> Advisor | None:
        """The advisor's history, as it stood at `as_of` (default: now)."""
        return self._get(advisor_stream_id(advisor_id), as_of, Advisor)

    def county(self, county_id: str, *, as_of: datetime | None = None) -> County | None:
        """The county's register, as it stood at `as_of` (default: now)."""
        return self._get(county_stream_id(county_id), as_of, County)

    def history(self, advisor_id: str, *, as_of: datetime | None = None) -> AdvisorHistory:
        """The advisor's facts as plain data for the rules (empty if unknown)."""
        advisor = self.advisor(advisor_id, as_of=as_of)
        return AdvisorHistory(advisor_id, advisor.facts() if advisor else ())

    def stored_facts(self, advisor_id: str) -> Sequence[Advisor.FactRecorded]:
        """Every FactRecorded event of the advisor, in stored order (for auditors)."""
        return [
            e
            for e in self.events.get(advisor_stream_id(advisor_id))
            if isinstance(e, FactLedger.FactRecorded)
        ]

    def _get(self, stream_id: UUID, as_of: datetime | None, cls: type[L]) -> L | None:
        ledger: Any
        try:
            if as_of is None:
                ledger = self.ledger(stream_id)
                if not ledger.holds_facts:  # the cache keeps only ids: read the facts
                    ledger = self.ledger(stream_id, version=ledger.version)
            else:
                version = self._version_at(stream_id, as_of)
                if version is None:
                    return None
                ledger = self.ledger(stream_id, version=version)
        except AggregateNotFoundError:
            return None
        assert isinstance(ledger, cls)
        return ledger

    def _version_at(self, stream_id: UUID, as_of: datetime) -> int | None:
        """The last version of a stream recorded at or before `as_of`."""
        version = None
        for event in self.events.get(stream_id):
            assert isinstance(event, DomainEvent)
            if event.timestamp > as_of:
                break
            version = event.originator_version
        return version
