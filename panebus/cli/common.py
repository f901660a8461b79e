"""Arguments several verbs share, defined once."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse
import sys
import typing as t

if t.TYPE_CHECKING:
    from scraper.config import ScraperConfig


def add_server_arguments(parser: argparse.ArgumentParser) -> None:
    """``-L NAME`` / ``-S PATH``: which tmux server, exactly as tmux spells them."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument("-L", dest="socket_name", metavar="NAME", help="tmux socket name")
    group.add_argument("-S", dest="socket_path", metavar="PATH", help="tmux socket path")


def server_args(args: argparse.Namespace) -> list[str]:
    """The tmux arguments selecting the server chosen with ``-L``/``-S`` (empty: default)."""
    if getattr(args, "socket_name", None):
        return ["-L", args.socket_name]
    if getattr(args, "socket_path", None):
        return ["-S", args.socket_path]
    return []


def load_scraper_config(args: argparse.Namespace, verb: str) -> ScraperConfig | None:
    """The config file with ``-L``/``-S`` (and ``--interval``) applied; on a bad config, say
    why on stderr and return None (the verb then exits 2)."""
    from bus.paths import Paths
    from scraper.config import ConfigError, load_for_command_line

    try:
        return load_for_command_line(
            Paths.from_env(),
            getattr(args, "socket_name", None),
            getattr(args, "socket_path", None),
            getattr(args, "interval", None),
        )
    except ConfigError as exc:
        print(f"panebus {verb}: {exc}", file=sys.stderr)
        return None
