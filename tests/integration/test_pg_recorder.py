"""The PostgreSQL recorder that inserts batches as parallel arrays (`appraisal.pg_recorder`)
stores exactly what eventsourcing's own recorder stores, and fails the same way."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from eventsourcing.persistence import IntegrityError, Tracking
from eventsourcing.postgres import PostgresProcessRecorder
from psycopg import sql

from appraisal.application import AppraisalApplication, Recordable
from appraisal.pg_recorder import ArrayInsertProcessRecorder
from tests.conftest import PostgresServer
from tests.unit.policy.builders import HistoryBuilder, serve_year

pytestmark = [pytest.mark.integration, pytest.mark.postgres]

LIBRARY_RECORDER = "eventsourcing.postgres:PostgresProcessRecorder"


def _items(advisors: int) -> list[Recordable]:
    items: list[Recordable] = []
    for n in range(advisors):
        builder = serve_year(HistoryBuilder(f"A-{n}"), f"V-{n}", 2024)
        items += [Recordable("advisor", f"A-{n}", f, "440115") for f in builder.history().facts]
    return items


@pytest.fixture
def schemas(postgres_server: PostgresServer) -> Iterator[list[str]]:
    made: list[str] = []
    yield made
    with psycopg.connect(postgres_server.conninfo(), autocommit=True) as conn:
        for schema in made:
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


def _app(server: PostgresServer, schemas: list[str], **env: str) -> AppraisalApplication:
    schema = f"r_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server.conninfo(), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    schemas.append(schema)
    return AppraisalApplication(env={**server.eventsourcing_env(schema), **env})


def _rows(app: AppraisalApplication) -> list[tuple[Any, ...]]:
    return [
        (n.id, n.originator_id, n.originator_version, n.topic)
        for n in app.recorder.select_notifications(1, 100_000)
    ]


def test_the_application_uses_it_on_postgresql(
    postgres_server: PostgresServer, schemas: list[str]
) -> None:
    app = _app(postgres_server, schemas)
    assert type(app.recorder) is ArrayInsertProcessRecorder
    app.close()


def test_batches_are_stored_as_the_library_stores_them(
    postgres_server: PostgresServer, schemas: list[str]
) -> None:
    items = _items(12)
    ours = _app(postgres_server, schemas)
    library = _app(postgres_server, schemas, PROCESS_RECORDER_TOPIC=LIBRARY_RECORDER)
    assert type(library.recorder) is not ArrayInsertProcessRecorder
    for app in (ours, library):
        for start in range(0, len(items), 100):
            outcome = app.record(items[start : start + 100], Tracking("kafka:t:0@0", start + 100))
            assert len(outcome.recorded) == len(items[start : start + 100])
    assert len(_rows(ours)) == len(items) + 12  # a Created event per advisor
    assert _rows(ours) == _rows(library)
    for n in range(12):
        mine, theirs = ours.advisor(f"A-{n}"), library.advisor(f"A-{n}")
        assert mine is not None
        assert theirs is not None
        assert mine.facts() == theirs.facts()
    last_batch = (len(items) - 1) // 100 * 100
    assert isinstance(ours.recorder, ArrayInsertProcessRecorder)
    assert ours.recorder.max_tracking_id("kafka:t:0@0") == last_batch + 100
    ours.close()
    library.close()


def test_a_position_stored_before_stores_nothing_of_the_batch(
    postgres_server: PostgresServer, schemas: list[str]
) -> None:
    app = _app(postgres_server, schemas)
    first, second = _items(2)[:5], _items(3)[-5:]
    app.record(first, Tracking("kafka:t:0@0", 5))
    stored = app.recorder.max_notification_id()
    with pytest.raises(IntegrityError):
        app.record(second, Tracking("kafka:t:0@0", 5))
    assert app.recorder.max_notification_id() == stored
    app.close()


def test_a_stream_is_read_as_the_library_reads_it(
    postgres_server: PostgresServer, schemas: list[str]
) -> None:
    ours = _app(postgres_server, schemas)
    ours.record(_items(3))
    assert isinstance(ours.recorder, ArrayInsertProcessRecorder)
    library = PostgresProcessRecorder(  # the same table, read by the library's own code
        ours.recorder.datastore, events_table_name=ours.recorder.events_table_name
    )
    stream = ours.advisor("A-1")
    assert stream is not None
    filters: list[dict[str, Any]] = [
        {},
        {"gt": 3},
        {"lte": 5},
        {"gt": 2, "lte": 6},
        {"desc": True},
        {"desc": True, "limit": 1},
        {"gt": 1, "lte": 9, "desc": True, "limit": 4},
        {"gt": 10_000},
    ]
    for given in filters:
        mine = ours.recorder.select_events(stream.id, **given)
        theirs = library.select_events(stream.id, **given)
        assert mine == theirs, given
        assert all(type(e.state) is bytes for e in mine)
    assert len(ours.recorder.select_events(stream.id)) == stream.version
    ours.close()


def test_a_scan_of_heads_is_the_library_scan_with_chosen_states(
    postgres_server: PostgresServer, schemas: list[str]
) -> None:
    ours = _app(postgres_server, schemas)
    ours.record(_items(4))
    recorder = ours.recorder
    assert isinstance(recorder, ArrayInsertProcessRecorder)
    last = recorder.max_notification_id() or 0
    created = "appraisal.domain.advisor:Advisor.Created"
    assert any(n.topic == created for n in recorder.select_notifications(1, 100))
    for start, limit, stop in [(1, 100_000, None), (3, 7, None), (2, 1_000, 9), (last, 5, None)]:
        theirs = recorder.select_notifications(start=start, limit=limit, stop=stop)
        mine = recorder.select_heads(start, limit, stop, with_state=[created])
        assert [(n, uuid.UUID(i), v, t) for n, i, v, t, _ in mine] == [
            (n.id, n.originator_id, n.originator_version, n.topic) for n in theirs
        ]
        for head, full in zip(mine, theirs, strict=True):
            assert head[4] == (full.state if full.topic == created else None)
    assert recorder.select_heads(last + 1, 10) == []
    ours.close()
