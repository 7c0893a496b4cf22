"""Hand-written hostile values that the fuzzers found or that sit on a boundary."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from appraisal.policy import DEFAULT_POLICY, PolicyDocument

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("value", ["18:00Z", "18:00:00+08:00", "09:02:25.63-05:00"])
@pytest.mark.parametrize("field", ["night_starts_at", "night_ends_at"])
def test_a_night_window_time_with_an_offset_is_refused(field: str, value: str) -> None:
    # Regression (schemathesis, POST /v1/what-if): an aware time was accepted, then
    # compared with each lecture's naive local time: TypeError, a 500.
    draft = DEFAULT_POLICY.model_dump(mode="json")
    draft["requirements"][field] = value
    with pytest.raises(ValidationError, match="without an offset"):
        PolicyDocument.model_validate(draft)


def test_the_default_night_window_is_still_valid() -> None:
    draft = DEFAULT_POLICY.model_dump(mode="json")
    assert PolicyDocument.model_validate(draft).requirements.night_starts_at.tzinfo is None
