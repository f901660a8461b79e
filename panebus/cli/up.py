"""``panebus up``: broker, scraper, rollout tailer, probes and all sinks in one process."""

from __future__ import annotations

import argparse
import math
import signal
import threading

from panebus.cli.common import add_server_arguments, load_scraper_config

MIN_EVERY = 1.0


def probe_minutes(text: str) -> float:
    """``--every``: a finite number of minutes, at least :data:`MIN_EVERY` (0, negatives, nan
    and inf are errors, not "never" or "all the time")."""
    try:
        minutes = float(text)
    except ValueError:
        msg = f"not a number of minutes: {text!r}"
        raise argparse.ArgumentTypeError(msg) from None
    if not math.isfinite(minutes) or minutes < MIN_EVERY:
        msg = f"must be at least {MIN_EVERY:g} minute (got {text})"
        raise argparse.ArgumentTypeError(msg)
    return minutes


def add_parser(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "up", help="run everything in one process (broker, scraper, tailer, sinks)",
        description="Run the broker, the scraper with all triggers, the Codex rollout tailer "
        "and every sink in one process. Ctrl-C stops it cleanly.",
    )
    add_server_arguments(parser)
    parser.add_argument("--interval", type=float, metavar="SECONDS",
                        help="timer trigger interval (default from config)")
    parser.add_argument("--every", type=probe_minutes, metavar="MINUTES",
                        help=f"probe idle agent panes on this schedule (at least "
                        f"{MIN_EVERY:g} minute: each probe draws a card in the pane)")
    parser.add_argument("--no-broker", action="store_true",
                        help="use a broker that is already running (`panebus bus`)")
    parser.add_argument("--sink", action="append", dest="sinks", metavar="NAME",
                        help="run only these sinks (repeatable; default: all)")
    return parser


def run(args: argparse.Namespace) -> int:
    from bus.paths import Paths
    from panebus.app import Stack, StackOptions

    paths = Paths.from_env()
    config = load_scraper_config(args, "up")
    if config is None:
        return 2
    options = StackOptions(
        broker=not args.no_broker,
        sinks=tuple(args.sinks or ()),
        probe_every_minutes=args.every,
    )
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    stack = Stack(paths, config, options)
    try:
        stack.start(report=lambda line: print(line, flush=True))
        print("panebus up: running; Ctrl-C stops", flush=True)
        stop.wait()
    finally:
        print("panebus up: stopping", flush=True)
        stack.stop()
    return 0
