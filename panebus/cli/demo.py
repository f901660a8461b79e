"""``panebus demo [--attach] [--seconds N]``: the whole pipeline with stand-in agents.

Works on a machine with no agent installed: a private tmux server with stand-in Codex, Claude
Code and claude-monitor panes, the stack, probes, and a summary of what every sink produced.
Leaves no tmux server or process behind.
"""

from __future__ import annotations

import signal
import sys
import typing as t

if t.TYPE_CHECKING:
    import argparse

    from panebus.demo.run import Summary


def add_parser(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    """Register the verb."""
    parser = subparsers.add_parser(
        "demo",
        help="run the whole pipeline against stand-in agents on a private tmux server",
        description=(
            "Start stand-in Codex, Claude Code and claude-monitor panes on a private tmux "
            "server, run the stack against them, probe /status and /usage, and print what "
            "occ, acm and os show, the archive files, the window log and the feature log. "
            "Cleans up after itself."
        ),
    )
    parser.add_argument(
        "--seconds",
        type=float,
        default=40.0,
        metavar="N",
        help="how long to keep watching the figures move (default 40)",
    )
    parser.add_argument("--attach", action="store_true", help="watch it in tmux (detach to end)")
    parser.add_argument("--seed", type=int, default=0, help="stand-ins' figures seed")
    return parser


SHOWN = 40


def _last(rows: t.Sized) -> str:
    return f", the last {SHOWN} below" if len(rows) > SHOWN else ""


def print_summary(summary: Summary) -> None:
    """The closing printout."""
    from panebus.cli.forecast import line as forecast_line

    print()
    print("== what the aliases show")
    for name, lines in summary.aliases.items():
        for line in lines or ["(nothing yet)"]:
            print(f"{name:>4}  {line}")
    print()
    print(f"== archive files ({len(summary.archive_files)})")
    for path in summary.archive_files:
        print(f"  {path}")
    print()
    windows = [r for r in summary.window_rows if r.get("event") != "forecast"]
    print(f"== window log ({len(windows)} events{_last(windows)}; forecasts listed below)")
    for row in windows[-SHOWN:]:
        used = row.get("used_pct")
        window = str(row.get("window", "?"))
        if row.get("scope"):
            window += f" ({row['scope']})"
        print(
            f"  {row.get('provider', '?'):<14} {window:<20} "
            f"{row.get('event', '?'):<8} used {used if used is not None else '?'}%  "
            f"resets {row.get('resets_at') or '?'}"
        )
    print()
    print(f"== feature log rows ({len(summary.feature_rows)}{_last(summary.feature_rows)})")
    for line in summary.feature_rows[-SHOWN:]:
        print(f"  {line}")
    print()
    print(f"== forecasts ({len(summary.forecasts)}, `panebus forecast`)")
    for body in summary.forecasts.values():
        print(f"  {forecast_line(body)}")
    print()
    print(f"== notifications ({len(summary.events)}, `panebus tail event.`)")
    for body in summary.events[-SHOWN:]:
        print(f"  ⚑ {body.get('text', body.get('event'))}")
    print()
    print(f"files kept in {summary.home} (rm -r it when done)")


def run(args: argparse.Namespace) -> int:
    """Run the demo, print the summary; exit 1 when a step did not happen."""
    from panebus.demo.run import DemoError, run_demo

    if args.attach and not sys.stdin.isatty():
        print("panebus demo: --attach needs a terminal", file=sys.stderr)
        return 2

    def report(line: str) -> None:
        print(line, flush=True)

    def terminate(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)  # unwinds through run_demo's cleanup

    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, terminate)

    try:
        summary = run_demo(report, seconds=args.seconds, attach=args.attach, seed=args.seed)
    except DemoError as exc:
        print(f"panebus demo: {exc}", file=sys.stderr)
        return 1
    print_summary(summary)
    return 0
