"""``panebus doctor``: check panebus's own packages, tmux, the dirs, who can reach the bus, the
bus, agent panes, the Claude hook, ccusage."""

from __future__ import annotations

import typing as t

from panebus.cli.common import add_server_arguments, load_scraper_config, server_args

if t.TYPE_CHECKING:
    import argparse

MARKS = {"ok": "ok  ", "warn": "warn", "fail": "FAIL"}


def add_parser(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "doctor", help="check what panebus needs and say what to fix",
        description="Check that bus, scraper and sinks are panebus's own, tmux, the dirs, "
        "who can reach the bus (insecure tcp is flagged), "
        "the bus, agent panes, the Claude hook and ccusage.",
    )
    add_server_arguments(parser)
    parser.add_argument("--json", action="store_true", help="one JSON object per check")
    return parser


def run(args: argparse.Namespace) -> int:
    import dataclasses

    import orjson

    from panebus.doctor import run_checks

    if load_scraper_config(args, "doctor") is None:
        return 2  # a bad config file: the one line saying why is already printed
    checks = run_checks(server_args(args))
    for check in checks:
        if args.json:
            print(orjson.dumps(dataclasses.asdict(check)).decode())
            continue
        line = f"{MARKS[check.status]} {check.name:<12} {check.detail}"
        if check.fix:
            line += f"\n     {'':<12} fix: {check.fix}"
        print(line)
    failed: t.Final = any(check.status == "fail" for check in checks)
    return 1 if failed else 0
