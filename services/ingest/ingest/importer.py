"""Importing a ledger file through the HTTP API (the ``import-ledger`` command).

The file is mapped here and its events are posted in batches to ``POST
/v1/events``, so the server applies the same checks, scope and dedup as for
any source. Batches are idempotent (event ids come from row content), so a 503
is retried after ``Retry-After``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import httpx

from ingest.ledger import events_of, map_ledger
from ingest.ledger_files import read_ledger
from ingest.reports import EventReport, IngestReport, LedgerReport, ledger_report

DEFAULT_BATCH_SIZE: Final = 1000
MAX_LEDGER_ROWS: Final = 1_000_000
_MAX_RETRY_WAIT_S: Final = 60.0


class ImportFailedError(RuntimeError):
    """The server refused a batch (authentication, limits) or stayed unavailable."""


@dataclass(frozen=True)
class ImportTarget:
    """Where and as whom to import."""

    url: str
    key: str
    timeout_s: float = 120.0
    retries: int = 5


def import_ledger(
    path: Path,
    *,
    source: str,
    county: str,
    target: ImportTarget,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Callable[[int], object] = lambda _n: None,
    transport: httpx.BaseTransport | None = None,
) -> LedgerReport:
    """Map ``path`` and post its events; ``progress(n)`` is told as rows are done."""
    sheet = read_ledger(path.read_bytes(), path.name, MAX_LEDGER_ROWS)
    rows = map_ledger(sheet, source=source, county=county)
    events = events_of(rows)
    progress(len(rows) - len(events))
    reports: list[EventReport] = []
    headers = {"Authorization": f"Bearer {target.key}"}
    with httpx.Client(
        base_url=target.url, headers=headers, timeout=target.timeout_s, transport=transport
    ) as client:
        for start in range(0, len(events), batch_size):
            batch = events[start : start + batch_size]
            answer = _post(client, batch, target.retries)
            reports.extend(e.model_copy(update={"index": e.index + start}) for e in answer.events)
            progress(len(batch))
    return ledger_report(rows, reports, sheet.ignored_columns)


def _post(client: httpx.Client, batch: Sequence[dict[str, Any]], retries: int) -> IngestReport:
    for attempt in range(retries + 1):
        try:
            response = client.post("/v1/events", json=list(batch))
        except httpx.TransportError as error:
            if attempt == retries:
                raise ImportFailedError(f"cannot reach the ingest service: {error}") from None
            time.sleep(min(2**attempt, _MAX_RETRY_WAIT_S))
            continue
        if response.status_code == 202:
            return IngestReport.model_validate_json(response.content)
        if response.status_code == 503 and attempt < retries:
            time.sleep(_retry_after(response, attempt))
            continue
        raise ImportFailedError(
            f"the ingest service answered {response.status_code}: {_why(response)}"
        )
    raise ImportFailedError("the ingest service stayed unavailable")  # pragma: no cover


def _retry_after(response: httpx.Response, attempt: int) -> float:
    header = response.headers.get("retry-after", "")
    seconds = float(header) if header.isdigit() else float(2**attempt)
    return min(seconds, _MAX_RETRY_WAIT_S)


def _why(response: httpx.Response) -> str:
    try:
        return str(response.json()["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return response.text[:200]


def summary(name: str, report: LedgerReport) -> str:
    """A human summary: the counts, then every rejected row with its reasons."""
    lines = [
        f"{name}: {report.rows} rows — {report.accepted} accepted, "
        f"{report.duplicate} duplicate, {report.rejected} rejected"
    ]
    if report.ignored_columns:
        lines.append(f"columns not read: {', '.join(report.ignored_columns)}")
    for row in report.results:
        for reason in row.reasons:
            where = reason.column or reason.path
            lines.append(f"  row {row.row}: {where}: {reason.code}: {reason.message}")
    return "\n".join(lines)
