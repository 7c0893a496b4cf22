"""Running the projector: coalesced steps, in a thread or in a process of its own.

Re-appraising advisors is CPU-bound Python. In a thread it shares one interpreter
lock with the Kafka consumer and the HTTP API, so on a 2-core machine each slows
the others; in its own process (the default, `APPRAISAL_PROJECTOR=process`) it has
a core to itself. Either way the steps are the same `AppraisalProjector.step`
calls with the same tracking, so a step is committed exactly once whichever runs it.

The loop reports every step (`StepReport`) to a callback; the service turns the
reports into metrics and readiness. A projector process exits with its parent
(PR_SET_PDEATHSIG, and a parent-pid check between steps).
"""

from __future__ import annotations

import logging
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from eventsourcing.persistence import IntegrityError

from appraisal.gc_tuning import trim_heap

log = logging.getLogger(__name__)

MAX_BACKOFF_S = 30.0


@dataclass(frozen=True, slots=True)
class Pacing:
    """How the loop spaces its steps (from the service settings)."""

    page: int
    interval_s: float
    idle_s: float
    duty: float = 1.0
    """Most of its time the loop spends stepping while events keep coming (0 < duty ≤ 1)."""


@dataclass(frozen=True, slots=True)
class StepReport:
    """One step: notifications projected, its duration, and the error if it failed."""

    done: int
    seconds: float
    error: str | None = None


class Stop(Protocol):
    """A threading or multiprocessing Event."""

    def is_set(self) -> bool: ...

    def wait(self, timeout: float | None = None) -> bool: ...


class Projecting(Protocol):
    def step(self, page: int) -> int:
        """Project what waits (a page, or a whole backlog); how many notifications."""
        ...

    def head(self) -> int:
        """The newest position in the event store."""
        ...


def project_forever(
    projector: Projecting,
    pacing: Pacing,
    report: Callable[[StepReport], None],
    stop: Stop,
    alive: Callable[[], bool] = lambda: True,
) -> None:
    """Step until `stop` is set (or `alive()` turns false).

    Re-appraising an advisor is the expensive part, and a step costs about the same
    however many events of an advisor it covers (the advisor's whole ledger is
    appraised again). So the loop lets events accumulate for `interval_s` between
    steps, a step takes everything waiting (`AppraisalProjector.step`), and under
    load the loop also rests after a step until `pacing.duty` of the time since the
    step began was spent stepping: with 0.5, a 4 s step is followed by up to 4 s in
    which events accumulate, which halves the projector's CPU during a burst and
    leaves it to the consumer, at the price of read models up to about two steps
    behind. That rest ends as soon as an interval passes with nothing new in the
    store: once a burst is over there is nothing to coalesce. A failed step is
    retried with doubling backoff.
    """
    backoff = pacing.idle_s
    while not stop.is_set() and alive():
        started = time.perf_counter()
        try:
            done = projector.step(pacing.page)
        except IntegrityError:
            # Another instance committed this step first; continue from its position.
            done = 0
        except Exception as exc:
            log.exception("projector step failed; retrying in %.1fs", backoff)
            report(StepReport(0, time.perf_counter() - started, f"{type(exc).__name__}: {exc}"))
            stop.wait(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF_S)
            continue
        backoff = pacing.idle_s
        if done:
            trim_heap()  # the step's buffers, freed inside the heap (appraisal.gc_tuning)
        elapsed = time.perf_counter() - started
        report(StepReport(done, elapsed))
        rest(projector, pacing, done, elapsed, stop)


def rest(projector: Projecting, pacing: Pacing, done: int, elapsed: float, stop: Stop) -> None:
    """Wait after a step of `done` notifications that took `elapsed` s.

    Idle after an empty step; otherwise the coalescing interval, then the rest the
    duty asks for, in slices of the interval, for as long as each slice saw new events.
    """
    if not done:
        stop.wait(pacing.idle_s)
        return
    coalesce = max(pacing.idle_s, pacing.interval_s - elapsed)
    extra = elapsed / pacing.duty - elapsed - coalesce
    head = projector.head() if extra > 0 else 0
    if stop.wait(coalesce) or extra <= 0:
        return
    slice_s = max(pacing.idle_s, pacing.interval_s)
    while extra > 0:
        newer = projector.head()
        if newer == head:
            return  # nothing arrived: the burst is over, project what came
        head = newer
        wait = min(slice_s, extra)
        if stop.wait(wait):
            return
        extra -= wait


class SignalStop:
    """A stop flag that a signal handler may set.

    `threading.Event.set` takes a lock: a second SIGTERM (the service's terminate,
    then the parent-death signal) arriving while the handler was inside it
    re-entered it and deadlocked the process on its own lock, an orphan found
    asleep after the crash test. Setting a bool takes no lock; `wait` polls.
    """

    POLL_S = 0.05

    def __init__(self) -> None:
        self._set = False

    def set(self) -> None:
        self._set = True

    def is_set(self) -> bool:
        return self._set

    def wait(self, timeout: float | None = None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._set:
            left = self.POLL_S if deadline is None else deadline - time.monotonic()
            if left <= 0:
                break
            time.sleep(min(self.POLL_S, left))
        return self._set


def projector_process(settings: Any, calendar: Any, reports: Any, parent: int) -> None:
    """The projector process's main: open the store and views, then `project_forever`.

    `reports` is a multiprocessing queue; `None` is put last, on any exit. SIGTERM
    stops the loop after the step under way (a multiprocessing Event would do too,
    but a process killed while waiting on one leaves it unusable for the parent).
    """
    from appraisal.application import AppraisalApplication
    from appraisal.gc_tuning import tune_gc
    from appraisal.projections.projector import AppraisalProjector
    from appraisal.projections.store import open_views
    from embedded.broker import die_with_parent

    tune_gc()

    # Reports are progress only: exiting must never wait to flush them into a pipe
    # that a dead service no longer reads.
    reports.cancel_join_thread()
    die_with_parent()
    if os.getppid() != parent:
        # The service died while this process was starting, before the death signal
        # was armed: nobody would ever stop it (an orphan projecting forever).
        return
    stop = SignalStop()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    # Ctrl-C in a terminal signals every process of its group, this one too: it used
    # to die of KeyboardInterrupt mid-wait (a traceback, and the service logging a
    # crash and a restart while shutting down). The service stops it with SIGTERM.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if not logging.getLogger().handlers:
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s [projector] %(message)s"
        )
    try:
        # One thread works here: one connection per pool, a second for overlap.
        env = {**settings.eventsourcing_env(), "POSTGRES_POOL_SIZE": "1"}
        env["POSTGRES_MAX_OVERFLOW"] = "1"
        app = AppraisalApplication(env=env)
        try:
            views = open_views(env)
            try:
                project_forever(
                    AppraisalProjector(
                        app, views, calendar, settle_every_s=settings.projector_settle_s
                    ),
                    pacing_of(settings),
                    reports.put,
                    stop,
                    alive=lambda: os.getppid() == parent,
                )
            finally:
                views.close()
        finally:
            app.close()
    finally:
        reports.put(None)


def pacing_of(settings: Any) -> Pacing:
    return Pacing(
        settings.projector_page,
        settings.projector_interval_s,
        settings.projector_idle_s,
        settings.projector_duty,
    )


__all__ = [
    "Pacing",
    "SignalStop",
    "StepReport",
    "pacing_of",
    "project_forever",
    "projector_process",
    "rest",
]
