"""Read-side answers of the API: from the read models, or `as_of` from the event store.

Without `as_of` every answer comes from the projections. With `as_of`, the
answer is recomputed from the event store as it stood then (histories and
county registers at that time, the same pure rules), and verdict versions are
those issued by then — so an auditor sees what the bureau saw, not a guess.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from appraisal.application import AppraisalApplication
from appraisal.documents import DocumentCache, JsonDocument, needs_store
from appraisal.domain.county import PROVINCE, County, PeriodClosed, published_policies
from appraisal.policy import (
    AdvisorHistory,
    AdvisorYearAppraisal,
    AwardCandidate,
    AwardCategory,
    PolicyDocument,
    Verdict,
    VerdictChange,
    WorkdayCalendar,
    appraise_years,
    rank_awards,
    select_policy,
    what_if,
)
from appraisal.projections import shapes
from appraisal.projections.projector import PROJECTION_NAME
from appraisal.projections.store import AppraisalViews

LOCAL_ZONE = ZoneInfo("Asia/Shanghai")


class NotFound(LookupError):
    """Nothing is known for the requested county, advisor or year."""


@dataclass(frozen=True, slots=True)
class Registers:
    """A county's and the province's registers at one moment."""

    county_id: str
    county: County | None
    province: County | None

    def policy(self, year: int) -> tuple[str, PolicyDocument]:
        published = published_policies(self.county, self.province)
        return select_policy(published, self.county_id, year)

    def closed(self, year: int) -> bool:
        return self.county is not None and self.county.is_closed(year)

    def closed_years(self) -> set[int]:
        if self.county is None:
            return set()
        return {f.year for f in self.county.facts_of(PeriodClosed)}


class AppraisalQueries:
    def __init__(
        self,
        app: AppraisalApplication,
        views: AppraisalViews,
        calendar: WorkdayCalendar,
        documents: DocumentCache | None = None,
        projection: str = PROJECTION_NAME,
    ) -> None:
        self.app = app
        self.views = views
        self.calendar = calendar
        self.documents = documents or DocumentCache()
        self.projection = projection

    # --- helpers -----------------------------------------------------------------

    def registers(self, county_id: str, as_of: datetime | None = None) -> Registers:
        return Registers(
            county_id,
            self.app.county(county_id, as_of=as_of),
            self.app.county(PROVINCE, as_of=as_of),
        )

    def advisor_county(self, advisor_id: str) -> str | None:
        stream = self.views.advisor_stream(advisor_id)
        return None if stream is None else stream.county_id

    def _years_as_of(
        self, advisor_id: str, as_of: datetime
    ) -> tuple[str, tuple[AdvisorYearAppraisal, ...]] | None:
        advisor = self.app.advisor(advisor_id, as_of=as_of)
        if advisor is None or not advisor.fact_count:
            return None
        registers = self.registers(advisor.county_id, as_of)
        facts = advisor.facts()
        through = max(
            max(f.occurred_at.astimezone(LOCAL_ZONE).year for f in facts),
            max(registers.closed_years(), default=0),
        )
        history = AdvisorHistory(advisor.advisor_id, facts)
        return advisor.county_id, appraise_years(history, registers.policy, self.calendar, through)

    def _version_as_of(
        self, county_id: str, year: int, advisor_id: str, village_id: str, as_of: datetime
    ) -> int:
        versions = [
            v
            for v in self.views.verdict_versions(county_id, year, advisor_id, village_id)
            if datetime.fromisoformat(v["issued_at"]) <= as_of
        ]
        return versions[-1]["version"] if versions else 0

    def _assignment_bodies_as_of(
        self, county_id: str, appraisal: AdvisorYearAppraisal, closed: bool, as_of: datetime
    ) -> list[dict[str, Any]]:
        return [
            shapes.assignment_body(
                a,
                county_id,
                provisional=not closed,
                version=self._version_as_of(county_id, a.year, a.advisor_id, a.village_id, as_of),
            )
            for a in appraisal.assignments
        ]

    # --- §7.1 ----------------------------------------------------------------------

    def county_appraisals(
        self, county_id: str, year: int, as_of: datetime | None = None
    ) -> dict[str, Any]:
        registers = self.registers(county_id, as_of)
        policy_id, _ = registers.policy(year)
        if as_of is None:
            assignments = self.views.county_assignments(county_id, year)
        else:
            assignments = []
            for stream in self.views.advisor_streams(county_id):
                found = self._years_as_of(stream.advisor_id, as_of)
                if found is None or found[0] != county_id:
                    continue
                for appraisal in found[1]:
                    if appraisal.year == year:
                        assignments.extend(
                            self._assignment_bodies_as_of(
                                county_id, appraisal, registers.closed(year), as_of
                            )
                        )
            assignments.sort(key=lambda a: (a["advisor_id"], a["village_id"]))
        if not assignments and registers.county is None:
            raise NotFound(f"no county {county_id}")
        return {
            "county_id": county_id,
            "year": year,
            "closed": registers.closed(year),
            "policy_id": policy_id,
            "assignments": assignments,
        }

    def county_appraisals_page(
        self, county_id: str, year: int, as_of: datetime, offset: int, limit: int
    ) -> dict[str, Any]:
        """A page of `county_appraisals` as of then, shaped as the ready pages."""
        whole = self.county_appraisals(county_id, year, as_of)
        assignments = whole.pop("assignments")
        return {
            **whole,
            "total": len(assignments),
            "offset": offset,
            "limit": limit,
            "assignments": assignments[offset : offset + limit],
        }

    def advisor_appraisals(
        self, advisor_id: str, year: int, as_of: datetime | None = None
    ) -> dict[str, Any]:
        if as_of is None:
            advisor_year = self.views.advisor_year(advisor_id, year)
            if advisor_year is None:
                raise NotFound(f"no appraisal of advisor {advisor_id} for {year}")
            assignments = self.views.advisor_assignments(advisor_id, year)
        else:
            found = self._years_as_of(advisor_id, as_of)
            match = [a for a in found[1] if a.year == year] if found else []
            if not found or not match:
                raise NotFound(f"no appraisal of advisor {advisor_id} for {year} as of {as_of}")
            county_id = found[0]
            advisor_year = shapes.advisor_year_body(match[0], county_id)
            closed = self.registers(county_id, as_of).closed(year)
            assignments = self._assignment_bodies_as_of(county_id, match[0], closed, as_of)
        return {
            "advisor_id": advisor_id,
            "year": year,
            "county_id": advisor_year["county_id"],
            "name": advisor_year["name"],
            "score": advisor_year["score"],
            "eligible_for_awards": advisor_year["eligible_for_awards"],
            "award_exclusions": advisor_year["award_exclusions"],
            "load_flagged": advisor_year["load_flagged"],
            "assignments": assignments,
        }

    def awards(
        self, county_id: str, year: int, category: AwardCategory, as_of: datetime | None = None
    ) -> dict[str, Any]:
        if as_of is None:
            shortlist = self.views.award_shortlist(county_id, year, str(category))
            if shortlist is None:
                raise NotFound(f"no award shortlist for {county_id} {year}")
            return shortlist
        registers = self.registers(county_id, as_of)
        candidates: list[AwardCandidate] = []
        for stream in self.views.advisor_streams(county_id):
            found = self._years_as_of(stream.advisor_id, as_of)
            if found is None or found[0] != county_id:
                continue
            candidates.extend(AwardCandidate.of(a) for a in found[1] if a.year == year)
        policy_id, policy = registers.policy(year)
        return shapes.shortlist_body(
            rank_awards(policy, candidates, category), county_id, year, policy_id
        )

    # --- §7.1 as sent: stored JSON text, county-year answers cached per revision ----
    # The same answers as the methods above (without as_of), assembled from the
    # stored bodies. A county-year's rows change only with the projection's tracked
    # position; its summary and shortlists also when it is settled, so those are
    # cached only while it is not dirty. Each method takes the position its caller
    # read (the API shares one read among concurrent requests), or reads it. A
    # county list's head (policy, closed) comes from the registers, whose every
    # change is a notification that moves the position too: it is read when the
    # list is built, not on every request (two ledger reads from the store, ~0.5 ms;
    # issue #8, B3).

    def position(self) -> int:
        """The projection's tracked position: the revision of everything it wrote."""
        needs_store()
        return self.views.max_tracking_id(self.projection) or 0

    def _settled_revision(
        self, county_id: str, year: int, position: int | None
    ) -> tuple[int, str] | None:
        """The revision of a county-year's summary and shortlists, None while dirty.

        Only the projector's writes mark a county-year dirty, and each moves the
        position: found clean at a position, it stays clean while the position does,
        so that finding is cached (a dirty one is settled without moving it)."""
        position = self.position() if position is None else position
        clean = ("clean", county_id, year)
        if not self.documents.holds(clean, position):
            needs_store()
            if self.views.is_dirty(county_id, year):
                return None
            self.documents.put(clean, position, True)
        return (position, "settled")

    def county_appraisals_document(
        self, county_id: str, year: int, position: int | None = None
    ) -> JsonDocument:
        def build() -> JsonDocument:
            registers = self.registers(county_id)
            policy_id, _ = registers.policy(year)
            closed = registers.closed(year)
            assignments = self.views.county_assignment_bodies(county_id, year)
            if not assignments and registers.county is None:
                raise NotFound(f"no county {county_id}")
            head = {"county_id": county_id, "year": year, "closed": closed, "policy_id": policy_id}
            return JsonDocument.assemble(head, "assignments", assignments)

        revision = self.position() if position is None else position
        return self.documents.get_or_build(("county", county_id, year), revision, build)

    def county_appraisals_page_document(
        self, county_id: str, year: int, offset: int, limit: int, position: int | None = None
    ) -> JsonDocument:
        """`limit` assignments of the county list from `offset`, with the total."""

        def build() -> JsonDocument:
            registers = self.registers(county_id)
            policy_id, _ = registers.policy(year)
            closed = registers.closed(year)
            total, assignments = self.views.county_assignment_page_bodies(
                county_id, year, offset, limit
            )
            if not total and registers.county is None:
                raise NotFound(f"no county {county_id}")
            head = {
                "county_id": county_id, "year": year, "closed": closed, "policy_id": policy_id,
                "total": total, "offset": offset, "limit": limit,
            }  # fmt: skip
            return JsonDocument.assemble(head, "assignments", assignments)

        key = ("county-page", county_id, year, offset, limit)
        revision = self.position() if position is None else position
        return self.documents.get_or_build(key, revision, build)

    def advisor_appraisals_document(
        self, advisor_id: str, year: int, position: int | None = None
    ) -> JsonDocument:
        """The advisor's year as sent, cached under the projection's position (read
        here unless the caller already did)."""
        _, document = self.advisor_answer(
            advisor_id, year, self.position() if position is None else position
        )
        if document is None:
            raise NotFound(f"no appraisal of advisor {advisor_id} for {year}")
        return document

    def advisor_answer(
        self, advisor_id: str, year: int, position: int
    ) -> tuple[str | None, JsonDocument | None]:
        """The county the advisor is filed under (for the token check) and its year as
        sent (None: no appraisal), both cached under `position`.

        On a miss both come from one statement: a request's trips to the store are
        what a miss costs under load, each a wait for the GIL on the way back."""
        county_key, document_key = ("advisor-county", advisor_id), ("advisor", advisor_id, year)
        held_county, county = self.documents.lookup(county_key, position)
        held_document, document = self.documents.lookup(document_key, position)
        if held_county and held_document:
            return county, document  # type: ignore[return-value]  # as put below
        needs_store()
        county, advisor_year, assignments = self.views.advisor_answer_texts(advisor_id, year)
        document = None
        if advisor_year is not None:
            head = {
                "advisor_id": advisor_id,
                "year": year,
                **{
                    name: advisor_year[name]
                    for name in (
                        "county_id", "name", "score", "eligible_for_awards", "award_exclusions",
                        "load_flagged",
                    )
                },
            }  # fmt: skip
            document = JsonDocument.assemble(head, "assignments", assignments)
        self.documents.put(county_key, position, county)
        self.documents.put(document_key, position, document)
        return county, document

    def awards_document(
        self, county_id: str, year: int, category: AwardCategory, position: int | None = None
    ) -> JsonDocument:
        def build() -> JsonDocument:
            text = self.views.award_shortlist_text(county_id, year, str(category))
            if text is None:
                raise NotFound(f"no award shortlist for {county_id} {year}")
            return JsonDocument.of_text(text)

        revision = self._settled_revision(county_id, year, position)
        return self.documents.get_or_build(("awards", county_id, year, category), revision, build)

    def summary_document(
        self, county_id: str, year: int, position: int | None = None
    ) -> JsonDocument:
        def build() -> JsonDocument:
            text = self.views.county_year_text(county_id, year)
            if text is None:
                raise NotFound(f"no summary for {county_id} {year}")
            return JsonDocument.of_text(text)

        revision = self._settled_revision(county_id, year, position)
        return self.documents.get_or_build(("summary", county_id, year), revision, build)

    def summary(self, county_id: str, year: int) -> dict[str, Any]:
        summary = self.views.county_year(county_id, year)
        if summary is None:
            raise NotFound(f"no summary for {county_id} {year}")
        return summary

    def ledger(self, advisor_id: str, year: int) -> dict[str, Any]:
        assignments = self.views.advisor_assignments(advisor_id, year)
        if not assignments:
            raise NotFound(f"no appraisal of advisor {advisor_id} for {year}")
        return {
            "advisor_id": advisor_id,
            "year": year,
            "assignments": [
                {
                    "village_id": a["village_id"],
                    "requirement_hours": 4,
                    "months": a["ledger"],
                }
                for a in assignments
            ],
        }

    def verdict_history(
        self, county_id: str, year: int, advisor_id: str, village_id: str
    ) -> list[dict[str, Any]]:
        return self.views.verdict_versions(county_id, year, advisor_id, village_id)

    def what_if(self, county_id: str, year: int, draft: PolicyDocument) -> dict[str, Any]:
        """Every assignment's current and draft outcome; publishes and stores nothing."""
        registers = self.registers(county_id)
        current = registers.policy(year)
        histories = []
        previous: dict[tuple[str, str], Any] = {}
        for stream in self.views.advisor_streams(county_id):
            advisor = self.app.advisor(stream.advisor_id)
            if advisor is None:
                continue
            histories.append(AdvisorHistory(advisor.advisor_id, advisor.facts()))
            for row in self.views.advisor_assignments(stream.advisor_id, year - 1):
                previous[(stream.advisor_id, row["village_id"])] = row["verdict"]
        changes = what_if(
            current,
            ("draft", draft),
            histories,
            year,
            {k: Verdict(v) for k, v in previous.items()},
            self.calendar,
        )
        return {
            "county_id": county_id,
            "year": year,
            "current_policy_id": current[0],
            "changes": [_change_body(c) for c in changes],
        }

    def history(
        self, advisor_id: str, *, offset: int, limit: int, with_comments: bool
    ) -> dict[str, Any]:
        """The advisor's recorded facts in store order, paged, each with its effect.

        An event's effect is what changed in its year's appraisal when it was added to
        everything recorded before it (store order): indicators, score, grade, verdict,
        per village. The year is the event's own (as the rules attribute it).
        """
        recorded = self.app.stored_facts(advisor_id)
        if not recorded:
            raise NotFound(f"no history for advisor {advisor_id}")
        county_id = self.app.filed_county(advisor_id) or ""
        registers = self.registers(county_id)
        page = recorded[offset : offset + limit]
        items = []
        for index, event in enumerate(page, start=offset):
            fact = event.fact
            body = {
                name: _jsonable(getattr(fact, name))
                for name in fact.__dataclass_fields__
                if with_comments or name not in {"comment", "summary"}
            }
            before = [e.fact for e in recorded[:index]]
            items.append(
                {
                    "version": event.originator_version,
                    "stored_at": event.timestamp.isoformat(),
                    "recorded_at": None
                    if event.recorded_at is None
                    else event.recorded_at.isoformat(),
                    "county_id": event.county_id,
                    "kind": type(fact).__name__,
                    "fact": body,
                    "effect": self._effect(advisor_id, before, fact, registers),
                }
            )
        return {
            "advisor_id": advisor_id,
            "total": len(recorded),
            "offset": offset,
            "limit": limit,
            "events": items,
        }

    def _effect(
        self, advisor_id: str, before: list[Any], fact: Any, registers: Registers
    ) -> list[dict[str, Any]]:
        year = fact.occurred_at.astimezone(LOCAL_ZONE).year

        def villages(facts: list[Any]) -> dict[str, dict[str, Any]]:
            years = appraise_years(
                AdvisorHistory(advisor_id, tuple(facts)), registers.policy, self.calendar, year
            )
            return {
                a.village_id: shapes.assignment_body(
                    a, registers.county_id, provisional=True, version=0
                )
                for y in years
                if y.year == year
                for a in y.assignments
            }

        old, new = villages(before), villages([*before, fact])
        effects = []
        for village in sorted(old.keys() | new.keys()):
            a, b = old.get(village), new.get(village)
            changes: dict[str, list[Any]] = {}
            for field in ("verdict", "grade", "score"):
                if (a or {}).get(field) != (b or {}).get(field):
                    changes[field] = [(a or {}).get(field), (b or {}).get(field)]
            for name, value in ((b or {}).get("indicators") or {}).items():
                previous = ((a or {}).get("indicators") or {}).get(name)
                if previous != value:
                    changes[name] = [previous, value]
            if changes:
                effects.append({"year": year, "village_id": village, "changes": changes})
        return effects


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _change_body(change: VerdictChange) -> dict[str, Any]:
    def side(verdict: Any, grade: Any, score: Any, subsidy: Any) -> dict[str, Any]:
        return {
            "verdict": str(verdict),
            "grade": None if grade is None else str(grade),
            "score": shapes.number(score),
            "subsidy_yuan": shapes.number(subsidy),
        }

    return {
        "advisor_id": change.advisor_id,
        "village_id": change.village_id,
        "current": side(
            change.current_verdict,
            change.current_grade,
            change.current_score,
            change.current_subsidy_yuan,
        ),
        "draft": side(
            change.draft_verdict, change.draft_grade, change.draft_score, change.draft_subsidy_yuan
        ),
        "changed": list(change.changed),
    }
