"""The seen-event store remembers accepted ids across restarts, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import urllib.parse
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ingest.dedup import (
    InFlight,
    PostgresSeenStore,
    SeenStore,
    SqliteSeenStore,
    StoreUnavailableError,
    seen_store_for,
)
from tests.conftest import PostgresServer

pytestmark = pytest.mark.integration

T0 = datetime(2024, 3, 1, tzinfo=UTC)


def postgres_dsn(server: PostgresServer, schema: str) -> str:
    """A ``postgresql://`` URL whose connections use ``schema``."""
    auth = urllib.parse.quote(server.user) + (
        ":" + urllib.parse.quote(server.password) if server.password else ""
    )
    options = urllib.parse.quote(f"-csearch_path={schema}")
    return f"postgresql://{auth}@{server.host}:{server.port}/{server.dbname}?options={options}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], SeenStore]:
    """Makes stores on one database: each call is a 'restart' of the service."""
    if request.param == "sqlite":
        return lambda: SqliteSeenStore(tmp_path / "seen.sqlite")
    server: PostgresServer = request.getfixturevalue("postgres_server")
    schema: str = request.getfixturevalue("postgres_schema")
    dsn = postgres_dsn(server, schema)
    return lambda: seen_store_for(dsn)


@pytest.fixture
async def store(make_store: Callable[[], SeenStore]) -> AsyncIterator[SeenStore]:
    opened = make_store()
    await opened.open()
    yield opened
    await opened.close()


async def test_ids_are_seen_only_after_they_are_marked(store: SeenStore) -> None:
    a, b = uuid.uuid4(), uuid.uuid4()
    assert await store.seen([a, b]) == set()
    await store.mark([a], T0)
    assert await store.seen([a, b]) == {a}


async def test_marking_twice_keeps_one_row(store: SeenStore) -> None:
    a = uuid.uuid4()
    await store.mark([a], T0)
    await store.mark([a], T0 + timedelta(days=1))
    assert await store.prune(T0 + timedelta(hours=1)) == 1
    assert await store.seen([a]) == set()


async def test_many_ids_at_once(store: SeenStore) -> None:
    ids = [uuid.uuid4() for _ in range(2_345)]
    await store.mark(ids[:2_000], T0)
    assert await store.seen(ids) == set(ids[:2_000])


async def test_seen_ids_survive_a_restart(make_store: Callable[[], SeenStore]) -> None:
    a = uuid.uuid4()
    first = make_store()
    await first.open()
    await first.mark([a], T0)
    await first.close()
    second = make_store()
    await second.open()
    try:
        assert await second.seen([a]) == {a}
    finally:
        await second.close()


async def test_prune_forgets_ids_older_than_the_window(store: SeenStore) -> None:
    old, new = uuid.uuid4(), uuid.uuid4()
    await store.mark([old], T0)
    await store.mark([new], T0 + timedelta(days=400))
    assert await store.prune(T0 + timedelta(days=1)) == 1
    assert await store.seen([old, new]) == {new}


async def test_a_closed_sqlite_store_is_unavailable(tmp_path: Path) -> None:
    store = SqliteSeenStore(tmp_path / "x.sqlite")
    with pytest.raises(StoreUnavailableError):
        await store.seen([uuid.uuid4()])


async def test_the_sqlite_file_holds_ids_and_times_only(tmp_path: Path) -> None:
    store = SqliteSeenStore(tmp_path / "x.sqlite")
    await store.open()
    await store.mark([uuid.uuid4()], T0)
    await store.close()
    import sqlite3

    with sqlite3.connect(tmp_path / "x.sqlite") as conn:
        columns = [row[1] for row in conn.execute("PRAGMA table_info(seen_events)")]
    assert columns == ["event_id", "recorded_at"]


@pytest.mark.parametrize(
    ("dsn", "kind", "path"),
    [
        ("data/ingest.sqlite", SqliteSeenStore, Path("data/ingest.sqlite")),
        ("sqlite:///data/ingest.sqlite", SqliteSeenStore, Path("data/ingest.sqlite")),
        ("sqlite:////var/lib/ingest.sqlite", SqliteSeenStore, Path("/var/lib/ingest.sqlite")),
        ("postgresql://u@h/db", PostgresSeenStore, None),
        ("postgres://u@h/db", PostgresSeenStore, None),
    ],
)
def test_the_dsn_names_the_store(dsn: str, kind: type, path: Path | None) -> None:
    store = seen_store_for(dsn)
    assert isinstance(store, kind)
    if path is not None:
        assert isinstance(store, SqliteSeenStore)
        assert store.path == path


async def test_in_flight_ids_are_claimed_once_and_waiters_learn_the_outcome() -> None:
    in_flight = InFlight()
    a, b = uuid.uuid4(), uuid.uuid4()
    claimed, held = in_flight.claim([a])
    assert (claimed, held) == ([a], {})
    claimed, held = in_flight.claim([a, b])
    assert claimed == [b]
    assert set(held) == {a}
    in_flight.release([a], accepted=True)
    assert await asyncio.wait_for(held[a], 1) is True
    in_flight.release([b], accepted=False)
    assert len(in_flight) == 0
