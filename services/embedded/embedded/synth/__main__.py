"""`python -m embedded.synth`: generate a synthetic county's events (合成演示数据).

Writes NDJSON (``--out``), posts to ingest (``--post``), or both; ``--manifest`` writes
who is who and what the appraisal must find. The same arguments and seed always give
the same bytes.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from tqdm import tqdm

from embedded.synth.config import (
    DEFAULT_EVENTS_PER_VILLAGE,
    DEFAULT_VILLAGES,
    DEFAULT_YEAR,
    CountyConfig,
)
from embedded.synth.manifest import Manifest, build_manifest
from embedded.synth.output import WriteStats, encode_event, write_ndjson
from embedded.synth.post import MAX_BATCH_EVENTS, IngestClient, PostError, PostSummary, post_events
from embedded.synth.roster import build_roster
from embedded.synth.stream import generate_from
from embedded.synth.vocab import NANSHA_COUNTY_ID

EXIT_OK = 0
EXIT_POST_FAILED = 1
EXIT_REJECTED = 2
API_KEY_ENV = "SYNTH_API_KEY"

_EXAMPLES = """\
examples:
  python -m embedded.synth --out county.ndjson --manifest county.json
  python -m embedded.synth --years 2024 2025 --close-years 2024 2025 --out demo.ndjson
  python -m embedded.synth --villages 2000 --scale 5 --out big.ndjson      # ~5M events
  python -m embedded.synth --post http://127.0.0.1:8081 --key "$KEY"

Years should be over: ingest rejects times more than 5 minutes in the future.
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m embedded.synth",
        description=__doc__,
        epilog=_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    county = parser.add_argument_group("county")
    county.add_argument("--county", default=NANSHA_COUNTY_ID, help="6-digit county code")
    county.add_argument("--villages", type=int, default=DEFAULT_VILLAGES, help="villages (≥ 30)")
    county.add_argument(
        "--years",
        type=int,
        nargs="+",
        default=[DEFAULT_YEAR],
        help="consecutive years; the last one shows every verdict and reason",
    )
    volume = county.add_mutually_exclusive_group()
    volume.add_argument(
        "--events-per-village",
        type=int,
        help=f"approximate events per village and year (default {DEFAULT_EVENTS_PER_VILLAGE})",
    )
    volume.add_argument("--scale", type=float, help="multiplier of the default events per village")
    county.add_argument("--seed", type=int, default=1, help="same seed, same bytes")
    county.add_argument(
        "--close-years",
        type=int,
        nargs="*",
        default=[],
        help="append period.closed.v1 for these years (an admin act; late events follow it)",
    )
    county.add_argument(
        "--no-carry-over",
        action="store_true",
        help="do not add last year's ledger for the chronic-rectify advisor",
    )
    output = parser.add_argument_group("output")
    output.add_argument("--out", metavar="FILE", help="NDJSON file, '-' for stdout")
    output.add_argument("--post", metavar="URL", help="ingest base URL or its /v1/events URL")
    output.add_argument("--key", help=f"ingest API key (default: ${API_KEY_ENV})")
    output.add_argument(
        "--batch-size",
        type=int,
        default=MAX_BATCH_EVENTS,
        help=f"events per request (≤ {MAX_BATCH_EVENTS})",
    )
    output.add_argument("--manifest", metavar="FILE", help="manifest JSON, '-' for stdout")
    output.add_argument("--quiet", action="store_true", help="no progress bar, no summary")
    return parser


def _config(args: argparse.Namespace) -> CountyConfig:
    if args.events_per_village is not None:
        per_village = args.events_per_village
    elif args.scale is not None:
        per_village = max(1, round(DEFAULT_EVENTS_PER_VILLAGE * args.scale))
    else:
        per_village = DEFAULT_EVENTS_PER_VILLAGE
    return CountyConfig(
        county_id=args.county,
        villages=args.villages,
        years=tuple(args.years),
        events_per_village=per_village,
        seed=args.seed,
        close_years=tuple(args.close_years),
        carry_over=not args.no_carry_over,
    )


@contextlib.contextmanager
def _binary_out(target: str) -> Iterator[IO[bytes]]:
    if target == "-":
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
    else:
        with Path(target).open("wb", buffering=1 << 20) as handle:
            yield handle


def _tee(
    events: Iterable[dict[str, Any]], out: IO[bytes], stats: WriteStats
) -> Iterator[dict[str, Any]]:
    """Write each event to ``out`` as it goes by (posting and saving in one pass)."""
    for event in events:
        data = encode_event(event) + b"\n"
        out.write(data)
        stats.events += 1
        stats.bytes += len(data)
        stats.by_type[event["type"]] += 1
        yield event


def _write_manifest(manifest: Manifest, target: str) -> None:
    text = json.dumps(manifest.to_dict(), ensure_ascii=False, indent=1) + "\n"
    if target == "-":
        sys.stdout.write(text)
    else:
        Path(target).write_text(text, encoding="utf-8")


def _summary(
    config: CountyConfig,
    manifest: Manifest,
    stats: WriteStats | None,
    posted: PostSummary | None,
    out: str | None,
) -> None:
    err = sys.stderr
    years = " ".join(str(y) for y in config.years)
    carried = [y for y in manifest.years if y not in config.years]
    if carried:
        years += f" (+{carried[0]}: last year's ledger of the chronic-rectify advisor)"
    print(
        f"county {config.county_id} · seed {config.seed} · years {years} · "
        f"{manifest.villages} villages in {manifest.townships} townships · "
        f"{len(manifest.advisors)} advisors",
        file=err,
    )
    if stats is not None and stats.events:
        where = "stdout" if out == "-" else out
        rate = f": {stats.events_per_second:,.0f} events/s" if stats.seconds else ""
        print(
            f"{stats.events:,} events → {where} ({stats.bytes / 1e6:,.1f} MB, "
            f"{stats.bytes / stats.events:,.0f} B/event) in {stats.seconds:,.1f} s{rate}",
            file=err,
        )
        for type_, count in sorted(stats.by_type.items()):
            print(f"  {type_:<32} {count:>10,}", file=err)
    if posted is not None:
        print(
            f"posted {posted.events:,} events in {posted.requests:,} requests "
            f"({posted.retries} retries, {posted.seconds:,.1f} s, "
            f"{posted.events_per_second:,.0f} events/s): accepted {posted.accepted:,}, "
            f"duplicate {posted.duplicate:,}, rejected {posted.rejected:,}",
            file=err,
        )
        for rejection in posted.rejections[:5]:
            print(f"  rejected {json.dumps(rejection, ensure_ascii=False)}", file=err)
    showcase = ", ".join(f"{p} {a}" for p, a in manifest.showcase().items())
    print(f"showcase: {showcase}", file=err)


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not (args.out or args.post or args.manifest):
        parser.error("say where to: --out FILE (or - for stdout), --post URL, or --manifest FILE")
    if args.out == "-" and args.manifest == "-":
        parser.error("--out and --manifest cannot both go to stdout")
    key = args.key or os.environ.get(API_KEY_ENV)
    if args.post and not key:
        parser.error(f"--post needs --key or ${API_KEY_ENV}")
    if not 1 <= args.batch_size <= MAX_BATCH_EVENTS:
        parser.error(f"--batch-size must be 1–{MAX_BATCH_EVENTS}")
    try:
        config = _config(args)
    except ValueError as error:
        parser.error(str(error))
    roster = build_roster(config)
    manifest = build_manifest(config, roster)
    if args.manifest:
        _write_manifest(manifest, args.manifest)

    stats: WriteStats | None = None
    posted: PostSummary | None = None
    code = EXIT_OK
    if args.out or args.post:
        events = generate_from(roster)
        with (
            tqdm(
                unit=" events", unit_scale=True, disable=args.quiet or None, file=sys.stderr
            ) as bar,
            contextlib.ExitStack() as stack,
        ):
            if args.post:
                if args.out:
                    stats = WriteStats()
                    events = _tee(events, stack.enter_context(_binary_out(args.out)), stats)
                client = stack.enter_context(IngestClient(args.post, key or ""))
                try:
                    posted = post_events(
                        events, client, batch_size=args.batch_size, progress=bar.update
                    )
                except PostError as error:
                    print(f"error: {error}", file=sys.stderr)
                    return EXIT_POST_FAILED
                if stats is not None:
                    stats.seconds = posted.seconds
                code = EXIT_REJECTED if posted.rejected else EXIT_OK
            else:
                out = stack.enter_context(_binary_out(args.out))
                stats = write_ndjson(events, out, progress=bar.update)
    if not args.quiet:
        _summary(config, manifest, stats, posted, args.out)
    return code


if __name__ == "__main__":
    sys.exit(main())
