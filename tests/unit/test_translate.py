"""Every published contract type becomes exactly one fact, field for field."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from appraisal.translate import FACT_FOR_TYPE, UntranslatableEvent, to_recordable
from contracts import EVENT_TYPES, PUBLISHED_MODELS

pytestmark = pytest.mark.unit


def _example(event_type: str) -> Any:
    model = PUBLISHED_MODELS[event_type]
    extra: Any = model.model_config.get("json_schema_extra") or {}
    examples = extra.get("examples")
    assert examples, f"{event_type} has no example"
    return model.model_validate(examples[0])


def test_the_translation_table_covers_every_contract_type() -> None:
    assert set(FACT_FOR_TYPE) == set(EVENT_TYPES)


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_each_example_event_becomes_a_fact_carrying_its_payload(event_type: str) -> None:
    event = _example(event_type)
    recordable = to_recordable(event)
    stream, fact_class = FACT_FOR_TYPE[event_type]
    assert recordable.stream == stream
    assert isinstance(recordable.fact, fact_class)
    assert recordable.fact.event_id == event.event_id
    assert recordable.county_id == event.county_id
    assert recordable.key == (event.county_id if stream == "county" else event.advisor_id)
    payload = event.payload.model_dump()
    for field in dataclasses.fields(fact_class):
        if field.name in payload:
            assert getattr(recordable.fact, field.name) == payload[field.name], field.name


def test_an_advisor_event_without_an_advisor_is_untranslatable() -> None:
    event = _example("activity.mediation.v1").model_copy(update={"advisor_id": ""})
    with pytest.raises(UntranslatableEvent, match="names no advisor"):
        to_recordable(event)
