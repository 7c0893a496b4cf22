"""Snapshot of serialised events: any change to what goes on the wire fails here.

The inbound fixture is what sources send; the published snapshot is exactly
what ingest must write to Kafka for it (with a fixed ``recorded_at`` and a fixed
test pseudonymisation key). Verdict and dead-letter snapshots must re-serialise
byte for byte. If a change is intended, it is a contract change: review the
diff, consider a ``.v2``, then refresh with

    UPDATE_CONTRACT_SNAPSHOTS=1 .venv/bin/pytest tests/contract/test_snapshots.py
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from contracts import (
    EVENT_TYPES,
    PUBLISHED_EVENT_ADAPTER,
    VERDICT_EVENT_ADAPTER,
    VERDICT_MODELS,
    DeadLetter,
    parse_inbound_event,
    parse_published_event,
    to_published,
)
from tests.contract.helpers import pseudonymise

pytestmark = pytest.mark.unit

SNAPSHOTS = Path(__file__).parent / "snapshots"
INBOUND = SNAPSHOTS / "inbound-events.v1.ndjson"
PUBLISHED = SNAPSHOTS / "published-events.v1.ndjson"
VERDICTS = SNAPSHOTS / "verdict-events.v1.ndjson"
DEAD_LETTERS = SNAPSHOTS / "dead-letters.v1.ndjson"
RECORDED_AT = datetime(2025, 2, 1, 9, 30, 0, 250000, tzinfo=timezone(timedelta(hours=8)))
UPDATE = os.environ.get("UPDATE_CONTRACT_SNAPSHOTS") == "1"
HOW_TO_UPDATE = (
    "Serialised events changed: this is a contract change. If intended, review the diff "
    "and run UPDATE_CONTRACT_SNAPSHOTS=1 .venv/bin/pytest tests/contract/test_snapshots.py"
)


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def _published_now() -> list[str]:
    return [
        to_published(
            parse_inbound_event(line.encode()), recorded_at=RECORDED_AT, pseudonymise=pseudonymise
        ).model_dump_json()
        for line in _lines(INBOUND)
    ]


def test_ingest_publishes_exactly_the_snapshot() -> None:
    actual = _published_now()
    if UPDATE:
        PUBLISHED.write_text("\n".join(actual) + "\n", encoding="utf-8")
    expected = _lines(PUBLISHED)
    assert len(actual) == len(expected), HOW_TO_UPDATE
    for got, want in zip(actual, expected, strict=True):
        assert got == want, HOW_TO_UPDATE


def test_the_snapshots_cover_every_event_type() -> None:
    published_types = {parse_published_event(line).type for line in _lines(PUBLISHED)}
    assert published_types == set(EVENT_TYPES)
    verdict_types = {VERDICT_EVENT_ADAPTER.validate_json(line).type for line in _lines(VERDICTS)}
    assert verdict_types == set(VERDICT_MODELS)


def test_no_published_event_in_the_snapshot_contains_a_raw_citizen() -> None:
    published = PUBLISHED.read_text(encoding="utf-8")
    assert '"citizen"' not in published
    for citizen in ("13800138000", "13900139000"):
        assert citizen in INBOUND.read_text(encoding="utf-8")
        assert citizen not in published


@pytest.mark.parametrize(
    ("path", "reserialise"),
    [
        (
            PUBLISHED,
            lambda line: PUBLISHED_EVENT_ADAPTER.dump_json(parse_published_event(line)).decode(),
        ),
        (
            VERDICTS,
            lambda line: VERDICT_EVENT_ADAPTER.dump_json(
                VERDICT_EVENT_ADAPTER.validate_json(line)
            ).decode(),
        ),
        (DEAD_LETTERS, lambda line: DeadLetter.model_validate_json(line).model_dump_json()),
    ],
    ids=["published", "verdicts", "dead-letters"],
)
def test_snapshot_events_reserialise_byte_for_byte(
    path: Path, reserialise: Callable[[str], str]
) -> None:
    for line in _lines(path):
        assert reserialise(line) == line, HOW_TO_UPDATE
