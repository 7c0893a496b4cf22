"""The projection from the event store into read models, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date
from typing import Any

import psycopg
import pytest
from eventsourcing.persistence import MapperDeserialisationError
from eventsourcing.postgres import PostgresDatastore
from psycopg import sql

from appraisal import policy
from appraisal.application import AppraisalApplication, Recordable
from appraisal.domain.county import PeriodClosed, PolicyPublished, VillageRegistered
from appraisal.domain.ids import advisor_stream_id
from appraisal.policy import DEFAULT_POLICY
from appraisal.projections import projector as projector_module
from appraisal.projections import shapes
from appraisal.projections.projector import AppraisalProjector
from appraisal.projections.store import AppraisalViews, open_views
from contracts import VERDICT_EVENT_ADAPTER
from tests.sample_facts import at, fid
from tests.unit.policy.builders import HistoryBuilder, WeekendCalendar, serve_year

pytestmark = pytest.mark.integration

COUNTY = "440115"


def _advisor(advisor_id: str, **year: Any) -> list[Recordable]:
    builder = serve_year(HistoryBuilder(advisor_id), "V-" + advisor_id, 2024, **year)
    return [Recordable("advisor", advisor_id, f, COUNTY) for f in builder.history().facts]


def _county(*facts: Any) -> list[Recordable]:
    return [Recordable("county", COUNTY, f, COUNTY) for f in facts]


def _other_views_env(env: dict[str, str], tmp_path: Any) -> dict[str, str]:
    """The same event store, but empty views somewhere else (for replays)."""
    if env["PERSISTENCE_MODULE"].endswith("sqlite"):
        return {**env, "VIEWS_SQLITE_DBNAME": str(tmp_path / f"views-{uuid.uuid4().hex}.sqlite")}
    schema = f"r_{uuid.uuid4().hex[:12]}"
    info = psycopg.conninfo.make_conninfo(
        host=env["POSTGRES_HOST"],
        port=env["POSTGRES_PORT"],
        user=env["POSTGRES_USER"],
        password=env["POSTGRES_PASSWORD"],
        dbname=env["POSTGRES_DBNAME"],
    )
    with psycopg.connect(info, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    return {**env, "POSTGRES_SCHEMA": schema}


@pytest.fixture
def app(event_store_env: dict[str, str]) -> Iterator[AppraisalApplication]:
    app = AppraisalApplication(env=event_store_env)
    yield app
    app.close()


@pytest.fixture
def views(event_store_env: dict[str, str], tmp_path: Any) -> Iterator[AppraisalViews]:
    views = open_views(_other_views_env(event_store_env, tmp_path))
    yield views
    views.close()


def _corrupt_last_event(app: AppraisalApplication, stream_id: uuid.UUID) -> None:
    """Overwrite the stream's last stored event with bytes that are not JSON."""
    recorder: Any = app.recorder
    table = recorder.events_table_name
    with recorder.datastore.transaction(commit=True) as cursor:
        if isinstance(recorder.datastore, PostgresDatastore):
            cursor.execute(
                sql.SQL(
                    "UPDATE {t} SET state = %s WHERE originator_id = %s AND originator_version "
                    "= (SELECT max(originator_version) FROM {t} WHERE originator_id = %s)"
                ).format(t=sql.Identifier(recorder.datastore.schema, table)),
                (b"not json", stream_id, stream_id),
            )
        else:
            cursor.execute(
                f"UPDATE {table} SET state = ? WHERE originator_id = ? AND originator_version "
                f"= (SELECT max(originator_version) FROM {table} WHERE originator_id = ?)",
                (b"not json", stream_id.hex, stream_id.hex),
            )


def _projector(app: AppraisalApplication, views: AppraisalViews) -> AppraisalProjector:
    return AppraisalProjector(app, views, calendar=WeekendCalendar())


def test_a_county_year_is_projected_with_verdicts_checked_by_hand(
    app: AppraisalApplication, views: AppraisalViews
) -> None:
    app.record(
        _county(
            VillageRegistered(
                fid("v"), at(1, month=1), "V-spare", "南村", "T1", "village", False, ""
            )
        )
        + _advisor("A-1")
        + _advisor("A-2", compliant_months=8)
    )
    projector = _projector(app, views)
    assert projector.catch_up(page_size=7) > 0
    assert projector.lag() == 0
    rows = {r["advisor_id"]: r for r in views.county_assignments(COUNTY, 2024)}
    # 30 + 10 + 10 + 10 + 5 + 10 + 15 + 5 = 95 → EXCELLENT, RETAIN.
    assert (rows["A-1"]["score"], rows["A-1"]["grade"], rows["A-1"]["verdict"]) == (
        95.0,
        "EXCELLENT",
        "RETAIN",
    )
    # duty 30·8/12 = 20, the rest as A-1: 20 + 65 = 85 → COMPETENT; S − C = 4 ≥ 3 → RECTIFY.
    assert (rows["A-2"]["score"], rows["A-2"]["grade"], rows["A-2"]["verdict"]) == (
        85.0,
        "COMPETENT",
        "RECTIFY",
    )
    assert [r["code"] for r in rows["A-2"]["reasons"]] == ["NONCOMPLIANT_MONTHS_3_PLUS"]
    assert rows["A-2"]["reasons"][0]["observed"] == 4
    assert rows["A-1"]["provisional"] is True
    assert len(rows["A-1"]["ledger"]) == 12
    # Subsidy: 20,000 × 12/12 × 1.0 and × 0.9.
    assert (rows["A-1"]["subsidy_yuan"], rows["A-2"]["subsidy_yuan"]) == (20000.0, 18000.0)
    summary = views.county_year(COUNTY, 2024)
    assert summary is not None
    assert summary["verdicts"]["RETAIN"] == 1
    assert summary["verdicts"]["RECTIFY"] == 1
    assert summary["subsidy_total_yuan"] == 38000.0
    assert summary["villages_without_advisor"] == ["V-spare"]
    assert summary["closed"] is False
    # Settling kept only the parts of each body the summary reads: the same summary.
    assert summary == shapes.county_summary_body(
        COUNTY,
        2024,
        closed=False,
        policy_id=summary["policy_id"],
        assignments=views.county_assignments(COUNTY, 2024),
        advisor_years=views.advisor_years_of_county(COUNTY, 2024),
        villages={"V-spare": "南村"},
    )
    awards = views.award_shortlist(COUNTY, 2024, "public_welfare")
    assert awards is not None
    assert awards["entries"] == []  # nobody has the 10 ratings awards need
    assert {x["advisor_id"] for x in awards["excluded"]} == {"A-1", "A-2"}


def test_closing_issues_version_1_and_late_events_amend_it(
    app: AppraisalApplication, views: AppraisalViews
) -> None:
    app.record(_advisor("A-1") + _advisor("A-2", compliant_months=8))
    app.record(_county(PeriodClosed(fid("close"), at(5, month=1, year=2025), 2024)))
    projector = _projector(app, views)
    projector.catch_up()
    issued = views.unpublished_verdicts()
    assert sorted((v["advisor_id"], v["version"], v["kind"]) for v in issued) == [
        ("A-1", 1, "issued"),
        ("A-2", 1, "issued"),
    ]
    for v in issued:
        VERDICT_EVENT_ADAPTER.validate_python(v["body"])
    # Late: a substantiated complaint against A-1 in 2024 (K = 1: −10 and RECTIFY).
    late = HistoryBuilder("A-1", _next=10_000)  # fresh ids: the same ids would be duplicates
    complaint = late.complaint("V-A-1", at(3, month=6), "C-late")
    resolution = late.resolve("C-late", at(2, month=2, year=2025), True)
    app.record([Recordable("advisor", "A-1", f, COUNTY) for f in late.history().facts])
    projector.catch_up()
    versions = views.verdict_versions(COUNTY, 2024, "A-1", "V-A-1")
    assert [(v["version"], v["kind"]) for v in versions] == [(1, "issued"), (2, "amended")]
    amended = VERDICT_EVENT_ADAPTER.validate_python(versions[-1]["body"])
    assert amended.type == "verdict.amended.v1"
    assert amended.verdict == "RECTIFY"
    assert amended.previous.verdict == "RETAIN"
    assert resolution in amended.caused_by_event_ids
    assert complaint not in amended.caused_by_event_ids
    [row] = views.advisor_assignments("A-1", 2024)
    assert (row["version"], row["provisional"], row["verdict"]) == (2, False, "RECTIFY")


def test_a_replay_reports_progress_within_a_segment_and_ends_at_the_last_position(
    app: AppraisalApplication, views: AppraisalViews, monkeypatch: pytest.MonkeyPatch
) -> None:
    app.record(_advisor("A-1") + _advisor("A-2") + _advisor("A-3"))
    app.record(_county(PeriodClosed(fid("close"), at(5, month=1, year=2025), 2024)))
    closed_at = app.recorder.max_notification_id()
    app.record(_advisor("A-4"))
    last = app.recorder.max_notification_id()
    assert closed_at is not None
    assert last is not None
    monkeypatch.setattr(projector_module, "PROGRESS_EVERY", 1)
    reports: list[tuple[int, int]] = []
    _projector(app, views).catch_up_by_segments(progress=lambda p, t: reports.append((p, t)))
    positions = [p for p, _ in reports]
    assert {t for _, t in reports} == {last}
    # The first segment: one report per advisor (three), then its end at the close.
    assert 0 < positions[0] < positions[1] < positions[2] < closed_at == positions[3]
    # The second segment (one advisor) ends where the log does.
    assert positions[4:] == [last, last]
    assert views.max_tracking_id(projector_module.PROJECTION_NAME) == last


def test_a_parallel_replay_reports_progress_per_chunk_and_ends_at_the_last_position(
    app: AppraisalApplication, views: AppraisalViews, monkeypatch: pytest.MonkeyPatch
) -> None:
    app.record(_advisor("A-1") + _advisor("A-2") + _advisor("A-3"))
    last = app.recorder.max_notification_id()
    assert last is not None
    monkeypatch.setattr(projector_module, "CHUNK", 1)
    reports: list[tuple[int, int]] = []
    projector = _projector(app, views)
    projector.catch_up_by_segments(
        progress=lambda p, t: reports.append((p, t)), workers=2, parallel_from=1
    )
    # One report per chunk (an advisor each), then the segment's end.
    positions = [p for p, _ in reports]
    assert 0 < positions[0] < positions[1] < positions[2] == last == positions[3]
    assert {t for _, t in reports} == {last}
    assert views.max_tracking_id(projector_module.PROJECTION_NAME) == last
    assert {row["advisor_id"] for row in views.county_assignments(COUNTY, 2024)} == {
        "A-1",
        "A-2",
        "A-3",
    }


def test_a_worker_that_cannot_read_an_event_fails_the_replay_and_nothing_is_written(
    app: AppraisalApplication, views: AppraisalViews, monkeypatch: pytest.MonkeyPatch
) -> None:
    app.record(_advisor("A-1") + _advisor("A-2"))
    _corrupt_last_event(app, advisor_stream_id("A-2"))
    monkeypatch.setattr(projector_module, "CHUNK", 1)
    with pytest.raises(MapperDeserialisationError):
        _projector(app, views).catch_up_by_segments(workers=2, parallel_from=1)
    assert views.max_tracking_id(projector_module.PROJECTION_NAME) is None
    assert views.county_assignments(COUNTY, 2024) == []


def test_replaying_from_zero_with_any_page_size_gives_identical_views(
    app: AppraisalApplication,
    views: AppraisalViews,
    event_store_env: dict[str, str],
    tmp_path: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app.record(_advisor("A-1") + _advisor("A-2", compliant_months=8, ratings=[5] * 12))
    app.record(_county(PeriodClosed(fid("close"), at(5, month=1, year=2025), 2024)))
    late = HistoryBuilder("A-2", _next=10_000)
    late.complaint("V-A-2", at(3, month=6), "C-1")
    late.resolve("C-1", at(2, month=2, year=2025), True)
    late.mediation("V-A-2", at(9, month=9))  # a capped part: changes nothing, no version
    late.complaint("V-A-2", at(4, month=7), "C-2")
    late.resolve("C-2", at(3, month=2, year=2025), True)  # K = 2: REPLACE
    app.record([Recordable("advisor", "A-2", f, COUNTY) for f in late.history().facts])
    live = _projector(app, views)
    live.catch_up(page_size=1000)
    digests = {live.views.digest()}
    for page_size in (1, 3):
        replay_views = open_views(_other_views_env(event_store_env, tmp_path))
        _projector(app, replay_views).catch_up(page_size=page_size)
        digests.add(replay_views.digest())
    for segment_limit in (2, 1_000_000):
        replay_views = open_views(_other_views_env(event_store_env, tmp_path))
        _projector(app, replay_views).catch_up_by_segments(limit=segment_limit)
        digests.add(replay_views.digest())
    # Worker processes, one advisor per task; the second segment re-reads the
    # verdict versions the first one wrote (its events change a closed year).
    monkeypatch.setattr(projector_module, "CHUNK", 1)
    replay_views = open_views(_other_views_env(event_store_env, tmp_path))
    _projector(app, replay_views).catch_up_by_segments(workers=2, parallel_from=1)
    digests.add(replay_views.digest())
    assert len(digests) == 1
    versions = views.verdict_versions(COUNTY, 2024, "A-2", "V-A-2")
    # One amendment per outcome-changing event, however the log was paged.
    assert [(v["version"], v["body"]["verdict"]) for v in versions] == [
        (1, "RECTIFY"),
        (2, "RECTIFY"),
        (3, "REPLACE"),
    ]


def test_a_restarted_projector_resumes_where_it_stopped(
    app: AppraisalApplication, views: AppraisalViews
) -> None:
    app.record(_advisor("A-1"))
    first = _projector(app, views)
    first.run_once(limit=10)
    position = first.position
    assert 0 < position < (app.recorder.max_notification_id() or 0)
    app.record(_county(PeriodClosed(fid("close"), at(5, month=1, year=2025), 2024)))
    second = _projector(app, views)
    assert second.position == position
    second.catch_up()
    assert second.lag() == 0
    [row] = views.advisor_assignments("A-1", 2024)
    assert row["version"] == 1
    assert date.fromisoformat("2024-01-01").year == row["year"]


@pytest.mark.parametrize("step", ["run_once", "run_segment"])
def test_a_projector_follows_steps_another_instance_committed(
    app: AppraisalApplication,
    views: AppraisalViews,
    event_store_env: dict[str, str],
    tmp_path: Any,
    step: str,
) -> None:
    """Two instances' projectors share the views: each continues from whatever the
    other committed, county registers included (they are kept in memory)."""
    village = VillageRegistered(
        fid("v0"), at(1, month=1), "V-A-1", "东村", "T1", "village", False, ""
    )
    app.record(_county(village) + _advisor("A-1"))
    ours, theirs = _projector(app, views), _projector(app, views)
    ours.catch_up()
    # The other instance projects county events and a close that ours has not seen.
    app.record(
        _county(
            VillageRegistered(
                fid("v1"), at(2, month=1), "V-A-2", "西村", "T1", "village", False, ""
            ),
            PeriodClosed(fid("close"), at(5, month=1, year=2025), 2024),
        )
        + _advisor("A-2", compliant_months=8)
    )
    theirs.catch_up()
    app.record(
        _county(
            VillageRegistered(fid("v2"), at(3, month=1), "V-3", "北村", "T1", "village", False, "")
        )
    )
    getattr(ours, step)()  # before: OriginatorVersionError, the register was behind
    assert ours.lag() == 0
    reference = open_views(_other_views_env(event_store_env, tmp_path))
    try:
        AppraisalProjector(app, reference, calendar=WeekendCalendar()).catch_up()
        assert views.digest() == reference.digest()
    finally:
        reference.close()


def test_a_policy_published_for_a_closed_year_amends_its_verdicts(
    app: AppraisalApplication, views: AppraisalViews
) -> None:
    app.record(_advisor("A-1") + _advisor("A-2", compliant_months=8))
    app.record(_county(PeriodClosed(fid("close"), at(5, month=1, year=2025), 2024)))
    projector = _projector(app, views)
    projector.catch_up()
    stricter = DEFAULT_POLICY.model_dump(mode="json")
    stricter["grades"]["excellent"] = "96"  # A-1's 95 drops to COMPETENT
    policy = PolicyPublished(
        fid("policy"), at(10, month=1, year=2025), "gz-2024-rev", COUNTY, date(2024, 1, 1), stricter
    )
    app.record(_county(policy))
    projector.catch_up()
    [v1, v2] = views.verdict_versions(COUNTY, 2024, "A-1", "V-A-1")
    assert (v1["body"]["grade"], v1["body"]["policy_id"]) == ("EXCELLENT", "builtin-default-v1")
    assert (v2["body"]["grade"], v2["body"]["policy_id"]) == ("COMPETENT", "gz-2024-rev")
    assert v2["body"]["caused_by_event_ids"] == [str(policy.event_id)]
    # A-2's grade and verdict do not change, but the policy id it was computed under does.
    assert [
        v["body"]["policy_id"] for v in views.verdict_versions(COUNTY, 2024, "A-2", "V-A-2")
    ] == [
        "builtin-default-v1",
        "gz-2024-rev",
    ]
    summary = views.county_year(COUNTY, 2024)
    assert summary is not None
    assert summary["policy_id"] == "gz-2024-rev"


def test_settling_waits_while_events_keep_coming_and_happens_once_caught_up(
    app: AppraisalApplication, views: AppraisalViews
) -> None:
    app.record(_advisor("A-1"))
    projector = AppraisalProjector(
        app, views, calendar=WeekendCalendar(), settle_every_s=float("inf")
    )
    assert projector.run_once() > 0
    assert views.dirty_county_years() == [(COUNTY, 2024)]  # rows projected, not yet settled
    assert views.county_year(COUNTY, 2024) is None
    assert projector.run_once() == 0  # caught up: settles
    assert views.dirty_county_years() == []
    summary = views.county_year(COUNTY, 2024)
    assert summary is not None
    assert summary["verdicts"]["RETAIN"] == 1

    app.record(_advisor("A-2", compliant_months=8))
    projector.settle_every_s = 0.0  # due at once: settles after the step itself
    assert projector.run_once() > 0
    assert views.dirty_county_years() == []
    summary = views.county_year(COUNTY, 2024)
    assert summary is not None
    assert summary["verdicts"]["RECTIFY"] == 1


def test_a_close_reuses_the_provisional_appraisal_and_a_policy_does_not(
    app: AppraisalApplication,
    views: AppraisalViews,
    event_store_env: dict[str, str],
    tmp_path: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[str] = []
    rules = projector_module.appraise_years  # type: ignore[attr-defined]

    def counted(history: Any, *args: Any) -> Any:
        calls.append(history.advisor_id)
        return rules(history, *args)

    monkeypatch.setattr(projector_module, "appraise_years", counted)
    app.record(_advisor("A-1") + _advisor("A-2", compliant_months=8))
    projector = _projector(app, views)
    projector.catch_up()
    assert sorted(calls) == ["A-1", "A-2"]
    calls.clear()
    # The same ledgers under the same policy: the close stamps what was appraised.
    app.record(_county(PeriodClosed(fid("close"), at(5, month=1, year=2025), 2024)))
    projector.catch_up()
    assert calls == []
    assert sorted((v["advisor_id"], v["version"]) for v in views.unpublished_verdicts()) == [
        ("A-1", 1),
        ("A-2", 1),
    ]
    # A policy for the year is new input: every advisor is appraised again.
    stricter = DEFAULT_POLICY.model_dump(mode="json")
    stricter["grades"]["excellent"] = "96"
    app.record(
        _county(
            PolicyPublished(
                fid("policy"), at(10, month=1, year=2025), "rev", COUNTY, date(2024, 1, 1), stricter
            )
        )
    )
    projector.catch_up()
    assert sorted(calls) == ["A-1", "A-2"]
    [row] = views.advisor_assignments("A-1", 2024)
    assert (row["grade"], row["version"]) == ("COMPETENT", 2)
    # A projector that keeps nothing (every step appraises afresh) agrees row for row.
    fresh = open_views(_other_views_env(event_store_env, tmp_path))
    try:
        AppraisalProjector(app, fresh, calendar=WeekendCalendar(), cache_size=0).catch_up()
        assert fresh.digest() == views.digest()
    finally:
        fresh.close()


def test_live_steps_and_a_backlog_step_give_the_views_a_replay_gives(
    app: AppraisalApplication,
    views: AppraisalViews,
    event_store_env: dict[str, str],
    tmp_path: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Steps of a few events re-appraise only the years their facts can change,
    keeping the years before from the step before; a step over a backlog of more
    than a page takes it whole. Both give the views a replay gives."""
    builder = HistoryBuilder("A-9")
    serve_year(builder, "V-A-9", 2024, compliant_months=8)
    serve_year(builder, "V-A-9", 2025, compliant_months=8)  # RECTIFY twice: REPLACE
    facts = builder.history().facts
    close = PeriodClosed(fid("close-2024"), at(5, month=1, year=2025), 2024)
    app.record(_advisor("A-1") + [Recordable("advisor", "A-9", f, COUNTY) for f in facts])
    app.record(_county(close))
    starts: list[int | None] = []

    def spy(*args: Any, **kwargs: Any) -> Any:
        starts.append(kwargs.get("from_year"))
        return policy.appraise_years(*args, **kwargs)

    monkeypatch.setattr(projector_module, "appraise_years", spy)
    live = _projector(app, views)
    live.catch_up(page_size=7)
    assert 2025 in starts  # 2025's facts kept 2024's appraisal
    [verdict] = views.advisor_assignments("A-9", 2025)
    assert verdict["verdict"] == "REPLACE"  # the chain through the kept 2024
    # A backlog of more than a page: one step takes it all.
    more = HistoryBuilder("A-10")
    serve_year(more, "V-A-10", 2025)
    app.record([Recordable("advisor", "A-10", f, COUNTY) for f in more.history().facts])
    waiting = live.lag()
    assert waiting > 5
    assert live.step(page=5) == waiting
    assert live.lag() == 0
    replay = open_views(_other_views_env(event_store_env, tmp_path))
    _projector(app, replay).catch_up_by_segments()
    assert replay.digest() == views.digest()
