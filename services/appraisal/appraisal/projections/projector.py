"""The appraisal projection: event store notifications → read models and verdicts.

Reads the event store's notification log after its tracked position and writes
the views with the new position in one transaction, so a crash never loses or
repeats a step. Everything is a function of the notification log alone, which
is what makes a replay from zero byte-identical (DESIGN §4):

- an advisor is appraised from its history *as of* the notification being
  processed (`repository.get(id, version=...)`), never from a newer head;
- county registers (villages, policies, closed years) are kept in memory as of
  the projection's position, rebuilt from the log on start;
- a published policy or a closed year is a step of its own, so what counts as
  "before the close" never depends on how notifications were batched;
- in a closed year every causing event gets its own verdict version, for the
  same reason: versions follow events, not batches.

County summaries and award shortlists are derived from the rows alone, so they
are recomputed after each step for the county-years it marked dirty.
"""

from __future__ import annotations

import bisect
import logging
import time
import typing
from array import array
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID
from zoneinfo import ZoneInfo

from eventsourcing.persistence import Notification, Tracking
from eventsourcing.utils import get_topic

from appraisal.application import AppraisalApplication, SharedValues
from appraisal.domain.advisor import Advisor
from appraisal.domain.county import (
    PROVINCE,
    County,
    PeriodClosed,
    PolicyPublished,
    published_policies,
)
from appraisal.domain.ledger import FactLedger
from appraisal.domain.packed import FactCodec
from appraisal.policy import (
    AdvisorHistory,
    AdvisorYearAppraisal,
    AssignmentAppraisal,
    AwardCategory,
    ComplaintFiled,
    ComplaintResolved,
    Fact,
    PolicyDocument,
    PrcCalendar,
    Voided,
    WorkdayCalendar,
    appraise_years,
    rank_awards,
    select_policy,
)
from appraisal.projections import shapes
from appraisal.projections.store import (
    AdvisorStreamRow,
    AdvisorYearRow,
    AppraisalViews,
    AssignmentRow,
    AwardRow,
    CountyYearRow,
    VerdictVersionRow,
    ViewChanges,
    ZippedJson,
)
from appraisal.projections.workers import SegmentPool, shareable

log = logging.getLogger(__name__)

PROJECTION_NAME = "appraisal-views"
# Notifications per replay segment at most. Each segment re-appraises every advisor it
# touches over the whole ledger, so a segment should span the log between two county
# changes (policies, closes); a limit of 1,000,000 split a 1.03M-event store into a
# full segment and a 34k tail that re-appraised all 1,808 advisors again (B2 -15 %).
# A segment holds 8 bytes per notification (40 MB at the limit) besides the ledgers.
SEGMENT_LIMIT = 5_000_000
PROGRESS_EVERY = 100  # advisors between progress reports within a segment
# Worker processes (`catch_up_by_segments(workers=N)`) take a segment from this many
# advisor notifications: below it, starting them costs more than they save.
PARALLEL_FROM = 20_000
CHUNK = 10_000  # advisor notifications per task handed to a worker (at least one advisor)
CHANGE_CHUNK = 100  # advisors per task of a county change handed to a worker
_T = TypeVar("_T")
# How the projector keeps its advisors' facts (`FactLedger.keep_packed`, issue #8 B4).
ADVISOR_FACTS = FactCodec(typing.get_args(Fact), unique=SharedValues.UNIQUE)
LOCAL_ZONE = ZoneInfo("Asia/Shanghai")


def _outcome(message: dict[str, Any]) -> tuple[Any, ...]:
    """What of a verdict message, when it changes in a closed year, makes an amendment."""
    return (
        message["verdict"],
        message["grade"],
        message["score"],
        message["policy_id"],
        [(r["code"], r["observed"], r["threshold"]) for r in message["reasons"]],
    )


@dataclass
class _Step:
    """What one step of the projection changes, keyed so later writes win."""

    replace: set[tuple[str, int]] = field(default_factory=set)
    assignments: dict[tuple[str, int, str, str], AssignmentRow] = field(default_factory=dict)
    advisor_years: dict[tuple[str, int, str], AdvisorYearRow] = field(default_factory=dict)
    versions: dict[tuple[str, int, str, str], list[VerdictVersionRow]] = field(default_factory=dict)
    streams: dict[str, AdvisorStreamRow] = field(default_factory=dict)
    dirty: set[tuple[str, int]] = field(default_factory=set)
    # The latest stored verdict of every assignment of these (county, year)s, read
    # at once where a step re-appraises a whole county (a close, a policy).
    latest: dict[tuple[str, int], dict[tuple[str, str], dict[str, Any]]] = field(
        default_factory=dict
    )

    def merge(self, other: _Step) -> None:
        """Add `other`'s changes, made after this step's (other advisors' rows)."""
        self.replace |= other.replace
        self.assignments.update(other.assignments)
        self.advisor_years.update(other.advisor_years)
        for key, versions in other.versions.items():
            self.versions.setdefault(key, []).extend(versions)
        self.streams.update(other.streams)
        self.dirty |= other.dirty

    def changes(self) -> ViewChanges:
        return ViewChanges(
            replace_advisor_years=self.replace,
            assignments=list(self.assignments.values()),
            advisor_years=list(self.advisor_years.values()),
            verdict_versions=[v for vs in self.versions.values() for v in vs],
            advisor_streams=list(self.streams.values()),
            dirty_county_years=self.dirty,
        )


@dataclass(frozen=True, slots=True)
class _At:
    """A notification's position, where the notification itself is not held."""

    id: int


@dataclass(slots=True)
class _Touched:
    """An advisor stream's part of a segment: its versions and their positions."""

    first: int
    last: int
    positions: array[int]  # 8 bytes per notification (a list of ints takes ~36)


@dataclass(frozen=True, slots=True)
class _Appraised:
    """An advisor's whole ledger at one version, appraised: reusable while the policies
    the rules asked for are still the ones in force (a close changes neither)."""

    version: int
    fact_year: int  # the latest local year of any fact
    through: int
    policies: tuple[tuple[int, str, PolicyDocument], ...]  # (year, policy id, document)
    years: tuple[AdvisorYearAppraisal, ...]


@dataclass(frozen=True, slots=True)
class _Cause:
    event_ids: tuple[UUID, ...]
    seq: int
    at: datetime


class AppraisalProjector:
    """Keeps the read models current with the event store; see the module docstring."""

    def __init__(
        self,
        app: AppraisalApplication,
        views: AppraisalViews,
        calendar: WorkdayCalendar | None = None,
        name: str = PROJECTION_NAME,
        cache_size: int = 2000,
        settle_every_s: float = 0.0,
    ) -> None:
        """`settle_every_s`: while steps keep finding events, settle dirty county-years
        at most this often (0: after every step); a step that finds none always
        settles. Each settling re-reads a dirty county-year's every row, so under a
        steady stream of one county's events it cost a fifth of the projector."""
        self.app = app
        self.cache_size = cache_size
        self.settle_every_s = settle_every_s
        self._settled_at = time.monotonic()
        # Advisors as of the projection's position, advanced event by event (LRU).
        self._advisors: OrderedDict[UUID, Advisor] = OrderedDict()
        # The last appraisal of each cached advisor's whole ledger (evicted with it).
        self._appraised: dict[UUID, _Appraised] = {}
        self.views = views
        self.calendar = calendar or PrcCalendar()
        self.name = name
        self._registers: dict[str, County] = {}
        self._county_of_stream: dict[UUID, str] = {}
        self._policies_cache: dict[tuple[str, int], tuple[str, PolicyDocument]] = {}
        self._closed_cache: dict[str, frozenset[int]] = {}
        self._registers_at = 0  # the registers are as of this notification
        self._rebuild_registers(self.position)

    # --- position ------------------------------------------------------------

    @property
    def position(self) -> int:
        return self.views.max_tracking_id(self.name) or 0

    def head(self) -> int:
        """The newest notification in the event store (0 when it is empty)."""
        return self.app.recorder.max_notification_id() or 0

    def lag(self) -> int:
        """Notifications recorded but not yet projected."""
        return max(0, self.head() - self.position)

    # --- running ---------------------------------------------------------------

    def catch_up(
        self,
        page_size: int = 500,
        progress: Callable[[int, int], None] | None = None,
        stop: int | None = None,
    ) -> int:
        """Project everything recorded so far (or up to notification `stop`)."""
        total = 0
        while True:
            done = self.run_once(page_size, stop=stop)
            if not done:
                return total
            total += done
            if progress:
                progress(self.position, stop or self.app.recorder.max_notification_id() or 0)

    def catch_up_by_segments(
        self,
        limit: int = SEGMENT_LIMIT,
        progress: Callable[[int, int], None] | None = None,
        stop: int | None = None,
        workers: int = 1,
        parallel_from: int = PARALLEL_FROM,
    ) -> int:
        """Like `catch_up`, one segment (up to the next policy or close) per step.

        For replays and long backlogs: every touched advisor is appraised once per
        segment instead of once per page, with the same result (see `run_segment`).
        `progress` is told the position reached as each segment's advisors are done.
        With `workers` > 1, segments of at least `parallel_from` advisor notifications
        are projected by that many worker processes (`workers.SegmentPool`), with the
        same result; stores SQLite keeps in memory are always projected here.
        """
        pool: SegmentPool | None = None
        app_env = dict(self.app.env)
        if workers > 1 and shareable(app_env) and shareable(self.views.opened_with):
            pool = SegmentPool(app_env, self.views.opened_with, self.calendar, workers)
        total = 0
        try:
            while True:
                done = self.run_segment(
                    limit, stop=stop, progress=progress, pool=pool, parallel_from=parallel_from
                )
                if not done:
                    return total
                total += done
                if progress:
                    progress(self.position, stop or self.app.recorder.max_notification_id() or 0)
        finally:
            if pool is not None:
                pool.close()

    def run_segment(
        self,
        limit: int = SEGMENT_LIMIT,
        stop: int | None = None,
        scan: int = 5000,
        progress: Callable[[int, int], None] | None = None,
        pool: SegmentPool | None = None,
        parallel_from: int = PARALLEL_FROM,
    ) -> int:
        """Project up to the next published policy or closed year, at most `limit`
        notifications, then that county change itself (as `run_once` would).

        Only the positions of advisor notifications are held while scanning; each touched
        advisor's events are then read from its own stream, once. The projection does not
        depend on how the log is paged, so this equals `run_once` with a page ending where
        the segment ends, in memory bounded by the advisors touched, not the events.
        """
        county_topics = {get_topic(County.Created), get_topic(County.FactRecorded)}
        touched: dict[UUID | str, _Touched] = {}  # by the stream id as the scan gives it
        county_events: list[tuple[Notification, Any]] = []
        change: tuple[Notification, Any] | None = None
        before = self._synced_position()
        start = before + 1
        last, count = 0, 0
        while count < limit and change is None:
            page = _scan(self.app.recorder, start, min(scan, limit - count), stop, county_topics)
            if not page:
                break
            for position, stream, version, topic, state in page:
                if topic in county_topics:
                    notification = Notification(
                        id=position,
                        originator_id=stream if isinstance(stream, UUID) else UUID(stream),
                        originator_version=version,
                        topic=topic,
                        state=bytes(state or b""),
                    )
                    event = self.app.mapper.to_domain_event(notification)
                    if isinstance(event, County.FactRecorded) and isinstance(
                        event.fact, PolicyPublished | PeriodClosed
                    ):
                        change = (notification, event)
                        break
                    county_events.append((notification, event))
                else:
                    part = touched.get(stream)
                    if part is None:
                        touched[stream] = _Touched(version, version, array("q", (position,)))
                    else:
                        part.last = version
                        part.positions.append(position)
                last = position
                count += 1
            start = page[-1][0] + 1
        if not count and change is None:
            self.settle()
            return 0
        try:
            if count:
                report = None
                if progress is not None:
                    total = stop or self.app.recorder.max_notification_id() or 0
                    report = _offset_progress(progress, before, total)
                small = count - len(county_events) < parallel_from
                streams = {k if isinstance(k, UUID) else UUID(k): p for k, p in touched.items()}
                self._project_touched(county_events, streams, last, report, None if small else pool)
            if change is not None:
                self._project_county_change(*change, pool=pool)
                count += 1
                last = change[0].id
        except Exception:
            self._advisors.clear()
            self._appraised.clear()
            self._rebuild_registers(self.position)
            raise
        self._registers_at = last
        self._settle_if_due()
        return count

    def _project_touched(
        self,
        county_events: list[tuple[Notification, Any]],
        touched: dict[UUID, _Touched],
        position: int,
        progress: Callable[[int], None] | None = None,
        pool: SegmentPool | None = None,
    ) -> None:
        """Project a segment; `progress` is told how many notifications are done so far.

        Advisors go in the order of their stream ids, here or in `pool`'s workers
        (each advisor to its own worker, merged in stream-id order): the same rows, written
        in the same order.
        """
        step = _Step()
        for _, event in county_events:
            self._county_event(event, step)
        done = len(county_events)
        parts = [(stream_id, touched[stream_id]) for stream_id in sorted(touched, key=str)]
        if pool is not None:
            finished = [done]

            def chunk_done(chunk: Sequence[tuple[UUID, _Touched]]) -> None:
                finished[0] += sum(len(part.positions) for _, part in chunk)
                if progress is not None:
                    progress(finished[0])

            chunks = [
                chunk
                for group in pool.by_worker(parts)
                for chunk in _chunks(group, lambda part: len(part.positions), CHUNK)
            ]
            steps = pool.run("project_parts", position, chunks, done=chunk_done)
            for stream_id, _ in parts:
                step.merge(steps[stream_id])
        else:
            for index, (stream_id, part) in enumerate(parts, 1):
                self._project_part(stream_id, part, step)
                done += len(part.positions)
                if progress is not None and index % PROGRESS_EVERY == 0:
                    progress(done)
        self.views.write(step.changes(), Tracking(self.name, position))

    def project_parts(
        self, position: int, parts: Sequence[tuple[UUID, _Touched]]
    ) -> list[tuple[UUID, _Step]]:
        """Each advisor's step for its part of a segment ending at `position` (in a
        worker process: the parent merges the steps and writes them)."""
        if self._registers_at != position:
            self._rebuild_registers(position)
        steps = []
        for stream_id, part in parts:
            step = _Step()
            self._project_part(stream_id, part, step)
            steps.append((stream_id, step))
        return steps

    def project_change_parts(
        self,
        position: int,
        streams: Sequence[tuple[UUID, int]],
        from_year: int,
        cause: _Cause,
        latest: dict[tuple[str, int], dict[tuple[str, str], dict[str, Any]]],
    ) -> list[tuple[UUID, _Step]]:
        """Each advisor's step for the county change at `position` (in a worker
        process): the advisors at their `streams` versions, appraised again."""
        if self._registers_at != position:
            self._rebuild_registers(position)
        steps = []
        for stream_id, version in streams:
            step = _Step(latest=latest)
            self._appraise(self._advisor_at(stream_id, version), None, from_year, cause, step)
            step.latest = {}  # the parent's; not sent back
            steps.append((stream_id, step))
        return steps

    def _project_part(self, stream_id: UUID, part: _Touched, step: _Step) -> None:
        events = self._stream_events(stream_id, part.first, part.last)
        self._project_advisor(
            stream_id, list(zip(map(_At, part.positions), events, strict=True)), step
        )

    def _stream_events(self, stream_id: UUID, first: int, last: int) -> list[Any]:
        """The stream's events `first`..`last`; the advisor as of `first - 1` is cached."""
        cached = self._advisors.get(stream_id)
        if cached is not None and cached.version == first - 1:
            return list(self.app.events.get(stream_id, gt=first - 1, lte=last))
        advisor: Any = None
        events: list[Any] = []
        event: Any
        for event in self.app.events.get(stream_id, lte=last):
            if event.originator_version < first:
                advisor = event.mutate(advisor)
            else:
                events.append(event)
        if advisor is not None:
            self._remember(stream_id, advisor)
        return events

    def step(self, page: int) -> int:
        """One step of the live loop (`runner.project_forever`): up to `page`
        notifications, or, when more than a page waits, everything waiting (up to the
        next county change) by `run_segment`, which holds positions, not events.

        A step appraises each advisor it touches once, over the whole ledger, however
        many of the advisor's events it covers: a backlog taken in pages of 50,000
        cost a full re-appraisal per page (~6 s at 1M events, issue #8); taken whole
        it costs one. Either way the projection is the same (`run_segment`)."""
        if self.lag() > page:
            return self.run_segment()
        return self.run_once(page)

    def run_once(self, limit: int = 500, stop: int | None = None) -> int:
        """Project up to `limit` notifications after the tracked position (not past `stop`)."""
        notifications = self.app.recorder.select_notifications(
            start=self._synced_position() + 1, limit=limit, stop=stop
        )
        if not notifications:
            self.settle()
            return 0
        try:
            segment: list[tuple[Notification, Any]] = []
            for notification in notifications:
                event = self.app.mapper.to_domain_event(notification)
                fact = getattr(event, "fact", None)
                if isinstance(event, County.FactRecorded) and isinstance(
                    fact, PolicyPublished | PeriodClosed
                ):
                    self._project_segment(segment)
                    segment = []
                    self._project_county_change(notification, event)
                else:
                    segment.append((notification, event))
            self._project_segment(segment)
        except Exception:
            # In-memory state may be ahead of the committed position now.
            self._advisors.clear()
            self._appraised.clear()
            self._rebuild_registers(self.position)
            raise
        self._registers_at = notifications[-1].id
        self._settle_if_due()
        return len(notifications)

    # --- county registers --------------------------------------------------------

    def _synced_position(self) -> int:
        """The committed position, with the county registers brought to it.

        Another instance's projector may have committed steps since this one's last:
        the registers (kept in memory) must then be rebuilt as of the new position, or
        the next county event would not follow on from them. Cached advisors need no
        care: each is used only when its version is the one the step starts from.
        """
        position = self.position
        if position != self._registers_at:
            log.info("projection moved %d -> %d elsewhere; resyncing", self._registers_at, position)
            self._rebuild_registers(position)
        return position

    def _rebuild_registers(self, stop: int) -> None:
        self._registers.clear()
        self._county_of_stream.clear()
        self._policies_cache.clear()
        self._closed_cache.clear()
        self._registers_at = stop
        if not stop:
            return
        topics = [get_topic(County.Created), get_topic(County.FactRecorded)]
        start = 1
        while True:
            page = self.app.recorder.select_notifications(
                start=start, limit=1000, stop=stop, topics=topics
            )
            if not page:
                return
            for notification in page:
                self._apply_to_register(self.app.mapper.to_domain_event(notification))
            start = page[-1].id + 1

    def _apply_to_register(self, event: Any) -> County:
        if isinstance(event, County.Created):
            county = event.mutate(None)
            assert isinstance(county, County)
            self._registers[county.county_id] = county
            self._county_of_stream[event.originator_id] = county.county_id
            return county
        county = self._registers[self._county_of_stream[event.originator_id]]
        event.mutate(county)
        self._policies_cache.clear()
        self._closed_cache.pop(county.county_id, None)
        return county

    def _policy(self, county_id: str, year: int) -> tuple[str, PolicyDocument]:
        key = (county_id, year)
        if key not in self._policies_cache:
            published = published_policies(
                self._registers.get(county_id), self._registers.get(PROVINCE)
            )
            self._policies_cache[key] = select_policy(published, county_id, year)
        return self._policies_cache[key]

    def _closed_years(self, county_id: str) -> frozenset[int]:
        closed = self._closed_cache.get(county_id)
        if closed is None:
            register = self._registers.get(county_id)
            facts = register.facts_of(PeriodClosed) if register is not None else ()
            closed = frozenset(f.year for f in facts if isinstance(f, PeriodClosed))
            self._closed_cache[county_id] = closed
        return closed

    # --- steps -------------------------------------------------------------------

    def _project_segment(self, segment: Sequence[tuple[Notification, Any]]) -> None:
        if not segment:
            return
        step = _Step()
        by_advisor: dict[UUID, list[tuple[Notification, Any]]] = {}
        for notification, event in segment:
            if isinstance(event, County.Created | County.FactRecorded):
                self._county_event(event, step)
            elif isinstance(event, Advisor.Created | Advisor.FactRecorded):
                by_advisor.setdefault(event.originator_id, []).append((notification, event))
        for stream_id in sorted(by_advisor, key=str):
            self._project_advisor(stream_id, by_advisor[stream_id], step)
        self.views.write(step.changes(), Tracking(self.name, segment[-1][0].id))

    def _county_event(self, event: Any, step: _Step) -> None:
        county = self._apply_to_register(event)
        if isinstance(event, County.FactRecorded):
            # A village registered: every summary of the county may change.
            years = {*self.views.county_year_keys(county.county_id)}
            years.add(event.fact.occurred_at.astimezone(LOCAL_ZONE).year)
            step.dirty.update((county.county_id, y) for y in years)

    def _project_advisor(
        self, stream_id: UUID, items: Sequence[tuple[_At | Notification, Any]], step: _Step
    ) -> None:
        events = [e for _, e in items]
        recorded = [(n, e) for n, e in items if isinstance(e, FactLedger.FactRecorded)]
        if not recorded:
            advisor = self._advisor_at(stream_id, events[-1].originator_version, events)
            self._appraise(advisor, None, None, None, step)
            return
        closed = self._closed_years(self._county_hint(stream_id, events))
        final = self._advisor_at(stream_id, events[-1].originator_version, events)
        facts = final.facts()
        history = AdvisorHistory(final.advisor_id, facts)
        cited = _citing_years(facts)
        years = {e.fact.event_id: _earliest_year(e.fact, history, cited) for _, e in recorded}
        first_year = min(years.values())
        last_closed = max(closed, default=0)
        if any(years[e.fact.event_id] <= last_closed for _, e in recorded) and len(recorded) > 1:
            # Versions of closed years must not depend on batching: every event that can
            # change a closed year gets its own step (appraised through the closed years).
            self._step_closed_years(stream_id, items, years, last_closed, step)
        last_n, last_e = recorded[-1]
        cause = _Cause(tuple(e.fact.event_id for _, e in recorded), last_n.id, last_e.timestamp)
        since = events[0].originator_version - 1
        self._appraise(final, facts, first_year, cause, step, whole=True, since=since)

    def _step_closed_years(
        self,
        stream_id: UUID,
        items: Sequence[tuple[_At | Notification, Any]],
        years: dict[UUID, int],
        last_closed: int,
        step: _Step,
    ) -> None:
        base = items[0][1].originator_version - 1
        advisor = self.app.ledger(stream_id, version=base) if base else None
        ordered: list[Any] = list(advisor.facts()) if advisor is not None else []
        keys = [_fact_key(f) for f in ordered]
        for notification, event in items:
            advisor = event.mutate(advisor)
            if not isinstance(event, FactLedger.FactRecorded):
                continue
            key = _fact_key(event.fact)
            at = bisect.bisect_left(keys, key)
            if at == len(keys) or keys[at] != key:
                keys.insert(at, key)
                ordered.insert(at, event.fact)
            year = years[event.fact.event_id]
            if year > last_closed:
                continue
            assert isinstance(advisor, Advisor)
            cause = _Cause((event.fact.event_id,), notification.id, event.timestamp)
            self._appraise(advisor, tuple(ordered), year, cause, step, through=last_closed)

    def _county_hint(self, stream_id: UUID, events: Sequence[Any]) -> str:
        for event in reversed(events):
            if getattr(event, "county_id", ""):
                return str(event.county_id)
        cached = self._advisors.get(stream_id)
        return cached.county_id if cached is not None else ""

    def _advisor_at(self, stream_id: UUID, version: int, events: Sequence[Any] = ()) -> Advisor:
        """The advisor as of `version`: advanced from the projection's own copy when the
        events in between are at hand, else rebuilt from the store at that version."""
        advisor = self._advisors.get(stream_id)
        if advisor is not None and advisor.version == version:
            self._advisors.move_to_end(stream_id)
            return advisor
        start = 0 if advisor is None else advisor.version
        pending = [e for e in events if start < e.originator_version <= version]
        contiguous = [e.originator_version for e in pending] == list(range(start + 1, version + 1))
        if contiguous and (advisor is not None or (pending and pending[0].originator_version == 1)):
            for event in pending:
                advisor = event.mutate(advisor)
        else:
            advisor = self.app.ledger(stream_id, version=version)
        assert isinstance(advisor, Advisor)
        self._remember(stream_id, advisor)
        return advisor

    def _remember(self, stream_id: UUID, advisor: Advisor) -> None:
        advisor.keep_packed(ADVISOR_FACTS)  # ~70 bytes a fact held, not ~366 (B4)
        self._advisors[stream_id] = advisor
        self._advisors.move_to_end(stream_id)
        while len(self._advisors) > self.cache_size:
            evicted, _ = self._advisors.popitem(last=False)
            self._appraised.pop(evicted, None)

    def _project_county_change(
        self, notification: Notification, event: Any, pool: SegmentPool | None = None
    ) -> None:
        """Apply a policy or a close, and appraise every advisor it concerns again:
        here, or in `pool`'s workers once they hold the advisors (a replay)."""
        county = self._apply_to_register(event)
        fact = event.fact
        step = _Step()
        if isinstance(fact, PolicyPublished):
            from_year = fact.effective_from.year
            streams = self.views.advisor_streams(
                None if county.county_id == PROVINCE else county.county_id
            )
        else:
            from_year = fact.year
            streams = self.views.advisor_streams(county.county_id)
            step.dirty.add((county.county_id, fact.year))
        counties = {s.county_id for s in streams}
        for county_id in counties | {county.county_id} - {PROVINCE}:
            step.dirty.update((county_id, y) for y in self.views.county_year_keys(county_id))
        for county_id in counties:
            for year in self._closed_years(county_id):
                if year >= from_year:
                    step.latest[(county_id, year)] = self.views.latest_versions(county_id, year)
        cause = _Cause((fact.event_id,), notification.id, event.timestamp)
        if pool is not None and pool.started:
            items = [(UUID(s.stream_id), s.version) for s in streams]
            advisor_of = {UUID(s.stream_id): s.advisor_id for s in streams}
            chunks = [
                chunk
                for group in pool.by_worker(items)
                for chunk in _chunks(group, lambda _: 1, CHANGE_CHUNK)
            ]
            # Each chunk carries the latest verdicts of its own advisors only.
            latest = [(_latest_of(step.latest, {advisor_of[s] for s, _ in c}),) for c in chunks]
            steps = pool.run(
                "project_change_parts", notification.id, chunks, from_year, cause, per_chunk=latest
            )
            for stream_id, _ in items:
                step.merge(steps[stream_id])
        else:
            for stream in streams:
                advisor = self._advisor_at(UUID(stream.stream_id), stream.version)
                self._appraise(advisor, None, from_year, cause, step)
        self.views.write(step.changes(), Tracking(self.name, notification.id))

    def _appraise(
        self,
        advisor: Advisor,
        facts: tuple[Any, ...] | None,
        from_year: int | None,
        cause: _Cause | None,
        step: _Step,
        through: int | None = None,
        whole: bool = False,
        since: int | None = None,
    ) -> None:
        """Appraise every year of the advisor; write rows for years ≥ `from_year`.

        `facts`: the facts to appraise (`through` the last year), or None for the
        advisor's whole ledger; `whole`: the given facts are the whole ledger. A
        whole ledger is appraised through its latest year (or the last closed one)
        and the result kept, so appraising it again at the same version (a close, a
        village registered) only re-runs the rules when a policy changed; `since`:
        the version this step found the advisor at, whose kept appraisal still holds
        for the years before `from_year` (see `_appraise_whole`)."""
        county_id = advisor.county_id
        step.streams[advisor.advisor_id] = AdvisorStreamRow(
            advisor.advisor_id, str(advisor.id), county_id, advisor.version
        )
        if from_year is None or not (advisor.fact_count if facts is None else facts):
            return
        closed = self._closed_years(county_id)
        years: tuple[AdvisorYearAppraisal, ...]
        if facts is None or whole:
            years, through = self._appraise_whole(
                advisor, facts, max(closed, default=0), since, from_year
            )
        else:
            if through is None:
                through = max(
                    max(f.occurred_at.astimezone(LOCAL_ZONE).year for f in facts),
                    max(closed, default=0),
                )
            history = AdvisorHistory(advisor.advisor_id, facts)
            years = appraise_years(
                history, lambda year: self._policy(county_id, year), self.calendar, through
            )
        for year in range(from_year, through + 1):
            step.replace.add((advisor.advisor_id, year))
        for appraisal in years:
            if appraisal.year < from_year:
                continue
            step.dirty.add((county_id, appraisal.year))
            for assignment in appraisal.assignments:
                closed_year = appraisal.year in closed
                self._assignment_rows(county_id, assignment, closed_year, cause, step)
            step.advisor_years[(advisor.advisor_id, appraisal.year, county_id)] = AdvisorYearRow(
                advisor.advisor_id,
                appraisal.year,
                county_id,
                ZippedJson.of(shapes.advisor_year_body(appraisal, county_id)),
            )

    def _appraise_whole(
        self,
        advisor: Advisor,
        facts: tuple[Any, ...] | None,
        last_closed: int,
        since: int | None = None,
        from_year: int | None = None,
    ) -> tuple[tuple[AdvisorYearAppraisal, ...], int]:
        """The appraisal of the advisor's whole ledger through its latest year (or
        `last_closed`), and that year. Reuses the last one of the same version when
        every policy it asked for is still in force: the rules are a function of
        the facts and the policies, and a year's result depends only on earlier years.

        When the last one is of version `since` (the facts added since then can
        change no year before `from_year`: `_earliest_year`, the same reasoning that
        leaves those years' rows alone), its years before `from_year` are kept and
        only the later ones appraised: in a year's second half, the year before
        is not appraised again on every step (issue #8)."""
        county_id = advisor.county_id
        kept = self._appraised.get(advisor.id)
        if kept is not None and kept.version == advisor.version:
            through = max(kept.fact_year, last_closed)
            if through <= kept.through and all(
                self._policy(county_id, year) == (policy_id, document)
                for year, policy_id, document in kept.policies
                if year <= through
            ):
                return tuple(a for a in kept.years if a.year <= through), through
        if facts is None:
            facts = advisor.facts()
        fact_year = max(f.occurred_at.astimezone(LOCAL_ZONE).year for f in facts)
        through = max(fact_year, last_closed)
        asked: list[tuple[int, str, PolicyDocument]] = []

        def policy_for(year: int) -> tuple[str, PolicyDocument]:
            policy_id, document = self._policy(county_id, year)
            asked.append((year, policy_id, document))
            return policy_id, document

        history = AdvisorHistory(advisor.advisor_id, facts)
        if (
            from_year is None
            or (reused := self._reused_years(kept, since, from_year, county_id)) is None
        ):
            years = appraise_years(history, policy_for, self.calendar, through)
        else:
            earlier, policies = reused
            asked.extend(policies)
            before = [a for a in earlier if a.year == from_year - 1]
            previous = {a.village_id: a.verdict for a in before[0].assignments} if before else {}
            years = earlier + appraise_years(
                history,
                policy_for,
                self.calendar,
                through,
                from_year=from_year,
                previous_verdicts=previous,
            )
        self._appraised[advisor.id] = _Appraised(
            advisor.version, fact_year, through, tuple(asked), years
        )
        return years, through

    def _reused_years(
        self, kept: _Appraised | None, since: int | None, from_year: int, county_id: str
    ) -> tuple[tuple[AdvisorYearAppraisal, ...], list[tuple[int, str, PolicyDocument]]] | None:
        """The kept years before `from_year` and the policies they asked for, if they
        still hold (see `_appraise_whole`); None when all years must be appraised."""
        if kept is None or since is None or kept.version != since:
            return None
        if kept.through < from_year - 1:
            return None
        policies = [p for p in kept.policies if p[0] < from_year]
        if any(self._policy(county_id, year) != (pid, doc) for year, pid, doc in policies):
            return None
        return tuple(a for a in kept.years if a.year < from_year), policies

    def _assignment_rows(
        self,
        county_id: str,
        a: AssignmentAppraisal,
        closed: bool,
        cause: _Cause | None,
        step: _Step,
    ) -> None:
        key = (county_id, a.year, a.advisor_id, a.village_id)
        version = 0
        if closed:
            message = _verdict_message(county_id, a)
            pending = step.versions.get(key)
            latest: dict[str, Any] | None
            if pending:
                latest = {"version": pending[-1].version, "body": pending[-1].body}
            elif (county_id, a.year) in step.latest:
                latest = step.latest[(county_id, a.year)].get((a.advisor_id, a.village_id))
            else:
                latest = self.views.latest_version(*key)
            if latest is None or _outcome(latest["body"]) != _outcome(message):
                assert cause is not None, "a closed year changes only through an event"
                version = 1 if latest is None else latest["version"] + 1
                step.versions.setdefault(key, []).append(
                    _version_row(county_id, a, message, version, latest, cause)
                )
            else:
                version = latest["version"]
        step.assignments[key] = AssignmentRow(
            county_id=county_id,
            year=a.year,
            advisor_id=a.advisor_id,
            village_id=a.village_id,
            verdict=str(a.verdict),
            grade=None if a.grade is None else str(a.grade),
            score=None if a.score_report is None else str(a.score_report),
            provisional=not closed,
            version=version,
            policy_id=a.policy_id,
            # Compressed JSON: a step holds every row it makes until it writes them (a
            # close, or a step touching every advisor: ~3,000 bodies a year), and a
            # body's dicts take ~15 times as much (`ZippedJson`).
            body=ZippedJson.of(
                shapes.assignment_body(a, county_id, provisional=not closed, version=version)
            ),
        )

    # --- derived county views ------------------------------------------------------

    def _settle_if_due(self) -> None:
        if time.monotonic() - self._settled_at >= self.settle_every_s:
            self.settle()

    def settle(self) -> int:
        """Recompute summaries and shortlists of the county-years marked dirty."""
        self._settled_at = time.monotonic()
        dirty = self.views.dirty_county_years()
        for county_id, year in dirty:
            # Only what the summary and the shortlists read of each body is kept: whole,
            # a county-year's 3,000 bodies were held at once, ~14 KB each (B4).
            assignments = self.views.county_assignments(county_id, year, shapes.summary_part)
            advisor_years = self.views.advisor_years_of_county(county_id, year, shapes.settle_part)
            policy_id, policy = self._policy(county_id, year)
            register = self._registers.get(county_id)
            villages = (
                {v.village_id: v.name for v in register.villages().values()} if register else {}
            )
            summary = shapes.county_summary_body(
                county_id,
                year,
                closed=year in self._closed_years(county_id),
                policy_id=policy_id,
                assignments=assignments,
                advisor_years=advisor_years,
                villages=villages,
            )
            candidates = [shapes.candidate_from_body(a["candidate"]) for a in advisor_years]
            awards = [
                AwardRow(
                    county_id,
                    year,
                    str(category),
                    shapes.shortlist_body(
                        rank_awards(policy, candidates, category), county_id, year, policy_id
                    ),
                )
                for category in AwardCategory
            ]
            self.views.settle_county_year(
                CountyYearRow(county_id, year, summary["closed"], policy_id, summary), awards
            )
        return len(dirty)


def _scan(
    recorder: Any, start: int, limit: int, stop: int | None, with_state: Iterable[str]
) -> Sequence[tuple[int, UUID | str, int, str, bytes | None]]:
    """Notifications from `start` as (id, stream id, version, topic, state), of which a
    scan decodes only those of `with_state` topics: without the others' states, as
    plain rows, where the recorder can (PostgreSQL, `ArrayInsertProcessRecorder.
    select_heads`: the stream id as text)."""
    heads = getattr(recorder, "select_heads", None)
    if heads is None:
        return [
            (n.id, n.originator_id, n.originator_version, n.topic, n.state)
            for n in recorder.select_notifications(start=start, limit=limit, stop=stop)
        ]
    rows: list[tuple[int, str, int, str, bytes | None]] = heads(
        start, limit, stop, with_state=sorted(with_state)
    )
    return rows


def _verdict_message(county_id: str, a: AssignmentAppraisal) -> dict[str, Any]:
    """The outcome part of a verdict event (contract `verdict.*.v1`)."""
    return {
        "county_id": county_id,
        "year": a.year,
        "advisor_id": a.advisor_id,
        "village_id": a.village_id,
        "verdict": str(a.verdict),
        "grade": None if a.grade is None else str(a.grade),
        "score": None if a.score_report is None else f"{a.score_report:.2f}",
        "reasons": [
            {**body, "observed": str(reason.observed), "threshold": str(reason.threshold)}
            for reason, body in ((r, shapes.reason_body(r)) for r in a.reasons)
        ],
        "policy_id": a.policy_id,
    }


def _version_row(
    county_id: str,
    a: AssignmentAppraisal,
    message: dict[str, Any],
    version: int,
    latest: dict[str, Any] | None,
    cause: _Cause,
) -> VerdictVersionRow:
    """The verdict event of a new version, exactly as it will be published."""
    body: dict[str, Any] = {
        "type": "verdict.issued.v1" if latest is None else "verdict.amended.v1",
        **message,
        "version": version,
        "issued_at": cause.at.isoformat(),
    }
    if latest is not None:
        previous = latest["body"]
        body["previous"] = {
            "verdict": previous["verdict"],
            "grade": previous["grade"],
            "score": previous["score"],
            "version": latest["version"],
        }
        body["caused_by_event_ids"] = [str(i) for i in cause.event_ids]
    return VerdictVersionRow(
        county_id=county_id,
        year=a.year,
        advisor_id=a.advisor_id,
        village_id=a.village_id,
        version=version,
        kind="issued" if latest is None else "amended",
        issued_at=cause.at.isoformat(),
        seq=cause.seq,
        body=body,
    )


def _fact_key(fact: Any) -> tuple[Any, int]:
    """The canonical order of facts (as `FactLedger.facts()` sorts them)."""
    return (fact.occurred_at, fact.event_id.int)


def _citing_years(facts: Sequence[Any]) -> dict[UUID, int]:
    """For each cited activity, the earliest year of a rating citing it."""
    cited: dict[UUID, int] = {}
    for fact in facts:
        target = getattr(fact, "activity_event_id", None)
        if target is not None:
            year = fact.occurred_at.astimezone(LOCAL_ZONE).year
            cited[target] = min(year, cited.get(target, year))
    return cited


def _earliest_year(fact: Any, history: AdvisorHistory, cited: dict[UUID, int] | None = None) -> int:
    """The first year whose appraisal `fact` can change.

    Dated payload fields can lie before `occurred_at` (a duty that started on New
    Year's Eve); a void or a complaint resolution changes the year of its target.
    """
    moments: list[Any] = [fact.occurred_at]
    for name in ("started_at", "asked_at", "appointed_on", "ended_on"):
        value = getattr(fact, name, None)
        if value is not None:
            moments.append(value)
    years = [m.astimezone(LOCAL_ZONE).year if isinstance(m, datetime) else m.year for m in moments]
    if isinstance(fact, Voided | ComplaintResolved):
        for other in history.facts:
            if (isinstance(fact, Voided) and other.event_id == fact.target_event_id) or (
                isinstance(fact, ComplaintResolved)
                and isinstance(other, ComplaintFiled)
                and other.complaint_id == fact.complaint_id
            ):
                years.append(_earliest_year(other, history))
    month = getattr(fact, "month", None)
    if isinstance(month, str):
        years.append(int(month[:4]))
    if cited and fact.event_id in cited:
        years.append(cited[fact.event_id])  # a rating citing it may become valid
    return min(years)


def _chunks(
    items: Sequence[tuple[UUID, _T]], weight: Callable[[_T], int], limit: int
) -> list[list[tuple[UUID, _T]]]:
    """`items` cut into runs of about `limit` by `weight` (whole advisors)."""
    chunks: list[list[tuple[UUID, _T]]] = []
    size = limit
    for item in items:
        if size >= limit:
            chunks.append([])
            size = 0
        chunks[-1].append(item)
        size += weight(item[1])
    return chunks


def _latest_of(
    latest: dict[tuple[str, int], dict[tuple[str, str], dict[str, Any]]], advisors: set[str]
) -> dict[tuple[str, int], dict[tuple[str, str], dict[str, Any]]]:
    """The latest verdict versions of these advisors' assignments only."""
    return {
        county_year: {key: row for key, row in rows.items() if key[0] in advisors}
        for county_year, rows in latest.items()
    }


def _offset_progress(
    progress: Callable[[int, int], None], before: int, total: int
) -> Callable[[int], None]:
    """A segment's progress (notifications done in it) as a position in the log."""

    def report(done: int) -> None:
        progress(before + done, total)

    return report
