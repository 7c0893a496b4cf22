"""The projector process's stop flag, set from a SIGTERM handler."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator

import pytest

from appraisal.projections.runner import SignalStop


@pytest.fixture
def stop() -> Iterator[SignalStop]:
    flag = SignalStop()
    previous = signal.signal(signal.SIGTERM, lambda *_: flag.set())
    yield flag
    signal.signal(signal.SIGTERM, previous)


def test_wait_times_out_while_not_set(stop: SignalStop) -> None:
    started = time.monotonic()
    assert stop.wait(0.12) is False
    assert 0.1 <= time.monotonic() - started < 1.0
    assert not stop.is_set()


def test_signals_set_it_however_often_they_arrive(stop: SignalStop) -> None:
    # A handler re-entered by a second signal must not block on anything.
    def again(*_: object) -> None:
        os.kill(os.getpid(), signal.SIGUSR1)
        stop.set()

    previous = signal.signal(signal.SIGUSR1, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, again)
    try:
        for _ in range(5):
            os.kill(os.getpid(), signal.SIGTERM)
        started = time.monotonic()
        assert stop.wait(5) is True
        assert time.monotonic() - started < 0.5
    finally:
        signal.signal(signal.SIGUSR1, previous)
