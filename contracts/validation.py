"""Parsing and checking events against contract v1, with machine-readable reasons.

Ingest calls :func:`parse_inbound_event` then :func:`check_not_future` (the
models never read a clock) and :func:`to_published`; appraisal calls
:func:`parse_published_event` (or types its FastStream handler with
``PublishedEvent``) and :func:`violations_from_error` for its DLQ.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Mapping
from datetime import datetime, timedelta
from functools import cache
from typing import Any, Final, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic_core import ErrorDetails

from contracts.errors import ContractViolationError, ErrorCode, Violation
from contracts.formats import PATTERN_MESSAGES
from contracts.ids import derive_event_id
from contracts.v1 import (
    INBOUND_EVENT_ADAPTER,
    INBOUND_MODELS,
    PUBLISHED_EVENT_ADAPTER,
    PUBLISHED_MODELS,
    VERDICT_EVENT_ADAPTER,
    VERDICT_MODELS,
    InboundEvent,
    PublishedEvent,
    VerdictEvent,
)

RawEvent = bytes | bytearray | str | Mapping[str, Any]
"""An event as JSON text (bytes or str) or as an already-decoded JSON object."""

DEFAULT_FUTURE_TOLERANCE: Final = timedelta(minutes=5)

_CODE_BY_PYDANTIC_TYPE: Final[dict[str, ErrorCode]] = {
    "json_invalid": ErrorCode.INVALID_JSON,
    "missing": ErrorCode.MISSING_FIELD,
    "union_tag_not_found": ErrorCode.MISSING_FIELD,
    "extra_forbidden": ErrorCode.UNKNOWN_FIELD,
    "union_tag_invalid": ErrorCode.UNKNOWN_TYPE,
    "literal_error": ErrorCode.INVALID_CHOICE,
    "enum": ErrorCode.INVALID_CHOICE,
    "timezone_aware": ErrorCode.NAIVE_DATETIME,
    "string_pattern_mismatch": ErrorCode.BAD_FORMAT,
    "datetime_parsing": ErrorCode.BAD_FORMAT,
    "datetime_from_date_parsing": ErrorCode.BAD_FORMAT,
    "datetime_object_invalid": ErrorCode.BAD_FORMAT,
    "date_parsing": ErrorCode.BAD_FORMAT,
    "date_from_datetime_parsing": ErrorCode.BAD_FORMAT,
    "date_from_datetime_inexact": ErrorCode.BAD_FORMAT,
    "uuid_parsing": ErrorCode.BAD_FORMAT,
    "uuid_version": ErrorCode.BAD_FORMAT,
    "decimal_parsing": ErrorCode.BAD_FORMAT,
    "decimal_max_places": ErrorCode.BAD_FORMAT,
    "greater_than": ErrorCode.OUT_OF_RANGE,
    "greater_than_equal": ErrorCode.OUT_OF_RANGE,
    "less_than": ErrorCode.OUT_OF_RANGE,
    "less_than_equal": ErrorCode.OUT_OF_RANGE,
    "decimal_max_digits": ErrorCode.OUT_OF_RANGE,
    "decimal_whole_digits": ErrorCode.OUT_OF_RANGE,
    "finite_number": ErrorCode.OUT_OF_RANGE,
    "int_parsing_size": ErrorCode.OUT_OF_RANGE,
    "string_too_long": ErrorCode.TOO_LONG,
    "too_long": ErrorCode.TOO_LONG,
    "string_too_short": ErrorCode.TOO_SHORT,
    "too_short": ErrorCode.TOO_SHORT,
    "json_type": ErrorCode.WRONG_TYPE,
    "int_type": ErrorCode.WRONG_TYPE,
    "int_parsing": ErrorCode.WRONG_TYPE,
    "int_from_float": ErrorCode.WRONG_TYPE,
    "float_type": ErrorCode.WRONG_TYPE,
    "float_parsing": ErrorCode.WRONG_TYPE,
    "bool_type": ErrorCode.WRONG_TYPE,
    "bool_parsing": ErrorCode.WRONG_TYPE,
    "string_type": ErrorCode.WRONG_TYPE,
    "string_sub_type": ErrorCode.WRONG_TYPE,
    "string_unicode": ErrorCode.WRONG_TYPE,
    "bytes_type": ErrorCode.WRONG_TYPE,
    "dict_type": ErrorCode.WRONG_TYPE,
    "list_type": ErrorCode.WRONG_TYPE,
    "model_type": ErrorCode.WRONG_TYPE,
    "model_attributes_type": ErrorCode.WRONG_TYPE,
    "dataclass_type": ErrorCode.WRONG_TYPE,
    "uuid_type": ErrorCode.WRONG_TYPE,
    "date_type": ErrorCode.WRONG_TYPE,
    "datetime_type": ErrorCode.WRONG_TYPE,
    "decimal_type": ErrorCode.WRONG_TYPE,
    "none_required": ErrorCode.WRONG_TYPE,
    "is_instance_of": ErrorCode.WRONG_TYPE,
}
_OWN_CODES: Final = frozenset(code.value for code in ErrorCode)
_IDENTIFIER: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ALL_TAGS: Final = frozenset({*INBOUND_MODELS, *PUBLISHED_MODELS, *VERDICT_MODELS})


_NAME_SHOWN = 64
_TYPE_NAME = re.compile(r"^[a-z][a-z0-9_.]{0,63}$")


def _shown(name: str) -> str:
    """A key from the input, cut so a hostile one cannot blow up paths or messages."""
    return name if len(name) <= _NAME_SHOWN else name[: _NAME_SHOWN - 1] + "…"


def json_path(loc: Iterable[int | str]) -> str:
    """Render a pydantic ``loc`` as a JSON path: ``("payload", "score")`` → ``$.payload.score``.

    Keys longer than 64 characters are cut (the path is never longer than a few
    hundred characters, whatever the input).
    """
    parts = ["$"]
    for raw in loc:
        item = raw if isinstance(raw, int) else _shown(raw)
        if isinstance(item, int):
            parts.append(f"[{item}]")
        elif _IDENTIFIER.fullmatch(item):
            parts.append(f".{item}")
        else:
            escaped = item.replace("\\", "\\\\").replace("'", "\\'")
            parts.append(f"['{escaped}']")
    return "".join(parts)


def violations_from_error(
    error: ValidationError, *, union_tags: Collection[str] = _ALL_TAGS
) -> list[Violation]:
    """Translate a pydantic ``ValidationError`` into contract violations.

    Works for errors of the unions (``InboundEvent``…) and of single models.
    ``union_tags`` are discriminator values that pydantic puts first in ``loc``
    and that are not part of the event's JSON path.
    """
    return [_violation(detail, union_tags) for detail in error.errors(include_input=False)]


def _violation(detail: ErrorDetails, union_tags: Collection[str]) -> Violation:
    kind = detail["type"]
    loc = list(detail["loc"])
    if loc and isinstance(loc[0], str) and loc[0] in union_tags:
        loc = loc[1:]
    ctx: dict[str, Any] = dict(detail.get("ctx") or {})
    message = detail["msg"]
    code = (
        ErrorCode(kind)
        if kind in _OWN_CODES
        else _CODE_BY_PYDANTIC_TYPE.get(kind, ErrorCode.INVALID)
    )
    field = _shown(str(loc[-1])) if loc else ""

    if kind == "union_tag_invalid":
        loc = ["type"]
        tag = str(ctx.get("tag"))
        # Echo the type only when it looks like one: the message must not carry input.
        shown = repr(tag) if _TYPE_NAME.fullmatch(tag) else "(not shown)"
        message = f"unknown event type {shown}; expected one of {ctx.get('expected_tags')}"
    elif kind == "union_tag_not_found":
        loc = ["type"]
        message = "required field 'type' is missing (the event type, e.g. 'activity.lecture.v1')"
    elif code is ErrorCode.UNKNOWN_FIELD:
        message = f"unknown field {field!r}: fields not in the contract are rejected"
    elif code is ErrorCode.MISSING_FIELD:
        message = f"required field {field!r} is missing"
    elif code is ErrorCode.NAIVE_DATETIME:
        message = "datetime must carry a UTC offset, e.g. 2024-03-05T19:30:00+08:00 or …Z"
    elif kind == "string_too_short" and ctx.get("min_length") == 1:
        code = ErrorCode.EMPTY
        message = f"{field!r} must not be empty"
    elif kind == "string_too_long" and ctx.get("max_length") == 0:
        code = ErrorCode.MUST_BE_EMPTY
        message = f"{field!r} must be empty or absent for this event type"
    elif kind == "string_pattern_mismatch":
        human = PATTERN_MESSAGES.get(str(ctx.get("pattern")))
        if human is not None:
            message = f"{field!r} {human}"
    return Violation(code=code.value, path=json_path(loc)[:512], message=message[:2000])


_T = TypeVar("_T")


def _parse(adapter: TypeAdapter[_T], raw: RawEvent) -> _T:
    try:
        if isinstance(raw, (bytes, bytearray, str)):
            return adapter.validate_json(raw)
        return adapter.validate_python(raw)
    except ValidationError as error:
        raise ContractViolationError(violations_from_error(error)) from None


def parse_inbound_event(raw: RawEvent) -> InboundEvent:
    """Validate an event sent by a source; raise :class:`ContractViolationError` with every reason.

    JSON text is validated as JSON; a decoded object (e.g. a row of an imported
    ledger, or one element of a JSON array) is validated as Python data with the
    same rules (strings for times; ``datetime``/``date`` objects are also accepted).
    """
    return _parse(INBOUND_EVENT_ADAPTER, raw)


def parse_published_event(raw: RawEvent) -> PublishedEvent:
    """Validate an event from ``advisor-events``; raise :class:`ContractViolationError`."""
    return _parse(PUBLISHED_EVENT_ADAPTER, raw)


def parse_verdict_event(raw: RawEvent) -> VerdictEvent:
    """Validate an event from ``appraisal-verdicts``; raise :class:`ContractViolationError`."""
    return _parse(VERDICT_EVENT_ADAPTER, raw)


def check_not_future(
    event: InboundEvent | PublishedEvent,
    now: datetime,
    tolerance: timedelta = DEFAULT_FUTURE_TOLERANCE,
) -> list[Violation]:
    """Return a violation for every time of the event later than ``now + tolerance``.

    Checks ``occurred_at`` and every datetime of the payload (dates such as
    ``appointed_on`` or ``effective_from`` may lie in the future; ``recorded_at``
    is ingest's own). ``now`` must be timezone-aware: the caller owns the clock.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        msg = "now must be timezone-aware"
        raise ValueError(msg)
    limit = now + tolerance
    found: list[Violation] = []
    payload = event.payload
    candidates: list[tuple[str, object]] = [("$.occurred_at", event.occurred_at)]
    candidates += [(path, getattr(payload, name)) for name, path in _paths(type(payload))]
    for path, value in candidates:
        if isinstance(value, datetime) and value > limit:
            found.append(
                Violation(
                    code=ErrorCode.FUTURE_TIME.value,
                    path=path,
                    message=(
                        f"time is more than {_minutes(tolerance)} in the future "
                        "(check the sender's clock and UTC offset)"
                    ),
                )
            )
    return found


@cache
def _paths(payload: type[BaseModel]) -> tuple[tuple[str, str], ...]:
    """Each field of a payload model and its JSON path: made once per model, not per
    event (`model_fields` and the paths were ~5 % of ingest, issue #8)."""
    return tuple((name, f"$.payload.{name}") for name in payload.model_fields)


def _minutes(tolerance: timedelta) -> str:
    seconds = int(tolerance.total_seconds())
    if seconds % 60 == 0:
        return f"{seconds // 60} min"
    return f"{seconds} s"


def to_published(
    event: InboundEvent,
    *,
    recorded_at: datetime,
    pseudonymise: Callable[[str], str],
) -> PublishedEvent:
    """Build the event ingest publishes: add ``event_id`` and ``recorded_at``, pseudonymise.

    ``pseudonymise`` maps a raw ``citizen`` to its ``citizen_ref`` (64 hex chars,
    HMAC-SHA256 under ingest's secret key); it is only called for ratings and
    complaints. The result is validated by the published model.
    """
    data: dict[str, Any] = event.model_dump()
    payload: dict[str, Any] = data["payload"]
    if "citizen" in payload:
        payload["citizen_ref"] = pseudonymise(payload.pop("citizen"))
    data["event_id"] = derive_event_id(event.source, event.source_event_id)
    data["recorded_at"] = recorded_at
    return PUBLISHED_EVENT_ADAPTER.validate_python(data)
