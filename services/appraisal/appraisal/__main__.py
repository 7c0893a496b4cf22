"""Command line of the appraisal service.

python -m appraisal serve              run consumer, projector, verdict publisher and HTTP
python -m appraisal replay             rebuild every read model into fresh tables; digest
python -m appraisal verify             compare live read models with a replay; exit 1 on drift
python -m appraisal history ADVISOR    print an advisor's recorded events
python -m appraisal hash-token TOKEN   the SHA-256 to put in APPRAISAL_TOKENS
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tqdm import tqdm

from appraisal.settings import AppraisalSettings


def _progress(bar: Any) -> Callable[[int, int], None]:
    def update(position: int, total: int) -> None:
        bar.total = total
        bar.n = position
        bar.refresh()

    return update


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m appraisal",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help="run the service (settings from APPRAISAL_* variables)")
    sub.add_parser("replay", help="rebuild the read models into fresh tables and print a digest")
    verify = sub.add_parser("verify", help="compare live read models with a fresh replay")
    verify.add_argument("--export", type=Path, default=Path("verify-differences.json"))
    history = sub.add_parser("history", help="print an advisor's recorded events")
    history.add_argument("advisor_id")
    token = sub.add_parser("hash-token", help="print the SHA-256 of a bearer token")
    token.add_argument("token")
    args = parser.parse_args(argv)

    if args.command == "hash-token":
        from appraisal.api.auth import hash_token

        print(hash_token(args.token))
        return 0
    settings = AppraisalSettings()
    if args.command == "serve":
        import uvicorn

        from appraisal.api.http import create_app
        from appraisal.service import AppraisalService
        from http_limits import uvicorn_options

        api = create_app(AppraisalService(settings))
        uvicorn.run(api, host=settings.host, port=settings.port, **uvicorn_options())
        return 0

    from appraisal.application import AppraisalApplication
    from appraisal.audit import export_differences, fresh_views_env, replay
    from appraisal.audit import verify as run_verify
    from appraisal.gc_tuning import tune_gc
    from appraisal.policy import PrcCalendar
    from appraisal.projections.store import open_views

    tune_gc()  # replay and verify project the whole store (see appraisal.gc_tuning)

    env = settings.eventsourcing_env()
    app = AppraisalApplication(env=env)
    if args.command == "history":
        for event in app.stored_facts(args.advisor_id):
            line = {
                "version": event.originator_version,
                "stored_at": event.timestamp.isoformat(),
                "kind": type(event.fact).__name__,
                "fact": repr(event.fact),
            }
            print(json.dumps(line, ensure_ascii=False))
        return 0
    fresh_env = fresh_views_env(env, settings.data_dir)
    with tqdm(desc="replaying", unit="event") as bar:
        if args.command == "replay":
            digest = replay(
                app,
                open_views(fresh_env),
                PrcCalendar(),
                progress=_progress(bar),
                workers=settings.replay_workers,
            )
            where = fresh_env.get("VIEWS_SQLITE_DBNAME") or fresh_env["POSTGRES_SCHEMA"]
            print(f"replayed into {where}")
            print(f"digest {digest}")
            return 0
        result = run_verify(
            app,
            open_views(env),
            open_views(fresh_env),
            PrcCalendar(),
            progress=_progress(bar),
            workers=settings.replay_workers,
        )
    print(f"position {result.position}: live {result.live_digest}, replay {result.replay_digest}")
    if result.drift:
        export_differences(result, args.export)
        print(f"DRIFT: {result.drift} rows differ; exported to {args.export}")
        return 1
    print("no drift")
    return 0


if __name__ == "__main__":
    sys.exit(main())
