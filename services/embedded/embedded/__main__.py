"""`python -m embedded run`: the embedded stack on this machine, no services to install."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from pathlib import Path

from embedded.broker import TansuBroker
from embedded.topics import ensure_topics, system_topics


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m embedded", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="start the embedded stack and keep it running until Ctrl-C")
    run.add_argument("--data-dir", type=Path, default=Path("data"), help="where state is kept")
    run.add_argument("--kafka-port", type=int, default=0, help="broker port (default: a free one)")
    return parser


async def _run(args: argparse.Namespace) -> int:
    args.data_dir.mkdir(parents=True, exist_ok=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    with TansuBroker(port=args.kafka_port, log_path=args.data_dir / "tansu.log") as broker:
        created = await ensure_topics(broker.bootstrap_servers, system_topics())
        print(f"Kafka-protocol broker (Tansu, memory storage): {broker.bootstrap_servers}")
        print(f"Topics created: {', '.join(created) or 'none (already there)'}")
        print(
            "Not yet part of the stack: the ingest service, the appraisal service, the demo "
            "county and the dashboard (issues #3, #5, #6). Only the broker runs."
        )
        print("Press Ctrl-C to stop.")
        await stop.wait()
    print("Stopped.")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "run":
        with contextlib.suppress(KeyboardInterrupt):
            return asyncio.run(_run(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
