"""Splitting a request body into raw events: a JSON array or NDJSON.

JSON is read strictly: ``NaN``/``Infinity`` and duplicate object keys are
errors (a duplicate key means two parsers may disagree on what was sent).
In NDJSON every line stands alone, so a bad line rejects only its event; a
JSON array is one document, so a syntax error anywhere is an error of the body.
Nothing here echoes input back: messages name positions, never values.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Final

from contracts import ErrorCode, Violation, json_path

NDJSON_MEDIA_TYPES: Final = frozenset(
    {"application/x-ndjson", "application/ndjson", "application/jsonl", "application/x-jsonlines"}
)
JSON_MEDIA_TYPES: Final = frozenset({"application/json", *NDJSON_MEDIA_TYPES})
_NAME_SHOWN_MAX: Final = 64
_PATH_MAX: Final = 512  # Violation.path's limit


class BodyError(Exception):
    """The body as a whole cannot be read; ``status`` is the HTTP status to answer."""

    def __init__(self, status: int, code: str, message: str, limit: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.limit = limit


@dataclass(frozen=True)
class RawEvent:
    """One event as sent: its decoded JSON value, or why it could not be decoded."""

    value: Any = None
    problems: tuple[Violation, ...] = field(default=())

    @property
    def as_object(self) -> dict[str, Any] | None:
        """The value if it is a JSON object (what the DLQ keeps), else ``None``."""
        return self.value if isinstance(self.value, dict) else None


class _KeyedObject(dict[str, Any]):
    """A decoded JSON object that had repeated keys."""

    repeated: tuple[str, ...] = ()


class _StrictDecoder:
    """``json.loads`` without NaN/Infinity and with duplicate keys remembered."""

    def __init__(self) -> None:
        self.saw_repeats = False

    def _object(self, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        obj = dict(pairs)
        if len(obj) == len(pairs):
            return obj
        self.saw_repeats = True
        counts = Counter(k for k, _ in pairs)
        keyed = _KeyedObject(obj)
        keyed.repeated = tuple(k for k, n in counts.items() if n > 1)
        return keyed

    @staticmethod
    def _constant(name: str) -> Any:
        msg = f"{name} is not valid JSON"
        raise ValueError(msg)

    def loads(self, text: str) -> Any:
        return json.loads(text, object_pairs_hook=self._object, parse_constant=self._constant)


def _repeated_keys(value: Any) -> Iterator[Violation]:
    """A violation per object (at any depth) that repeated a key."""
    stack: list[tuple[tuple[int | str, ...], Any]] = [((), value)]
    while stack:
        loc, item = stack.pop()
        if isinstance(item, _KeyedObject):
            names = sorted({k for k in item.repeated if len(k) <= _NAME_SHOWN_MAX})
            shown = ", ".join(repr(k) for k in names[:5]) or "(long names)"
            path = json_path(loc)
            yield Violation(
                code=ErrorCode.INVALID_JSON.value,
                path=path if len(path) <= _PATH_MAX else "$",
                message=f"duplicate key(s) {shown} in one JSON object",
            )
        if isinstance(item, dict):
            stack.extend(((*loc, k), v) for k, v in item.items())
        elif isinstance(item, list):
            stack.extend(((*loc, i), v) for i, v in enumerate(item))


def _json_problem(error: Exception) -> str:
    if isinstance(error, json.JSONDecodeError):
        return f"not valid JSON: {error.msg} at line {error.lineno} column {error.colno}"
    if isinstance(error, RecursionError):
        return "not valid JSON here: nested too deeply"
    if isinstance(error, UnicodeDecodeError):
        return f"not valid UTF-8 (byte offset {error.start})"
    # ValueError of the integer-size limit or of NaN/Infinity; its text names no value.
    return f"not valid JSON: {error}"


def _invalid(message: str) -> RawEvent:
    violation = Violation(code=ErrorCode.INVALID_JSON.value, path="$", message=message)
    return RawEvent(problems=(violation,))


def _decoded(decoder: _StrictDecoder, value: Any) -> RawEvent:
    if decoder.saw_repeats:
        repeats = tuple(_repeated_keys(value))
        if repeats:
            return RawEvent(value=value, problems=repeats)
    return RawEvent(value=value)


def split_body(body: bytes, media_type: str | None, max_events: int) -> list[RawEvent]:
    """The events of a body, in order; raise :class:`BodyError` for a body unreadable as a whole.

    A body starting with ``[`` is a JSON array; anything else is NDJSON (one
    JSON value per non-blank line; a single object is a batch of one).
    """
    if media_type is not None and media_type not in JSON_MEDIA_TYPES:
        raise BodyError(
            415,
            "unsupported_media_type",
            "send application/json (an array of events) or application/x-ndjson",
        )
    if body.startswith(b"\xef\xbb\xbf"):
        body = body[3:]
    is_array = body.lstrip()[:1] == b"["
    events = _split_array(body) if is_array else _split_lines(body, max_events)
    if not events:
        raise BodyError(400, "empty_body", "the body holds no events")
    if len(events) > max_events:
        raise _too_many(max_events)
    return events


def _too_many(max_events: int) -> BodyError:
    return BodyError(
        413, "too_many_events", f"at most {max_events} events per request", limit=max_events
    )


def _split_array(body: bytes) -> list[RawEvent]:
    decoder = _StrictDecoder()
    try:
        items = decoder.loads(body.decode("utf-8"))
    except (ValueError, RecursionError) as error:
        raise BodyError(400, "invalid_json", f"the body is {_json_problem(error)}") from None
    if not isinstance(items, list):
        raise BodyError(400, "invalid_json", "the body is not a JSON array")
    if not decoder.saw_repeats:
        return [RawEvent(value=item) for item in items]
    return [_decoded(decoder, item) for item in items]


def _split_lines(body: bytes, max_events: int) -> list[RawEvent]:
    events: list[RawEvent] = []
    for line in body.split(b"\n"):
        if not line.strip():
            continue
        if len(events) == max_events:
            raise _too_many(max_events)
        events.append(_decode_line(line))
    return events


def _decode_line(line: bytes) -> RawEvent:
    decoder = _StrictDecoder()
    try:
        value = decoder.loads(line.decode("utf-8"))
    except (ValueError, RecursionError) as error:
        return _invalid(f"this line is {_json_problem(error)}")
    return _decoded(decoder, value)
