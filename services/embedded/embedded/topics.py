"""The Kafka topics of the system, created idempotently (embedded run and tests).

In production the compose file's one-shot job creates them with the same names.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    purpose: str


ADVISOR_EVENTS = "advisor-events"
APPRAISAL_VERDICTS = "appraisal-verdicts"
INGEST_DLQ = "ingest-dlq"
APPRAISAL_DLQ = "appraisal-dlq"


def system_topics(advisor_event_partitions: int = 12) -> list[TopicSpec]:
    return [
        TopicSpec(ADVISOR_EVENTS, advisor_event_partitions, "input events, key = advisor/county"),
        TopicSpec(APPRAISAL_VERDICTS, 3, "verdict.issued.v1 / verdict.amended.v1, key = county"),
        TopicSpec(INGEST_DLQ, 1, "events ingest rejected, with reasons"),
        TopicSpec(APPRAISAL_DLQ, 1, "events the appraisal service could not apply"),
    ]


async def ensure_topics(bootstrap_servers: str, topics: list[TopicSpec]) -> list[str]:
    """Create the topics that do not exist yet; return the names created."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in topics if t.name not in existing]
        if missing:
            new = [NewTopic(t.name, t.partitions, replication_factor=1) for t in missing]
            # Another starter may win the race; the topic is there, which is all we need.
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(new)
        return [t.name for t in missing]
    finally:
        await admin.close()
