"""Read-model tables on SQLite and PostgreSQL: atomic with tracking, replaceable, digestible."""

from __future__ import annotations

import dataclasses
import json

import pytest
from eventsourcing.persistence import IntegrityError, Tracking

from appraisal.projections.store import (
    AdvisorYearRow,
    AssignmentRow,
    CountyYearRow,
    VerdictVersionRow,
    ViewChanges,
    ZippedJson,
    canonical_json,
    open_views,
)

pytestmark = pytest.mark.integration


def _assignment(advisor: str, village: str, verdict: str = "RETAIN") -> AssignmentRow:
    body = {"advisor_id": advisor, "village_id": village, "verdict": verdict, "名": "东村"}
    return AssignmentRow(
        "440115", 2024, advisor, village, verdict, "COMPETENT", "80.5", True, 0, "p1", body
    )


def _version(advisor: str, version: int, seq: int) -> VerdictVersionRow:
    kind = "issued" if version == 1 else "amended"
    return VerdictVersionRow(
        "440115",
        2024,
        advisor,
        "V1",
        version,
        kind,
        "2025-01-05T00:00:00+00:00",
        seq,
        {"v": version},
    )


def test_views_and_their_position_commit_together(event_store_env: dict[str, str]) -> None:
    views = open_views(event_store_env)
    changes = ViewChanges(
        assignments=[_assignment("A-1", "V1"), _assignment("A-2", "V2")],
        advisor_years=[AdvisorYearRow("A-1", 2024, "440115", {"score": "80.5"})],
        county_years=[CountyYearRow("440115", 2024, False, "p1", {"assignments": 2})],
    )
    views.write(changes, Tracking("appraisal", 7))
    assert views.max_tracking_id("appraisal") == 7
    assert [a["advisor_id"] for a in views.county_assignments("440115", 2024)] == ["A-1", "A-2"]
    assert views.advisor_year("A-1", 2024) == {"score": "80.5"}
    assert views.county_year("440115", 2024) == {"assignments": 2}
    assert views.advisors_of_county_year("440115", 2024) == ["A-1", "A-2"]
    with pytest.raises(IntegrityError):
        views.write(ViewChanges(assignments=[_assignment("A-3", "V3")]), Tracking("appraisal", 7))
    assert len(views.county_assignments("440115", 2024)) == 2  # nothing of the failed write


def test_bodies_held_compressed_are_stored_as_the_same_text(
    event_store_env: dict[str, str],
) -> None:
    views = open_views(event_store_env)
    whole = _assignment("A-1", "V1")
    body = whole.body
    assert isinstance(body, dict)
    zipped = dataclasses.replace(whole, body=ZippedJson.of(body))
    assert len(zipped.body) < len(json.dumps(body, ensure_ascii=False).encode())
    year = {"score": "80.5", "理由": ["未达标"] * 20}
    views.write(
        ViewChanges(
            assignments=[zipped],
            advisor_years=[AdvisorYearRow("A-1", 2024, "440115", ZippedJson.of(year))],
        ),
        Tracking("appraisal", 1),
    )
    views.write(
        ViewChanges(
            assignments=[_assignment("A-2", "V2")],
            advisor_years=[AdvisorYearRow("A-2", 2024, "440115", year)],
        ),
        Tracking("appraisal", 2),
    )
    rows = {r["advisor_id"]: r["body"] for r in views.table_rows("assignment_appraisals")}
    assert rows["A-1"] == canonical_json(body)
    assert json.loads(rows["A-1"]) == body
    assert views.advisor_year("A-1", 2024) == views.advisor_year("A-2", 2024) == year


def test_recomputing_an_advisor_year_replaces_its_rows(event_store_env: dict[str, str]) -> None:
    views = open_views(event_store_env)
    views.write(ViewChanges(assignments=[_assignment("A-1", "V1"), _assignment("A-1", "V9")]), None)
    views.write(
        ViewChanges(
            replace_advisor_years={("A-1", 2024)},
            assignments=[_assignment("A-1", "V1", "RECTIFY")],
        ),
        None,
    )
    [only] = views.advisor_assignments("A-1", 2024)
    assert (only["village_id"], only["verdict"]) == ("V1", "RECTIFY")


def test_issued_verdicts_are_never_overwritten(event_store_env: dict[str, str]) -> None:
    views = open_views(event_store_env)
    views.write(ViewChanges(verdict_versions=[_version("A-1", 1, 10)]), None)
    with pytest.raises(IntegrityError):
        views.write(ViewChanges(verdict_versions=[_version("A-1", 1, 11)]), None)
    views.write(ViewChanges(verdict_versions=[_version("A-1", 2, 12)]), None)
    assert [v["version"] for v in views.verdict_versions("440115", 2024, "A-1", "V1")] == [1, 2]
    assert views.latest_versions("440115", 2024)[("A-1", "V1")]["version"] == 2


def test_the_digest_covers_content_but_not_publication_state(
    event_store_env: dict[str, str],
) -> None:
    views = open_views(event_store_env)
    empty = views.digest()
    views.write(
        ViewChanges(
            assignments=[_assignment("A-1", "V1")], verdict_versions=[_version("A-1", 1, 3)]
        ),
        None,
    )
    before = views.digest()
    assert before != empty
    [pending] = views.unpublished_verdicts()
    views.mark_published([("440115", 2024, "A-1", "V1", pending["version"])])
    assert views.unpublished_verdicts() == []
    assert views.digest() == before
    views.write(ViewChanges(assignments=[_assignment("A-1", "V1", "REPLACE")]), None)
    assert views.digest() != before
