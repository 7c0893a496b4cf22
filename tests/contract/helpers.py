"""Shared helpers of the contract tests."""

from __future__ import annotations

import copy
import hashlib
import hmac
from typing import Any

from pydantic import BaseModel

from contracts import v1

TEST_PSEUDONYM_KEY = b"contract-test-key"


def examples_of(model: type[BaseModel]) -> list[dict[str, Any]]:
    """The ``json_schema_extra`` examples of a model (deep copies)."""
    extra = model.model_config.get("json_schema_extra")
    assert isinstance(extra, dict), f"{model.__name__} has no json_schema_extra examples"
    examples: list[dict[str, Any]] = copy.deepcopy(extra["examples"])  # type: ignore[arg-type]
    assert isinstance(examples, list)
    return examples


def example(model: type[BaseModel]) -> dict[str, Any]:
    return examples_of(model)[0]


def pseudonymise(citizen: str) -> str:
    """What ingest does, with a fixed test key."""
    return hmac.new(TEST_PSEUDONYM_KEY, citizen.encode(), hashlib.sha256).hexdigest()


def all_models() -> list[type[BaseModel]]:
    """Every model of contract v1 reachable from the envelopes, including payloads."""
    roots: list[type[BaseModel]] = [
        *v1.INBOUND_MODELS.values(),
        *v1.PUBLISHED_MODELS.values(),
        *v1.VERDICT_MODELS.values(),
        v1.DeadLetter,
    ]
    seen: dict[type[BaseModel], None] = {}
    stack = list(roots)
    while stack:
        model = stack.pop(0)
        if model in seen:
            continue
        seen[model] = None
        for field in model.model_fields.values():
            stack.extend(_models_in(field.annotation))
    return list(seen)


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[type[BaseModel]] = []
    for arg in getattr(annotation, "__args__", ()):
        found.extend(_models_in(arg))
    return found
