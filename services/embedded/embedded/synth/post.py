"""Sending the stream to ingest: batched ``POST /v1/events`` with retries on 503.

Ingest answers 202 with a per-event report once Kafka has the accepted events, or 503
with ``Retry-After`` when nothing of the request was accepted (DESIGN §7). Event ids
are derived from (source, source_event_id), so resending a batch is always safe: what
was accepted the first time comes back as ``duplicate``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any, Final

import httpx
from pydantic_core import to_json

__all__ = [
    "MAX_BATCH_EVENTS",
    "Batch",
    "IngestClient",
    "PostError",
    "PostSummary",
    "encode_batches",
    "events_url",
    "post_batches",
    "post_events",
]

MAX_BATCH_EVENTS: Final = 10_000
"""Ingest's limit per request (``INGEST_MAX_EVENTS``)."""
DEFAULT_MAX_BYTES: Final = 9 * 1024 * 1024
"""Stay under ingest's 10 MiB body limit whatever the batch size."""
RETRYABLE_STATUS: Final = frozenset({429, 502, 503, 504})
REJECTIONS_KEPT: Final = 20


class PostError(RuntimeError):
    """Ingest refused a request for good (bad key, body too large…) or never recovered."""


@dataclass
class PostSummary:
    """Totals over every request, from ingest's own reports."""

    requests: int = 0
    events: int = 0
    accepted: int = 0
    duplicate: int = 0
    rejected: int = 0
    retries: int = 0
    seconds: float = 0.0
    rejections: list[dict[str, Any]] = field(default_factory=list)
    """The first few rejected events: source, source_event_id, type and reasons."""

    @property
    def events_per_second(self) -> float:
        """Events sent per second of wall time, waits included."""
        return self.events / self.seconds if self.seconds > 0 else 0.0


def events_url(base: str) -> str:
    """``http://host:port`` or the full ``…/v1/events`` URL → the events endpoint."""
    base = base.rstrip("/")
    return base if base.endswith("/v1/events") else f"{base}/v1/events"


def _retry_after(response: httpx.Response, attempt: int) -> float:
    """Seconds to wait: the ``Retry-After`` header (seconds or HTTP date), else backoff."""
    header = response.headers.get("retry-after", "").strip()
    if header.isdigit():
        return float(header)
    sent = response.headers.get("date")
    if header and sent:
        try:
            wait = parsedate_to_datetime(header) - parsedate_to_datetime(sent)
        except (TypeError, ValueError):
            return _backoff(attempt)
        return max(0.0, wait.total_seconds())
    return _backoff(attempt)


def _backoff(attempt: int) -> float:
    return float(min(30, 2 ** min(attempt, 5)))


class IngestClient:
    """Posts JSON-array batches to ingest with an API key; retries what is safe to retry."""

    def __init__(
        self,
        url: str,
        api_key: str,
        *,
        client: httpx.Client | None = None,
        max_retries: int = 20,
        sleep: Callable[[float], None] = time.sleep,
        timeout: float = 120.0,
    ) -> None:
        self.url = events_url(url)
        self._headers = {
            "Authorization": f"Bearer {api_key}",
            "Content-Type": "application/json",
        }
        self._client = client or httpx.Client(timeout=timeout)
        self._owns_client = client is None
        self._max_retries = max_retries
        self._sleep = sleep
        self.retries = 0

    def close(self) -> None:
        """Close the HTTP client if this object created it."""
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> IngestClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def post(self, body: bytes) -> dict[str, Any]:
        """POST one batch; return ingest's report. Waits and retries on 503 and lost
        connections; raises :class:`PostError` on any other answer or after too many tries."""
        attempt = 0
        while True:
            try:
                response = self._client.post(self.url, content=body, headers=self._headers)
            except httpx.TransportError as error:
                reason = f"{type(error).__name__}: {error}"
                wait = _backoff(attempt)
            else:
                if response.status_code in (200, 202):
                    report: dict[str, Any] = response.json()
                    return report
                if response.status_code not in RETRYABLE_STATUS:
                    raise PostError(
                        f"ingest answered {response.status_code} to {self.url}: "
                        f"{response.text[:500]}"
                    )
                reason = f"HTTP {response.status_code}"
                wait = _retry_after(response, attempt)
            attempt += 1
            if attempt > self._max_retries:
                raise PostError(f"gave up after {self._max_retries} retries ({reason})")
            self.retries += 1
            self._sleep(wait)


@dataclass(frozen=True, slots=True)
class Batch:
    """One request's body: a JSON array of `count` events."""

    count: int
    body: bytes


def encode_batches(
    events: Iterable[dict[str, Any]],
    batch_size: int = MAX_BATCH_EVENTS,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Iterator[Batch]:
    """Events encoded as JSON arrays of at most ``batch_size`` events and ``max_bytes``
    (lazily: one batch in memory at a time unless the caller keeps them)."""
    if not 1 <= batch_size <= MAX_BATCH_EVENTS:
        raise ValueError(f"batch_size must be 1–{MAX_BATCH_EVENTS}")
    return _encoded(events, batch_size, max_bytes)


def _encoded(events: Iterable[dict[str, Any]], batch_size: int, max_bytes: int) -> Iterator[Batch]:
    parts: list[bytes] = []
    size = 1  # "[" now; each event adds itself plus a "," or the closing "]"
    for event in events:
        encoded = to_json(event)
        if parts and (len(parts) >= batch_size or size + len(encoded) + 1 > max_bytes):
            yield Batch(len(parts), b"[" + b",".join(parts) + b"]")
            parts, size = [], 1
        parts.append(encoded)
        size += len(encoded) + 1
    if parts:
        yield Batch(len(parts), b"[" + b",".join(parts) + b"]")


def post_events(
    events: Iterable[dict[str, Any]],
    client: IngestClient,
    *,
    batch_size: int = MAX_BATCH_EVENTS,
    max_bytes: int = DEFAULT_MAX_BYTES,
    progress: Callable[[int], object] | None = None,
) -> PostSummary:
    """Send every event in batches; sum up ingest's accepted/duplicate/rejected counts."""
    batches = encode_batches(events, batch_size, max_bytes)
    return post_batches(batches, client, progress=progress)


def post_batches(
    batches: Iterable[Batch],
    client: IngestClient,
    *,
    progress: Callable[[int], object] | None = None,
) -> PostSummary:
    """Send batches already encoded (`encode_batches`); sum up ingest's reports."""
    summary = PostSummary()
    started = time.perf_counter()
    for batch in batches:
        report = client.post(batch.body)
        summary.requests += 1
        summary.events += batch.count
        summary.accepted += int(report.get("accepted", 0))
        summary.duplicate += int(report.get("duplicate", 0))
        summary.rejected += int(report.get("rejected", 0))
        sent: list[Any] | None = None  # the batch's events, parsed for its first rejection
        for result in report.get("events", ()):
            if len(summary.rejections) >= REJECTIONS_KEPT:
                break
            if result.get("status") == "rejected":
                sent = json.loads(batch.body) if sent is None else sent
                index = int(result.get("index", -1))
                event = sent[index] if 0 <= index < len(sent) else {}
                summary.rejections.append(
                    {
                        "type": event.get("type"),
                        "source": event.get("source"),
                        "source_event_id": event.get("source_event_id"),
                        "reasons": result.get("reasons", []),
                    }
                )
        if progress is not None:
            progress(batch.count)
    summary.retries = client.retries
    summary.seconds = time.perf_counter() - started
    return summary
