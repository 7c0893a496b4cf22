"""The consumer-lag gauge follows the partitions an instance owns, across rebalances."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from aiokafka import TopicPartition

from appraisal.metrics import AppraisalMetrics
from appraisal.service import export_lag

pytestmark = pytest.mark.unit


@dataclass
class _Consumer:
    """Stands in for aiokafka's consumer: only what the lag export reads."""

    ends: dict[int, int]
    positions: dict[int, int]
    owned: set[int] = field(default_factory=set)

    def assignment(self) -> set[TopicPartition]:
        return {TopicPartition("advisor-events", p) for p in self.owned}

    def highwater(self, tp: TopicPartition) -> int | None:
        return self.ends.get(tp.partition)

    async def position(self, tp: TopicPartition) -> int:
        return self.positions[tp.partition]


def _lags(metrics: AppraisalMetrics) -> dict[str, float]:
    samples = metrics.registry.collect()
    return {
        s.labels["partition"]: s.value
        for family in samples
        if family.name == "appraisal_consumer_lag_messages"
        for s in family.samples
    }


async def test_partitions_lost_in_a_rebalance_stop_reporting_lag() -> None:
    metrics = AppraisalMetrics()
    consumer = _Consumer(ends={0: 100, 1: 50, 2: 10}, positions={0: 40, 1: 50, 2: 0}, owned={0, 1})
    exported = await export_lag(metrics, consumer, set())
    assert _lags(metrics) == {"0": 60.0, "1": 0.0}
    consumer.owned = {2}  # the rebalance gave 0 and 1 to another instance
    exported = await export_lag(metrics, consumer, exported)
    assert _lags(metrics) == {"2": 10.0}
    assert exported == {"2"}
