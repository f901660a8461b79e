"""``panebus rollout [--once]``: publish Codex's own limit figures from its session logs.

Runs the rollout tailer (:mod:`scraper.sources.rollout_tailer`) on ``$CODEX_HOME/sessions``,
the config's Codex paths and any ``--path``, and publishes a ``parsed.codex.rollout`` frame
whenever the figures change. ``--once`` reports the newest log and exits. ``panebus up`` runs
the same tailer in-process; this verb is for running it alone.
"""

from __future__ import annotations

import sys
import typing as t

if t.TYPE_CHECKING:
    import argparse
    from pathlib import Path

    from scraper.parsers.model import Usage

FAILED = 1


def add_parser(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "rollout",
        help="publish Codex limits from its session logs ($CODEX_HOME/sessions)",
        description="Tail Codex's rollout-*.jsonl session logs and publish parsed.codex.rollout "
        "frames (official figures) whenever they change. Stops on Ctrl-C.",
    )
    parser.add_argument("--once", action="store_true", help="report the newest log and exit")
    parser.add_argument(
        "--path", action="append", default=[], metavar="DIR",
        help="another dir holding rollout files (repeatable)",
    )
    parser.add_argument("--json", action="store_true", help="print each reported usage as JSON")
    parser.add_argument("--no-publish", action="store_true", help="do not publish, only print")
    parser.add_argument(
        "--timeout", type=float, default=2.0, metavar="SECONDS",
        help="how long to wait for the broker: its acknowledgement with --once, the link "
        "otherwise (default 2)",
    )
    return parser


def _extra_roots(args: argparse.Namespace) -> list[Path]:
    from pathlib import Path

    from bus.paths import Paths
    from scraper.config import ConfigError, load_config

    roots = [Path(path).expanduser() for path in args.path]
    try:
        config = load_config(Paths.from_env())
    except ConfigError as exc:
        print(f"panebus rollout: ignoring config: {exc}", file=sys.stderr)
        return roots
    return roots + [watched.path for watched in config.watch_paths if watched.provider == "codex"]


def run(args: argparse.Namespace) -> int:
    import contextlib
    import signal
    import threading

    from bus.codec import dumps
    from scraper.sources.rollout_tailer import RolloutTailer, rollout_frame

    publisher: t.Any = None
    failures: list[str] = []

    def on_usage(path: Path, usage: Usage) -> None:
        if args.json:
            print(dumps(usage.to_dict()).decode(), flush=True)
        if publisher is None:
            return
        body = rollout_frame(usage)
        if args.once:
            if not publisher.send_acked(body, timeout=args.timeout):
                failures.append(str(path))
        else:
            publisher.send(body)

    tailer = RolloutTailer(on_usage, extra_roots=_extra_roots(args))
    with contextlib.ExitStack() as stack:
        if not args.no_publish:
            from bus.endpoints import EndpointError, Endpoints
            from bus.publisher import Publisher

            try:
                endpoints = Endpoints.default()
            except (EndpointError, OSError) as exc:
                print(f"panebus rollout: bus endpoints: {exc}", file=sys.stderr)
                return FAILED
            publisher = stack.enter_context(Publisher(endpoints, name="rollout"))
            if not args.once and not publisher.wait_ready(timeout=args.timeout):
                print("panebus rollout: the bus is not reachable yet; frames flow once it is",
                      file=sys.stderr)
        if args.once:
            tailer.scan(report="newest")
            if failures:
                print("panebus rollout: the bus did not acknowledge; start `panebus up` first",
                      file=sys.stderr)
                return FAILED
            if tailer.reported == 0:
                roots = ", ".join(map(str, tailer.roots))
                print(f"panebus rollout: no Codex figures under {roots}", file=sys.stderr)
            return 0
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        tailer.start()
        stack.callback(tailer.stop)
        print(f"panebus rollout: watching {', '.join(map(str, tailer.watching))}",
              file=sys.stderr, flush=True)
        while not stop.wait(1.0):
            pass
    return 0
