"""replay and verify: a fresh rebuild matches, a row changed behind our back is caught."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import psycopg
import pytest

from appraisal.__main__ import main
from appraisal.application import AppraisalApplication, Recordable
from appraisal.audit import fresh_views_env, replay, verify
from appraisal.policy import PrcCalendar
from appraisal.projections.projector import AppraisalProjector
from appraisal.projections.store import open_views
from tests.unit.policy.builders import HistoryBuilder, WeekendCalendar, serve_year

pytestmark = pytest.mark.integration


def _record_county(app: AppraisalApplication) -> None:
    for advisor, compliant in (("A-1", 12), ("A-2", 8), ("A-3", 5)):
        builder = serve_year(
            HistoryBuilder(advisor), "V-" + advisor, 2024, compliant_months=compliant
        )
        app.record([Recordable("advisor", advisor, f, "440115") for f in builder.history().facts])


def _tamper(env: dict[str, str]) -> None:
    statement = "UPDATE {t} SET verdict = 'RETAIN' WHERE advisor_id = 'A-3'"
    if env["PERSISTENCE_MODULE"].endswith("sqlite"):
        with sqlite3.connect(env["VIEWS_SQLITE_DBNAME"]) as conn:
            conn.execute(statement.format(t="assignment_appraisals"))
        return
    info = psycopg.conninfo.make_conninfo(
        host=env["POSTGRES_HOST"], port=env["POSTGRES_PORT"], user=env["POSTGRES_USER"],
        password=env["POSTGRES_PASSWORD"], dbname=env["POSTGRES_DBNAME"],
    )  # fmt: skip
    with psycopg.connect(info, autocommit=True) as conn:
        conn.execute(statement.format(t=f'"{env["POSTGRES_SCHEMA"]}".assignment_appraisals'))


def test_verify_finds_no_drift_then_catches_a_tampered_row(
    event_store_env: dict[str, str], tmp_path: Path
) -> None:
    env: dict[str, Any] = {**event_store_env}
    if env["PERSISTENCE_MODULE"].endswith("sqlite"):
        env["VIEWS_SQLITE_DBNAME"] = str(tmp_path / "views.sqlite")
    app = AppraisalApplication(env=env)
    _record_county(app)
    live = open_views(env)
    AppraisalProjector(app, live, WeekendCalendar()).catch_up()

    clean = verify(app, live, open_views(fresh_views_env(env, tmp_path)), WeekendCalendar())
    assert clean.drift == 0
    assert clean.live_digest == clean.replay_digest
    assert (
        replay(app, open_views(fresh_views_env(env, tmp_path)), WeekendCalendar())
        == clean.live_digest
    )

    _tamper(env)
    caught = verify(app, live, open_views(fresh_views_env(env, tmp_path)), WeekendCalendar())
    assert caught.drift == 1
    [difference] = caught.differences
    assert difference["table"] == "assignment_appraisals"
    assert difference["key"][2] == "A-3"
    assert (difference["live"]["verdict"], difference["replay"]["verdict"]) == ("RETAIN", "REPLACE")
    assert live.latest_verification()["drift"] == 1  # type: ignore[index]


def test_the_verify_command_exits_non_zero_and_exports_the_drift(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    monkeypatch.setenv("APPRAISAL_STORE", "sqlite")
    monkeypatch.setenv("APPRAISAL_DATA_DIR", str(data))
    from appraisal.settings import AppraisalSettings

    env = AppraisalSettings().eventsourcing_env()
    app = AppraisalApplication(env=env)
    _record_county(app)
    AppraisalProjector(app, open_views(env), PrcCalendar()).catch_up()  # as the CLI does
    app.close()
    assert main(["verify", "--export", str(tmp_path / "d.json")]) == 0
    assert "no drift" in capsys.readouterr().out
    _tamper(env)
    assert main(["verify", "--export", str(tmp_path / "d.json")]) == 1
    exported = json.loads((tmp_path / "d.json").read_text(encoding="utf-8"))
    assert exported["differences"]
    assert "DRIFT" in capsys.readouterr().out
