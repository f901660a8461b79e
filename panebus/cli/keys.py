"""``panebus keys``: create the CURVE key pairs that tcp endpoints need."""

from __future__ import annotations

import sys
import typing as t

if t.TYPE_CHECKING:
    import argparse


def add_parser(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "keys",
        help="create the CURVE key pairs for tcp endpoints",
        description="Write the broker and client CURVE key pairs (files 0600 in the private "
        "keys dir). tcp endpoints use them; the broker admits only the client key.",
    )
    parser.add_argument("--force", action="store_true", help="replace existing keys")
    return parser


def run(args: argparse.Namespace) -> int:
    from bus import keys
    from bus.paths import Paths

    directory = Paths.from_env().keys_dir
    try:
        keys.generate_keys(directory, force=args.force)
    except (FileExistsError, RuntimeError) as exc:
        print(f"panebus keys: {exc}", file=sys.stderr)
        return 1
    for role in keys.ROLES:
        public_file, secret_file = keys.key_files(directory, role)
        print(f"{role}: {public_file} {secret_file}")
    return 0
