"""Value formats shared by the contract's models (ids, codes, texts, times).

Each format is an ``Annotated`` type carrying its constraints, so the JSON
Schema states them and the models stay declarative. Times are checked twice:
first that the input is an RFC 3339 string (pydantic alone would also accept
Unix timestamps), then by pydantic itself (``AwareDatetime`` rejects naive
values).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Final

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BeforeValidator,
    Field,
    StringConstraints,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from contracts.errors import ErrorCode

# No control characters anywhere, no whitespace at either end (so " " is not an id).
_NO_CONTROL: Final = r"\x00-\x1f\x7f-\x9f"
ID_PATTERN: Final = rf"^[^\s{_NO_CONTROL}](?:[^{_NO_CONTROL}]*[^\s{_NO_CONTROL}])?$"
OPTIONAL_ID_PATTERN: Final = rf"^(?:[^\s{_NO_CONTROL}](?:[^{_NO_CONTROL}]*[^\s{_NO_CONTROL}])?)?$"
# Free text may span lines (tab, LF, CR) but carries no other control character.
FREE_TEXT_PATTERN: Final = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
# ``:`` is excluded: the event-id URN joins source and source_event_id with ``:``.
SOURCE_PATTERN: Final = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
COUNTY_ID_PATTERN: Final = r"^[0-9]{6}$"
MONTH_PATTERN: Final = r"^[0-9]{4}-(?:0[1-9]|1[0-2])$"
CITIZEN_REF_PATTERN: Final = r"^[0-9a-f]{64}$"

ID_MAX: Final = 128
LABEL_MAX: Final = 200
FREE_TEXT_MAX: Final = 2000
SOURCE_MAX: Final = 64
CITIZEN_MAX: Final = 128

PATTERN_MESSAGES: Final[dict[str, str]] = {
    ID_PATTERN: "must not start or end with whitespace nor contain control characters",
    OPTIONAL_ID_PATTERN: "must not start or end with whitespace nor contain control characters",
    FREE_TEXT_PATTERN: "must not contain control characters (tab and line breaks are allowed)",
    SOURCE_PATTERN: (
        "must be letters, digits, '.', '_' or '-' starting with a letter or digit (no ':')"
    ),
    COUNTY_ID_PATTERN: "must be exactly 6 digits (administrative division code, 行政区划代码)",
    MONTH_PATTERN: "must be YYYY-MM with a month 01-12",
    CITIZEN_REF_PATTERN: "must be 64 lowercase hexadecimal characters (HMAC-SHA256)",
}

Id = Annotated[
    str, StringConstraints(strict=True, min_length=1, max_length=ID_MAX, pattern=ID_PATTERN)
]
"""A non-empty identifier (ids are opaque strings; Chinese case numbers are fine)."""

OptionalId = Annotated[
    str, StringConstraints(strict=True, max_length=ID_MAX, pattern=OPTIONAL_ID_PATTERN)
]
"""An identifier that may be the empty string."""

EmptyId = Annotated[str, StringConstraints(strict=True, max_length=0)]
"""Always the empty string (``advisor_id`` of county-wide events)."""

Label = Annotated[
    str, StringConstraints(strict=True, min_length=1, max_length=LABEL_MAX, pattern=ID_PATTERN)
]
"""Short single-line text: a name, a topic, a subject."""

OptionalLabel = Annotated[
    str, StringConstraints(strict=True, max_length=LABEL_MAX, pattern=OPTIONAL_ID_PATTERN)
]

FreeText = Annotated[
    str,
    StringConstraints(
        strict=True, min_length=1, max_length=FREE_TEXT_MAX, pattern=FREE_TEXT_PATTERN
    ),
]
"""Multi-line text, not empty."""

OptionalFreeText = Annotated[
    str, StringConstraints(strict=True, max_length=FREE_TEXT_MAX, pattern=FREE_TEXT_PATTERN)
]

SourceName = Annotated[
    str,
    StringConstraints(strict=True, min_length=1, max_length=SOURCE_MAX, pattern=SOURCE_PATTERN),
]
CountyId = Annotated[str, StringConstraints(strict=True, pattern=COUNTY_ID_PATTERN)]
Month = Annotated[str, StringConstraints(strict=True, pattern=MONTH_PATTERN)]
CitizenRef = Annotated[str, StringConstraints(strict=True, pattern=CITIZEN_REF_PATTERN)]
Citizen = Annotated[
    str, StringConstraints(strict=True, min_length=1, max_length=CITIZEN_MAX, pattern=ID_PATTERN)
]

_RFC3339_DATETIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,9})?"
    r"(?:[Zz]|[+-][0-9]{2}:[0-9]{2})?"
)
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _rfc3339_datetime(value: object) -> object:
    # The offset is optional here on purpose: a missing one is reported by
    # AwareDatetime as naive_datetime, which is the more useful message.
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        if _RFC3339_DATETIME.fullmatch(value):
            return value
        raise PydanticCustomError(
            ErrorCode.BAD_FORMAT.value,
            "datetime must be RFC 3339, e.g. 2024-03-05T19:30:00+08:00",
        )
    raise PydanticCustomError(
        ErrorCode.WRONG_TYPE.value, "datetime must be an RFC 3339 string, not a number"
    )


def _iso_date(value: object) -> object:
    if isinstance(value, datetime):
        raise PydanticCustomError(ErrorCode.WRONG_TYPE.value, "expected a date, not a datetime")
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        if _ISO_DATE.fullmatch(value):
            return value
        raise PydanticCustomError(ErrorCode.BAD_FORMAT.value, "date must be YYYY-MM-DD")
    raise PydanticCustomError(ErrorCode.WRONG_TYPE.value, "date must be a YYYY-MM-DD string")


OffsetDatetime = Annotated[AwareDatetime, BeforeValidator(_rfc3339_datetime)]
"""An RFC 3339 datetime with a UTC offset (``+08:00`` or ``Z``)."""

IsoDate = Annotated[date, BeforeValidator(_iso_date)]
"""A calendar date, ``YYYY-MM-DD``."""


def _two_places(value: Decimal) -> Decimal:
    # Canonical form on the wire: always two places ("85.20", not "85.2").
    return value.quantize(Decimal("0.01"))


SCORE_PATTERN: Final = r"^(?:100(?:\.0{1,2})?|[0-9]{1,2}(?:\.[0-9]{1,2})?)$"
MEASURE_PATTERN: Final = r"^-?[0-9]+(?:\.[0-9]+)?$"

Score = Annotated[
    Decimal,
    Field(ge=0, le=100, max_digits=5, decimal_places=2),
    AfterValidator(_two_places),
    # Written as a string with two places; a JSON number is accepted on input.
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": SCORE_PATTERN},
                {"type": "number", "minimum": 0, "maximum": 100},
            ]
        }
    ),
]
"""An appraisal score 0–100 with two decimal places, serialised as a string ("85.25")."""


def _fixed_point(value: Decimal) -> Decimal:
    # "1E+3" would be exact but unreadable to consumers: always fixed-point ("1000").
    return Decimal(format(value, "f"))


Measure = Annotated[
    Decimal,
    Field(allow_inf_nan=False, max_digits=20),
    AfterValidator(_fixed_point),
    WithJsonSchema({"anyOf": [{"type": "string", "pattern": MEASURE_PATTERN}, {"type": "number"}]}),
]
"""An exact number (a count, a ratio, a mean), serialised as a string."""
