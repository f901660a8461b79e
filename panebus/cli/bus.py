"""``panebus bus``: run the broker in the foreground until SIGINT/SIGTERM.

Also home of the endpoint options ``publish`` and ``tail`` share (``--tcp``, ``--insecure``),
so the three verbs resolve endpoints the same way.
"""

from __future__ import annotations

import signal
import sys
import typing as t

if t.TYPE_CHECKING:
    import argparse
    import types

    from bus.endpoints import Endpoints


def add_endpoint_arguments(parser: argparse.ArgumentParser) -> None:
    """``--tcp HOST:PORT`` and ``--insecure``: use tcp endpoints instead of the configured ones."""
    parser.add_argument(
        "--tcp", metavar="HOST:PORT",
        help="tcp endpoints on PORT, PORT+1, PORT+2 (CURVE keys from `panebus keys`, "
        "or --insecure on loopback)",
    )
    parser.add_argument(
        "--insecure", action="store_true",
        help="allow tcp without CURVE (loopback addresses only)",
    )


def endpoints_from_args(args: argparse.Namespace) -> Endpoints:
    """Endpoints chosen on the command line, else the configured/default ones."""
    from bus import keys
    from bus.endpoints import EndpointError, Endpoints
    from bus.paths import Paths

    if not args.tcp:
        return Endpoints.default()
    host, _, port = str(args.tcp).rpartition(":")
    if not host or not port.isdigit():
        raise EndpointError(f"--tcp wants HOST:PORT, not {args.tcp!r}")
    curve = None if args.insecure else keys.load_keys(Paths.from_env().keys_dir)
    return Endpoints.tcp(host.strip("[]"), int(port), curve=curve, insecure=args.insecure)


def add_parser(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "bus",
        help="run the ZeroMQ broker in the foreground",
        description="Run the broker (XSUB/XPUB forwarding, last-value cache, snapshot service, "
        "sys.heartbeat) until SIGINT or SIGTERM.",
    )
    parser.add_argument(
        "--heartbeat", type=float, default=5.0, metavar="SECONDS",
        help="seconds between sys.heartbeat frames (default 5; 0 disables)",
    )
    add_endpoint_arguments(parser)
    return parser


def run(args: argparse.Namespace) -> int:
    from bus.broker import Broker, BrokerRunningError
    from bus.endpoints import EndpointError
    from bus.keys import MissingKeysError

    try:
        endpoints = endpoints_from_args(args)
    except (EndpointError, MissingKeysError) as exc:
        print(f"panebus bus: {exc}", file=sys.stderr)
        return 2
    broker = Broker(endpoints, heartbeat_interval=args.heartbeat)

    def on_signal(signum: int, frame: types.FrameType | None) -> None:
        broker.request_stop()

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, on_signal)
    print(f"panebus bus: publish {endpoints.publish}", file=sys.stderr)
    print(f"panebus bus: subscribe {endpoints.subscribe}", file=sys.stderr)
    print(f"panebus bus: snapshot {endpoints.snapshot}", file=sys.stderr)
    try:
        broker.run()
    except BrokerRunningError as exc:
        print(f"panebus bus: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # zmq.ZMQError is an OSError: address in use, bad path
        print(f"panebus bus: cannot bind: {exc}", file=sys.stderr)
        return 1
    counters = broker.counters()
    print(
        f"panebus bus: stopped after {counters['uptime_s']}s, forwarded {counters['forwarded']}, "
        f"rejected {counters['rejected']}",
        file=sys.stderr,
    )
    return 0
