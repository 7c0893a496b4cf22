"""Worker processes that project a replay segment's advisors side by side.

A segment's advisors are independent of each other: each one's rows depend on its
own stream, the county registers as of the segment's end and the verdict versions
already in the views. So a replay can hand the advisors to worker processes (each
advisor always to the same one, by stream id), each with its own application and
projector over the same event store and views (which they only read), and merge
the advisors' steps in stream-id order: the parent writes exactly the rows, in
exactly the order, a single process would.

Processes, not threads: decoding events and the §5 rules are pure Python and hold
the GIL. Workers are spawned (not forked: the parent holds connection pools and
their threads) on the first segment large enough to be worth it, and kept until
the replay ends.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from typing import TYPE_CHECKING, Any
from uuid import UUID

if TYPE_CHECKING:
    from appraisal.policy import WorkdayCalendar
    from appraisal.projections.projector import AppraisalProjector, _Step

# A worker's projector: set by `_start` in each worker process, used by `_run`.
_projector: AppraisalProjector | None = None


def shareable(env: dict[str, str]) -> bool:
    """True when another process can open the same stores: not SQLite in memory."""
    for key in ("SQLITE_DBNAME", "VIEWS_SQLITE_DBNAME"):
        name = env.get(key, "")
        if name == ":memory:" or "mode=memory" in name:
            return False
    return bool(env.get("PERSISTENCE_MODULE"))


class SegmentPool:
    """`workers` processes projecting a replay's advisors (started on first use).

    Each advisor always goes to the same worker (by its stream id), so the ledger
    and appraisal a worker cached in one segment serve it in the next and in a
    county change (a close re-appraises every advisor of the county: in the parent,
    whose caches are empty, that step alone took longer than the segment before it).
    """

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
        self._executors: list[ProcessPoolExecutor] = []

    @property
    def started(self) -> bool:
        return bool(self._executors)

    def run(
        self,
        method: str,
        position: int,
        chunks: Sequence[Sequence[tuple[UUID, Any]]],
        *args: Any,
        per_chunk: Sequence[tuple[Any, ...]] | None = None,
        done: Callable[[Sequence[tuple[UUID, Any]]], None] | None = None,
    ) -> dict[UUID, _Step]:
        """Each advisor's step: `method` of a worker's projector applied to every chunk
        (as of notification `position`) with `args` and the chunk's own `per_chunk`
        arguments; `done` is told of each chunk as it finishes. The chunks run side
        by side; every chunk must hold advisors of one worker only (`by_worker`)."""
        if not self._executors:
            context = multiprocessing.get_context("spawn")
            self._executors = [
                ProcessPoolExecutor(
                    1, mp_context=context, initializer=_start, initargs=self._start_args
                )
                for _ in range(self.workers)
            ]
        futures: dict[Future[list[tuple[UUID, _Step]]], Sequence[tuple[UUID, Any]]] = {}
        for index, chunk in enumerate(chunks):
            executor = self._executors[self.worker_of(chunk[0][0])]
            own = per_chunk[index] if per_chunk is not None else ()
            futures[executor.submit(_run, method, position, chunk, *args, *own)] = chunk
        steps: dict[UUID, _Step] = {}
        try:
            for future in as_completed(futures):
                steps.update(future.result())
                if done is not None:
                    done(futures[future])
        except BaseException:
            for future in futures:
                future.cancel()
            raise
        return steps

    def worker_of(self, stream_id: UUID) -> int:
        return stream_id.int % self.workers

    def by_worker(self, items: Sequence[tuple[UUID, Any]]) -> list[list[tuple[UUID, Any]]]:
        """`items` split by the worker their advisor belongs to, order kept within each."""
        groups: list[list[tuple[UUID, Any]]] = [[] for _ in range(self.workers)]
        for item in items:
            groups[self.worker_of(item[0])].append(item)
        return groups

    def close(self) -> None:
        for executor in self._executors:
            executor.shutdown(wait=True, cancel_futures=True)
        self._executors = []


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


def _run(
    method: str, position: int, chunk: Sequence[tuple[UUID, Any]], *args: Any
) -> list[tuple[UUID, _Step]]:
    assert _projector is not None, "worker not started"
    return getattr(_projector, method)(position, chunk, *args)  # type: ignore[no-any-return]
