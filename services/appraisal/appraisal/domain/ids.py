"""Deterministic aggregate ids: the same advisor or county always maps to the same stream."""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

_PREFIX = "urn:advisor-appraisal:aggregate:"


def advisor_stream_id(advisor_id: str) -> UUID:
    """The aggregate id of an advisor's history."""
    return uuid5(NAMESPACE_URL, _PREFIX + "advisor:" + advisor_id)


def county_stream_id(county_id: str) -> UUID:
    """The aggregate id of a county's register ("000000" is the province)."""
    return uuid5(NAMESPACE_URL, _PREFIX + "county:" + county_id)
