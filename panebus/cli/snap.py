"""``panebus snap [PANE]``: capture one pane (or every agent pane) now and publish it."""

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
        "snap",
        help="capture a pane now (trigger manual) and publish it",
        description="Capture PANE (%%3 or session:window.pane), or every agent pane, once; "
        "publish the raw and parsed frames with trigger 'manual'.",
    )
    add_server_arguments(parser)
    parser.add_argument("pane", nargs="?", metavar="PANE", help="pane id or session:window.pane")
    parser.add_argument("--json", action="store_true", help="print the published frames")
    return parser


def run(args: argparse.Namespace) -> int:
    import orjson

    from bus.endpoints import Endpoints
    from bus.publisher import Publisher
    from panebus.cli.scrape import READY_TIMEOUT
    from scraper.scrape import Scraper

    config = load_scraper_config(args, "snap")
    if config is None:
        return 2
    with Publisher(Endpoints.default(), name="snap") as publisher:
        if not publisher.wait_ready(timeout=READY_TIMEOUT):
            print("panebus snap: the bus is not reachable", file=sys.stderr)
            return 1
        scraper = Scraper(config, publisher, file_triggers=False, output_triggers=False)
        try:
            outcomes = scraper.snap(args.pane)
        except LookupError as exc:
            print(f"panebus snap: {exc}", file=sys.stderr)
            return 1
    for outcome in outcomes:
        if args.json:
            for body in (outcome.raw, outcome.parsed):
                if body is not None:
                    print(orjson.dumps(body).decode())
            continue
        if outcome.raw is not None:
            pane = outcome.raw["pane"]
            limits = len(outcome.usage.limits) if outcome.usage else 0
            print(f"{pane['pane_id']} {outcome.raw['provider']}: raw {outcome.raw['id'][:8]}, "
                  f"{len(outcome.raw['text'])} chars, {limits} limit(s) parsed")
    if not outcomes:
        print("nothing captured (no agent panes)", file=sys.stderr)
    return 0
