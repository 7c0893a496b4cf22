"""Publishes verdict versions from the read models' outbox to `appraisal-verdicts`.

A version is marked published only after Kafka acknowledged it, so a crash can
publish a version twice (consumers deduplicate on county, year, advisor,
village, version) but never skip one.
"""

from __future__ import annotations

import asyncio
from typing import Any

from faststream.kafka import KafkaBroker

from appraisal.metrics import AppraisalMetrics
from appraisal.projections.store import AppraisalViews
from contracts import VERDICT_EVENT_ADAPTER


async def publish_pending(
    broker: KafkaBroker,
    views: AppraisalViews,
    topic: str,
    metrics: AppraisalMetrics,
    limit: int = 2000,
) -> int:
    """Publish up to `limit` unpublished verdict versions, in issue order; returns how many.

    All are sent before any acknowledgement is awaited (one round trip per batch,
    not per verdict: a closed county-year is thousands); the batch is marked
    published only once Kafka acknowledged every one of them.
    """
    pending: list[dict[str, Any]] = await asyncio.to_thread(views.unpublished_verdicts, limit)
    if not pending:
        return 0
    acks = []
    for row in pending:
        event = VERDICT_EVENT_ADAPTER.validate_python(row["body"])
        acks.append(
            await broker.publish(event, topic, key=row["county_id"].encode(), no_confirm=True)
        )
    await asyncio.gather(*acks)
    for row in pending:
        metrics.verdicts.labels(row["county_id"], row["kind"], row["body"]["verdict"]).inc()
    keys = [
        (r["county_id"], int(r["year"]), r["advisor_id"], r["village_id"], int(r["version"]))
        for r in pending
    ]
    await asyncio.to_thread(views.mark_published, keys)
    return len(pending)
