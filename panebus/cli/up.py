"""``panebus up``: broker, scraper, rollout tailer, probes and all sinks in one process."""

from __future__ import annotations

import argparse
import math
import signal
import threading
import typing as t

from panebus.cli.common import add_server_arguments, load_scraper_config

if t.TYPE_CHECKING:
    from bus.federation_config import FederationConfig
    from bus.paths import Paths

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
    hosts = parser.add_argument_group("several hosts (docs/guide.md \"Several machines\")")
    hosts.add_argument("--host", metavar="NAME",
                       help="this host's name: starts every producer, names its key pair "
                       "(default: [bus] host, else the hostname)")
    hosts.add_argument("--upstream", metavar="tcp://HOST:PORT",
                       help="forward this host's frames to the central broker listening there "
                       "(default: [bus] upstream)")
    hosts.add_argument("--upstream-raw", action="store_true",
                       help="forward raw frames too (large, and they hold pane text)")
    hosts.add_argument("--listen", metavar="tcp://ADDRESS:PORT",
                       help="be the central broker: accept the hosts whose keys are in "
                       "keys/authorized (ports PORT+1 and PORT+2; default: [bus] listen)")
    return parser


def _federation(args: argparse.Namespace, paths: Paths) -> FederationConfig | None:
    """The ``[bus]`` federation settings with the flags over them; None (after saying why)
    when they cannot work. The host name goes into the environment, where every producer of
    this process reads it (:func:`bus.keys.this_host`)."""
    import dataclasses
    import os
    import sys

    from bus.endpoints import EndpointError
    from bus.federation_config import ENV_LISTEN, FederationConfig, federation_keys_problem
    from bus.keys import HOST_ENV

    try:
        config = FederationConfig.load(paths, os.environ)
        config = dataclasses.replace(
            config,
            host=args.host or config.host,
            upstream=args.upstream or config.upstream,
            upstream_raw=args.upstream_raw or config.upstream_raw,
            listen=args.listen or config.listen,
        )
        config.check()
        if config.host:
            os.environ[HOST_ENV] = config.host
        if config.listen:  # the sinks of a central host keep each host apart (alias cache)
            os.environ[ENV_LISTEN] = config.listen
        problem = federation_keys_problem(config, paths)
        if problem:
            raise EndpointError(problem)
    except EndpointError as exc:
        print(f"panebus up: {exc}", file=sys.stderr)
        return None
    return config


def run(args: argparse.Namespace) -> int:
    from bus.paths import Paths
    from panebus.app import Stack, StackOptions

    paths = Paths.from_env()
    config = load_scraper_config(args, "up")
    if config is None:
        return 2
    federation = _federation(args, paths)
    if federation is None:
        return 2
    options = StackOptions(
        broker=not args.no_broker,
        sinks=tuple(args.sinks or ()),
        probe_every_minutes=args.every,
        federation=federation,
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
