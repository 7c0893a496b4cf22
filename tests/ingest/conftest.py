"""Fixtures of the ingest tests (helpers are in ``tests.ingest.helpers``)."""

from __future__ import annotations

import pytest

from embedded.topics import TopicSpec, ensure_topics
from tests.ingest.helpers import PARTITIONS, Topics


@pytest.fixture
async def topics(kafka_bootstrap: str, topic_name: str) -> Topics:
    made = Topics(events=f"{topic_name}-events", dlq=f"{topic_name}-dlq")
    await ensure_topics(
        kafka_bootstrap,
        [TopicSpec(made.events, PARTITIONS, "test"), TopicSpec(made.dlq, 1, "test")],
    )
    return made
