"""``panebus`` command line: one module per verb, each thin (parse arguments, call the library).

Every verb module exposes ``add_parser(subparsers) -> argparse.ArgumentParser`` and
``run(args) -> int``. Verbs are imported lazily so ``panebus hook claude-statusline`` starts
fast and a broken optional verb cannot take the others down.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
import typing as t

VERBS: dict[str, str] = {
    "bus": "panebus.cli.bus",
    "publish": "panebus.cli.publish",
    "tail": "panebus.cli.tail",
    "keys": "panebus.cli.keys",
    "panes": "panebus.cli.panes",
    "scrape": "panebus.cli.scrape",
    "snap": "panebus.cli.snap",
    "parse": "panebus.cli.parse",
    "hook": "panebus.cli.hook",
    "ingest": "panebus.cli.ingest",
    "rollout": "panebus.cli.rollout",
    "sink": "panebus.cli.sink",
    "archive": "panebus.cli.archive",
    "replay": "panebus.cli.replay",
    "alias": "panebus.cli.alias",
    "shell-init": "panebus.cli.shell_init",
    "probe": "panebus.cli.probe",
    "up": "panebus.cli.up",
    "doctor": "panebus.cli.doctor",
    "status": "panebus.cli.status",
    "layout": "panebus.cli.layout",
    "demo": "panebus.cli.demo",
    "bench": "panebus.cli.bench",
    "forecast": "panebus.cli.forecast",
    "history": "panebus.cli.history",
    "top": "panebus.cli.top",
}

USAGE_ERROR = 2


class VerbModule(t.Protocol):
    """What a verb module provides."""

    def add_parser(
        self, subparsers: argparse._SubParsersAction[argparse.ArgumentParser]
    ) -> argparse.ArgumentParser: ...

    def run(self, args: argparse.Namespace) -> int: ...


class _VersionAction(argparse.Action):
    """``--version``, looked up only when asked: importlib.metadata costs ~30 ms, which every
    other command (the Claude statusLine hook above all) must not pay."""

    def __init__(self, option_strings: list[str], dest: str, **kwargs: t.Any) -> None:
        super().__init__(option_strings, dest, nargs=0, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *args: t.Any, **kwargs: t.Any) -> None:
        import panebus

        parser.exit(message=f"panebus {panebus.__version__}\n")


def _load(verb: str) -> VerbModule | None:
    try:
        return t.cast("VerbModule", importlib.import_module(VERBS[verb]))
    except ModuleNotFoundError as exc:
        if exc.name == VERBS[verb]:
            return None  # verb not built yet
        raise


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """Build the top-level parser; with ``only``, load just that verb (fast path)."""
    parser = argparse.ArgumentParser(
        prog="panebus",
        description="Watch agent tmux panes and publish exact usage figures on a ZeroMQ bus.",
    )
    parser.add_argument("--version", action=_VersionAction, help="print the version and exit")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging")
    subparsers = parser.add_subparsers(dest="verb", metavar="COMMAND")
    for verb in VERBS:
        if only is not None and verb != only:
            continue
        module = _load(verb)
        if module is None:
            continue
        sub = module.add_parser(subparsers)
        sub.set_defaults(_run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``panebus`` console script."""
    args_list = sys.argv[1:] if argv is None else argv
    first = next((a for a in args_list if not a.startswith("-")), None)
    parser = build_parser(only=first if first in VERBS else None)
    args = parser.parse_args(args_list)
    level = logging.WARNING - 10 * min(args.verbose, 2)
    from panebus.cli.common import configure_logging

    configure_logging(int(os.environ.get("PANEBUS_LOG_LEVEL", level)))
    run = getattr(args, "_run", None)
    if run is None:
        parser.print_help(sys.stderr)
        return USAGE_ERROR
    try:
        return int(run(args))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
