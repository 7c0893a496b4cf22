"""Deterministic aggregate ids: the same advisor or county always maps to the same stream."""

from __future__ import annotations

from functools import lru_cache
from uuid import NAMESPACE_URL, UUID, uuid5

# Recording a batch asks for each item's stream id, and advisors repeat across
# batches (uuid5: ~10 µs, 3 % of the consumer). At most ~2 MB held.
_CACHED = 8192

_PREFIX = "urn:advisor-appraisal:aggregate:"


@lru_cache(maxsize=_CACHED)
def advisor_stream_id(advisor_id: str) -> UUID:
    """The aggregate id of an advisor's history."""
    return uuid5(NAMESPACE_URL, _PREFIX + "advisor:" + advisor_id)


@lru_cache(maxsize=_CACHED)
def county_stream_id(county_id: str) -> UUID:
    """The aggregate id of a county's register ("000000" is the province)."""
    return uuid5(NAMESPACE_URL, _PREFIX + "county:" + county_id)
