"""Reads of an advisor while the consumer records onto it (the API and the consumer
share the application's ledger cache): never an error, never a torn ledger.

Before the application serialised them, a read could fast-forward the cached ledger
from the store while a batch was being recorded onto that same object:
`OriginatorVersionError` (seen in a CI-style run of the service tests)."""

from __future__ import annotations

import sys
import threading
from typing import Any

import pytest

from appraisal.application import AppraisalApplication, Recordable
from tests.unit.policy.builders import HistoryBuilder, serve_year

pytestmark = pytest.mark.integration

ROUNDS = 30


def test_reading_an_advisor_while_it_is_recorded_onto(event_store_env: dict[str, str]) -> None:
    app = AppraisalApplication(env=event_store_env)
    errors: list[BaseException] = []
    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads interleave far more often than by default
    try:
        for n in range(ROUNDS):
            _round(app, f"A-{n}", errors)
            assert not errors, repr(errors[0])
    finally:
        sys.setswitchinterval(switch)
        app.close()


def _round(app: AppraisalApplication, advisor_id: str, errors: list[BaseException]) -> None:
    facts = serve_year(HistoryBuilder(advisor_id), "V-" + advisor_id, 2024).history().facts
    items = [Recordable("advisor", advisor_id, f, "440115") for f in facts]
    app.record(items[:1])
    counts: list[int] = []
    done = threading.Event()

    def read() -> None:
        while not done.is_set():
            try:
                advisor: Any = app.advisor(advisor_id)
                counts.append(len(advisor.facts()))
            except BaseException as exc:  # the failure this test looks for
                errors.append(exc)
                return

    readers = [threading.Thread(target=read) for _ in range(3)]
    for reader in readers:
        reader.start()
    try:
        for start in range(1, len(items), 5):
            app.record(items[start : start + 5])
    finally:
        done.set()
        for reader in readers:
            reader.join()
    assert counts
    assert max(counts) <= len(items)
    advisor = app.advisor(advisor_id)
    assert advisor is not None
    assert advisor.fact_count == len(items)
