"""Prometheus metrics of the ingest service, on a registry of its own.

Labels are bounded: ``type`` is one of the 17 event types or ``unknown``,
``reason`` one of the contract's error codes, ``forbidden_scope`` or ``other``,
``route`` a route template. Never an advisor, a source or a county.
"""

from __future__ import annotations

from typing import Final

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from contracts import ErrorCode
from ingest.auth import FORBIDDEN_SCOPE

_REASONS: Final = frozenset({*(code.value for code in ErrorCode), FORBIDDEN_SCOPE})
OTHER_REASON: Final = "other"

_LATENCY_BUCKETS: Final = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


def reason_label(code: str) -> str:
    """A reason code as a metric label (unknown codes fold into ``other``)."""
    return code if code in _REASONS else OTHER_REASON


class IngestMetrics:
    """Every ingest metric; ``registry`` is what ``/metrics`` exposes."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        self.received = Counter(
            "ingest_events_received", "Events received, by type.", ["type"], registry=r
        )
        self.accepted = Counter(
            "ingest_events_accepted",
            "Events accepted: acknowledged by Kafka on the events topic.",
            ["type"],
            registry=r,
        )
        self.duplicate = Counter(
            "ingest_events_duplicate",
            "Events already accepted earlier (same event_id), not published again.",
            ["type"],
            registry=r,
        )
        self.rejected = Counter(
            "ingest_events_rejected",
            "Events rejected, by type and first reason code.",
            ["type", "reason"],
            registry=r,
        )
        self.publish_latency = Histogram(
            "ingest_publish_latency_seconds",
            "Time from sending a request's events to Kafka until every ack arrived.",
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.publish_failures = Counter(
            "ingest_publish_failures",
            "Requests answered 503 because the broker or the dedup store was unavailable.",
            ["dependency"],
            registry=r,
        )
        self.request_duration = Histogram(
            "ingest_request_duration_seconds",
            "HTTP request duration, by route template, method and status code.",
            ["route", "method", "status"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.dead_letters = Counter(
            "ingest_dead_letters_published",
            "Rejected events written to the dead-letter topic.",
            registry=r,
        )
        self.dead_letter_failures = Counter(
            "ingest_dead_letter_failures",
            "Rejected events that could not be written to the dead-letter topic.",
            registry=r,
        )
        self.dedup_mark_failures = Counter(
            "ingest_dedup_mark_failures",
            "Accepted events whose id could not be recorded as seen (a resend publishes again).",
            registry=r,
        )
        self.dedup_pruned = Counter(
            "ingest_dedup_pruned",
            "Seen-event ids forgotten after the retention window.",
            registry=r,
        )
        self.auth_failures = Counter(
            "ingest_auth_failures", "Requests refused for a missing or unknown API key.", registry=r
        )
        self.ledger_rows = Counter(
            "ingest_ledger_rows",
            "Ledger rows uploaded over HTTP, by outcome.",
            ["status"],
            registry=r,
        )
        self.broker_ready = Gauge(
            "ingest_broker_ready", "1 when the last broker probe answered, else 0.", registry=r
        )
