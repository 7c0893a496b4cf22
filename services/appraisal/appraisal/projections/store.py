# Table and column names in the SQL below come only from constants of this module;
# every value is a bound parameter.
# ruff: noqa: S608
"""Read models (projections) in SQLite or PostgreSQL, written atomically with tracking.

The views follow the eventsourcing library's pattern: a tracking recorder
extended with tables, so every change to the views and the position in the
event store it reflects are committed in one transaction. Rows carry a JSON
body (the API's shape) plus the key columns queries filter on.

Verdict versions are append-only: an issued verdict is never overwritten, an
amendment is a new version. Their `published` flag makes the table the outbox
of the `appraisal-verdicts` topic; it is the only column a replay may not
reproduce, so the digest leaves it out.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import Any

from eventsourcing.persistence import InfrastructureFactory, Tracking, TrackingRecorder
from eventsourcing.postgres import PostgresTrackingRecorder
from eventsourcing.sqlite import SQLiteTrackingRecorder
from psycopg.sql import SQL, Composed

Body = dict[str, Any]


def _whole(body: Body) -> Body:
    return body


class ZippedJson(bytes):
    """A body's canonical JSON in UTF-8, zlib-compressed: how a step holds its rows'
    bodies until it writes them (a step touching every advisor of a county over two
    years holds ~6,000 assignment bodies). An assignment body takes 14.3 KB as
    dicts, 8.0 as text (its Chinese reasons make the whole string two bytes a
    character), 3.2–4.2 as UTF-8 and ~0.9 compressed (level 1: ~30 µs to make,
    ~11 to read back; issue #8, B4)."""

    __slots__ = ()

    @classmethod
    def of(cls, value: Any) -> ZippedJson:
        return cls(zlib.compress(canonical_json(value).encode(), 1))

    def text(self) -> str:
        return zlib.decompress(self).decode()


def canonical_json(value: Any) -> str:
    """The one serialisation of view bodies: sorted keys, no spaces, UTF-8 text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True, slots=True)
class AssignmentRow:
    county_id: str
    year: int
    advisor_id: str
    village_id: str
    verdict: str
    grade: str | None
    score: str | None
    provisional: bool
    version: int
    policy_id: str
    body: dict[str, Any] | ZippedJson  # the body, or its canonical JSON compressed


@dataclass(frozen=True, slots=True)
class AdvisorYearRow:
    advisor_id: str
    year: int
    county_id: str
    body: dict[str, Any] | ZippedJson  # the body, or its canonical JSON compressed


@dataclass(frozen=True, slots=True)
class CountyYearRow:
    county_id: str
    year: int
    closed: bool
    policy_id: str
    body: dict[str, Any]


@dataclass(frozen=True, slots=True)
class AwardRow:
    county_id: str
    year: int
    category: str
    body: dict[str, Any]


@dataclass(frozen=True, slots=True)
class VerdictVersionRow:
    """One issued (version 1) or amended (version ≥ 2) verdict of an assignment-year."""

    county_id: str
    year: int
    advisor_id: str
    village_id: str
    version: int
    kind: str  # "issued" | "amended"
    issued_at: str  # RFC 3339, the store time of the causing event (deterministic)
    seq: int  # publication order: the causing notification id, then an ordinal
    body: dict[str, Any]


@dataclass(frozen=True, slots=True)
class AdvisorStreamRow:
    """Which event-store stream and version an advisor's rows were computed from."""

    advisor_id: str
    stream_id: str
    county_id: str
    version: int


@dataclass
class ViewChanges:
    """Everything one processing step changes, written in one transaction."""

    replace_advisor_years: set[tuple[str, int]] = field(default_factory=set)
    assignments: list[AssignmentRow] = field(default_factory=list)
    advisor_years: list[AdvisorYearRow] = field(default_factory=list)
    county_years: list[CountyYearRow] = field(default_factory=list)
    awards: list[AwardRow] = field(default_factory=list)
    verdict_versions: list[VerdictVersionRow] = field(default_factory=list)
    advisor_streams: list[AdvisorStreamRow] = field(default_factory=list)
    dirty_county_years: set[tuple[str, int]] = field(default_factory=set)


# (table, columns, primary key columns); bodies are canonical JSON text.
TABLES: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    (
        "assignment_appraisals",
        (
            "county_id", "year", "advisor_id", "village_id", "verdict", "grade", "score",
            "provisional", "version", "policy_id", "body",
        ),
        ("county_id", "year", "advisor_id", "village_id"),
    ),
    (
        "advisor_years",
        ("advisor_id", "year", "county_id", "body"),
        ("advisor_id", "year", "county_id"),
    ),
    ("county_years", ("county_id", "year", "closed", "policy_id", "body"), ("county_id", "year")),
    (
        "award_shortlists",
        ("county_id", "year", "category", "body"),
        ("county_id", "year", "category"),
    ),
    (
        "advisor_streams",
        ("advisor_id", "stream_id", "county_id", "version"),
        ("advisor_id",),
    ),
    (
        "verdict_versions",
        (
            "county_id", "year", "advisor_id", "village_id", "version", "kind", "issued_at",
            "seq", "body",
        ),
        ("county_id", "year", "advisor_id", "village_id", "version"),
    ),
)  # fmt: skip

_INTEGER_COLUMNS = {"year", "version", "seq", "provisional", "closed"}


def _ddl(table: str, columns: Sequence[str], key: Sequence[str], qualified: str) -> str:
    cols = [f"{c} {'BIGINT' if c in _INTEGER_COLUMNS else 'TEXT'}" for c in columns]
    if table == "verdict_versions":
        cols.append("published INTEGER NOT NULL DEFAULT 0")
    columns_sql = ", ".join(cols)
    return f"CREATE TABLE IF NOT EXISTS {qualified} ({columns_sql}, PRIMARY KEY ({', '.join(key)}))"


class AppraisalViews(TrackingRecorder, ABC):
    """Command and query methods of the read models, independent of the backend."""

    placeholder = "%s"
    # A body column selected as its UTF-8 bytes (`_bodies`).
    utf8_body = "CAST(body AS BLOB)"
    # The environment `open_views` opened these views with (for worker processes).
    opened_with: dict[str, str] = {}  # noqa: RUF012 (replaced per instance, never mutated)

    @abstractmethod
    def _table(self, name: str) -> str: ...

    @abstractmethod
    def _transaction(self, *, commit: bool) -> AbstractContextManager[Any]: ...

    @abstractmethod
    def _track(self, cursor: Any, tracking: Tracking) -> None: ...

    def _sql(self, text: str) -> str:
        return text.replace("%s", self.placeholder)

    def _create_statements(self) -> list[str]:
        statements = [_ddl(t, cols, key, self._table(t)) for t, cols, key in TABLES]
        statements.append(
            f"CREATE INDEX IF NOT EXISTS assignment_appraisals_by_advisor "
            f"ON {self._table('assignment_appraisals')} (advisor_id, year)"
        )
        statements.append(
            f"CREATE TABLE IF NOT EXISTS {self._table('verify_results')} "
            "(checked_at TEXT PRIMARY KEY, position BIGINT, drift BIGINT, digest TEXT)"
        )
        # County-years whose summary and awards must be recomputed from their rows;
        # derived bookkeeping, so not part of the digest.
        statements.append(
            f"CREATE TABLE IF NOT EXISTS {self._table('dirty_county_years')} "
            "(county_id TEXT, year BIGINT, PRIMARY KEY (county_id, year))"
        )
        statements.append(
            f"CREATE INDEX IF NOT EXISTS verdict_versions_unpublished "
            f"ON {self._table('verdict_versions')} (published, seq)"
        )
        return statements

    # --- commands ------------------------------------------------------------

    def write(self, changes: ViewChanges, tracking: Tracking | None) -> None:
        """Apply `changes` and record `tracking` in one transaction."""
        with self._transaction(commit=True) as c:
            for advisor_id, year in sorted(changes.replace_advisor_years):
                for table in ("assignment_appraisals", "advisor_years"):
                    c.execute(
                        self._sql(
                            f"DELETE FROM {self._table(table)} WHERE advisor_id = %s AND year = %s"
                        ),
                        (advisor_id, year),
                    )
            self._upsert(c, "assignment_appraisals", changes.assignments)
            self._upsert(c, "advisor_years", changes.advisor_years)
            self._upsert(c, "county_years", changes.county_years)
            self._upsert(c, "award_shortlists", changes.awards)
            self._upsert(c, "verdict_versions", changes.verdict_versions, insert_only=True)
            self._upsert(c, "advisor_streams", changes.advisor_streams)
            if changes.dirty_county_years:
                c.executemany(
                    self._sql(
                        f"INSERT INTO {self._table('dirty_county_years')} (county_id, year) "
                        "VALUES (%s, %s) ON CONFLICT (county_id, year) DO NOTHING"
                    ),
                    sorted(changes.dirty_county_years),
                )
            if tracking is not None:
                self._track(c, tracking)

    def _upsert(
        self, c: Any, table: str, rows: Sequence[Any], *, insert_only: bool = False
    ) -> None:
        if not rows:
            return
        _, columns, key = next(t for t in TABLES if t[0] == table)
        values = ", ".join(["%s"] * len(columns))
        statement = f"INSERT INTO {self._table(table)} ({', '.join(columns)}) VALUES ({values})"
        if not insert_only:
            updates = ", ".join(f"{col} = excluded.{col}" for col in columns if col not in key)
            statement += f" ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates}"
        # Each row's JSON made as it is sent, not all of a step's at once (B4).
        c.executemany(self._sql(statement), (self._values(row, columns) for row in rows))

    @staticmethod
    def _values(row: Any, columns: Sequence[str]) -> tuple[Any, ...]:
        out: list[Any] = []
        for col in columns:
            value = getattr(row, col)
            if col == "body":
                value = value.text() if type(value) is ZippedJson else canonical_json(value)
            elif isinstance(value, bool):
                value = int(value)
            out.append(value)
        return tuple(out)

    def settle_county_year(self, county: CountyYearRow, awards: Sequence[AwardRow]) -> None:
        """Write a recomputed summary and shortlists, and clear the county-year's dirt."""
        with self._transaction(commit=True) as c:
            self._upsert(c, "county_years", [county])
            self._upsert(c, "award_shortlists", awards)
            c.execute(
                self._sql(
                    f"DELETE FROM {self._table('dirty_county_years')} "
                    "WHERE county_id = %s AND year = %s"
                ),
                (county.county_id, county.year),
            )

    def record_verification(self, checked_at: str, position: int, drift: int, digest: str) -> None:
        """Remember a `verify` result; the service exports the latest as a metric."""
        with self._transaction(commit=True) as c:
            c.execute(
                self._sql(
                    f"INSERT INTO {self._table('verify_results')} "
                    "(checked_at, position, drift, digest) VALUES (%s, %s, %s, %s)"
                ),
                (checked_at, position, drift, digest),
            )

    def latest_verification(self) -> dict[str, Any] | None:
        rows = self._select(
            f"SELECT checked_at, position, drift, digest FROM {self._table('verify_results')} "
            "ORDER BY checked_at DESC LIMIT 1"
        )
        return rows[0] if rows else None

    def mark_published(self, keys: Sequence[tuple[str, int, str, str, int]]) -> None:
        with self._transaction(commit=True) as c:
            c.executemany(
                self._sql(
                    f"UPDATE {self._table('verdict_versions')} SET published = 1 "
                    "WHERE county_id = %s AND year = %s AND advisor_id = %s "
                    "AND village_id = %s AND version = %s"
                ),
                list(keys),
            )

    # --- queries -------------------------------------------------------------

    def close(self) -> None:
        """Close the views' connections (a pool on PostgreSQL): left open, every
        service stopped in a process keeps its pool until the process exits."""
        datastore: Any = getattr(self, "datastore", None)
        if datastore is not None:
            datastore.close()

    def ping(self, timeout: float) -> None:
        """One round trip to the views' database, for readiness: no retries, and at
        most `timeout` spent waiting for a connection (where the backend pools them)."""
        with self._transaction(commit=False) as c:
            c.execute("SELECT 1")

    def _reader(self) -> AbstractContextManager[Any]:
        """A cursor for reads that need no transaction of their own (one statement)."""
        return self._transaction(commit=False)

    def _select(self, statement: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        with self._reader() as c:
            c.execute(self._sql(statement), tuple(params))
            return [dict(row) for row in c.fetchall()]

    def county_assignments(
        self, county_id: str, year: int, keep: Callable[[Body], Body] = _whole
    ) -> list[Body]:
        """The county-year's assignment bodies (`keep` of each, as it is decoded: what a
        caller needs of 3,000 bodies can be far less than the bodies, issue #8 B4)."""
        bodies = self.county_assignment_bodies(county_id, year)
        return [keep(json.loads(body)) for body in bodies]

    def advisor_assignments(self, advisor_id: str, year: int) -> list[dict[str, Any]]:
        rows = self._select(
            f"SELECT body FROM {self._table('assignment_appraisals')} "
            "WHERE advisor_id = %s AND year = %s ORDER BY county_id, village_id",
            (advisor_id, year),
        )
        return [json.loads(r["body"]) for r in rows]

    def advisor_year(self, advisor_id: str, year: int) -> dict[str, Any] | None:
        rows = self._select(
            f"SELECT body FROM {self._table('advisor_years')} "
            "WHERE advisor_id = %s AND year = %s ORDER BY county_id",
            (advisor_id, year),
        )
        return json.loads(rows[0]["body"]) if rows else None

    def advisor_years_of_county(
        self, county_id: str, year: int, keep: Callable[[Body], Body] = _whole
    ) -> list[Body]:
        """The county-year's advisor-year bodies (`keep` of each, as for assignments)."""
        bodies = self._bodies(
            f"FROM {self._table('advisor_years')} "
            "WHERE county_id = %s AND year = %s ORDER BY advisor_id",
            (county_id, year),
        )
        return [keep(json.loads(body)) for body in bodies]

    def advisors_of_county_year(self, county_id: str, year: int) -> list[str]:
        rows = self._select(
            f"SELECT DISTINCT advisor_id FROM {self._table('assignment_appraisals')} "
            "WHERE county_id = %s AND year = %s ORDER BY advisor_id",
            (county_id, year),
        )
        return [r["advisor_id"] for r in rows]

    def dirty_county_years(self) -> list[tuple[str, int]]:
        rows = self._select(
            f"SELECT county_id, year FROM {self._table('dirty_county_years')} "
            "ORDER BY county_id, year"
        )
        return [(r["county_id"], int(r["year"])) for r in rows]

    def county_year_keys(self, county_id: str) -> list[int]:
        rows = self._select(
            f"SELECT DISTINCT year FROM {self._table('advisor_years')} WHERE county_id = %s "
            "ORDER BY year",
            (county_id,),
        )
        return [int(r["year"]) for r in rows]

    def advisor_streams(self, county_id: str | None = None) -> list[AdvisorStreamRow]:
        """Every projected advisor (of one county, or all), by advisor id."""
        where, params = ("WHERE county_id = %s", (county_id,)) if county_id else ("", ())
        rows = self._select(
            f"SELECT advisor_id, stream_id, county_id, version "
            f"FROM {self._table('advisor_streams')} {where} ORDER BY advisor_id",
            params,
        )
        return [
            AdvisorStreamRow(r["advisor_id"], r["stream_id"], r["county_id"], int(r["version"]))
            for r in rows
        ]

    def advisor_stream(self, advisor_id: str) -> AdvisorStreamRow | None:
        rows = self._select(
            f"SELECT advisor_id, stream_id, county_id, version "
            f"FROM {self._table('advisor_streams')} WHERE advisor_id = %s",
            (advisor_id,),
        )
        return (
            AdvisorStreamRow(
                rows[0]["advisor_id"],
                rows[0]["stream_id"],
                rows[0]["county_id"],
                int(rows[0]["version"]),
            )
            if rows
            else None
        )

    def latest_version(
        self, county_id: str, year: int, advisor_id: str, village_id: str
    ) -> dict[str, Any] | None:
        versions = self.verdict_versions(county_id, year, advisor_id, village_id)
        return versions[-1] if versions else None

    def county_year(self, county_id: str, year: int) -> dict[str, Any] | None:
        rows = self._select(
            f"SELECT body FROM {self._table('county_years')} WHERE county_id = %s AND year = %s",
            (county_id, year),
        )
        return json.loads(rows[0]["body"]) if rows else None

    def award_shortlist(self, county_id: str, year: int, category: str) -> dict[str, Any] | None:
        rows = self._select(
            f"SELECT body FROM {self._table('award_shortlists')} "
            "WHERE county_id = %s AND year = %s AND category = %s",
            (county_id, year, category),
        )
        return json.loads(rows[0]["body"]) if rows else None

    # --- bodies as stored, for the read API ------------------------------------
    # Bodies are canonical JSON text already: the API sends them as they are
    # instead of parsing and re-encoding them (issue #8, B3).

    def _texts(self, statement: str, params: Sequence[Any]) -> list[str]:
        with self._reader() as c:
            c.execute(self._sql(statement), tuple(params))
            return [row["body"] for row in c.fetchall()]

    def _byte_reader(self) -> AbstractContextManager[Any]:
        """A cursor for `_bodies`' statement (`_reader`'s by default)."""
        return self._reader()

    def _bodies(self, statement: str, params: Sequence[Any]) -> list[bytes]:
        """The stored JSON texts `SELECT body` + `statement` finds, as UTF-8 bytes.

        A county-year's ~3,000 assignment bodies are ~10 MB of UTF-8; read as `str`
        (two bytes a character once a Chinese reason is in one) they were ~24 MB in
        the process at once, next to the driver's copy of the result: ~45 MB of the
        service's peak when a county list was read whole, and of the projector's when
        it settled a county-year (issue #8, B4)."""
        with self._byte_reader() as c:
            c.execute(self._sql(f"SELECT {self.utf8_body} AS body " + statement), tuple(params))
            return [bytes(row["body"]) for row in c.fetchall()]

    def county_assignment_bodies(self, county_id: str, year: int) -> list[bytes]:
        """`county_assignments` as stored JSON, in UTF-8, in the same order."""
        return self._bodies(
            f"FROM {self._table('assignment_appraisals')} "
            "WHERE county_id = %s AND year = %s ORDER BY advisor_id, village_id",
            (county_id, year),
        )

    def county_assignment_page_bodies(
        self, county_id: str, year: int, offset: int, limit: int
    ) -> tuple[int, list[bytes]]:
        """How many assignments the county-year has, and `limit` of them from `offset`."""
        total = self._select(
            f"SELECT COUNT(*) AS total FROM {self._table('assignment_appraisals')} "
            "WHERE county_id = %s AND year = %s",
            (county_id, year),
        )[0]["total"]
        page = self._bodies(
            f"FROM {self._table('assignment_appraisals')} "
            "WHERE county_id = %s AND year = %s ORDER BY advisor_id, village_id "
            "LIMIT %s OFFSET %s",
            (county_id, year, limit, offset),
        )
        return int(total), page

    def advisor_assignment_texts(self, advisor_id: str, year: int) -> list[str]:
        """`advisor_assignments` as stored JSON text, in the same order."""
        return self._texts(
            f"SELECT body FROM {self._table('assignment_appraisals')} "
            "WHERE advisor_id = %s AND year = %s ORDER BY county_id, village_id",
            (advisor_id, year),
        )

    def advisor_answer_texts(
        self, advisor_id: str, year: int
    ) -> tuple[str | None, dict[str, Any] | None, list[str]]:
        """`advisor_stream`'s county, `advisor_year` and `advisor_assignment_texts`, read
        by one statement (one snapshot, one round trip)."""
        rows = self._select(
            f"SELECT 0 AS part, county_id AS body, '' AS k1, '' AS k2 "
            f"FROM {self._table('advisor_streams')} WHERE advisor_id = %s "
            f"UNION ALL SELECT 1, body, county_id, '' FROM {self._table('advisor_years')} "
            "WHERE advisor_id = %s AND year = %s "
            f"UNION ALL SELECT 2, body, county_id, village_id "
            f"FROM {self._table('assignment_appraisals')} WHERE advisor_id = %s AND year = %s "
            "ORDER BY part, k1, k2",
            (advisor_id, advisor_id, year, advisor_id, year),
        )
        county = next((r["body"] for r in rows if r["part"] == 0), None)
        advisor_year = next((r["body"] for r in rows if r["part"] == 1), None)
        assignments = [r["body"] for r in rows if r["part"] == 2]
        return county, None if advisor_year is None else json.loads(advisor_year), assignments

    def award_shortlist_text(self, county_id: str, year: int, category: str) -> str | None:
        texts = self._texts(
            f"SELECT body FROM {self._table('award_shortlists')} "
            "WHERE county_id = %s AND year = %s AND category = %s",
            (county_id, year, category),
        )
        return texts[0] if texts else None

    def is_dirty(self, county_id: str, year: int) -> bool:
        """Whether the county-year's summary and shortlists wait to be recomputed."""
        rows = self._select(
            f"SELECT 1 AS dirty FROM {self._table('dirty_county_years')} "
            "WHERE county_id = %s AND year = %s",
            (county_id, year),
        )
        return bool(rows)

    def county_year_text(self, county_id: str, year: int) -> str | None:
        texts = self._texts(
            f"SELECT body FROM {self._table('county_years')} WHERE county_id = %s AND year = %s",
            (county_id, year),
        )
        return texts[0] if texts else None

    def verdict_versions(
        self, county_id: str, year: int, advisor_id: str, village_id: str
    ) -> list[dict[str, Any]]:
        rows = self._select(
            f"SELECT version, kind, issued_at, body FROM {self._table('verdict_versions')} "
            "WHERE county_id = %s AND year = %s AND advisor_id = %s AND village_id = %s "
            "ORDER BY version",
            (county_id, year, advisor_id, village_id),
        )
        return [{**r, "body": json.loads(r["body"])} for r in rows]

    def latest_versions(self, county_id: str, year: int) -> dict[tuple[str, str], dict[str, Any]]:
        """The latest issued/amended verdict of each assignment of a county-year."""
        rows = self._select(
            f"SELECT advisor_id, village_id, version, body FROM {self._table('verdict_versions')} "
            "WHERE county_id = %s AND year = %s ORDER BY advisor_id, village_id, version",
            (county_id, year),
        )
        latest: dict[tuple[str, str], dict[str, Any]] = {}
        for r in rows:
            latest[(r["advisor_id"], r["village_id"])] = r
        return {key: {**r, "body": json.loads(r["body"])} for key, r in latest.items()}

    def unpublished_verdicts(self, limit: int = 500) -> list[dict[str, Any]]:
        rows = self._select(
            f"SELECT county_id, year, advisor_id, village_id, version, kind, body "
            f"FROM {self._table('verdict_versions')} WHERE published = 0 "
            "ORDER BY seq, county_id, advisor_id, village_id, version LIMIT %s",
            (limit,),
        )
        return [{**r, "body": json.loads(r["body"])} for r in rows]

    def digest(self) -> str:
        """SHA-256 over every deterministic column of every view, in key order."""
        h = hashlib.sha256()
        for table, columns, key in TABLES:
            h.update(f"\x00{table}\x00".encode())
            with self._transaction(commit=False) as c:
                c.execute(
                    f"SELECT {', '.join(columns)} FROM {self._table(table)} "
                    f"ORDER BY {', '.join(key)}"
                )
                for row in _iter_rows(c):
                    h.update(canonical_json([row[col] for col in columns]).encode())
                    h.update(b"\n")
        return h.hexdigest()

    def table_rows(self, table: str) -> list[dict[str, Any]]:
        """Every row of one view, in key order (for `verify`'s difference export)."""
        _, columns, key = next(t for t in TABLES if t[0] == table)
        return self._select(
            f"SELECT {', '.join(columns)} FROM {self._table(table)} ORDER BY {', '.join(key)}"
        )


def _iter_rows(cursor: Any) -> Iterator[dict[str, Any]]:
    cursor = getattr(cursor, "sqlite_cursor", cursor)  # eventsourcing wraps sqlite3's cursor
    while True:
        batch = cursor.fetchmany(1000)
        if not batch:
            return
        for row in batch:
            yield dict(row)


class SQLiteAppraisalViews(SQLiteTrackingRecorder, AppraisalViews):
    placeholder = "?"

    def construct_create_table_statements(self) -> list[str]:
        return [*super().construct_create_table_statements(), *self._create_statements()]

    def _table(self, name: str) -> str:
        return name

    def _transaction(self, *, commit: bool) -> AbstractContextManager[Any]:
        return self.datastore.transaction(commit=commit)

    def _track(self, cursor: Any, tracking: Tracking) -> None:
        self._insert_tracking(cursor, tracking)


class PostgresAppraisalViews(PostgresTrackingRecorder, AppraisalViews):
    utf8_body = "convert_to(body, 'UTF8')"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sql_create_statements.extend(Composed([SQL(s)]) for s in self._create_statements())

    def _table(self, name: str) -> str:
        return f'"{self.datastore.schema}".{name}'

    def ping(self, timeout: float) -> None:
        # The library's recorder methods retry ten times, each waiting up to
        # POSTGRES_CONNECT_TIMEOUT for a pooled connection: ~50 s while PostgreSQL is
        # away. Ask the pool directly, once.
        self.datastore.pool.open()
        with self.datastore.pool.connection(timeout=timeout) as conn:
            conn.execute("SELECT 1")

    def _transaction(self, *, commit: bool) -> AbstractContextManager[Any]:
        return self.datastore.transaction(commit=commit)

    def _track(self, cursor: Any, tracking: Tracking) -> None:
        self._insert_tracking(cursor, tracking)

    @contextmanager
    def _reader(self) -> Iterator[Any]:
        # The pool's connections are in autocommit mode: one statement is one
        # snapshot, so reads skip the BEGIN and ROLLBACK round trips of a transaction.
        with self.datastore.get_connection() as conn, conn.cursor() as cursor:
            yield cursor

    @contextmanager
    def _byte_reader(self) -> Iterator[Any]:
        # Binary results: a bytea arrives as its bytes, not as hex text twice its size.
        with self.datastore.get_connection() as conn, conn.cursor(binary=True) as cursor:
            yield cursor


def open_views(env: dict[str, str]) -> AppraisalViews:
    """The views recorder for the persistence module named in `env`."""
    factory = InfrastructureFactory.construct(env=_views_env(env))
    module = env.get("PERSISTENCE_MODULE", "")
    if module.endswith("postgres"):
        recorder: TrackingRecorder = factory.tracking_recorder(PostgresAppraisalViews)
    elif module.endswith("sqlite"):
        recorder = factory.tracking_recorder(SQLiteAppraisalViews)
    else:
        raise ValueError(f"projections need SQLite or PostgreSQL, not {module!r}")
    assert isinstance(recorder, AppraisalViews)
    recorder.opened_with = dict(env)
    return recorder


def _views_env(env: dict[str, str]) -> Any:
    from eventsourcing.utils import Environment

    views = dict(env)
    if "VIEWS_SQLITE_DBNAME" in env:
        views["SQLITE_DBNAME"] = env["VIEWS_SQLITE_DBNAME"]
    return Environment(name="appraisal_views", env=views)
