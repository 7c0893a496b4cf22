"""Checking each event of a request on its own: contract, clock, scope, pseudonymisation.

Pure: no I/O, the clock is passed in. Every event ends up as a
:class:`Candidate` (ready to publish), a :class:`Repeat` (an earlier event of
the same request has its id) or a :class:`Rejected` with its reasons. One bad
event never affects its neighbours.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final
from uuid import UUID

from pydantic import ValidationError
from pydantic_core import PydanticSerializationError

from contracts import (
    EVENT_TYPES,
    INBOUND_MODELS,
    ContractViolationError,
    ErrorCode,
    InboundEnvelope,
    Violation,
    check_not_future,
    parse_inbound_event,
    to_published,
    violations_from_error,
)
from ingest.auth import Scope
from ingest.bodies import RawEvent

MAX_REASONS: Final = 50
"""Reasons listed per event; an event with more gets a final "and N more"."""

UNKNOWN_TYPE_LABEL: Final = "unknown"
_KNOWN_TYPES: Final = frozenset(EVENT_TYPES)
_ENVELOPE_FIELDS: Final = frozenset(InboundEnvelope.model_fields)
_REDACTED: Final = "[redacted]"
_NAME_MAX: Final = 64
_TYPE_NAME: Final = re.compile(r"[a-z][a-z_]*(?:\.[a-z][a-z_]*)*\.v[0-9]{1,3}")
_UNKNOWN_TYPE_MESSAGE: Final = f"unknown event type; expected one of {', '.join(EVENT_TYPES)}"
_DLQ_STRING_MAX: Final = 1000
_DLQ_DEPTH_MAX: Final = 16


@dataclass(frozen=True, slots=True)
class Candidate:
    """A valid event, pseudonymised and serialised, ready for Kafka."""

    index: int
    type: str
    event_id: UUID
    key: bytes
    value: bytes


@dataclass(frozen=True, slots=True)
class Repeat:
    """A second copy of an event earlier in the same request."""

    index: int
    type: str
    event_id: UUID


@dataclass(frozen=True, slots=True)
class Rejected:
    """An event that will not be published, with every reason."""

    index: int
    type: str
    reasons: tuple[Violation, ...]
    event: dict[str, Any] | None
    event_id: UUID | None = None


Outcome = Candidate | Repeat | Rejected


def type_label(value: Any) -> str:
    """The event's type if it is one of the 17 known ones, else ``"unknown"`` (a metric label)."""
    type_ = value.get("type") if isinstance(value, dict) else None
    return type_ if isinstance(type_, str) and type_ in _KNOWN_TYPES else UNKNOWN_TYPE_LABEL


def check_events(
    raws: Sequence[RawEvent],
    *,
    scope: Scope,
    pseudonymise: Callable[[str], str],
    now: datetime,
) -> list[Outcome]:
    """Check every event of a request, in order; later copies of an id become :class:`Repeat`."""
    outcomes: list[Outcome] = []
    ids: set[UUID] = set()
    for index, raw in enumerate(raws):
        outcome = check_event(index, raw, scope=scope, pseudonymise=pseudonymise, now=now)
        if isinstance(outcome, Candidate):
            if outcome.event_id in ids:
                outcome = Repeat(outcome.index, outcome.type, outcome.event_id)
            else:
                ids.add(outcome.event_id)
        outcomes.append(outcome)
    return outcomes


def check_event(
    index: int,
    raw: RawEvent,
    *,
    scope: Scope,
    pseudonymise: Callable[[str], str],
    now: datetime,
) -> Outcome:
    """Check one event: decoded, valid under contract v1, not in the future, within scope."""
    label = type_label(raw.value)
    if raw.problems:
        return _rejected(index, label, raw.problems, raw.as_object)
    if not isinstance(raw.value, dict):
        return _rejected(index, label, (_not_an_object(),), None)
    oversized = _oversized_names(raw.value)
    if oversized:
        return _rejected(index, label, oversized, raw.value)
    try:
        event = parse_inbound_event(raw.value)
    except ContractViolationError as error:
        return _rejected(index, label, _unechoed(error.violations, raw.value), raw.value)
    except ValidationError:
        # The contract could not even phrase its reasons; say so without details.
        return _rejected(index, label, (_unreportable(),), raw.value)
    reasons = check_not_future(event, now) + scope.violations(event)
    if reasons:
        return _rejected(index, label, reasons, raw.value, event.event_id)
    try:
        published = to_published(event, recorded_at=now, pseudonymise=pseudonymise)
        value = published.model_dump_json().encode("utf-8")
    except ValidationError as error:
        return _rejected(index, label, violations_from_error(error), raw.value, event.event_id)
    except PydanticSerializationError:
        # Only a free-form object (a policy document) can nest deeper than pydantic writes.
        reason = _violation(ErrorCode.INVALID, "$.payload.document", "nested too deeply to publish")
        return _rejected(index, label, (reason,), raw.value, event.event_id)
    return Candidate(
        index=index,
        type=event.type,
        event_id=published.event_id,
        key=published.partition_key().encode("utf-8"),
        value=value,
    )


def _oversized_names(event: dict[str, Any]) -> tuple[Violation, ...]:
    """Names too long to be contract fields or types (the contract's messages echo them)."""
    found: list[Violation] = []
    type_ = event.get("type")
    if isinstance(type_, str) and len(type_) > _NAME_MAX:
        found.append(_violation(ErrorCode.UNKNOWN_TYPE, "$.type", "unknown event type"))
    payload = event.get("payload")
    for path, obj in (("$", event), ("$.payload", payload)):
        if isinstance(obj, dict) and obj and max(map(len, obj)) > _NAME_MAX:
            found.append(
                _violation(
                    ErrorCode.UNKNOWN_FIELD,
                    path,
                    f"a field name longer than {_NAME_MAX} characters is not in the contract",
                )
            )
    return tuple(found)


def _unechoed(reasons: Sequence[Violation], event: dict[str, Any]) -> list[Violation]:
    """The contract's reasons, minus an echoed ``type`` that does not look like a type name.

    The contract quotes an unknown type back; a phone number sent as the type
    must not end up in the answer and on the DLQ.
    """
    type_ = event.get("type")
    if _looks_like_type(type_):
        return list(reasons)
    return [
        _violation(ErrorCode.UNKNOWN_TYPE, r.path, _UNKNOWN_TYPE_MESSAGE)
        if r.code == ErrorCode.UNKNOWN_TYPE.value
        else r
        for r in reasons
    ]


def _violation(code: ErrorCode, path: str, message: str) -> Violation:
    return Violation(code=code.value, path=path, message=message)


def _unreportable() -> Violation:
    return _violation(ErrorCode.INVALID, "$", "the event is invalid under contract v1")


def _not_an_object() -> Violation:
    return Violation(
        code=ErrorCode.WRONG_TYPE.value, path="$", message="an event must be a JSON object"
    )


def _rejected(
    index: int,
    label: str,
    reasons: Sequence[Violation],
    event: dict[str, Any] | None,
    event_id: UUID | None = None,
) -> Rejected:
    listed = tuple(reasons[:MAX_REASONS])
    if len(reasons) > MAX_REASONS:
        more = Violation(
            code=ErrorCode.INVALID.value,
            path="$",
            message=f"and {len(reasons) - MAX_REASONS} more problems not listed",
        )
        listed = (*listed, more)
    return Rejected(index=index, type=label, reasons=listed, event=event, event_id=event_id)


def dead_letter_event(event: dict[str, Any]) -> dict[str, Any]:
    """The copy of a rejected event kept on the DLQ.

    ``DeadLetter`` drops every ``citizen`` key itself; here, in addition, the
    values of fields the contract does not know are replaced (a mistyped
    ``"citizen_phone"`` must not smuggle a phone number onto the DLQ), so are
    all payload values of an unknown type and a ``type`` that is no type name,
    and long strings and deep nesting are cut.
    """
    type_ = event.get("type")
    model = INBOUND_MODELS.get(type_) if isinstance(type_, str) else None
    payload_fields = frozenset(_payload_fields(model)) if model else frozenset()
    kept: dict[str, Any] = {}
    for key, value in event.items():
        if key not in _ENVELOPE_FIELDS or (key == "type" and not _looks_like_type(value)):
            kept[key] = _REDACTED
        elif key == "payload" and isinstance(value, dict):
            kept[key] = {
                k: _shortened(v) if k in payload_fields else _REDACTED for k, v in value.items()
            }
        else:
            kept[key] = _shortened(value)
    return kept


def _looks_like_type(value: Any) -> bool:
    return isinstance(value, str) and _TYPE_NAME.fullmatch(value) is not None


def _payload_fields(model: type[InboundEnvelope]) -> Iterable[str]:
    payload_model: Any = model.model_fields["payload"].annotation
    return getattr(payload_model, "model_fields", {})


def _shortened(value: Any, depth: int = 0) -> Any:
    if isinstance(value, str) and len(value) > _DLQ_STRING_MAX:
        return value[:_DLQ_STRING_MAX] + f"…[{len(value) - _DLQ_STRING_MAX} more characters]"
    if isinstance(value, dict | list) and depth >= _DLQ_DEPTH_MAX:
        return "[nested too deeply]"
    if isinstance(value, dict):
        return {k: _shortened(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_shortened(v, depth + 1) for v in value]
    return value
