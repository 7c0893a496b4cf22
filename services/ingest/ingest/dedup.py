"""Which events were already accepted (已接收事件): durable across restarts.

An event id is recorded only after Kafka acknowledged the event, and kept for a
retention window counted from its ``recorded_at`` (default 400 days: a year's
appraisal plus its corrections). An event re-sent after the window is
published again; the appraisal service still applies each ``event_id`` at most
once (DESIGN §4), so the window bounds the table, not correctness.

Two stores: SQLite (default, a file next to the service) and PostgreSQL. Both
keep only the 16-byte id and the record time; never event content.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Collection, Iterable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Final, Protocol
from uuid import UUID

import psycopg
from psycopg_pool import AsyncConnectionPool

_CHUNK: Final = 500


class StoreUnavailableError(RuntimeError):
    """The seen-event store could not be read or written."""


class SeenStore(Protocol):
    """Remembers accepted event ids."""

    async def open(self) -> None:
        """Connect and create the table if needed."""

    async def close(self) -> None:
        """Release connections."""

    async def seen(self, event_ids: Collection[UUID]) -> set[UUID]:
        """The ids among ``event_ids`` that were already accepted."""
        ...

    async def mark(self, event_ids: Collection[UUID], recorded_at: datetime) -> None:
        """Remember ``event_ids`` as accepted at ``recorded_at`` (ids already there stay)."""

    async def prune(self, older_than: datetime) -> int:
        """Forget ids recorded before ``older_than``; return how many."""
        ...


def _chunks(ids: Sequence[UUID]) -> Iterator[Sequence[UUID]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


class SqliteSeenStore:
    """Seen ids in a SQLite file (WAL). Calls run in a worker thread, one at a time."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    async def open(self) -> None:
        """Open (and create) the database file."""
        await asyncio.to_thread(self._open)

    def _open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        # NORMAL may lose the last commits on power loss: a resend is then published
        # again, which the appraisal service's per-event_id idempotency absorbs.
        conn.execute("PRAGMA synchronous=NORMAL")
        # Event ids are random, so every insert dirties its own leaf page: a batch of
        # 500 wrote ~2 MB to the WAL, and the default checkpoint (every 1,000 pages)
        # copied it back to the file after every other batch. A 16 MB page cache and
        # a checkpoint every 10,000 pages (a WAL of ~40 MB at most) halve the cost:
        # 675,000 ids in batches of 500 took 41.6 s, now 20.8 s (issue #8).
        conn.execute("PRAGMA cache_size=-16384")
        conn.execute("PRAGMA wal_autocheckpoint=10000")
        conn.execute(
            "CREATE TABLE IF NOT EXISTS seen_events ("
            " event_id BLOB PRIMARY KEY, recorded_at INTEGER NOT NULL) WITHOUT ROWID"
        )
        conn.execute(
            "CREATE INDEX IF NOT EXISTS seen_events_recorded_at ON seen_events (recorded_at)"
        )
        self._conn = conn

    async def close(self) -> None:
        """Close the database."""
        conn, self._conn = self._conn, None
        if conn is not None:
            await asyncio.to_thread(self._locked_close, conn)

    def _locked_close(self, conn: sqlite3.Connection) -> None:
        with self._lock:
            conn.close()

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StoreUnavailableError("the seen-event store is not open")
        return self._conn

    async def seen(self, event_ids: Collection[UUID]) -> set[UUID]:
        """The ids among ``event_ids`` already accepted."""
        if not event_ids:
            return set()
        return await asyncio.to_thread(self._seen, list(event_ids))

    def _seen(self, ids: list[UUID]) -> set[UUID]:
        found: set[UUID] = set()
        with self._lock:
            conn = self._connection()
            try:
                for chunk in _chunks(ids):
                    marks = ",".join("?" * len(chunk))
                    rows = conn.execute(
                        f"SELECT event_id FROM seen_events WHERE event_id IN ({marks})",  # noqa: S608 - only placeholders
                        [i.bytes for i in chunk],
                    )
                    found.update(UUID(bytes=row[0]) for row in rows)
            except sqlite3.Error as error:
                raise StoreUnavailableError(f"SQLite: {error}") from error
        return found

    async def mark(self, event_ids: Collection[UUID], recorded_at: datetime) -> None:
        """Remember ``event_ids`` as accepted at ``recorded_at``."""
        if event_ids:
            await asyncio.to_thread(self._mark, list(event_ids), int(recorded_at.timestamp()))

    def _mark(self, ids: list[UUID], at: int) -> None:
        with self._lock:
            conn = self._connection()
            try:
                conn.execute("BEGIN IMMEDIATE")
                conn.executemany(
                    "INSERT OR IGNORE INTO seen_events (event_id, recorded_at) VALUES (?, ?)",
                    ((i.bytes, at) for i in ids),
                )
                conn.execute("COMMIT")
            except sqlite3.Error as error:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise StoreUnavailableError(f"SQLite: {error}") from error

    async def prune(self, older_than: datetime) -> int:
        """Forget ids recorded before ``older_than``."""
        return await asyncio.to_thread(self._prune, int(older_than.timestamp()))

    def _prune(self, before: int) -> int:
        with self._lock:
            conn = self._connection()
            try:
                return conn.execute(
                    "DELETE FROM seen_events WHERE recorded_at < ?", (before,)
                ).rowcount
            except sqlite3.Error as error:
                raise StoreUnavailableError(f"SQLite: {error}") from error


class PostgresSeenStore:
    """Seen ids in PostgreSQL table ``ingest_seen_events`` (shared by ingest replicas)."""

    def __init__(self, conninfo: str, max_connections: int = 4) -> None:
        self._pool = AsyncConnectionPool(
            conninfo, min_size=1, max_size=max_connections, open=False, timeout=10
        )

    async def open(self) -> None:
        """Open the pool and create the table if needed."""
        await self._pool.open(wait=True)
        async with self._pool.connection() as conn:
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS ingest_seen_events ("
                " event_id uuid PRIMARY KEY, recorded_at timestamptz NOT NULL)"
            )
            await conn.execute(
                "CREATE INDEX IF NOT EXISTS ingest_seen_events_recorded_at"
                " ON ingest_seen_events (recorded_at)"
            )

    async def close(self) -> None:
        """Close the pool."""
        await self._pool.close()

    async def seen(self, event_ids: Collection[UUID]) -> set[UUID]:
        """The ids among ``event_ids`` already accepted."""
        if not event_ids:
            return set()
        try:
            async with self._pool.connection() as conn:
                cursor = await conn.execute(
                    "SELECT event_id FROM ingest_seen_events WHERE event_id = ANY(%s)",
                    (list(event_ids),),
                )
                return {row[0] for row in await cursor.fetchall()}
        except (psycopg.Error, TimeoutError) as error:
            raise StoreUnavailableError(f"PostgreSQL: {type(error).__name__}") from error

    async def mark(self, event_ids: Collection[UUID], recorded_at: datetime) -> None:
        """Remember ``event_ids`` as accepted at ``recorded_at``."""
        if not event_ids:
            return
        try:
            async with self._pool.connection() as conn:
                await conn.execute(
                    "INSERT INTO ingest_seen_events (event_id, recorded_at)"
                    " SELECT unnest(%s::uuid[]), %s ON CONFLICT (event_id) DO NOTHING",
                    (list(event_ids), recorded_at),
                )
        except (psycopg.Error, TimeoutError) as error:
            raise StoreUnavailableError(f"PostgreSQL: {type(error).__name__}") from error

    async def prune(self, older_than: datetime) -> int:
        """Forget ids recorded before ``older_than``."""
        try:
            async with self._pool.connection() as conn:
                cursor = await conn.execute(
                    "DELETE FROM ingest_seen_events WHERE recorded_at < %s", (older_than,)
                )
                return cursor.rowcount
        except (psycopg.Error, TimeoutError) as error:
            raise StoreUnavailableError(f"PostgreSQL: {type(error).__name__}") from error


def seen_store_for(dsn: str) -> SeenStore:
    """The store a DSN names: ``postgresql://…`` / ``postgres://…``, else a SQLite path.

    SQLite as SQLAlchemy spells it (``sqlite:///data/x.sqlite`` relative,
    ``sqlite:////var/lib/x.sqlite`` absolute) or as a plain path.
    """
    if dsn.startswith(("postgresql://", "postgres://")):
        return PostgresSeenStore(dsn)
    for prefix in ("sqlite:///", "sqlite:"):
        if dsn.startswith(prefix):
            return SqliteSeenStore(Path(dsn.removeprefix(prefix)))
    return SqliteSeenStore(Path(dsn))


class InFlight:
    """Event ids being published right now by some request of this process.

    A request that meets an id another request is publishing waits for that
    outcome: accepted means ``duplicate``; failed means it publishes the event
    itself. Without this two concurrent copies would both be reported accepted.
    """

    def __init__(self) -> None:
        self._pending: dict[UUID, asyncio.Future[bool]] = {}

    def claim(
        self, event_ids: Iterable[UUID]
    ) -> tuple[list[UUID], dict[UUID, asyncio.Future[bool]]]:
        """Claim the free ids; return them and the futures of the ids others hold."""
        loop = asyncio.get_running_loop()
        claimed: list[UUID] = []
        held: dict[UUID, asyncio.Future[bool]] = {}
        for event_id in event_ids:
            other = self._pending.get(event_id)
            if other is None:
                self._pending[event_id] = loop.create_future()
                claimed.append(event_id)
            else:
                held[event_id] = other
        return claimed, held

    def release(self, event_ids: Iterable[UUID], *, accepted: bool) -> None:
        """Give up claimed ids, telling waiters whether they were accepted."""
        for event_id in event_ids:
            future = self._pending.pop(event_id, None)
            if future is not None and not future.done():
                future.set_result(accepted)

    def __len__(self) -> int:
        return len(self._pending)
