"""``panebus ingest ccusage [FILE | -] [--run REPORT]``: publish ccusage token/cost totals.

Reads a ``ccusage … --json`` report from a file or stdin, or runs ``ccusage REPORT --json``
itself, normalizes every period (see :mod:`scraper.sources.ccusage`) and publishes one
``parsed.ccusage.<report>.<agent>`` frame per report, acknowledged by the broker.
"""

from __future__ import annotations

import sys
import typing as t

if t.TYPE_CHECKING:
    import argparse

    from scraper.parsers.model import Usage

REPORTS = ("daily", "weekly", "monthly", "session", "blocks")
RUN_TIMEOUT = 300.0
FAILED = 1


def add_parser(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "ingest",
        help="publish figures from other tools (ccusage reports)",
        description="Publish figures other tools computed. Today: ccusage JSON reports.",
    )
    tools = parser.add_subparsers(dest="tool", metavar="TOOL", required=True)
    ccusage = tools.add_parser(
        "ccusage",
        help="publish a ccusage --json report (daily, weekly, monthly, session, blocks)",
        description="Read `ccusage REPORT --json` output (Claude or Codex, 17.x to 20.x) from "
        "FILE or stdin, or run ccusage with --run, and publish normalized per-period totals as "
        "parsed.ccusage.<report>.<agent> frames.",
    )
    ccusage.add_argument("file", nargs="?", metavar="FILE", help="report JSON file, or - for stdin")
    ccusage.add_argument(
        "--run", choices=REPORTS, metavar="REPORT",
        help=f"run `ccusage REPORT --json` instead of reading a file ({', '.join(REPORTS)})",
    )
    ccusage.add_argument(
        "--command", default="ccusage", metavar="CMD",
        help="the ccusage command for --run (default ccusage; e.g. ccusage-codex)",
    )
    ccusage.add_argument(
        "--timeout", type=float, default=2.0, metavar="SECONDS",
        help="how long to wait for the broker to acknowledge each frame (default 2)",
    )
    ccusage.add_argument("--json", action="store_true", help="print each normalized report")
    ccusage.add_argument("--no-publish", action="store_true", help="do not publish, only print")
    return parser


def _error(message: str) -> int:
    print(f"panebus ingest ccusage: {message}", file=sys.stderr)
    return FAILED


def _run_ccusage(command: str, report: str) -> bytes:
    import shlex
    import shutil
    import subprocess

    argv = shlex.split(command)
    if not argv or shutil.which(argv[0]) is None:
        msg = (
            f"{command!r} is not on PATH: install it (npm install -g ccusage) or pass a "
            "saved report: ccusage weekly --json > week.json; panebus ingest ccusage week.json"
        )
        raise OSError(msg)
    try:
        done = subprocess.run(
            [*argv, report, "--json"], capture_output=True, timeout=RUN_TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired:
        msg = f"`{command} {report} --json` did not finish within {RUN_TIMEOUT:.0f} s"
        raise OSError(msg) from None
    if done.returncode != 0:
        tail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-3:]
        msg = f"`{command} {report} --json` exited {done.returncode}: {' / '.join(tail)}"
        raise OSError(msg)
    return done.stdout


def _read_input(file: str | None) -> bytes:
    if file in (None, "-"):
        return sys.stdin.buffer.read()
    from pathlib import Path

    return Path(str(file)).read_bytes()


def _summary(topic: str, usage: Usage) -> str:
    periods = usage.extra.get("periods") or []
    totals = usage.extra.get("totals") or {}
    tokens = totals.get("total_tokens")
    cost = totals.get("cost_usd")
    parts = [f"{topic}: {len(periods)} period(s)"]
    if isinstance(tokens, int):
        parts.append(f"{tokens:,} tokens")
    if isinstance(cost, float):
        parts.append(f"${cost:,.2f}")
    return ", ".join(parts)


def run(args: argparse.Namespace) -> int:
    from bus.codec import dumps, loads
    from bus.topics import parsed
    from scraper.sources.ccusage import ReportError, usages_from_report

    if args.run and args.file:
        return _error("give either FILE or --run REPORT, not both")
    try:
        data = _run_ccusage(args.command, args.run) if args.run else _read_input(args.file)
    except OSError as exc:
        return _error(str(exc))
    try:
        usages = usages_from_report(loads(data))
    except ReportError as exc:
        return _error(str(exc))
    except ValueError as exc:
        return _error(f"input is not JSON: {exc}")
    if args.json:
        for usage in usages:
            print(dumps(usage.to_dict()).decode())
    if args.no_publish:
        return 0
    import zmq

    from bus.endpoints import EndpointError, Endpoints
    from bus.publisher import Publisher
    from scraper.sources.publish import parsed_body

    try:
        endpoints = Endpoints.default()
    except (EndpointError, OSError) as exc:
        return _error(f"bus endpoints: {exc}")
    try:
        with Publisher(endpoints, name="ingest") as publisher:
            for usage in usages:
                body = parsed_body(usage, "report", "parsed")
                if not publisher.send_acked(body, timeout=args.timeout):
                    reason = publisher.last_error or "no answer"
                    return _error(
                        f"the bus did not acknowledge within {args.timeout:g} s ({reason}); "
                        "nothing was lost: start `panebus up` and run again"
                    )
                if not args.json:
                    print(_summary(parsed(usage.provider, usage.screen), usage))
    except zmq.ZMQError as exc:
        return _error(f"cannot reach the bus: {exc}")
    return 0
