"""Arguments several verbs share, defined once."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse


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
