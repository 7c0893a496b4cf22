"""`python -m embedded run`: the embedded stack on this machine, no services to install."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
from pathlib import Path

from embedded.stack import StackOptions, load_demo_county, run


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m embedded", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    cmd = sub.add_parser("run", help="start the embedded stack and keep it running until Ctrl-C")
    cmd.add_argument("--data-dir", type=Path, default=Path("data"), help="where state is kept")
    cmd.add_argument("--fresh", action="store_true", help="delete the data directory first")
    cmd.add_argument("--no-demo", action="store_true", help="do not load the demo county")
    cmd.add_argument(
        "--villages", type=int, default=200, help="size of the demo county (at least 30)"
    )
    cmd.add_argument("--seed", type=int, default=7, help="seed of the demo county")
    cmd.add_argument("--kafka-port", type=int, default=0, help="broker port (default: free)")
    cmd.add_argument("--ingest-port", type=int, default=8081, help="ingest HTTP port")
    cmd.add_argument("--appraisal-port", type=int, default=8082, help="appraisal HTTP port")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    options = StackOptions(
        data_dir=args.data_dir,
        fresh=args.fresh,
        kafka_port=args.kafka_port,
        ingest_port=args.ingest_port,
        appraisal_port=args.appraisal_port,
        demo=not args.no_demo,
        seed=args.seed,
    )

    async def demo(stack: object) -> None:
        await load_demo_county(stack, args.villages, args.seed)  # type: ignore[arg-type]

    with contextlib.suppress(KeyboardInterrupt):
        return asyncio.run(run(options, demo))
    return 0


if __name__ == "__main__":
    sys.exit(main())
