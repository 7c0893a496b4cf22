"""Read API answers sent as stored (issue #8, B3): equal to the parsed answers, cached
per county-year until the projection moves, with ETags; on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from appraisal.api.auth import hash_token
from appraisal.api.http import create_app
from appraisal.application import Recordable
from appraisal.domain.county import PeriodClosed, VillageRegistered
from appraisal.policy import AwardCategory
from appraisal.service import AppraisalService
from appraisal.settings import AppraisalSettings
from tests.sample_facts import at, fid
from tests.unit.policy.builders import HistoryBuilder, WeekendCalendar, serve_year

pytestmark = pytest.mark.integration

COUNTY = "440115"
TOKEN = "bureau-token"


def _advisor(advisor_id: str, **year: Any) -> list[Recordable]:
    builder = serve_year(HistoryBuilder(advisor_id), "V-" + advisor_id, 2024, **year)
    return [Recordable("advisor", advisor_id, f, COUNTY) for f in builder.history().facts]


def _village() -> list[Recordable]:
    fact = VillageRegistered(
        fid("v"), at(1, month=1), "V-spare", "南村", "T1", "village", False, ""
    )
    return [Recordable("county", COUNTY, fact, COUNTY)]


@pytest.fixture
def service(event_store_env: dict[str, str], tmp_path: Path) -> Iterator[AppraisalService]:
    tokens = json.dumps(
        [{"name": "bureau", "role": "bureau", "counties": [COUNTY], "sha256": hash_token(TOKEN)}]
    )
    common: dict[str, Any] = {"idempotent_producer": False, "tokens": tokens}
    if event_store_env["PERSISTENCE_MODULE"].endswith("sqlite"):
        settings = AppraisalSettings(store="sqlite", data_dir=tmp_path / "data", **common)
    else:
        settings = AppraisalSettings(
            store="postgres",
            postgres_host=event_store_env["POSTGRES_HOST"],
            postgres_port=int(event_store_env["POSTGRES_PORT"]),
            postgres_user=event_store_env["POSTGRES_USER"],
            postgres_password=event_store_env["POSTGRES_PASSWORD"],
            postgres_dbname=event_store_env["POSTGRES_DBNAME"],
            postgres_schema=event_store_env["POSTGRES_SCHEMA"],
            **common,
        )
    service = AppraisalService(settings, calendar=WeekendCalendar())
    service.app.record(_village() + _advisor("A-1") + _advisor("A-2", compliant_months=8))
    service.projector.catch_up()
    try:
        yield service
    finally:
        service.close()


def test_ready_answers_equal_the_answers_built_from_parsed_rows(service: AppraisalService) -> None:
    q = service.queries
    assert json.loads(q.county_appraisals_document(COUNTY, 2024).body) == q.county_appraisals(
        COUNTY, 2024
    )
    for advisor in ("A-1", "A-2"):
        ready = q.advisor_appraisals_document(advisor, 2024)
        assert json.loads(ready.body) == q.advisor_appraisals(advisor, 2024)
    for category in AwardCategory:
        ready = q.awards_document(COUNTY, 2024, category)
        assert json.loads(ready.body) == q.awards(COUNTY, 2024, category)
    assert json.loads(q.summary_document(COUNTY, 2024).body) == q.summary(COUNTY, 2024)


def test_one_statement_reads_what_the_three_reads_of_an_advisor_answer_do(
    service: AppraisalService,
) -> None:
    builder = serve_year(serve_year(HistoryBuilder("A-4"), "V-b", 2024), "V-a", 2024)
    service.app.record([Recordable("advisor", "A-4", f, COUNTY) for f in builder.history().facts])
    service.projector.catch_up()
    views = service.views
    for advisor in ("A-1", "A-2", "A-4", "A-unknown"):
        for year in (2024, 2025):
            stream = views.advisor_stream(advisor)
            assert views.advisor_answer_texts(advisor, year) == (
                None if stream is None else stream.county_id,
                views.advisor_year(advisor, year),
                views.advisor_assignment_texts(advisor, year),
            )
    assert len(views.advisor_assignment_texts("A-4", 2024)) == 2


def test_the_county_list_is_rebuilt_only_when_the_projection_moves(
    service: AppraisalService,
) -> None:
    q = service.queries
    first = q.county_appraisals_document(COUNTY, 2024)
    assert q.county_appraisals_document(COUNTY, 2024) is first  # cached, not rebuilt
    service.app.record(_advisor("A-3"))
    assert q.county_appraisals_document(COUNTY, 2024) is first  # not projected yet
    service.projector.catch_up()
    after = q.county_appraisals_document(COUNTY, 2024)
    assert after.etag != first.etag
    assert [a["advisor_id"] for a in json.loads(after.body)["assignments"]] == [
        "A-1",
        "A-2",
        "A-3",
    ]
    assert json.loads(after.body) == q.county_appraisals(COUNTY, 2024)


def test_the_county_lists_head_follows_the_registers_as_projected(
    service: AppraisalService,
) -> None:
    # The head (closed, policy) is read when the list is built: a close recorded but
    # not yet projected leaves the cached list as it is, rows and head alike.
    q = service.queries
    first = q.county_appraisals_page_document(COUNTY, 2024, 0, 100)
    assert json.loads(first.body)["closed"] is False
    close = PeriodClosed(fid("close-2024"), at(5, month=1, year=2025), 2024)
    service.app.record([Recordable("county", COUNTY, close, COUNTY)])
    assert q.county_appraisals_page_document(COUNTY, 2024, 0, 100) is first
    service.projector.catch_up()
    closed = json.loads(q.county_appraisals_page_document(COUNTY, 2024, 0, 100).body)
    assert closed["closed"] is True
    assert json.loads(q.county_appraisals_document(COUNTY, 2024).body)["closed"] is True


def test_advisor_answers_and_their_counties_are_cached_until_the_projection_moves(
    service: AppraisalService,
) -> None:
    q = service.queries
    first = q.advisor_appraisals_document("A-1", 2024)
    assert q.advisor_appraisals_document("A-1", 2024) is first
    assert q.advisor_answer("A-1", 2024, q.position()) == (COUNTY, first)
    assert q.advisor_answer("A-3", 2024, q.position()) == (None, None)
    service.app.record(_advisor("A-3"))
    assert q.advisor_answer("A-3", 2024, q.position()) == (None, None)  # not projected yet
    assert q.advisor_appraisals_document("A-1", 2024) is first
    service.projector.catch_up()
    county, document = q.advisor_answer("A-3", 2024, q.position())
    assert county == COUNTY
    assert document is not None
    assert q.advisor_answer("A-1", 2025, q.position()) == (COUNTY, None)  # no 2025 yet
    again = q.advisor_appraisals_document("A-1", 2024)
    assert again is not first  # rebuilt at the new position
    assert again.etag == first.etag  # A-1 unchanged
    assert json.loads(q.advisor_appraisals_document("A-3", 2024).body) == q.advisor_appraisals(
        "A-3", 2024
    )


def test_shortlists_waiting_to_be_settled_are_not_cached(service: AppraisalService) -> None:
    q, category = service.queries, AwardCategory.PUBLIC_WELFARE
    settled = q.awards_document(COUNTY, 2024, category)
    assert q.awards_document(COUNTY, 2024, category) is settled
    # A projector step marks the county-year dirty (and moves the position); its
    # shortlists are recomputed only when it settles.
    service.app.record(_advisor("A-3"))
    assert service.projector.run_once(limit=10_000) > 0  # a step, not yet a settle
    assert service.views.is_dirty(COUNTY, 2024)
    dirty = q.awards_document(COUNTY, 2024, category)
    assert dirty is not settled
    assert q.awards_document(COUNTY, 2024, category) is not dirty
    assert dirty.etag == settled.etag  # not settled yet: the stored shortlist as it was
    service.projector.settle()
    again = q.awards_document(COUNTY, 2024, category)
    assert q.awards_document(COUNTY, 2024, category) is again
    assert again.etag != settled.etag  # A-3 is on it now


async def test_read_answers_carry_an_etag_and_304_while_unchanged(
    service: AppraisalService,
) -> None:
    transport = httpx.ASGITransport(app=create_app(service, manage_lifecycle=False))
    headers = {"Authorization": f"Bearer {TOKEN}"}
    routes = [
        f"/v1/appraisals/{COUNTY}/2024",
        "/v1/advisors/A-1/appraisals/2024",
        f"/v1/awards/{COUNTY}/2024/public_welfare",
        f"/v1/counties/{COUNTY}/2024/summary",
    ]
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        for route in routes:
            first = await http.get(route, headers=headers)
            assert first.status_code == 200, route
            assert first.headers["content-type"] == "application/json"
            etag = first.headers["etag"]
            again = await http.get(route, headers={**headers, "If-None-Match": etag})
            assert (again.status_code, again.content, again.headers["etag"]) == (304, b"", etag)
            other = await http.get(route, headers={**headers, "If-None-Match": '"x", W/"y"'})
            assert other.status_code == 200
            assert other.content == first.content
            assert (await http.get(route, headers={"If-None-Match": etag})).status_code == 401
        missing = await http.get(f"/v1/awards/{COUNTY}/2023/public_welfare", headers=headers)
        assert missing.status_code == 404
        unknown = await http.get("/v1/advisors/A-9/appraisals/2024", headers=headers)
        assert unknown.status_code == 404


async def test_the_county_list_pages_by_advisor_and_village_on_request(
    service: AppraisalService,
) -> None:
    service.app.record(_advisor("A-3"))
    service.projector.catch_up()
    transport = httpx.ASGITransport(app=create_app(service, manage_lifecycle=False))
    headers = {"Authorization": f"Bearer {TOKEN}"}
    url = f"/v1/appraisals/{COUNTY}/2024"
    as_of = datetime.now(UTC).isoformat()
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        whole = (await http.get(url, headers=headers)).json()
        assert "total" not in whole  # without paging: the §7.1 answer as before
        for params in ({}, {"as_of": as_of}):
            pages = []
            for offset in (0, 2, 4):
                page = await http.get(
                    url, params={**params, "offset": offset, "limit": 2}, headers=headers
                )
                assert page.status_code == 200, page.text
                pages.append(page.json())
            assert [p["total"] for p in pages] == [3, 3, 3]
            assert [(p["offset"], p["limit"]) for p in pages] == [(0, 2), (2, 2), (4, 2)]
            assert [a for p in pages for a in p["assignments"]] == whole["assignments"]
            for p in pages:
                assert {k: p[k] for k in ("county_id", "year", "closed", "policy_id")} == {
                    k: whole[k] for k in ("county_id", "year", "closed", "policy_id")
                }
            first = await http.get(url, params={**params, "limit": 1}, headers=headers)
            assert (first.json()["offset"], len(first.json()["assignments"])) == (0, 1)
        for bad in ({"limit": 0}, {"limit": 1001}, {"offset": -1}, {"offset": "x"}):
            assert (await http.get(url, params=bad, headers=headers)).status_code == 422
