"""``panebus publish TOPIC [BODY_JSON | -]``: publish one frame, acknowledged by the broker.

The envelope is filled in from the topic, so ``panebus publish sys.tests '{"passed": 3}'``
is enough: ``kind`` is the topic's first part, ``provider`` its second part when that is a
known provider (else ``unknown``), ``source`` defaults to ``{manual, parsed}``; the publisher
stamps ``v``, ``id``, ``seq``, ``producer`` and ``observed_at``.
"""

from __future__ import annotations

import sys
import typing as t

from panebus.cli.bus import add_endpoint_arguments, endpoints_from_args

if t.TYPE_CHECKING:
    import argparse

    from bus.frames import Body

USAGE_ERROR = 2
NOT_ACKED = 1


def add_parser(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "publish",
        help="publish one frame (envelope filled in) and wait for the broker's ack",
        description="Publish one frame on TOPIC. BODY_JSON is a JSON object (default {}; '-' "
        "reads it from stdin). Exit 1 when no broker acknowledged it.",
    )
    parser.add_argument("topic", metavar="TOPIC", help="e.g. sys.tests or parsed.codex.status")
    parser.add_argument("body", nargs="?", default="{}", metavar="BODY_JSON", help="JSON or -")
    parser.add_argument("--timeout", type=float, default=2.0, metavar="SECONDS",
                        help="how long to wait for the broker's ack (default 2)")
    parser.add_argument("--print", dest="print_body", action="store_true",
                        help="print the stamped body as JSON")
    add_endpoint_arguments(parser)
    return parser


def fill_envelope(topic: str, fields: t.Mapping[str, t.Any]) -> Body:
    """The body to publish: ``fields`` plus what the topic says, without overriding ``fields``."""
    from bus.frames import KINDS, PROVIDERS, source

    parts = topic.split(".")
    kind = parts[0]
    if kind not in KINDS or len(parts) < 2 or not all(parts):
        raise ValueError(f"topic {topic!r} must be KIND.NAME… with KIND one of {', '.join(KINDS)}")
    body: Body = {
        "kind": kind,
        "provider": parts[1] if parts[1] in PROVIDERS else "unknown",
        "source": source("manual", "parsed"),
    }
    if kind == "sys":
        body["what"] = topic[len("sys.") :]
    elif kind == "parsed":
        # Derivable from the topic, or "nothing known": no value is guessed.
        body.update(screen=".".join(parts[1:]), raw_id=None, stale_after=None, limits=[],
                    warnings=[])
    body.update(fields)
    return body


def run(args: argparse.Namespace) -> int:
    from bus.codec import loads
    from bus.endpoints import EndpointError
    from bus.frames import FrameError
    from bus.keys import MissingKeysError
    from bus.publisher import Publisher

    text = sys.stdin.read() if args.body == "-" else args.body
    try:
        fields = loads(text)
    except ValueError as exc:
        print(f"panebus publish: BODY_JSON is not JSON: {exc}", file=sys.stderr)
        return USAGE_ERROR
    if not isinstance(fields, dict):
        print("panebus publish: BODY_JSON must be a JSON object", file=sys.stderr)
        return USAGE_ERROR
    try:
        body = fill_envelope(args.topic, fields)
        endpoints = endpoints_from_args(args)
    except (ValueError, MissingKeysError) as exc:
        print(f"panebus publish: {exc}", file=sys.stderr)
        return USAGE_ERROR
    try:
        with Publisher(endpoints, name="cli-publish") as publisher:
            acked = publisher.send_acked(body, topic=args.topic, timeout=args.timeout)
            error, stamped = publisher.last_error, publisher.last_stamped
    except (FrameError, EndpointError) as exc:
        print(f"panebus publish: invalid frame: {exc}", file=sys.stderr)
        return USAGE_ERROR
    if not acked:
        print(f"panebus publish: not acknowledged by a broker at {endpoints.snapshot} ({error})"
              "; is `panebus bus` running?", file=sys.stderr)
        return NOT_ACKED
    if args.print_body:
        from bus.codec import dumps

        print(dumps(stamped).decode())
    return 0
