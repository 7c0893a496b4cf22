"""The event store's PostgreSQL recorder, with a cheaper insert of a batch.

eventsourcing inserts a batch as one array of a composite type
(`unnest(%s::stored_event_uuid[])`). psycopg turns such an array into text in
Python, escaping every event's JSON state as bytea: 18 % of the appraisal service
process in B1 (py-spy). Four parallel arrays of plain types (uuid, bigint, text,
bytea) go in psycopg's binary format, dumped by its C extension. Same table, same
rows, same order (`unnest` of several arrays yields them in array order, as the
single array did), same `RETURNING notification_id`; only the parameters differ.

Chosen through eventsourcing's `PROCESS_RECORDER_TOPIC`, which
`AppraisalApplication.construct_env` sets on PostgreSQL only (the SQLite factory
reads the same key and accepts only its own recorders).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresDatastore, PostgresProcessRecorder
from psycopg import Cursor
from psycopg.rows import DictRow, tuple_row
from psycopg.sql import SQL, Identifier

# A notification as `select_heads` gives it: (id, stream id as text, version, topic,
# state or None).
Head = tuple[int, str, int, str, bytes | None]


class ArrayInsertProcessRecorder(PostgresProcessRecorder):
    """`PostgresProcessRecorder` inserting a batch as parallel arrays (binary)."""

    def __init__(
        self,
        datastore: PostgresDatastore,
        *,
        events_table_name: str = "stored_events",
        tracking_table_name: str = "notification_tracking",
    ) -> None:
        super().__init__(
            datastore, events_table_name=events_table_name, tracking_table_name=tracking_table_name
        )
        self.insert_columns_statement = SQL(
            "INSERT INTO {schema}.{table} (originator_id, originator_version, topic, state) "
            "SELECT * FROM unnest(%b::{id_type}[], %b::bigint[], %b::text[], %b::bytea[]) "
            "RETURNING notification_id"
        ).format(
            schema=Identifier(self.datastore.schema),
            table=Identifier(self.events_table_name),
            id_type=Identifier(self.datastore.originator_id_type),
        )
        self.select_stream_statement = SQL(
            "SELECT originator_id, originator_version, topic, state "
            "FROM {schema}.{table} WHERE originator_id = %s"
        ).format(schema=Identifier(self.datastore.schema), table=Identifier(self.events_table_name))
        self.stream_versions_statement = SQL(
            "SELECT originator_id, max(originator_version) FROM {schema}.{table} "
            "WHERE originator_id = ANY(%s) GROUP BY originator_id"
        ).format(schema=Identifier(self.datastore.schema), table=Identifier(self.events_table_name))
        self.select_heads_statement = SQL(
            "SELECT notification_id, originator_id::text, originator_version, topic, "
            "CASE WHEN topic = ANY(%s) THEN state END "
            "FROM {schema}.{table} WHERE notification_id >= %s AND notification_id <= %s "
            "ORDER BY notification_id LIMIT %s"
        ).format(schema=Identifier(self.datastore.schema), table=Identifier(self.events_table_name))

    def _insert_stored_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **_: Any
    ) -> None:
        self._lock_table(curs)
        self._notify_channel(curs)
        curs.execute(
            self.insert_columns_statement,
            (
                [e.originator_id for e in stored_events],
                [e.originator_version for e in stored_events],
                [e.topic for e in stored_events],
                [e.state for e in stored_events],
            ),
            prepare=True,
        )

    def select_events(
        self,
        originator_id: UUID | str,
        *,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> Sequence[StoredEvent]:
        """The library's query, with rows read as tuples instead of dicts (building a
        dict per row was ~6 % of a replay, which reads every advisor's stream), in
        binary: states arrive as they are stored, not hex-encoded at twice the size."""
        statement = self.select_stream_statement
        params: list[Any] = [originator_id]
        if gt is not None:
            params.append(gt)
            statement += SQL(" AND originator_version > %s")
        if lte is not None:
            params.append(lte)
            statement += SQL(" AND originator_version <= %s")
        statement += SQL(
            " ORDER BY originator_version DESC" if desc else " ORDER BY originator_version ASC"
        )
        if limit is not None:
            params.append(limit)
            statement += SQL(" LIMIT %s")
        with (
            self.datastore.get_connection() as conn,
            conn.cursor(row_factory=tuple_row, binary=True) as curs,
        ):
            curs.execute(statement, params, prepare=True)
            return [
                StoredEvent(originator_id=i, originator_version=v, topic=t, state=bytes(s))
                for i, v, t, s in curs.fetchall()
            ]

    def select_heads(
        self, start: int, limit: int, stop: int | None = None, *, with_state: Sequence[str] = ()
    ) -> list[Head]:
        """`select_notifications(start, limit, stop)` as rows `(id, stream id as text,
        version, topic, state)`, the state only of notifications whose topic is in
        `with_state` (None for the others). A projector's scan needs only the positions
        of most notifications: their states were most of what a replay's scan moved,
        and a `Notification` and a `UUID` made for each row were half of what was left
        (10 us a row in B1's tail, issue #8): rows stay psycopg's tuples here."""
        with self.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as curs:
            curs.execute(
                self.select_heads_statement,
                (list(with_state), start, stop if stop is not None else 2**63 - 1, limit),
                prepare=True,
            )
            return curs.fetchall()

    def stream_versions(self, originator_ids: Sequence[UUID]) -> dict[UUID, int]:
        """The newest version of each of the streams that has events, in one query: what
        a cached aggregate's fast-forward learns from one query per stream."""
        with self.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as curs:
            curs.execute(self.stream_versions_statement, (list(originator_ids),), prepare=True)
            return dict(curs.fetchall())
