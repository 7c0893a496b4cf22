"""Event identity shared by every service and every client.

A re-sent event must be the same event, and a client must be able to compute
the id its event will get (ratings and voids cite it), so the id is a pure
function of the sender's own identifiers.
"""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

EVENT_ID_URN_PREFIX = "urn:advisor-appraisal:"


def derive_event_id(source: str, source_event_id: str) -> UUID:
    """Return the event id of a source's event.

    ``uuid5(NAMESPACE_URL, "urn:advisor-appraisal:" + source + ":" + source_event_id)``.
    ``source`` may not contain ``:`` (the contract forbids it), so the URN is
    unambiguous; ``source_event_id`` may.
    """
    return uuid5(NAMESPACE_URL, f"{EVENT_ID_URN_PREFIX}{source}:{source_event_id}")
