"""SharedRead: concurrent callers share a read, each served by one begun after it asked."""

from __future__ import annotations

import asyncio
import threading

import pytest

from appraisal.api.coalesce import SharedRead

pytestmark = pytest.mark.unit


class GatedCounter:
    """A blocking read that returns how many reads began, each held until released."""

    def __init__(self) -> None:
        self.began = 0
        self.started = threading.Semaphore(0)
        self.release = threading.Semaphore(0)

    def __call__(self) -> int:
        self.began += 1
        value = self.began
        self.started.release()
        assert self.release.acquire(timeout=5), "never released"
        return value


async def _started(read: GatedCounter) -> None:
    assert await asyncio.to_thread(read.started.acquire, True, 5), "no read began"


async def test_callers_waiting_together_share_one_read() -> None:
    read = GatedCounter()
    shared = SharedRead(read)
    callers = [asyncio.create_task(shared()) for _ in range(10)]
    await _started(read)
    read.release.release()
    assert await asyncio.gather(*callers) == [1] * 10
    assert shared.reads == 1


async def test_a_caller_arriving_during_a_read_is_served_by_the_next_one() -> None:
    read = GatedCounter()
    shared = SharedRead(read)
    early = asyncio.create_task(shared())
    await _started(read)  # the first read is under way: it may predate what comes next
    late = [asyncio.create_task(shared()) for _ in range(3)]
    await asyncio.sleep(0.01)
    assert not any(t.done() for t in late)
    read.release.release()
    assert await early == 1
    await _started(read)
    read.release.release()
    assert await asyncio.gather(*late) == [2, 2, 2]
    assert shared.reads == 2


async def test_the_reads_error_reaches_every_waiter_and_the_next_read_runs_anew() -> None:
    calls = 0

    def failing_once() -> int:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ConnectionError("store away")
        return calls

    shared = SharedRead(failing_once)
    results = await asyncio.gather(shared(), shared(), return_exceptions=True)
    assert [type(r) for r in results] == [ConnectionError, ConnectionError]
    assert await shared() == 2


async def test_a_caller_that_leaves_does_not_cancel_the_read_others_wait_for() -> None:
    read = GatedCounter()
    shared = SharedRead(read)
    leaving, staying = asyncio.create_task(shared()), asyncio.create_task(shared())
    await _started(read)
    leaving.cancel()
    read.release.release()
    assert await staying == 1
    assert leaving.cancelled()
