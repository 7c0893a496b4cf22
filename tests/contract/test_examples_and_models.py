"""Every type of DESIGN §3 exists, is documented, and its examples are valid events."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from pydantic import BaseModel

from contracts import (
    EVENT_TYPES,
    INBOUND_MODELS,
    PUBLISHED_MODELS,
    VERDICT_MODELS,
    DeadLetter,
    parse_inbound_event,
    parse_published_event,
    parse_verdict_event,
)
from tests.contract.helpers import all_models, examples_of

pytestmark = pytest.mark.unit

DESIGN_TYPES = [
    "village.registered.v1",
    "advisor.appointed.v1",
    "advisor.assignment_ended.v1",
    "activity.onsite_duty.v1",
    "activity.lecture.v1",
    "activity.mediation.v1",
    "activity.consultation.v1",
    "activity.document_drafted.v1",
    "activity.legal_aid_referral.v1",
    "activity.committee_advice.v1",
    "activity.voided.v1",
    "rating.submitted.v1",
    "complaint.filed.v1",
    "complaint.resolved.v1",
    "inspection.recorded.v1",
    "policy.published.v1",
    "period.closed.v1",
]


def test_every_design_event_type_has_an_inbound_and_a_published_model() -> None:
    assert list(EVENT_TYPES) == DESIGN_TYPES
    assert list(INBOUND_MODELS) == DESIGN_TYPES
    assert list(PUBLISHED_MODELS) == DESIGN_TYPES
    assert list(VERDICT_MODELS) == ["verdict.issued.v1", "verdict.amended.v1"]


@pytest.mark.parametrize("type_", DESIGN_TYPES)
def test_the_inbound_example_of_each_type_parses_into_its_model(type_: str) -> None:
    model = INBOUND_MODELS[type_]
    for example in examples_of(model):
        assert type(parse_inbound_event(json.dumps(example, ensure_ascii=False))) is model
        assert type(parse_inbound_event(json.dumps(example).encode())) is model
        assert type(parse_inbound_event(example)) is model


@pytest.mark.parametrize("type_", DESIGN_TYPES)
def test_the_published_example_of_each_type_parses_into_its_model(type_: str) -> None:
    model = PUBLISHED_MODELS[type_]
    for example in examples_of(model):
        assert type(parse_published_event(json.dumps(example))) is model
        assert type(parse_published_event(example)) is model


@pytest.mark.parametrize("type_", list(VERDICT_MODELS))
def test_the_verdict_examples_parse(type_: str) -> None:
    for example in examples_of(VERDICT_MODELS[type_]):
        assert type(parse_verdict_event(json.dumps(example))) is VERDICT_MODELS[type_]


@pytest.mark.parametrize("model", all_models(), ids=lambda m: m.__name__)
def test_every_model_has_valid_examples(model: type[BaseModel]) -> None:
    examples = examples_of(model)
    assert examples
    for example in examples:
        model.model_validate_json(json.dumps(example))
        model.model_validate(example)


@pytest.mark.parametrize("model", all_models(), ids=lambda m: m.__name__)
def test_every_model_and_field_is_described(model: type[BaseModel]) -> None:
    assert model.__doc__
    assert model.__doc__.strip()
    for name, field in model.model_fields.items():
        assert (field.description or "").strip(), f"{model.__name__}.{name}"


@pytest.mark.parametrize("model", all_models(), ids=lambda m: m.__name__)
def test_every_model_forbids_unknown_fields_and_is_frozen(model: type[BaseModel]) -> None:
    assert model.model_config.get("extra") == "forbid"
    assert model.model_config.get("frozen") is True


@pytest.mark.parametrize("model", all_models(), ids=lambda m: m.__name__)
def test_every_model_round_trips_its_examples_through_json(model: type[BaseModel]) -> None:
    for example in examples_of(model):
        instance = model.model_validate(example)
        text = instance.model_dump_json()
        assert model.model_validate_json(text) == instance
        assert model.model_validate_json(text).model_dump_json() == text


def test_the_published_models_cannot_carry_a_raw_citizen() -> None:
    for model in PUBLISHED_MODELS.values():
        payload_model = model.model_fields["payload"].annotation
        assert isinstance(payload_model, type)
        assert issubclass(payload_model, BaseModel)
        assert "citizen" not in payload_model.model_fields
    assert "citizen" not in DeadLetter.model_fields


def test_the_models_import_neither_faststream_nor_anything_but_pydantic() -> None:
    code = (
        "import sys, contracts, contracts.v1, contracts.validation\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'faststream', 'aiokafka', 'fastapi', 'eventsourcing', 'appraisal', 'ingest'})\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""
