"""The projector loop's pacing: coalescing, the duty rest under load, idling."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from appraisal.projections.runner import Pacing, StepReport, project_forever, rest

pytestmark = pytest.mark.unit

PACING = Pacing(page=1000, interval_s=1.0, idle_s=0.2, duty=0.5)


class Clockless:
    """A stop flag that records each wait instead of sleeping; set after `waits` waits."""

    def __init__(self, waits: int = 1_000) -> None:
        self.waits: list[float] = []
        self._left = waits

    def is_set(self) -> bool:
        return self._left <= 0

    def wait(self, timeout: float | None = None) -> bool:
        assert timeout is not None
        self.waits.append(round(timeout, 6))
        self._left -= 1
        return self.is_set()


class Store:
    """The store's head as a sequence of readings (the last one repeats)."""

    def __init__(self, heads: list[int], steps: list[int] | None = None) -> None:
        self._heads: Iterator[int] = iter(heads)
        self._last = 0
        self.steps = list(steps or [])
        self.reads = 0

    def head(self) -> int:
        self.reads += 1
        self._last = next(self._heads, self._last)
        return self._last

    def step(self, page: int) -> int:
        return self.steps.pop(0) if self.steps else 0


def test_idle_after_an_empty_step() -> None:
    stop, store = Clockless(), Store([])
    rest(store, PACING, 0, 0.01, stop)
    assert stop.waits == [0.2]
    assert store.reads == 0


def test_a_short_step_waits_out_the_interval_only() -> None:
    stop, store = Clockless(), Store([])
    rest(store, PACING, 10, 0.3, stop)
    assert stop.waits == [0.7]
    assert store.reads == 0  # no duty rest to end early


def test_a_long_step_rests_as_long_again_while_events_keep_coming() -> None:
    # 4 s step at duty 0.5: 4 s of rest in 1 s slices, the head moving each time.
    stop, store = Clockless(), Store([100, 200, 300, 400, 500])
    rest(store, PACING, 10, 4.0, stop)
    assert stop.waits == [0.2, 1.0, 1.0, 1.0, 0.8]
    assert sum(stop.waits) == pytest.approx(4.0)


def test_the_rest_ends_when_nothing_new_arrived() -> None:
    stop, store = Clockless(), Store([100, 200, 200])
    rest(store, PACING, 10, 4.0, stop)
    assert stop.waits == [0.2, 1.0]  # the third reading equals the second: step now


def test_duty_one_steps_back_to_back() -> None:
    stop, store = Clockless(), Store([])
    rest(store, Pacing(1000, 1.0, 0.2, duty=1.0), 10, 4.0, stop)
    assert stop.waits == [0.2]
    assert store.reads == 0


def test_a_stop_during_the_rest_ends_it() -> None:
    stop, store = Clockless(waits=2), Store([100, 200, 300])
    rest(store, PACING, 10, 4.0, stop)
    assert stop.waits == [0.2, 1.0]


def test_the_loop_rests_after_every_step_and_idles_when_caught_up() -> None:
    stop = Clockless(waits=3)
    store = Store([7, 7], steps=[5000, 40, 0])
    reports: list[StepReport] = []
    project_forever(store, PACING, reports.append, stop)
    assert [r.done for r in reports] == [5000, 40, 0]
    # Two quick steps: the rest of the interval each; then idle.
    assert stop.waits[:2] == [pytest.approx(1.0, abs=0.05)] * 2
    assert stop.waits[2] == 0.2
