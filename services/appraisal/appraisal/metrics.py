"""Prometheus metrics of the appraisal service (DESIGN §8); labels bounded, never advisor ids."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class AppraisalMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.applied = Counter(
            "appraisal_events_applied_total",
            "Facts newly recorded, by fact kind.",
            ["type"],
            registry=r,
        )
        self.duplicates = Counter(
            "appraisal_events_duplicate_total",
            "Events whose id was already recorded (redeliveries, re-sends), by fact kind.",
            ["type"],
            registry=r,
        )
        self.dead_lettered = Counter(
            "appraisal_events_dead_lettered_total",
            "Poison events sent to the appraisal DLQ, by reason code.",
            ["reason"],
            registry=r,
        )
        self.batch_size = Histogram(
            "appraisal_batch_size_events",
            "Records per partition batch stored in one transaction.",
            buckets=(1, 10, 50, 100, 250, 500, 1000, 2000, 5000),
            registry=r,
        )
        self.apply_seconds = Histogram(
            "appraisal_apply_duration_seconds",
            "Time to store one partition batch (parse, load ledgers, commit).",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=r,
        )
        self.consumer_lag = Gauge(
            "appraisal_consumer_lag_messages",
            "Messages in the partition not yet read by this instance.",
            ["partition"],
            registry=r,
        )
        self.projection_position = Gauge(
            "appraisal_projection_position",
            "Last event-store notification id reflected in the read models.",
            registry=r,
        )
        self.projection_lag = Gauge(
            "appraisal_projection_lag_notifications",
            "Notifications recorded but not yet projected.",
            registry=r,
        )
        self.projection_checks = Counter(
            "appraisal_projection_progress_checks_total",
            "Times the position and lag above were read from the stores (after each "
            "projector step); a waiter trusts the lag only from a check begun after it looked.",
            registry=r,
        )
        self.project_seconds = Histogram(
            "appraisal_projection_step_duration_seconds",
            "Time of one projector step.",
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=r,
        )
        self.verdicts = Counter(
            "appraisal_verdicts_published_total",
            "Verdict events published, by county, kind (issued/amended) and verdict.",
            ["county_id", "kind", "verdict"],
            registry=r,
        )
        self.replay_drift = Gauge(
            "appraisal_replay_drift_rows",
            "Rows that differ between the live read models and a fresh replay (set by verify).",
            registry=r,
        )
