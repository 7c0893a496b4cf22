"""Property: any valid event survives a JSON round trip unchanged."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from contracts import (
    PUBLISHED_EVENT_ADAPTER,
    VERDICT_EVENT_ADAPTER,
    parse_inbound_event,
    parse_published_event,
    v1,
)
from tests.contract.helpers import all_models
from tests.contract.strategies import valid_model

pytestmark = pytest.mark.unit

PROPERTY_SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@pytest.mark.parametrize("model", all_models(), ids=lambda m: m.__name__)
def test_any_valid_instance_round_trips_through_json_unchanged(model: type[BaseModel]) -> None:
    @PROPERTY_SETTINGS
    @given(valid_model(model))
    def round_trip(instance: BaseModel) -> None:
        text = instance.model_dump_json()
        again = model.model_validate_json(text)
        assert again == instance
        assert again.model_dump_json() == text

    round_trip()


@PROPERTY_SETTINGS
@given(st.sampled_from(list(v1.PUBLISHED_MODELS.values())).flatmap(valid_model))
def test_any_published_event_parses_back_into_its_own_type(event: BaseModel) -> None:
    text = event.model_dump_json()
    parsed = parse_published_event(text.encode())
    assert type(parsed) is type(event)
    assert parsed == event
    assert PUBLISHED_EVENT_ADAPTER.dump_json(parsed).decode() == text


@PROPERTY_SETTINGS
@given(st.sampled_from(list(v1.INBOUND_MODELS.values())).flatmap(valid_model))
def test_any_inbound_event_parses_the_same_from_json_and_from_python(event: BaseModel) -> None:
    from_json = parse_inbound_event(event.model_dump_json())
    from_python = parse_inbound_event(event.model_dump(mode="json"))
    assert from_json == from_python == event


@PROPERTY_SETTINGS
@given(st.sampled_from(list(v1.VERDICT_MODELS.values())).flatmap(valid_model))
def test_any_verdict_event_round_trips_through_the_union(event: BaseModel) -> None:
    text = VERDICT_EVENT_ADAPTER.dump_json(event)  # type: ignore[arg-type]
    assert VERDICT_EVENT_ADAPTER.validate_json(text) == event
