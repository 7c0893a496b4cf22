"""Hypothesis strategies for valid contract events, derived from the models themselves.

Field strategies are read from each field's type and constraints, so a new
field is covered without touching this file; cross-field rules (end after
start, derived event ids, verdict consistency) are repaired per model.
"""

from __future__ import annotations

import re
import types
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Annotated, Any, Literal, Union, get_args, get_origin
from uuid import UUID

from hypothesis import strategies as st
from pydantic import AwareDatetime, BaseModel
from pydantic.fields import FieldInfo

from contracts import derive_event_id, formats, v1

OFFSETS = [
    UTC,
    timezone(timedelta(hours=8)),
    timezone(timedelta(hours=-5, minutes=-30)),
    timezone(timedelta(hours=14)),
]
MIN_DT = datetime(2000, 1, 2)
MAX_DT = datetime(2099, 12, 30)

# Text patterns whose valid strings are drawn from a free alphabet and filtered;
# every other pattern is generated from the regex itself.
_TEXT_PATTERNS = {formats.ID_PATTERN, formats.OPTIONAL_ID_PATTERN, formats.FREE_TEXT_PATTERN}


def _constraints(metadata: list[Any]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for item in metadata:
        for name in (
            "ge",
            "le",
            "gt",
            "lt",
            "min_length",
            "max_length",
            "pattern",
            "decimal_places",
        ):
            value = getattr(item, name, None)
            if value is not None:
                found[name] = value
    return found


def _flatten(metadata: list[Any]) -> list[Any]:
    flat: list[Any] = []
    for item in metadata:
        if isinstance(item, FieldInfo):
            flat.extend(_flatten(list(item.metadata)))
        else:
            flat.append(item)
    return flat


def _text(pattern: str, min_size: int, max_size: int) -> st.SearchStrategy[str]:
    if max_size == 0:
        return st.just("")
    if pattern not in _TEXT_PATTERNS:
        return st.from_regex(pattern, fullmatch=True).filter(
            lambda s: min_size <= len(s) <= max_size
        )
    matcher = re.compile(pattern)
    multi_line = pattern == formats.FREE_TEXT_PATTERN
    alphabet = st.characters(
        exclude_categories=("Cs", "Cc"), include_characters="\t\n\r" if multi_line else ""
    )
    return st.text(alphabet, min_size=min_size, max_size=min(max_size, 40)).filter(
        lambda s: matcher.fullmatch(s) is not None
    )


def _json_values() -> st.SearchStrategy[Any]:
    scalars = (
        st.none()
        | st.booleans()
        | st.integers(min_value=-(2**53), max_value=2**53)
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.text(max_size=10)
    )
    return st.recursive(
        scalars,
        lambda inner: (
            st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
        ),
        max_leaves=8,
    )


def value_strategy(annotation: Any, metadata: list[Any]) -> st.SearchStrategy[Any]:
    """A strategy for valid Python values of ``annotation`` under ``metadata`` constraints."""
    origin = get_origin(annotation)
    if origin is Annotated:
        base, *extra = get_args(annotation)
        return value_strategy(base, [*metadata, *extra])
    metadata = _flatten(metadata)
    limits = _constraints(metadata)
    if origin in (Union, types.UnionType):
        options = [a for a in get_args(annotation) if a is not type(None)]
        assert len(options) == 1, annotation
        inner = value_strategy(options[0], metadata)
        return st.none() | inner if type(None) in get_args(annotation) else inner
    if origin is Literal:
        return st.sampled_from(get_args(annotation))
    if origin is list:
        (item,) = get_args(annotation)
        low = limits.get("min_length", 0)
        return st.lists(value_strategy(item, []), min_size=low, max_size=max(low, 3))
    if origin is dict:
        return st.dictionaries(st.text(max_size=12), _json_values(), max_size=4)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return model_data(annotation)
    if annotation is bool:
        return st.booleans()
    if annotation is int:
        return st.integers(min_value=limits.get("ge", -(10**9)), max_value=limits.get("le", 10**9))
    if annotation is str:
        return _text(
            limits.get("pattern", formats.FREE_TEXT_PATTERN),
            limits.get("min_length", 0),
            limits.get("max_length", 200),
        )
    if annotation is AwareDatetime or annotation is datetime:
        return st.datetimes(MIN_DT, MAX_DT, timezones=st.sampled_from(OFFSETS))
    if annotation is date:
        return st.dates(MIN_DT.date(), MAX_DT.date())
    if annotation is UUID:
        return st.uuids()
    if annotation is Decimal:
        places = limits.get("decimal_places", 4)
        return st.decimals(
            min_value=limits.get("ge", -(10**6)),
            max_value=limits.get("le", 10**6),
            places=places,
            allow_nan=False,
            allow_infinity=False,
        )
    raise NotImplementedError(f"no strategy for {annotation!r}")


@st.composite
def model_data(draw: st.DrawFn, model: type[BaseModel]) -> dict[str, Any]:
    """A dict of Python values that ``model.model_validate`` accepts."""
    data = {
        name: draw(value_strategy(field.annotation, list(field.metadata)))
        for name, field in model.model_fields.items()
    }
    _repair(draw, model, data)
    return data


def _repair(draw: st.DrawFn, model: type[BaseModel], data: dict[str, Any]) -> None:
    if issubclass(model, v1.OnsiteDutyPayload):
        seconds = draw(st.integers(1, v1.MAX_DUTY_HOURS * 3600))
        data["ended_at"] = data["started_at"] + timedelta(seconds=seconds)
    if issubclass(model, v1.ConsultationPayload) and data["answered_at"] is not None:
        data["answered_at"] = data["asked_at"] + timedelta(seconds=draw(st.integers(0, 10**6)))
    if issubclass(model, v1.PublishedEnvelope):
        data["event_id"] = derive_event_id(data["source"], data["source_event_id"])
    if issubclass(model, (v1.VerdictIssued, v1.VerdictAmended, v1.PreviousVerdict)):
        if data["verdict"] == "NOT_RATED":
            data["grade"] = data["score"] = None
        else:
            data["grade"] = data["grade"] or "BASIC"
            data["score"] = data["score"] if data["score"] is not None else Decimal("61.50")
    verdict_needs_reasons = "verdict" in data and data["verdict"] != "RETAIN"
    if "reasons" in data and verdict_needs_reasons and not data["reasons"]:
        data["reasons"] = [draw(model_data(v1.VerdictReason))]
    if issubclass(model, v1.VerdictAmended):
        data["version"] = data["previous"]["version"] + draw(st.integers(1, 5))


def valid_model(model: type[BaseModel]) -> st.SearchStrategy[BaseModel]:
    """Valid instances of ``model``."""
    return model_data(model).map(model.model_validate)
