"""Partition positions and epochs live in the event store, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from eventsourcing.persistence import IntegrityError, ProcessRecorder

from appraisal.application import AppraisalApplication
from appraisal.positions import PartitionPositions

pytestmark = pytest.mark.integration


def test_epochs_and_positions_only_advance(event_store_env: dict[str, str]) -> None:
    app = AppraisalApplication(env=event_store_env)
    assert isinstance(app.recorder, ProcessRecorder)
    positions = PartitionPositions(app.recorder, "appraisal")
    assert positions.epoch("advisor-events", 3) == 0
    assert positions.recorded("advisor-events", 3, 0) is None
    app.record([], tracking=positions.tracking("advisor-events", 3, 0, 120))
    assert positions.recorded("advisor-events", 3, 0) == 120
    with pytest.raises(IntegrityError):
        app.record([], tracking=positions.tracking("advisor-events", 3, 0, 100))
    positions.start_epoch("advisor-events", 3, 1)
    assert positions.epoch("advisor-events", 3) == 1
    assert positions.recorded("advisor-events", 3, 1) is None
    app.record([], tracking=positions.tracking("advisor-events", 3, 1, 5))
    assert positions.recorded("advisor-events", 3, 1) == 5
    assert positions.recorded("advisor-events", 3, 0) == 120  # the old epoch stays for audit
    assert positions.epoch("advisor-events", 4) == 0
    app.close()
