"""Machine-readable rejection reasons: ``{code, path, message}``.

Pydantic's error types are translated (in ``contracts.validation``) into the
small, stable vocabulary below so that clients, the DLQ and the metrics (label
``reason``) do not depend on pydantic's internals.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints


class ErrorCode(StrEnum):
    """Reason codes for a rejected event (a bounded set: safe as a metric label)."""

    INVALID_JSON = "invalid_json"
    WRONG_TYPE = "wrong_type"
    MISSING_FIELD = "missing_field"
    UNKNOWN_FIELD = "unknown_field"
    UNKNOWN_TYPE = "unknown_type"
    INVALID_CHOICE = "invalid_choice"
    BAD_FORMAT = "bad_format"
    NAIVE_DATETIME = "naive_datetime"
    END_BEFORE_START = "end_before_start"
    OUT_OF_RANGE = "out_of_range"
    EMPTY = "empty"
    TOO_SHORT = "too_short"
    TOO_LONG = "too_long"
    MUST_BE_EMPTY = "must_be_empty"
    EVENT_ID_MISMATCH = "event_id_mismatch"
    INCONSISTENT_VERDICT = "inconsistent_verdict"
    FUTURE_TIME = "future_time"
    INVALID = "invalid"


class Violation(BaseModel):
    """One reason an event was rejected (拒收原因). The message never echoes the rejected value."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "examples": [
                {
                    "code": "out_of_range",
                    "path": "$.payload.score",
                    "message": "Input should be less than or equal to 5",
                }
            ]
        },
    )

    code: Annotated[
        str, StringConstraints(strict=True, pattern=r"^[a-z][a-z0-9_]*$", max_length=64)
    ] = Field(
        description=(
            "Machine-readable reason, e.g. `unknown_field`, `naive_datetime`, `out_of_range` "
            "(the contract's codes are `contracts.ErrorCode`; the appraisal DLQ may add "
            "processing codes of its own)."
        )
    )
    path: Annotated[str, StringConstraints(strict=True, pattern=r"^\$", max_length=512)] = Field(
        description=(
            "JSON path of the offending value, e.g. `$.payload.score`; `$` is the event itself."
        )
    )
    message: Annotated[str, StringConstraints(strict=True, min_length=1, max_length=2000)] = Field(
        description="Human-readable explanation (English)."
    )


class ContractViolationError(ValueError):
    """Raised by the ``contracts.parse_*`` helpers; ``violations`` lists every reason."""

    def __init__(self, violations: Sequence[Violation]) -> None:
        self.violations: tuple[Violation, ...] = tuple(violations)
        super().__init__("; ".join(f"{v.path}: {v.code}: {v.message}" for v in self.violations))
