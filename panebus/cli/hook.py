"""``panebus hook claude-statusline``: Claude Code's statusLine command.

Claude Code pipes a JSON object to this command after every update and shows what it prints
as its status line. The hook must never break that screen: it always prints exactly one line
and exits 0 at once, whatever arrives on stdin and whether or not the bus is up. Publishing
(which needs pyzmq, the slowest import) happens in a detached child after the line is printed,
so Claude never waits for the broker; ``--foreground`` publishes in-process instead.

Imports are kept inside the functions: this module is on the path of every Claude redraw.
"""

from __future__ import annotations

import logging
import os
import sys
import typing as t

if t.TYPE_CHECKING:
    import argparse

    from bus.frames import Body

FALLBACK_LINE = "panebus: no status data"
#: Claude writes the whole object and closes stdin at once; never hang on a pipe left open.
STDIN_DEADLINE = 0.5


def add_parser(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "hook",
        help="commands agents call (Claude Code statusLine)",
        description="Commands the agents call themselves. Set `panebus hook claude-statusline` "
        "as Claude Code's statusLine command (see docs/sources.md).",
    )
    hooks = parser.add_subparsers(dest="hook", metavar="HOOK", required=True)
    statusline = hooks.add_parser(
        "claude-statusline",
        help="read Claude Code's statusLine JSON on stdin, publish it, print one line",
        description="Read Claude Code's statusLine JSON on stdin, publish a "
        "parsed.claude.statusline frame and print one short status line. Always exits 0.",
    )
    statusline.add_argument(
        "--timeout", type=float, default=0.5, metavar="SECONDS",
        help="how long the background publish waits for the broker (default 0.5)",
    )
    statusline.add_argument(
        "--foreground", action="store_true",
        help="publish before exiting instead of in a detached child (for debugging)",
    )
    statusline.add_argument(
        "--no-publish", action="store_true", help="only print the status line"
    )
    return parser


def run(args: argparse.Namespace) -> int:
    """Print exactly one line, then publish; nothing that goes wrong changes the exit code."""
    line, body = FALLBACK_LINE, None
    try:
        line, body = _read_statusline(_read_stdin())
    except Exception:  # the status line must survive anything
        logging.getLogger(__name__).debug("statusLine input unreadable", exc_info=True)
    _print_line(line)
    if body is not None and not args.no_publish:
        try:
            _publish(body, args.timeout, foreground=args.foreground or not hasattr(os, "fork"))
        except Exception:  # a broken bus must not break Claude's screen
            logging.getLogger(__name__).debug("statusLine publish failed", exc_info=True)
    return 0


def _print_line(line: str) -> None:
    try:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()
    except OSError:
        pass


def _read_stdin(deadline: float = STDIN_DEADLINE) -> bytes:
    """All of stdin, or what arrived within ``deadline`` seconds (a terminal gives nothing)."""
    import select
    import time

    stream = sys.stdin
    if stream is None or stream.isatty():
        return b""
    fd = stream.fileno()
    chunks: list[bytes] = []
    end = time.monotonic() + deadline
    while (remaining := end - time.monotonic()) > 0:
        ready, _, _ = select.select([fd], [], [], remaining)
        if not ready:
            break
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def _read_statusline(raw: bytes) -> tuple[str, Body | None]:
    """(status line, frame body or ``None``). Only figures are published: an update without
    ``rate_limits`` (a new session, an API-key user) must not blank the cached limits."""
    import json  # not bus.codec: orjson's import alone costs ~20 ms of the 100 ms budget

    from bus.clock import utcnow
    from scraper.sources.statusline import render_status_line, usage_from_statusline

    try:
        obj = json.loads(raw) if raw.strip() else None
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError; deep nesting
        obj = None
    if not isinstance(obj, dict):
        return FALLBACK_LINE, None
    usage = usage_from_statusline(obj, utcnow())
    if not usage.limits:
        return render_status_line(usage), None
    from scraper.sources.publish import earliest_reset, parsed_body

    body = parsed_body(usage, "hook", "official", stale_after=earliest_reset(usage))
    return render_status_line(usage), body


def _publish(body: Body, timeout: float, *, foreground: bool) -> None:
    """Send ``body`` with an acknowledgement, in a detached child unless ``foreground``."""
    if foreground:
        _send(body, timeout)
        return
    if os.fork() > 0:
        return  # the parent exits at once; Claude gets its line without waiting
    try:
        os.setsid()
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)  # Claude waits for our stdout to close: release it
        _send(body, timeout)
    finally:
        os._exit(0)


def _send(body: Body, timeout: float) -> bool:
    from pathlib import Path

    from bus.endpoints import Endpoints
    from bus.publisher import Publisher

    endpoints = Endpoints.default()
    for address in (endpoints.publish, endpoints.snapshot):
        if address.startswith("ipc://") and not Path(address[len("ipc://") :]).exists():
            return False  # no broker socket: the bus is down, do not wait for it
    with Publisher(endpoints, name="hook") as publisher:
        return bool(publisher.send_acked(body, timeout=timeout))
