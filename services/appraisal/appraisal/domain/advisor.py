"""The advisor aggregate: one advisor's whole recorded history (一村一法律顾问).

Appointments, activities, ratings, complaints, inspections and voids are kept as
facts, each recorded once. The appraisal rules read the history as plain data;
this aggregate only decides what is new.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from appraisal.domain.ids import advisor_stream_id
from appraisal.domain.ledger import Fact, FactLedger


class AdvisorInOtherCounty(ValueError):
    """An event names a county other than the one the advisor is filed under."""

    code = "advisor_in_other_county"

    def __init__(self, advisor_id: str, filed_under: str, named: str) -> None:
        super().__init__(
            f"advisor {advisor_id} is filed under county {filed_under}; an event naming "
            f"county {named} cannot change that (an advisor serving two counties needs "
            f"a distinct advisor_id in each)"
        )
        self.advisor_id = advisor_id
        self.filed_under = filed_under
        self.named = named


def other_county(filed_under: str, named: str) -> bool:
    """Whether an event naming county `named` must be refused by an advisor filed
    under `filed_under` ("" = not yet filed: the first event files the advisor)."""
    return bool(filed_under) and bool(named) and named != filed_under


class Advisor(FactLedger):
    """An advisor's history, across every village they serve and every year.

    `county_id` is the county named by the advisor's first recorded event: where the
    advisor's appraisals are filed, and the only county whose events the advisor
    accepts. Advisor ids are global (the read API addresses advisors by id alone),
    so letting a later event refile the advisor would let a source scoped to one
    county move another county's advisor into its own. An advisor who serves
    villages in two counties is registered with a distinct `advisor_id` in each.

    The write side caches advisors by their facts' ids only (`cached_with_facts`):
    a county register is read whole for every county list; an advisor's facts only
    by the projector, which keeps its own copies, and by occasional reads.
    """

    cached_with_facts = False

    def __init__(self, advisor_id: str) -> None:
        self.advisor_id = advisor_id
        self.county_id = ""
        self._facts = {}

    @staticmethod
    def create_id(advisor_id: str) -> UUID:
        return advisor_stream_id(advisor_id)

    def record(self, fact: Fact, county_id: str = "", recorded_at: datetime | None = None) -> bool:
        """Record `fact` unless already held; refuse one naming another county.

        Raises AdvisorInOtherCounty (nothing recorded) for a new fact whose event
        names a county other than the advisor's; a fact already held stays a
        duplicate whatever county its copy names.
        """
        if not self.knows(fact.event_id) and other_county(self.county_id, county_id):
            raise AdvisorInOtherCounty(self.advisor_id, self.county_id, county_id)
        return super().record(fact, county_id, recorded_at)
