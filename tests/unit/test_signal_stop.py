"""The projector process's stop flag, set from a SIGTERM handler."""

from __future__ import annotations

import os
import signal
import threading
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


def test_sigterms_during_a_wait_end_it_promptly(stop: SignalStop) -> None:
    # As in the projector: the loop waits between steps, the service's terminate and
    # then the parent-death signal arrive while it does.
    pid = os.getpid()
    timers = [threading.Timer(delay, os.kill, (pid, signal.SIGTERM)) for delay in (0.1, 0.15, 0.2)]
    for timer in timers:
        timer.start()
    started = time.monotonic()
    try:
        assert stop.wait(5) is True
    finally:
        for timer in timers:
            timer.join()
    assert time.monotonic() - started < 1.0
    assert stop.wait(0) is True  # stays set
