"""``panebus panes``: list the agent panes of a tmux server and say which rule found each."""

from __future__ import annotations

import sys
import typing as t

from panebus.cli.common import add_server_arguments, load_scraper_config

if t.TYPE_CHECKING:
    import argparse


def add_parser(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "panes",
        help="list agent panes and why each is one",
        description="One list-panes sweep; classify each pane as codex, claude, claude-monitor "
        "or not an agent (config targets, command, /proc, title, screen).",
    )
    add_server_arguments(parser)
    parser.add_argument(
        "--explain", action="store_true", help="list every pane with the rule that decided"
    )
    parser.add_argument("--json", action="store_true", help="one JSON array on stdout")
    return parser


def run(args: argparse.Namespace) -> int:
    import orjson

    from scraper.agent_panes import discover

    config = load_scraper_config(args, "panes")
    if config is None:
        return 2
    found, errors = discover(config.servers, config.targets, config.capture_timeout)
    if errors and not found:
        print(f"panebus panes: no tmux server reachable ({'; '.join(errors)})", file=sys.stderr)
        return 1
    shown = [p for p in found if args.explain or p.provider is not None]
    if args.json:
        rows = [
            {
                **p.pane.wire(),
                "target": p.pane.target,
                "start_command": p.pane.start_command,
                "dead": p.pane.dead,
                "provider": p.provider,
                "rule": p.rule,
                "detail": p.detail,
            }
            for p in shown
        ]
        print(orjson.dumps(rows).decode())
        return 0
    if not shown:
        print("no agent panes found (try --explain to see every pane and why)")
        return 0
    for p in shown:
        line = (
            f"{p.pane_id:<5} {p.provider or '-':<15} {p.pane.target:<20} "
            f"cmd={p.pane.command} pid={p.pane.pid} {p.pane.width}x{p.pane.height}"
        )
        if args.explain:
            line += f"\n      rule={p.rule}: {p.detail}"
        print(line)
    return 0
