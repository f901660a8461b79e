"""``panebus keys``: the CURVE key pairs tcp endpoints need, and the keys of other hosts.

With no option: the broker and client pairs of this host's own tcp endpoints. The options
set up several hosts (docs/guide.md "Several machines"): ``--host`` makes this host's own
pair, ``--upstream-key`` pins the central broker's key, ``--authorize``/``--revoke`` manage
the hosts a central broker admits (a file per host in ``keys/authorized``), ``--list`` shows
all of it.
"""

from __future__ import annotations

import sys
import typing as t

if t.TYPE_CHECKING:
    import argparse
    from pathlib import Path


def add_parser(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "keys",
        help="create CURVE key pairs; authorize or revoke other hosts",
        description="Write the broker and client CURVE key pairs (files 0600 in the private "
        "keys dir). tcp endpoints use them; the broker admits only the client key. For "
        "several hosts: --host makes this host's own pair, --upstream-key pins the central "
        "broker's public key, --authorize/--revoke manage the hosts a central broker admits "
        "(changes apply to a running broker within a second).",
    )
    parser.add_argument("--force", action="store_true", help="replace existing keys")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--host", nargs="?", const="", metavar="NAME",
                       help="create this host's own pair NAME.key / NAME.key_secret "
                       "(default NAME: PANEBUS_HOST, [bus] host or the hostname)")
    group.add_argument("--upstream-key", metavar="FILE",
                       help="pin the central broker's public key (its broker.key)")
    group.add_argument("--authorize", metavar="FILE",
                       help="admit the host whose public key is FILE (NAME.key names it)")
    group.add_argument("--revoke", metavar="NAME",
                       help="stop admitting host NAME (its open connections are closed)")
    group.add_argument("--list", action="store_true",
                       help="show this host's keys and the hosts it admits")
    parser.add_argument("--name", metavar="NAME",
                        help="with --authorize: the host's name when FILE is not NAME.key")
    return parser


def run(args: argparse.Namespace) -> int:
    from bus import keys
    from bus.paths import Paths

    directory = Paths.from_env().keys_dir
    try:
        if args.host is not None:
            return _host_pair(directory, args.host, args.force)
        if args.upstream_key:
            return _copy_public(args.upstream_key, directory, keys.UPSTREAM_KEY, args.force)
        if args.authorize:
            return _authorize(directory, args.authorize, args.name, args.force)
        if args.revoke:
            return _revoke(directory, args.revoke)
        if args.list:
            return _list(directory)
        keys.generate_keys(directory, force=args.force)
    except (FileExistsError, RuntimeError, ValueError, OSError) as exc:
        print(f"panebus keys: {exc}", file=sys.stderr)
        return 1
    for role in keys.ROLES:
        public_file, secret_file = keys.key_files(directory, role)
        print(f"{role}: {public_file} {secret_file}")
    return 0


def _configured_host() -> str:
    import os

    from bus.endpoints import EndpointError
    from bus.federation_config import FederationConfig
    from bus.keys import this_host
    from bus.paths import Paths

    try:
        configured = FederationConfig.load(Paths.from_env(), os.environ).host
    except EndpointError:
        configured = None
    return configured or this_host()


def _host_pair(directory: Path, name: str, force: bool) -> int:
    from bus.keys import check_host_name, generate_pair, key_files

    host = check_host_name(name or _configured_host())
    generate_pair(directory, host, force=force)
    public, secret = key_files(directory, host)
    print(f"host {host}: {public} {secret}")
    print(f"copy {public} into the central host's keys/authorized/ "
          "(there: `panebus keys --authorize FILE`)")
    return 0


def _copy_public(source: str, directory: Path, name: str, force: bool) -> int:
    from pathlib import Path

    from bus.keys import KEY_FILE_MODE, key_files, load_public
    from bus.paths import ensure_private_dir

    public = load_public(Path(source))  # refuses a file that is not a CURVE public key
    target = key_files(ensure_private_dir(directory), name)[0]
    if target.exists() and not force:
        raise FileExistsError(f"{target} exists; pass --force to replace it")
    # Only the public half is written, even when FILE held both: a secret never travels.
    text = (f"#   ZeroMQ CURVE Public Certificate (copied by panebus keys from {source})\n"
            f'metadata\ncurve\n    public-key = "{public.decode()}"\n')
    target.write_text(text, encoding="utf-8")
    target.chmod(KEY_FILE_MODE)
    print(f"{name}: {target}")
    return 0


def _authorize(directory: Path, source: str, name: str | None, force: bool) -> int:
    from pathlib import Path

    from bus.auth import authorized_dir
    from bus.keys import check_host_name

    host = check_host_name(name or Path(source).name.removesuffix(".key_secret")
                           .removesuffix(".key"))
    return _copy_public(source, authorized_dir(directory), host, force)


def _revoke(directory: Path, name: str) -> int:
    from bus.auth import authorized_dir

    target = authorized_dir(directory) / f"{name}.key"
    if not target.exists():
        print(f"panebus keys: host {name!r} is not authorized ({target} does not exist)",
              file=sys.stderr)
        return 1
    target.unlink()
    print(f"revoked {name}: a running broker closes its connections within a second")
    return 0


def _list(directory: Path) -> int:
    from bus.auth import authorized_dir, read_authorized
    from bus.keys import ROLES, UPSTREAM_KEY, key_files

    print(f"keys dir: {directory}")
    for path in sorted(directory.glob("*.key")):
        name = path.name.removesuffix(".key")
        role = ("this host's tcp endpoints" if name in ROLES else
                "the central broker (pinned)" if name == UPSTREAM_KEY else "this host's own")
        secret = key_files(directory, name)[1].exists()
        print(f"  {name:<16} {role}{'' if secret or name == UPSTREAM_KEY else ' (public only)'}")
    hosts = read_authorized(authorized_dir(directory))
    print(f"authorized hosts ({authorized_dir(directory)}): {len(hosts)}")
    for key, host in sorted(hosts.items(), key=lambda item: item[1]):
        print(f"  {host:<16} {key.decode()}")
    return 0
