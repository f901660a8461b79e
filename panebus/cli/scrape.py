"""``panebus scrape``: run the scraper in the foreground (or ``--once``), publishing to the bus."""

from __future__ import annotations

import sys
import typing as t

from panebus.cli.common import add_server_arguments, load_scraper_config

if t.TYPE_CHECKING:
    import argparse

READY_TIMEOUT = 5.0


def add_parser(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "scrape",
        help="capture agent panes and publish raw and parsed frames",
        description="Discover agent panes, capture them on timer, file and output triggers, "
        "and publish to the bus. Ctrl-C stops it cleanly.",
    )
    add_server_arguments(parser)
    parser.add_argument(
        "--interval", type=float, metavar="SECONDS", help="timer interval for every provider"
    )
    parser.add_argument(
        "--once", action="store_true", help="capture every agent pane once, publish, exit"
    )
    return parser


def run(args: argparse.Namespace) -> int:
    import signal
    import threading

    from bus.endpoints import Endpoints
    from bus.publisher import Publisher
    from scraper.scrape import Scraper

    config = load_scraper_config(args, "scrape")
    if config is None:
        return 2
    with Publisher(Endpoints.default(), name="scraper") as publisher:
        ready = publisher.wait_ready(timeout=READY_TIMEOUT)
        if not ready:
            print(
                "panebus scrape: the bus is not reachable (start `panebus bus` or `panebus up`)",
                file=sys.stderr,
            )
            if args.once:
                return 1
        if args.once:
            summary = Scraper(
                config, publisher, file_triggers=False, output_triggers=False
            ).run_once()
            print(summary.line())
            return 0
        scraper = Scraper(config, publisher)
        stop = threading.Event()
        previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
        scraper.start()
        print(f"scraping {', '.join(scraper.links)} (Ctrl-C to stop)", file=sys.stderr)
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            scraper.stop()
            signal.signal(signal.SIGTERM, previous)
        print(scraper.summary().line())
    return 0
