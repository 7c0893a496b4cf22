"""Two appraisal instances in one consumer group share partitions and survive one stopping."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from appraisal.service import AppraisalService
from embedded.topics import ensure_topics
from tests.conftest import PostgresServer
from tests.integration.test_appraisal_service import Stack, _history, _settings, service_topics
from tests.unit.policy.builders import WeekendCalendar

pytestmark = [pytest.mark.integration, pytest.mark.postgres, pytest.mark.slow]


def _schema(server: PostgresServer) -> dict[str, str]:
    schema = f"i_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server.conninfo(), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    return server.eventsourcing_env(schema)


async def _service(env: dict[str, str], bootstrap: str, topic: str, group: str) -> AppraisalService:
    settings = _settings(env, Path("."), bootstrap, topic).model_copy(update={"group_id": group})
    service = AppraisalService(settings, WeekendCalendar())
    await service.start()
    return service


async def _settle(stack: Stack, events: list[Any]) -> None:
    await stack.settled(events, wait_s=90)


async def test_a_second_instance_takes_over_and_the_result_equals_a_single_instance(
    postgres_server: PostgresServer, kafka_bootstrap: str, topic_name: str
) -> None:
    await ensure_topics(
        kafka_bootstrap,
        service_topics(topic_name, 4),
    )  # fmt: skip
    advisors = [f"A-{i}" for i in range(8)]
    first_half = [f for a in advisors[:4] for f in _history(a)]
    second_half = [f for a in advisors[4:] for f in _history(a, compliant_months=7)]

    shared = _schema(postgres_server)
    a = await _service(shared, kafka_bootstrap, topic_name, "pair")
    b = await _service(shared, kafka_bootstrap, topic_name, "pair")
    sender = Stack(a, None, topic_name)  # type: ignore[arg-type]
    sent = await sender.send(first_half)
    await _settle(Stack(b, None, topic_name), sent)  # type: ignore[arg-type]
    for _ in range(60):  # the group rebalances onto both instances within seconds
        if a.subscriber.consumer.assignment() and b.subscriber.consumer.assignment():
            break
        await asyncio.sleep(0.5)
    assert a.subscriber.consumer.assignment(), "instance a got no partitions"
    assert b.subscriber.consumer.assignment(), "instance b got no partitions"
    await a.stop()  # one instance goes away mid-stream
    sent += await sender.send(second_half)
    await _settle(Stack(b, None, topic_name), sent)  # type: ignore[arg-type]
    pair_digest = b.views.digest()
    assert len(b.views.county_assignments("440115", 2024)) == 8
    await b.stop()

    alone_env = _schema(postgres_server)
    alone = await _service(alone_env, kafka_bootstrap, topic_name, "alone")
    await _settle(Stack(alone, None, topic_name), sent)  # type: ignore[arg-type]
    assert alone.views.digest() == pair_digest
    await alone.stop()
