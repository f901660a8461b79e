"""``panebus layout [NAME] [-L NAME | -S PATH] [--demo] [--attach]``: start a tmux layout."""

from __future__ import annotations

import os
import sys
import typing as t
from pathlib import Path

from panebus.cli.common import add_server_arguments, server_args

if t.TYPE_CHECKING:
    import argparse


def add_parser(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    """Register the verb."""
    from panebus.layout import LAYOUTS

    parser = subparsers.add_parser(
        "layout",
        help="start the tracker tmux layout (agents, claude-monitor, panebus up, tail)",
        description=(
            "Start a tmux layout as a new session: Codex | Claude Code side by side, "
            "claude-monitor, `panebus up` and `panebus tail`. Real agents run when installed, "
            "stand-ins otherwise (always with --demo). The same layout: tmux/tracker.sh, "
            "tmux/tracker.tmuxp.yaml."
        ),
    )
    parser.add_argument("name", nargs="?", default="tracker", choices=LAYOUTS)
    add_server_arguments(parser)
    parser.add_argument("--session", default="tracker", help="tmux session name")
    parser.add_argument("--demo", action="store_true", help="stand-in agents even if installed")
    parser.add_argument("--seed", type=int, default=0, help="stand-ins' figures seed")
    parser.add_argument("--no-stack", action="store_true", help="no panebus up / tail panes")
    parser.add_argument("--attach", action="store_true", help="attach to the session")
    return parser


def tracker_config_file() -> Path | None:
    """``tmux/tracker.toml`` for the layout's ``panebus up``, unless the user has a config.

    The tracker layout archives to ``data/week0/live/automation/`` and keeps the feature log in
    ``docs/Tasks/`` of the directory it is started from; a user's own config file wins.
    """
    from bus.paths import Paths

    if Paths.from_env().config_file.exists():
        return None
    shipped = Path(__file__).resolve().parents[2] / "tmux" / "tracker.toml"
    return shipped if shipped.exists() else None


def run(args: argparse.Namespace) -> int:
    """Build the layout with libtmux; optionally attach."""
    from libtmux import Server
    from libtmux.exc import LibTmuxException

    from panebus.layout import TrackerCommands, build_tracker

    server = Server(socket_name=args.socket_name, socket_path=args.socket_path)
    commands = TrackerCommands.choose(
        demo=args.demo, server_args=server_args(args), seed=args.seed, stack=not args.no_stack
    )
    environment = {}
    if os.environ.get("PANEBUS_HOME"):
        environment["PANEBUS_HOME"] = os.environ["PANEBUS_HOME"]
    tracker_config = tracker_config_file()
    if tracker_config is not None:
        environment["PANEBUS_CONFIG"] = str(tracker_config)
    try:
        build_tracker(server, commands, session_name=args.session, environment=environment)
    except (ValueError, LibTmuxException) as exc:
        print(f"panebus layout: {exc}", file=sys.stderr)
        return 1
    where = " ".join(["tmux", *server_args(args), "attach", "-t", args.session])
    print(f"layout {args.name} started: {where}")
    if args.attach:
        os.execvp("tmux", where.split())
    return 0
