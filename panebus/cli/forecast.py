"""``panebus forecast [--json]``: when each limit runs out at the current pace.

Reads the ``forecast.*`` values the broker caches (the forecast sink of ``panebus up``
publishes them), so it answers at once and costs nothing while nothing changes. Exit 0 with at
least one forecast, 1 when the bus has none (``up`` not running, or no limit has enough exact
figures yet), 2 on a usage or endpoint error.
"""

from __future__ import annotations

import sys
import time
import typing as t

from panebus.cli.bus import add_endpoint_arguments, endpoints_from_args

if t.TYPE_CHECKING:
    import argparse

    from bus.frames import Body

QUIET_AFTER = 0.3  # seconds without a new cached value once the first came: the replay is over
NOTHING = 1


def add_parser(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "forecast",
        help="when each limit runs out at the current pace",
        description="Print the burn rate and run-out time of every limit (from the bus).",
    )
    parser.add_argument("--json", action="store_true", help="one JSON object per limit per line")
    parser.add_argument("--provider", help="only this provider (codex, claude, …)")
    parser.add_argument("--timeout", type=float, default=1.5, metavar="SECONDS",
                        help="how long to wait for the bus (default 1.5)")
    add_endpoint_arguments(parser)
    return parser


def collect(args: argparse.Namespace) -> dict[str, Body]:
    """The cached forecast of every limit, by topic."""
    from bus.subscribers import Subscriber

    endpoints = endpoints_from_args(args)
    prefix = f"forecast.{args.provider}." if args.provider else "forecast."
    found: dict[str, Body] = {}
    deadline = time.monotonic() + args.timeout
    with Subscriber(endpoints, prefixes=[prefix], name="cli-forecast") as sub:
        while (left := deadline - time.monotonic()) > 0:
            item = sub.recv(timeout=min(left, QUIET_AFTER) if found else left)
            if item is None:
                if found:
                    break
                continue
            found[item[0]] = item[1]
    return found


def line(body: Body) -> str:
    """``codex 5h 50% · 30%/h · runs out ~12:00 · 3 points over 20 min``."""
    from bus.clock import local_zone, utcnow
    from sinks.forecast import short_text

    scope = f" {body['scope']}" if body.get("scope") else ""
    parts = [f"{body['provider']} {body['window']}{scope}"]
    if isinstance(body.get("used_pct"), (int, float)):
        parts[0] += f" {body['used_pct']:g}%"
    rate = body.get("rate_pct_per_hour")
    if isinstance(rate, (int, float)) and body.get("status") in ("runs-out", "lasts"):
        parts.append(f"{rate:.1f}%/h")
    parts.append(short_text(body, utcnow(), local_zone()))
    parts.append(f"{body.get('points', 0)} points over {body.get('span_minutes', 0):g} min")
    return " · ".join(p for p in parts if p)


def run(args: argparse.Namespace) -> int:
    from bus.codec import dumps
    from bus.endpoints import EndpointError
    from bus.keys import MissingKeysError

    try:
        found = collect(args)
    except (EndpointError, MissingKeysError) as exc:
        print(f"panebus forecast: {exc}", file=sys.stderr)
        return 2
    if not found:
        print("panebus forecast: no forecast on the bus (is `panebus up` running? a limit needs "
              "3 exact figures over 5 minutes of its current window)", file=sys.stderr)
        return NOTHING
    for topic in sorted(found):
        body = found[topic]
        if args.json:
            print(dumps({"topic": topic, **body}).decode())
        else:
            print(line(body))
    return 0
