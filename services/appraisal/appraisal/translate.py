"""From wire events (contract v1, as published by ingest) to domain facts.

The payload fields of every contract type are named like the fields of its fact,
so translation is a table from type to fact class plus the envelope fields a
fact needs. Anything the table does not cover is a poison event for the caller.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from pydantic import ValidationError

from appraisal.application import SHARED, Recordable, StreamKind
from appraisal.domain import county
from appraisal.policy import facts
from appraisal.policy.document import PolicyDocument
from contracts import PublishedEnvelope

FACT_FOR_TYPE: dict[str, tuple[StreamKind, type[Any]]] = {
    "village.registered.v1": ("county", county.VillageRegistered),
    "policy.published.v1": ("county", county.PolicyPublished),
    "period.closed.v1": ("county", county.PeriodClosed),
    "advisor.appointed.v1": ("advisor", facts.Appointment),
    "advisor.assignment_ended.v1": ("advisor", facts.AssignmentEnded),
    "activity.onsite_duty.v1": ("advisor", facts.OnsiteDuty),
    "activity.lecture.v1": ("advisor", facts.Lecture),
    "activity.mediation.v1": ("advisor", facts.Mediation),
    "activity.consultation.v1": ("advisor", facts.Consultation),
    "activity.document_drafted.v1": ("advisor", facts.DocumentDrafted),
    "activity.legal_aid_referral.v1": ("advisor", facts.LegalAidReferral),
    "activity.committee_advice.v1": ("advisor", facts.CommitteeAdvice),
    "activity.voided.v1": ("advisor", facts.Voided),
    "rating.submitted.v1": ("advisor", facts.Rating),
    "complaint.filed.v1": ("advisor", facts.ComplaintFiled),
    "complaint.resolved.v1": ("advisor", facts.ComplaintResolved),
    "inspection.recorded.v1": ("advisor", facts.Inspection),
}


# Each fact class's field names, once: `dataclasses.fields` builds its tuple anew on
# every call (1.5 of the 12 µs a translation took, issue #8).
_FIELD_NAMES: dict[type[Any], tuple[str, ...]] = {
    fact_class: tuple(f.name for f in dataclasses.fields(fact_class))
    for _, fact_class in FACT_FOR_TYPE.values()
}


class UntranslatableEvent(ValueError):
    """The event is valid on the wire but cannot become a fact (a poison event)."""


def to_recordable(event: PublishedEnvelope) -> Recordable:
    """The fact an accepted wire event records, and the stream it belongs to."""
    try:
        stream, fact_class = FACT_FOR_TYPE[event.type]
    except KeyError:
        raise UntranslatableEvent(f"no fact for event type {event.type!r}") from None
    values: dict[str, Any] = {
        **event.payload.model_dump(),
        "event_id": event.event_id,
        "occurred_at": event.occurred_at,
        "advisor_id": event.advisor_id,
        "county_id": event.county_id,
    }
    if fact_class is county.PolicyPublished:
        try:
            PolicyDocument.model_validate(values["document"])
        except ValidationError as exc:
            # A bureau's typo must not silently fall back to another policy.
            raise UntranslatableEvent(
                f"{event.type} {event.event_id}: the policy document is invalid: "
                f"{exc.error_count()} error(s), first at {exc.errors()[0]['loc']}"
            ) from exc
    try:
        fact = fact_class(
            **SHARED.fields({name: values[name] for name in _FIELD_NAMES[fact_class]})
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise UntranslatableEvent(f"{event.type} {event.event_id}: {exc}") from exc
    key = event.county_id if stream == "county" else event.advisor_id
    if not key:
        raise UntranslatableEvent(f"{event.type} {event.event_id} names no {stream}")
    return Recordable(stream, key, fact, event.county_id, event.recorded_at)
