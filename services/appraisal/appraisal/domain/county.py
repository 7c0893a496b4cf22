"""The county register (县/区): villages, published policies and closed years.

County-level facts arrive on the same topic as advisor facts, keyed by county.
Province-wide policies are recorded in the register of county "000000".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from pydantic import ValidationError

from appraisal.domain.ids import county_stream_id
from appraisal.domain.ledger import FactLedger
from appraisal.policy.document import PolicyDocument, PublishedPolicy

PROVINCE = "000000"


@dataclass(frozen=True, slots=True)
class VillageRegistered:
    """A village or community (村/社区) of the county, with its advisor if known."""

    event_id: UUID
    occurred_at: datetime
    village_id: str
    name: str
    township_id: str
    kind: str
    remote: bool
    advisor_id: str


@dataclass(frozen=True, slots=True)
class PolicyPublished:
    """An appraisal policy document published for a county (or the province)."""

    event_id: UUID
    occurred_at: datetime
    policy_id: str
    county_id: str
    effective_from: date
    document: dict[str, Any]


@dataclass(frozen=True, slots=True)
class PeriodClosed:
    """The bureau closed a year: its verdicts are issued and from then on amended only."""

    event_id: UUID
    occurred_at: datetime
    year: int


CountyFact = VillageRegistered | PolicyPublished | PeriodClosed


class County(FactLedger):
    """Everything a county (or the province, "000000") has registered."""

    def __init__(self, county_id: str) -> None:
        self.county_id = county_id
        self._facts = {}

    @staticmethod
    def create_id(county_id: str) -> UUID:
        return county_stream_id(county_id)

    def villages(self) -> dict[str, VillageRegistered]:
        """The latest registration of each village (a re-registration updates it)."""
        latest: dict[str, VillageRegistered] = {}
        for fact in self.facts():
            if isinstance(fact, VillageRegistered):
                latest[fact.village_id] = fact
        return latest

    def policies(self) -> tuple[PolicyPublished, ...]:
        return self.facts_of(PolicyPublished)

    def closings(self, year: int) -> tuple[PeriodClosed, ...]:
        """Every close of `year`, earliest first (closing twice changes nothing)."""
        return tuple(f for f in self.facts_of(PeriodClosed) if f.year == year)

    def is_closed(self, year: int) -> bool:
        return bool(self.closings(year))


def published_policies(*registers: County | None) -> list[PublishedPolicy]:
    """The policies of these registers (a county's and the province's), ready for §6.

    Documents are checked when the event is translated (invalid ones are
    dead-lettered); one that still fails here is left out rather than applied.
    """
    published: list[PublishedPolicy] = []
    for register in registers:
        for p in register.policies() if register else ():
            try:
                document = PolicyDocument.model_validate(p.document)
            except ValidationError:
                continue
            published.append(
                PublishedPolicy(
                    policy_id=p.policy_id,
                    county_id=p.county_id,
                    effective_from=p.effective_from,
                    document=document,
                )
            )
    return published
