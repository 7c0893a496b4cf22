"""The event store's SQLite recorder, telling many streams' newest versions at once.

The consumer checks every cached ledger of a batch against the store before it
writes (`AppraisalApplication._newest_ledgers`); the library does that with one
query per stream. Chosen through eventsourcing's `PROCESS_RECORDER_TOPIC`, which
`AppraisalApplication.construct_env` sets on SQLite (the PostgreSQL counterpart is
`appraisal.pg_recorder`).
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from eventsourcing.sqlite import SQLiteProcessRecorder


class StreamVersionsSQLiteRecorder(SQLiteProcessRecorder):
    """`SQLiteProcessRecorder` with `stream_versions`."""

    CHUNK = 500  # ids per query, well under SQLite's limit on bound parameters

    def stream_versions(self, originator_ids: Sequence[UUID]) -> dict[UUID, int]:
        """The newest version of each of the streams that has events."""
        ids = [i.hex if isinstance(i, UUID) else i for i in originator_ids]
        versions: dict[UUID, int] = {}
        with self.datastore.transaction(commit=False) as c:
            for start in range(0, len(ids), self.CHUNK):
                chunk = ids[start : start + self.CHUNK]
                # The table name is the recorder's own (as in the library's statements);
                # every id is a bound parameter.
                statement = (
                    f"SELECT originator_id, max(originator_version) FROM {self.events_table_name} "  # noqa: S608
                    f"WHERE originator_id IN ({','.join('?' * len(chunk))}) GROUP BY originator_id"
                )
                c.execute(statement, chunk)
                for row in c.fetchall():
                    versions[UUID(row[0])] = row[1]
        return versions
