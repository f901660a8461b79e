"""``panebus tail [PREFIX ...]``: print frames as they arrive.

Exit 0 after ``--count`` frames; with ``--timeout``, exit 1 when the time ran out first (without
``--count``: when nothing at all arrived). Rejected frames are counted and reported on stderr.
"""

from __future__ import annotations

import sys
import time
import typing as t

from panebus.cli.bus import add_endpoint_arguments, endpoints_from_args

if t.TYPE_CHECKING:
    import argparse

    from bus.frames import Body

TIMED_OUT = 1
ENVELOPE = ("v", "kind", "id", "seq", "producer", "observed_at", "provider", "source")


def add_parser(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "tail",
        help="print bus frames as they arrive",
        description="Subscribe to PREFIX… (default: everything) and print each valid frame.",
    )
    parser.add_argument("prefixes", nargs="*", metavar="PREFIX",
                        help="topic prefixes, e.g. parsed.")
    parser.add_argument("--json", action="store_true",
                        help='one JSON object per line: {"topic": …, "body": …}')
    parser.add_argument("--count", type=int, metavar="N", help="exit 0 after N frames")
    parser.add_argument("--host", metavar="NAME",
                        help="only frames produced on this host (a central host sees several)")
    parser.add_argument("--timeout", type=float, metavar="SECONDS",
                        help="give up after SECONDS (exit 1 if --count was not reached)")
    add_endpoint_arguments(parser)
    return parser


def render(topic: str, body: Body, as_json: bool) -> str:
    """One output line: JSON with topic and body, or ``time topic producer#seq fields``."""
    from bus.codec import dumps

    if as_json:
        return dumps({"topic": topic, "body": body}).decode()
    fields = {key: value for key, value in body.items() if key not in ENVELOPE}
    return (f"{body['observed_at']} {topic} {body['producer']}#{body['seq']} "
            f"{dumps(fields).decode()}")


def run(args: argparse.Namespace) -> int:
    from bus.endpoints import EndpointError
    from bus.keys import MissingKeysError
    from bus.subscribers import Subscriber

    if args.count is not None and args.count < 1:
        print("panebus tail: --count must be at least 1", file=sys.stderr)
        return 2
    try:
        endpoints = endpoints_from_args(args)
    except (EndpointError, MissingKeysError) as exc:
        print(f"panebus tail: {exc}", file=sys.stderr)
        return 2
    deadline = None if args.timeout is None else time.monotonic() + args.timeout
    received = 0
    with Subscriber(endpoints, prefixes=args.prefixes or [""], name="cli-tail") as sub:
        while args.count is None or received < args.count:
            wait = 0.5 if deadline is None else deadline - time.monotonic()
            if wait <= 0:
                break
            item = sub.recv(timeout=min(wait, 0.5))
            if item is None:
                continue
            if args.host and not item[1]["producer"].startswith(f"{args.host}:"):
                continue
            print(render(item[0], item[1], args.json), flush=True)
            received += 1
        if sub.rejected:
            print(f"panebus tail: rejected {sub.rejected} invalid frame(s): "
                  f"{dict(sub.reject_reasons)}", file=sys.stderr)
    reached = received >= args.count if args.count is not None else received > 0
    return 0 if reached else TIMED_OUT
