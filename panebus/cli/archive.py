"""``panebus archive ls|show|grep|redact|purge`` — find, print and clean archived snapshots.

``redact`` and ``purge`` rewrite history (:mod:`sinks.archive_rewrite`); their argument parsing
and report live in :mod:`panebus.cli.archive_clean`.
"""

from __future__ import annotations

import re
import sys
import typing as t
from pathlib import Path

if t.TYPE_CHECKING:
    import argparse

    from sinks.archive_query import Query, Snapshot


def add_filters(parser: argparse.ArgumentParser) -> None:
    """Filters shared by ``archive`` subcommands and ``replay``."""
    parser.add_argument("--root", type=Path, help="archive root (default: from the config)")
    parser.add_argument("--provider", help="codex, claude, claude-monitor, …")
    parser.add_argument("--pane", help="tmux pane id, e.g. %%3")
    parser.add_argument("--since", help="RFC 3339 time, YYYY-MM-DD (UTC) or an age: 30m, 2h, 1d")
    parser.add_argument("--until", help="same forms as --since")
    parser.add_argument("--trigger", help="timer, file, output, probe, manual, startup")
    parser.add_argument("--id", dest="frame_id", help="frame id (or its prefix)")


def add_parser(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    """``archive ls|show|grep``."""
    parser = subparsers.add_parser(
        "archive",
        help="list, print and search archived pane snapshots",
        description="Find archived raw frames by provider, pane, time and text.",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    ls = actions.add_parser("ls", help="one line per snapshot (or per segment)")
    add_filters(ls)
    ls.add_argument("--segments", action="store_true", help="list segment files instead")
    ls.add_argument("--json", action="store_true", help="JSON lines")
    show = actions.add_parser("show", help="print the text of each snapshot")
    add_filters(show)
    show.add_argument("--json", action="store_true", help="the archived frames as JSON lines")
    grep = actions.add_parser("grep", help="lines of snapshots matching a regex")
    grep.add_argument("pattern", help="Python regular expression")
    grep.add_argument("-i", "--ignore-case", action="store_true")
    add_filters(grep)
    from panebus.cli import archive_clean

    archive_clean.add_actions(actions)
    return parser


def archive_root(args: argparse.Namespace) -> Path:
    """``--root`` or the configured archive root."""
    from bus.paths import Paths
    from sinks.config import SinksConfig

    if args.root is not None:
        return Path(args.root).expanduser().absolute()
    return SinksConfig.load(Paths.from_env()).archive.root


def build_query(args: argparse.Namespace, text: re.Pattern[str] | None = None) -> Query:
    """Filters from the arguments; ``ValueError`` names a bad time."""
    from bus.clock import utcnow
    from sinks.archive_query import Query, parse_when

    now = utcnow()
    return Query(
        provider=args.provider,
        pane=args.pane,
        since=parse_when(args.since, now) if args.since else None,
        until=parse_when(args.until, now) if args.until else None,
        trigger=args.trigger,
        frame_id=args.frame_id,
        text=text,
    )


def header(snap: Snapshot) -> str:
    """One line naming a snapshot."""
    body = snap.body
    pane = body.get("pane") or {}
    where = f"{pane.get('server', '?')}:{pane.get('session', '?')}:{pane.get('window', '?')}"
    return (
        f"{snap.observed_at}  {body.get('provider')}  {snap.pane_id}  ({where})  "
        f"trigger={body.get('trigger')}  id={body.get('id')}  {snap.path}"
    )


def run(args: argparse.Namespace) -> int:
    """Dispatch ``ls``, ``show``, ``grep``, ``redact`` or ``purge``."""
    from bus.codec import dumps
    from sinks.archive_query import find, segment_summaries

    if args.action in ("redact", "purge"):
        from panebus.cli import archive_clean

        return archive_clean.run(args)
    root = archive_root(args)
    pattern = None
    if args.action == "grep":
        try:
            pattern = re.compile(args.pattern, re.IGNORECASE if args.ignore_case else 0)
        except re.error as exc:
            print(f"panebus archive grep: bad pattern: {exc}", file=sys.stderr)
            return 2
    try:
        query = build_query(args, pattern)
    except ValueError as exc:
        print(f"panebus archive: {exc}", file=sys.stderr)
        return 2
    if args.action == "ls" and args.segments:
        for summary in segment_summaries(root):
            if args.json:
                print(dumps(summary).decode())
            else:
                print(
                    f"{summary['path']}  {summary['records']} records  "
                    f"{summary['first']} .. {summary['last']}  {summary['bytes']} bytes"
                )
        return 0
    found = 0
    for snap in find(root, query):
        found += 1
        if getattr(args, "json", False):
            print(dumps({"path": str(snap.path), **snap.body}).decode())
        elif args.action == "ls":
            print(header(snap))
        elif args.action == "show":
            print(f"=== {header(snap)}")
            print(str(snap.body.get("text", "")).rstrip("\n"))
        else:
            assert pattern is not None
            for number, line in enumerate(str(snap.body.get("text", "")).splitlines(), 1):
                if pattern.search(line):
                    where = f"{snap.body.get('provider')} {snap.pane_id}:{number}"
                    print(f"{snap.observed_at} {where}: {line}")
    if found == 0 and args.action != "ls":
        print(f"no snapshot matched under {root}")
        return 1
    return 0
