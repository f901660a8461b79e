"""``panebus panes``: list the agent panes of a tmux server and say which rule found each."""

from __future__ import annotations

import sys
import typing as t

from panebus.cli.common import add_server_arguments

if t.TYPE_CHECKING:
    import argparse

    from scraper.classify import Classification
    from scraper.discovery import PaneInfo


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


def classify_server(args: argparse.Namespace) -> tuple[str, list[tuple[PaneInfo, Classification]]]:
    """Sweep the chosen servers (config unless -L/-S) and classify every pane."""
    from bus.paths import Paths
    from scraper.capture import ServerLink
    from scraper.classify import ProcReader, classify_all
    from scraper.config import load_for_command_line
    from scraper.control import CommandError
    from scraper.parsers.registry import detect_provider

    config = load_for_command_line(Paths.from_env(), args.socket_name, args.socket_path)
    proc = ProcReader()
    results: list[tuple[PaneInfo, Classification]] = []
    errors = []
    for spec in config.servers:
        link = ServerLink(spec, timeout=config.capture_timeout)
        try:
            sweep = link.sweep()
        except (CommandError, TimeoutError, OSError) as exc:
            errors.append(f"{spec.label}: {exc}")
            continue

        def capture(pane: PaneInfo, link: ServerLink = link) -> str | None:
            try:
                return link.capture(pane.pane_id)
            except (CommandError, TimeoutError, OSError):
                return None

        results += classify_all(
            sweep.panes, config.targets, proc, capture=capture, detect=detect_provider
        )
    return "; ".join(errors), results


def run(args: argparse.Namespace) -> int:
    import orjson

    error, results = classify_server(args)
    if error and not results:
        print(f"panebus panes: no tmux server reachable ({error})", file=sys.stderr)
        return 1
    shown = [(p, c) for p, c in results if args.explain or c.is_agent]
    if args.json:
        rows = [
            {
                **pane.wire(),
                "target": pane.target,
                "start_command": pane.start_command,
                "dead": pane.dead,
                "provider": verdict.provider,
                "rule": verdict.rule,
                "detail": verdict.detail,
            }
            for pane, verdict in shown
        ]
        print(orjson.dumps(rows).decode())
        return 0
    if not shown:
        print("no agent panes found (try --explain to see every pane and why)")
        return 0
    for pane, verdict in shown:
        line = (
            f"{pane.pane_id:<5} {verdict.provider or '-':<15} {pane.target:<20} "
            f"cmd={pane.command} pid={pane.pid} {pane.width}x{pane.height}"
        )
        if args.explain:
            line += f"\n      rule={verdict.rule}: {verdict.detail}"
        print(line)
    return 0
