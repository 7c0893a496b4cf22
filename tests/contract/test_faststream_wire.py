"""The contract models work as FastStream message types, in memory (TestKafkaBroker).

FastStream decodes JSON and validates the decoded object (Python mode), so this
checks that the models accept what they themselves put on the wire that way.
"""

from __future__ import annotations

import pytest
from faststream.kafka import KafkaBroker, TestKafkaBroker

from contracts import PUBLISHED_MODELS, VERDICT_MODELS, PublishedEvent, VerdictEvent
from tests.contract.helpers import example

pytestmark = pytest.mark.unit


async def test_every_published_event_arrives_as_its_own_model() -> None:
    broker = KafkaBroker()
    received: list[PublishedEvent] = []

    @broker.subscriber("advisor-events")
    async def apply(event: PublishedEvent) -> None:
        received.append(event)

    sent = [model.model_validate(example(model)) for model in PUBLISHED_MODELS.values()]
    async with TestKafkaBroker(broker) as test_broker:
        for event in sent:
            await test_broker.publish(
                event.model_dump_json().encode(),
                "advisor-events",
                key=event.partition_key().encode(),
            )

    assert received == sent
    assert [type(e) for e in received] == list(PUBLISHED_MODELS.values())


async def test_verdict_events_arrive_as_their_own_model() -> None:
    broker = KafkaBroker()
    received: list[VerdictEvent] = []

    @broker.subscriber("appraisal-verdicts")
    async def record(event: VerdictEvent) -> None:
        received.append(event)

    sent = [model.model_validate(example(model)) for model in VERDICT_MODELS.values()]
    async with TestKafkaBroker(broker) as test_broker:
        for event in sent:
            await test_broker.publish(event.model_dump_json().encode(), "appraisal-verdicts")

    assert received == sent
