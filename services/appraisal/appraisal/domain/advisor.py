"""The advisor aggregate: one advisor's whole recorded history (一村一法律顾问).

Appointments, activities, ratings, complaints, inspections and voids are kept as
facts, each recorded once. The appraisal rules read the history as plain data;
this aggregate only decides what is new.
"""

from __future__ import annotations

from uuid import UUID

from appraisal.domain.ids import advisor_stream_id
from appraisal.domain.ledger import FactLedger


class Advisor(FactLedger):
    """An advisor's history, across every village they serve and every year.

    `county_id` is the county named by the latest recorded event: where the
    advisor's appraisals are filed. An advisor serving villages of two counties
    is filed under one of them (the rare case is not modelled further).
    """

    def __init__(self, advisor_id: str) -> None:
        self.advisor_id = advisor_id
        self.county_id = ""
        self._facts = {}

    @staticmethod
    def create_id(advisor_id: str) -> UUID:
        return advisor_stream_id(advisor_id)
