"""``panebus top``: a live full-screen view of every agent pane, limit, forecast and event.

It subscribes to the bus (the broker's cache gives the current values at once), redraws only
when a frame changed the view or once every :data:`AGE_REDRAW` seconds for the ages, and
blocks on the bus socket in between: idle, it costs nothing. ``q`` or Ctrl-C quits. ``--once``
prints one frame after the cached values arrived and exits (for scripts and tests).
"""

from __future__ import annotations

import contextlib
import os
import select
import shutil
import sys
import time
import typing as t

from panebus.cli.bus import add_endpoint_arguments, endpoints_from_args

if t.TYPE_CHECKING:
    import argparse

PREFIXES = ("state.", "parsed.", "forecast.", "event.")
AGE_REDRAW = 5.0  # seconds: ages shown in seconds/minutes move even when no frame comes
SNAPSHOT_WAIT = 1.0  # --once: how long to wait for the cached values
ENTER_SCREEN = "\x1b[?1049h\x1b[?25l"
LEAVE_SCREEN = "\x1b[?25h\x1b[?1049l"


def add_parser(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "top",
        help="live view of agent panes, limits, forecasts and events",
        description="A full-screen view that redraws on change (q quits).",
    )
    parser.add_argument("--once", action="store_true",
                        help="print one frame once the current values arrived, then exit")
    parser.add_argument("--host", metavar="NAME",
                        help="only this host's panes and limits (a central host sees several)")
    add_endpoint_arguments(parser)
    return parser


def _key_pressed() -> str | None:
    """A key typed on the terminal, without waiting (None when there is none)."""
    if not sys.stdin.isatty():
        return None
    ready, _, _ = select.select([sys.stdin], [], [], 0)
    return os.read(sys.stdin.fileno(), 16).decode(errors="replace") if ready else None


def run(args: argparse.Namespace) -> int:
    from bus.clock import local_zone, utcnow
    from bus.endpoints import EndpointError
    from bus.keys import MissingKeysError
    from bus.subscribers import Subscriber
    from panebus.top import TopView

    try:
        endpoints = endpoints_from_args(args)
    except (EndpointError, MissingKeysError) as exc:
        print(f"panebus top: {exc}", file=sys.stderr)
        return 2
    view = TopView(host=args.host)
    zone = local_zone()
    with Subscriber(endpoints, prefixes=list(PREFIXES), name="cli-top") as sub:
        if args.once:
            deadline = time.monotonic() + SNAPSHOT_WAIT
            while (left := deadline - time.monotonic()) > 0:
                item = sub.recv(timeout=left)
                if item is not None:
                    view.take(*item)
            size = shutil.get_terminal_size((80, 24))
            print("\n".join(view.render(utcnow(), size.columns, size.lines, zone)))
            return 0
        return _live(sub, view, zone)


def _live(sub: t.Any, view: t.Any, zone: t.Any) -> int:
    from bus.clock import utcnow

    raw_mode = contextlib.ExitStack()  # restores the terminal's mode on the way out
    if sys.stdin.isatty():
        import termios
        import tty

        saved = termios.tcgetattr(sys.stdin)
        tty.setcbreak(sys.stdin)
        raw_mode.callback(termios.tcsetattr, sys.stdin, termios.TCSADRAIN, saved)
    sys.stdout.write(ENTER_SCREEN)
    try:
        with raw_mode:
            dirty, next_age = True, 0.0
            while True:
                if dirty or time.monotonic() >= next_age:
                    size = shutil.get_terminal_size((80, 24))
                    lines = view.render(utcnow(), size.columns, size.lines, zone)
                    sys.stdout.write("\x1b[H\x1b[2J" + "\r\n".join(lines))
                    sys.stdout.flush()
                    dirty, next_age = False, time.monotonic() + AGE_REDRAW
                item = sub.recv(timeout=min(0.5, max(0.0, next_age - time.monotonic())))
                if item is not None:
                    dirty = view.take(*item) or dirty
                if (_key_pressed() or "").lower().startswith("q"):
                    return 0
    except KeyboardInterrupt:
        return 0
    finally:
        sys.stdout.write(LEAVE_SCREEN)
        sys.stdout.flush()
