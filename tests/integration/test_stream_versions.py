"""The consumer checks a batch's cached ledgers against the store in one query
(`stream_versions`, on SQLite and PostgreSQL): a current ledger is used as it is,
one another instance moved on is read anew, as the library's fast-forward would."""

from __future__ import annotations

import pytest

from appraisal.application import AppraisalApplication, Recordable
from appraisal.domain.ids import advisor_stream_id
from appraisal.pg_recorder import ArrayInsertProcessRecorder
from appraisal.sqlite_recorder import StreamVersionsSQLiteRecorder
from tests.unit.policy.builders import HistoryBuilder, serve_year

pytestmark = pytest.mark.integration


def _items(advisors: int) -> list[Recordable]:
    items: list[Recordable] = []
    for n in range(advisors):
        builder = serve_year(HistoryBuilder(f"A-{n}"), f"V-{n}", 2024)
        items += [Recordable("advisor", f"A-{n}", f, "440115") for f in builder.history().facts]
    return items


def test_stream_versions_are_the_newest_of_each_stream(event_store_env: dict[str, str]) -> None:
    app = AppraisalApplication(env=event_store_env)
    recorder = app.recorder
    assert isinstance(recorder, ArrayInsertProcessRecorder | StreamVersionsSQLiteRecorder)
    app.record(_items(3))
    ids = [advisor_stream_id(f"A-{n}") for n in range(3)]
    unknown = advisor_stream_id("A-none")
    expected = {i: recorder.select_events(i, desc=True, limit=1)[0].originator_version for i in ids}
    assert recorder.stream_versions([*ids, unknown]) == expected
    assert recorder.stream_versions([]) == {}
    if isinstance(recorder, StreamVersionsSQLiteRecorder):
        recorder.CHUNK = 2  # several queries
        assert recorder.stream_versions([*ids, unknown]) == expected
    app.close()


def test_a_cached_ledger_another_instance_moved_on_is_read_anew(
    event_store_env: dict[str, str],
) -> None:
    ours = AppraisalApplication(env=event_store_env)
    other = AppraisalApplication(env=event_store_env)
    items = _items(2)
    moved = [i for i in items if i.key == "A-0"]
    still = [i for i in items if i.key == "A-1"]
    half = len(moved) // 2
    ours.record(moved[:half] + still)  # both ledgers now cached here
    other.record(moved[half:])  # A-0 moves on elsewhere (a rebalance)
    screening = ours.screen(moved + still)
    a0, a1 = advisor_stream_id("A-0"), advisor_stream_id("A-1")
    assert screening.loaded[a0].version == other.ledger(a0).version > half
    assert ours.repository.cache is not None
    assert screening.loaded[a1] is ours.repository.cache.get(a1)  # current: used as is
    outcome = ours.record(screening.kept, loaded=screening.loaded)
    assert outcome.recorded == []
    assert len(outcome.duplicates) == len(items)
    other.close()
    ours.close()
