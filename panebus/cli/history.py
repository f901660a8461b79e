"""``panebus history``: used % over time, one chart per limit, resets marked, forecast ahead.

Reads the window log (every change of every usage window), so it works whether or not
``panebus up`` is running. ``--json`` prints one object per limit for scripts.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import sys
import typing as t

if t.TYPE_CHECKING:
    import argparse

DURATION = re.compile(r"^(\d+(?:\.\d+)?)([mhd])$")
UNITS = {"m": "minutes", "h": "hours", "d": "days"}


def add_parser(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "history",
        help="used %% over time per limit, resets marked, forecast ahead",
        description="Draw each limit's used %% over time from the window log.",
    )
    parser.add_argument("--provider", help="only this provider (codex, claude, …)")
    parser.add_argument("--window", choices=("5h", "weekly"), help="only this window kind")
    parser.add_argument("--host", metavar="NAME",
                        help="only this host's limits (a central host logs several)")
    parser.add_argument("--since", default="24h",
                        help="how far back: 90m, 24h, 7d or an RFC 3339 time (default 24h)")
    parser.add_argument("--json", action="store_true", help="one JSON object per limit")
    parser.add_argument("--width", type=int, help="chart width (default: the terminal's)")
    return parser


def since_moment(text: str, now: dt.datetime) -> dt.datetime:
    """``90m``/``24h``/``7d`` before ``now``, or an RFC 3339 time; ValueError otherwise."""
    from bus.clock import parse_rfc3339

    match = DURATION.match(text.strip())
    if match:
        return now - dt.timedelta(**{UNITS[match.group(2)]: float(match.group(1))})
    return parse_rfc3339(text)


def run(args: argparse.Namespace) -> int:
    from bus.clock import local_zone, utcnow
    from bus.codec import dumps
    from bus.paths import Paths
    from panebus.history import chart, histories
    from sinks.config import SinkConfigError, SinksConfig
    from sinks.windows_sink import read_window_log

    now = utcnow()
    try:
        since = since_moment(args.since, now)
    except (ValueError, OverflowError):
        print(f"panebus history: --since {args.since!r}: use 90m, 24h, 7d or an RFC 3339 time",
              file=sys.stderr)
        return 2
    try:
        log = SinksConfig.load(Paths.from_env()).window_log
    except SinkConfigError as exc:
        print(f"panebus history: {exc}", file=sys.stderr)
        return 2
    from bus.keys import this_host

    found = histories(read_window_log(log), since, args.provider, args.window,
                      host=args.host, local_host=this_host())
    found = [h for h in found if h.points or h.resets]
    if not found:
        print(f"panebus history: no figures since {since:%Y-%m-%d %H:%M} UTC in {log}",
              file=sys.stderr)
        return 1
    width = args.width or max(20, min(120, shutil.get_terminal_size((80, 24)).columns - 8))
    for index, history in enumerate(found):
        if args.json:
            print(dumps(history.to_dict()).decode())
            continue
        if index:
            print()
        print("\n".join(chart(history, now, width=width, zone=local_zone())))
    return 0
