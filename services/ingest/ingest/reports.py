"""What the ingest API answers: per-event and per-row reports, and error bodies."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from contracts import Violation
from ingest.ledger import MappedRow, column_of
from ingest.service import EventResult

Status = Literal["accepted", "duplicate", "rejected"]


class _Report(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EventReport(_Report):
    """What became of one event, at its position in the request."""

    index: int = Field(ge=0, description="Position of the event in the request (0-based).")
    status: Status = Field(
        description=(
            "`accepted`: acknowledged by Kafka now; `duplicate`: the same `event_id` was "
            "accepted earlier (or earlier in this request), not published again; "
            "`rejected`: not published, see `reasons`."
        )
    )
    event_id: UUID | None = Field(
        description="The event's id (`derive_event_id(source, source_event_id)`), if known."
    )
    reasons: list[Violation] = Field(
        default_factory=list,
        description="Why it was rejected: `{code, path, message}` (empty unless rejected).",
    )


class IngestReport(_Report):
    """The answer to ``POST /v1/events``: every event, in input order."""

    accepted: int = Field(ge=0, description="Events accepted by this request.")
    duplicate: int = Field(ge=0, description="Events already accepted before.")
    rejected: int = Field(ge=0, description="Events rejected.")
    events: list[EventReport] = Field(description="One entry per event, in input order.")


class RowReason(_Report):
    """One reason a ledger row was rejected, pointing at its column when there is one."""

    code: str = Field(description="Machine-readable reason (as for events).")
    path: str = Field(description="JSON path in the event, or `$['<column>']` for a cell.")
    column: str | None = Field(description="The ledger column (heading), if the reason has one.")
    message: str = Field(description="Human-readable explanation.")


class RowReport(_Report):
    """What became of one ledger row."""

    row: int = Field(ge=1, description="Row number as shown in Excel (the first line is 1).")
    status: Status = Field(description="As for events.")
    event_id: UUID | None = Field(description="The event the row became, if it became one.")
    reasons: list[RowReason] = Field(default_factory=list, description="Why it was rejected.")


class LedgerReport(_Report):
    """The answer to a ledger import: every data row, in file order."""

    rows: int = Field(ge=0, description="Data rows read (blank and total rows are skipped).")
    accepted: int = Field(ge=0)
    duplicate: int = Field(ge=0)
    rejected: int = Field(ge=0)
    ignored_columns: list[str] = Field(
        default_factory=list, description="Headings the importer does not read."
    )
    results: list[RowReport] = Field(description="One entry per data row, in file order.")


class ErrorDetail(_Report):
    """Why a whole request was refused."""

    code: str = Field(description="Machine-readable, e.g. `too_many_events`, `unauthorized`.")
    message: str = Field(description="Human-readable explanation.")
    limit: int | None = Field(default=None, description="The limit exceeded, for 413 answers.")


class ErrorBody(_Report):
    """Body of every 4xx/5xx answer of the ingest API."""

    error: ErrorDetail


def ingest_report(results: Sequence[EventResult]) -> IngestReport:
    """The report of a processed batch."""
    events = [
        EventReport(index=r.index, status=r.status, event_id=r.event_id, reasons=list(r.reasons))
        for r in results
    ]
    return IngestReport(
        accepted=sum(e.status == "accepted" for e in events),
        duplicate=sum(e.status == "duplicate" for e in events),
        rejected=sum(e.status == "rejected" for e in events),
        events=events,
    )


def _row_reason(v: Violation) -> RowReason:
    return RowReason(code=v.code, path=v.path, column=column_of(v.path), message=v.message)


def ledger_report(
    rows: Sequence[MappedRow], events: Sequence[EventReport], ignored_columns: Sequence[str]
) -> LedgerReport:
    """Join mapped rows with the reports of their events (``events[i]`` is the i-th mapped row)."""
    by_index = {e.index: e for e in events}
    results: list[RowReport] = []
    position = 0
    for row in rows:
        if row.event is None:
            reasons = [_row_reason(v) for v in row.reasons]
            results.append(
                RowReport(row=row.number, status="rejected", event_id=None, reasons=reasons)
            )
            continue
        report = by_index.get(position)
        position += 1
        if report is None:
            missing = RowReason(
                code="not_processed", path="$", column=None, message="the server did not report it"
            )
            results.append(
                RowReport(row=row.number, status="rejected", event_id=None, reasons=[missing])
            )
            continue
        results.append(
            RowReport(
                row=row.number,
                status=report.status,
                event_id=report.event_id,
                reasons=[_row_reason(v) for v in report.reasons],
            )
        )
    return LedgerReport(
        rows=len(results),
        accepted=sum(r.status == "accepted" for r in results),
        duplicate=sum(r.status == "duplicate" for r in results),
        rejected=sum(r.status == "rejected" for r in results),
        ignored_columns=list(ignored_columns),
        results=results,
    )
