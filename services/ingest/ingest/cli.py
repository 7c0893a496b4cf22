"""``python -m ingest``: serve the API, hash a key, write the OpenAPI file, import a ledger."""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from tqdm import tqdm

from ingest import openapi
from ingest.auth import hash_key
from ingest.importer import (
    DEFAULT_BATCH_SIZE,
    ImportFailedError,
    ImportTarget,
    import_ledger,
    summary,
)
from ingest.ledger_files import LedgerFileError
from ingest.settings import ConfigurationError, Settings

EXIT_OK = 0
EXIT_ROWS_REJECTED = 1
EXIT_FAILED = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ingest", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help="run the ingest API (settings from INGEST_* variables)")

    hashing = sub.add_parser("hash-key", help="print the SHA-256 of an API key for the keys file")
    hashing.add_argument("key", help="the API key, or - to read it from standard input")

    spec = sub.add_parser(
        "openapi", help=f"write services/ingest/openapi.json ({openapi.REGENERATE_COMMAND})"
    )
    spec.add_argument("--check", action="store_true", help="exit 1 if the committed file drifted")
    spec.add_argument("--output", type=Path, default=openapi.OPENAPI_PATH)

    ledger = sub.add_parser("import-ledger", help="import a 工作台账 (.xlsx/.csv) through the API")
    ledger.add_argument("file", type=Path, help="the ledger, .xlsx or .csv")
    ledger.add_argument("--source", required=True, help="`source` of the events")
    ledger.add_argument("--county", required=True, help="6-digit county code")
    ledger.add_argument("--url", required=True, help="base URL of the ingest API")
    ledger.add_argument(
        "--key",
        default=os.environ.get("INGEST_API_KEY"),
        help="API key (default: $INGEST_API_KEY, which keeps it out of the shell history)",
    )
    ledger.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE)
    ledger.add_argument("--json-report", type=Path, help="also write the full report as JSON")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    args = _parser().parse_args(argv)
    if args.command == "serve":
        return _serve()
    if args.command == "hash-key":
        key = sys.stdin.readline().strip() if args.key == "-" else args.key
        print(hash_key(key))
        return EXIT_OK
    if args.command == "openapi":
        return openapi.main([*(["--check"] if args.check else []), "--output", str(args.output)])
    return _import_ledger(args)


def _serve() -> int:
    from ingest.http import create_app
    from ingest.server import run

    try:
        settings = Settings()
        logging.basicConfig(
            level=settings.log_level.upper(),
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        )
        app = create_app(settings)
    except (ConfigurationError, ValueError) as error:
        print(f"ingest cannot start: {error}", file=sys.stderr)
        return EXIT_FAILED
    run(app, settings.host, settings.port)
    return EXIT_OK


def _import_ledger(args: argparse.Namespace) -> int:
    if not args.key:
        print("give the API key with --key or INGEST_API_KEY", file=sys.stderr)
        return EXIT_FAILED
    if not re.fullmatch(r"[0-9]{6}", args.county):
        print("--county must be the 6-digit county code", file=sys.stderr)
        return EXIT_FAILED
    target = ImportTarget(url=args.url, key=args.key)
    try:
        with tqdm(desc=args.file.name, unit="row", file=sys.stderr) as bar:
            report = import_ledger(
                args.file,
                source=args.source,
                county=args.county,
                target=target,
                batch_size=args.batch_size,
                progress=bar.update,
            )
    except (OSError, LedgerFileError, ImportFailedError) as error:
        print(f"import failed: {error}", file=sys.stderr)
        return EXIT_FAILED
    print(summary(args.file.name, report))
    if args.json_report:
        args.json_report.write_text(
            json.dumps(report.model_dump(mode="json"), ensure_ascii=False, indent=2) + "\n",
            encoding="utf-8",
        )
    return EXIT_ROWS_REJECTED if report.rejected else EXIT_OK
