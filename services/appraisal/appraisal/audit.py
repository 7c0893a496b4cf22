"""Replay and verify: rebuild the read models from the event store and compare (DESIGN §4).

`replay` projects the whole event store into fresh, empty tables and returns
their digest. `verify` replays up to the live projection's position and
compares table by table; any difference is exported row by row.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from appraisal.application import AppraisalApplication
from appraisal.policy import WorkdayCalendar
from appraisal.projections.projector import PROJECTION_NAME, AppraisalProjector
from appraisal.projections.store import TABLES, AppraisalViews


@dataclass
class Verification:
    position: int
    live_digest: str
    replay_digest: str
    differences: list[dict[str, Any]] = field(default_factory=list)

    @property
    def drift(self) -> int:
        return len(self.differences)


def fresh_views_env(env: dict[str, str], directory: Path) -> dict[str, str]:
    """An environment whose views are new and empty: a new SQLite file or PG schema."""
    tag = datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "_" + uuid.uuid4().hex[:6]
    if env.get("PERSISTENCE_MODULE", "").endswith("sqlite"):
        directory.mkdir(parents=True, exist_ok=True)
        return {**env, "VIEWS_SQLITE_DBNAME": str(directory / f"views-replay-{tag}.sqlite")}
    import psycopg
    from psycopg import sql

    schema = f"replay_{tag.lower()}"
    info = psycopg.conninfo.make_conninfo(
        host=env["POSTGRES_HOST"],
        port=env.get("POSTGRES_PORT", "5432"),
        user=env["POSTGRES_USER"],
        password=env.get("POSTGRES_PASSWORD", ""),
        dbname=env["POSTGRES_DBNAME"],
    )
    with psycopg.connect(info, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    return {**env, "POSTGRES_SCHEMA": schema}


def replay(
    app: AppraisalApplication,
    views: AppraisalViews,
    calendar: WorkdayCalendar,
    *,
    stop: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    workers: int = 1,
) -> str:
    """Project the event store (up to `stop`) into `views`, which must be empty; the
    digest. `workers` processes project large segments' advisors side by side."""
    # Summaries are settled once, at the end: settling per segment would redo them.
    projector = AppraisalProjector(app, views, calendar, settle_every_s=float("inf"))
    if projector.position:
        raise ValueError("replay needs empty views")
    projector.catch_up_by_segments(progress=progress, stop=stop, workers=workers)
    projector.settle()
    return views.digest()


def verify(
    app: AppraisalApplication,
    live: AppraisalViews,
    fresh: AppraisalViews,
    calendar: WorkdayCalendar,
    progress: Callable[[int, int], None] | None = None,
    workers: int = 1,
) -> Verification:
    """Compare the live views with a replay up to the live position."""
    position = live.max_tracking_id(PROJECTION_NAME) or 0
    if position:
        replay_digest = replay(
            app, fresh, calendar, stop=position, progress=progress, workers=workers
        )
    else:
        replay_digest = fresh.digest()
    result = Verification(position, live.digest(), replay_digest)
    if result.live_digest != result.replay_digest:
        for table, _, key in TABLES:
            result.differences.extend(
                _diff(table, key, live.table_rows(table), fresh.table_rows(table))
            )
    live.record_verification(
        datetime.now(UTC).isoformat(), position, result.drift, result.live_digest
    )
    return result


def _diff(
    table: str, key: tuple[str, ...], live: list[dict[str, Any]], replayed: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    def keyed(rows: list[dict[str, Any]]) -> dict[tuple[Any, ...], dict[str, Any]]:
        return {tuple(str(r[k]) for k in key): r for r in rows}

    a, b = keyed(live), keyed(replayed)
    out: list[dict[str, Any]] = []
    for k in sorted(a.keys() | b.keys()):
        if a.get(k) != b.get(k):
            out.append({"table": table, "key": list(k), "live": a.get(k), "replay": b.get(k)})
    return out


def export_differences(result: Verification, path: Path) -> None:
    path.write_text(
        json.dumps(
            {
                "position": result.position,
                "live_digest": result.live_digest,
                "replay_digest": result.replay_digest,
                "differences": result.differences,
            },
            ensure_ascii=False,
            indent=2,
            default=str,
        ),
        encoding="utf-8",
    )


__all__ = [
    "Verification",
    "export_differences",
    "fresh_views_env",
    "replay",
    "verify",
]
