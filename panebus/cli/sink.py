"""``panebus sink archive|alias|windows|featurelog`` — run one sink in the foreground."""

from __future__ import annotations

import dataclasses
import signal
import sys
import threading
import typing as t
from pathlib import Path

if t.TYPE_CHECKING:
    import argparse

    from sinks.config import SinksConfig


def add_parser(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    """``sink NAME [--root DIR] [--path PATH] [--fsync POLICY]``."""
    from sinks.base import sink_names

    parser = subparsers.add_parser(
        "sink",
        help="run one sink (archive, alias, windows, featurelog) in the foreground",
        description="Subscribe to the bus and run one sink until Ctrl-C or SIGTERM.",
    )
    parser.add_argument("name", choices=sink_names(), help="which sink")
    parser.add_argument(
        "--root", type=Path, help="archive root (default: config, then <data_dir>/archive)"
    )
    parser.add_argument(
        "--path",
        type=Path,
        help="output of the sink: alias dir, window log or feature-log file",
    )
    parser.add_argument("--fsync", choices=("always", "interval", "never"), help="archive policy")
    return parser


def configured(config: SinksConfig, args: argparse.Namespace) -> SinksConfig:
    """The config file's settings with the command-line overrides applied."""
    archive = config.archive
    if args.root is not None:
        archive = dataclasses.replace(archive, root=args.root.expanduser().absolute())
    if args.fsync is not None:
        archive = dataclasses.replace(archive, fsync=args.fsync)
    config = dataclasses.replace(config, archive=archive)
    if args.path is not None:
        target = args.path.expanduser().absolute()
        field = {"alias": "alias_dir", "windows": "window_log", "featurelog": "feature_log"}
        if args.name in field:
            config = dataclasses.replace(config, **{field[args.name]: target})
    return config


def run(args: argparse.Namespace) -> int:
    """Build the sink, subscribe, and run until a signal."""
    from bus.endpoints import Endpoints
    from bus.paths import Paths
    from sinks.base import SinkRunner, build_sink
    from sinks.config import SinkConfigError, SinksConfig

    paths = Paths.from_env()
    try:
        config = configured(SinksConfig.load(paths), args)
    except SinkConfigError as exc:
        print(f"panebus sink: {exc}", file=sys.stderr)
        return 2
    sink = build_sink(args.name, paths, config)
    stop = threading.Event()

    def _stop(signum: int, frame: object) -> None:
        del signum, frame
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    runner = SinkRunner(
        sink, Endpoints.default(), paths=paths, health_interval=config.health_interval
    )
    print(f"sink {args.name}: running ({describe(args.name, config)}); Ctrl-C stops", flush=True)
    runner.run(stop)
    return 0


def describe(name: str, config: SinksConfig) -> str:
    """Where a sink writes, for the start-up line."""
    return {
        "archive": f"root {config.archive.root}, fsync {config.archive.fsync}",
        "alias": f"dir {config.alias_dir}",
        "windows": f"log {config.window_log}",
        "featurelog": f"file {config.feature_log}",
    }.get(name, "third-party sink")
