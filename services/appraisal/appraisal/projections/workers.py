"""Worker processes that project a replay segment's advisors side by side.

A segment's advisors are independent of each other: each one's rows depend on its
own stream, the county registers as of the segment's end and the verdict versions
already in the views. So a replay can hand contiguous chunks of the sorted advisors
to worker processes, each with its own application and projector over the same
event store and views (which they only read), and merge the chunks' steps in order:
the parent writes exactly the rows, in exactly the order, a single process would.

Processes, not threads: decoding events and the §5 rules are pure Python and hold
the GIL. Workers are spawned (not forked: the parent holds connection pools and
their threads) on the first segment large enough to be worth it, and kept until
the replay ends.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from itertools import repeat
from typing import TYPE_CHECKING, Any
from uuid import UUID

if TYPE_CHECKING:
    from appraisal.policy import WorkdayCalendar
    from appraisal.projections.projector import AppraisalProjector, _Step, _Touched

# A worker's projector: set by `_start` in each worker process, used by `_project`.
_projector: AppraisalProjector | None = None


def shareable(env: dict[str, str]) -> bool:
    """True when another process can open the same stores: not SQLite in memory."""
    for key in ("SQLITE_DBNAME", "VIEWS_SQLITE_DBNAME"):
        name = env.get(key, "")
        if name == ":memory:" or "mode=memory" in name:
            return False
    return bool(env.get("PERSISTENCE_MODULE"))


class SegmentPool:
    """`workers` processes projecting chunks of a segment's advisors (started lazily)."""

    def __init__(
        self,
        app_env: dict[str, str],
        views_env: dict[str, str],
        calendar: WorkdayCalendar,
        workers: int,
    ) -> None:
        if workers < 2:
            raise ValueError(f"a pool needs at least 2 workers, not {workers}")
        self.workers = workers
        # The parent has created every table. Workers starting side by side must not
        # all run CREATE TABLE IF NOT EXISTS: on PostgreSQL concurrent DDL on the same
        # catalog rows fails ("tuple concurrently updated") and kills the pool.
        read_only = dict.fromkeys(
            ("CREATE_TABLE", "APPRAISAL_CREATE_TABLE", "APPRAISAL_VIEWS_CREATE_TABLE"), "n"
        )
        self._start_args = ({**app_env, **read_only}, {**views_env, **read_only}, calendar)
        self._executor: ProcessPoolExecutor | None = None

    def project(
        self, position: int, chunks: Sequence[Sequence[tuple[UUID, _Touched]]]
    ) -> Iterator[_Step]:
        """Each chunk's step, in the order of `chunks`, as of notification `position`."""
        if self._executor is None:
            self._executor = ProcessPoolExecutor(
                self.workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start,
                initargs=self._start_args,
            )
        return self._executor.map(_project, repeat(position), chunks)

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None

    def __enter__(self) -> SegmentPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _start(app_env: dict[str, str], views_env: dict[str, str], calendar: Any) -> None:
    """Open this worker's application, views and projector (in the worker process)."""
    global _projector
    from appraisal.application import AppraisalApplication
    from appraisal.gc_tuning import tune_gc
    from appraisal.projections.projector import AppraisalProjector
    from appraisal.projections.store import open_views

    tune_gc()
    _projector = AppraisalProjector(
        AppraisalApplication(env=app_env), open_views(views_env), calendar
    )


def _project(position: int, chunk: Sequence[tuple[UUID, _Touched]]) -> _Step:
    assert _projector is not None, "worker not started"
    return _projector.project_parts(position, chunk)
