"""CURVE key pairs for ``tcp://`` endpoints (``panebus keys``).

Panes can hold secrets, so a bus reachable over TCP must be encrypted and must only let in
clients holding the key the broker trusts. ``panebus keys`` writes two pairs into the private
keys dir: ``broker`` (the broker's bound sockets) and ``client`` (every publisher and
subscriber). The broker admits only the ``client`` public key; clients pin the ``broker``
public key, so neither side can be impersonated by someone without the files.

Files use pyzmq's certificate format (``NAME.key`` public, ``NAME.key_secret`` both halves),
mode 0600 inside a 0700 dir.

Several hosts (docs/guide.md "Several machines"): each host also has a pair of its own, named
after the host (``laptop.key`` / ``laptop.key_secret``, :func:`generate_pair`), which its
forwarder presents to the central broker. The central broker admits the public halves copied
into its ``authorized`` dir (:mod:`bus.auth`); the host pins the central broker's public key,
copied to its ``upstream.key``. The host name is ``PANEBUS_HOST``, else ``[bus] host``, else
the machine's hostname (:func:`this_host`); it starts every ``producer`` the host stamps.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import re
import socket
import typing as t

import zmq
import zmq.auth

from bus.paths import Paths, ensure_private_dir

if t.TYPE_CHECKING:
    from pathlib import Path

logger = logging.getLogger(__name__)

ROLES = ("broker", "client")
KEY_FILE_MODE = 0o600
HOST_ENV = "PANEBUS_HOST"
UPSTREAM_KEY = "upstream"
"""``upstream.key``: the public key of the broker this host forwards to (pinned)."""
RESERVED = (*ROLES, UPSTREAM_KEY)
HOST_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")


class MissingKeysError(FileNotFoundError):
    """A key pair that is missing or unreadable; the message says how to create it."""


@dataclasses.dataclass(frozen=True)
class KeyPair:
    """One CURVE pair, both halves Z85-encoded (40 bytes each)."""

    public: bytes
    secret: bytes


@dataclasses.dataclass(frozen=True)
class CurveKeys:
    """The broker's pair and the clients' pair."""

    broker: KeyPair
    client: KeyPair


def check_host_name(name: str) -> str:
    """Return ``name`` if it can name a host (it starts ``producer`` and a key file's name)."""
    if not HOST_NAME.match(name) or name in RESERVED:
        msg = (f"host name {name!r}: use letters, digits, '.', '_' or '-' (at most 63, not "
               f"{', '.join(RESERVED)})")
        raise ValueError(msg)
    return name


def this_host(environ: t.Mapping[str, str] | None = None) -> str:
    """This host's name: ``PANEBUS_HOST``, else the machine's hostname (first label kept
    whole; a ``:`` would break ``producer``)."""
    env = os.environ if environ is None else environ
    name = env.get(HOST_ENV) or socket.gethostname() or "localhost"
    return name.replace(":", "-")


def key_files(keys_dir: Path, role: str) -> tuple[Path, Path]:
    """``(public_file, secret_file)`` of the pair ``role``."""
    return keys_dir / f"{role}.key", keys_dir / f"{role}.key_secret"


def generate_keys(keys_dir: Path | None = None, *, force: bool = False) -> CurveKeys:
    """Create both pairs (files 0600 in a 0700 dir) and return them.

    Refuses to overwrite existing pairs unless ``force``: replacing a key locks out every
    client that still holds the old one.
    """
    if not zmq.has("curve"):
        msg = "this libzmq was built without CURVE support"
        raise RuntimeError(msg)
    directory = ensure_private_dir(keys_dir or Paths.from_env().keys_dir)
    existing = [path for role in ROLES for path in key_files(directory, role) if path.exists()]
    if existing and not force:
        msg = f"{existing[0]} exists; pass --force to replace the keys"
        raise FileExistsError(msg)
    old_umask = os.umask(0o077)
    try:
        for role in ROLES:
            for path in key_files(directory, role):
                path.unlink(missing_ok=True)
            zmq.auth.create_certificates(str(directory), role)
            for path in key_files(directory, role):
                path.chmod(KEY_FILE_MODE)
    finally:
        os.umask(old_umask)
    logger.info("generated CURVE keys", extra={"keys_dir": str(directory)})
    return load_keys(directory)


def generate_pair(keys_dir: Path, name: str, *, force: bool = False) -> KeyPair:
    """Create the pair ``name`` (``name.key`` public, ``name.key_secret``; 0600, dir 0700).

    Refuses to overwrite unless ``force``: the old public key may be authorized elsewhere.
    """
    if not zmq.has("curve"):
        msg = "this libzmq was built without CURVE support"
        raise RuntimeError(msg)
    directory = ensure_private_dir(keys_dir)
    files = key_files(directory, name)
    if any(path.exists() for path in files) and not force:
        msg = f"{files[0]} exists; pass --force to replace it"
        raise FileExistsError(msg)
    old_umask = os.umask(0o077)
    try:
        for path in files:
            path.unlink(missing_ok=True)
        zmq.auth.create_certificates(str(directory), name)
        for path in files:
            path.chmod(KEY_FILE_MODE)
    finally:
        os.umask(old_umask)
    logger.info("generated CURVE pair", extra={"keys_dir": str(directory), "pair": name})
    return load_pair(directory, name)


def load_pair(keys_dir: Path, name: str) -> KeyPair:
    """Load the pair ``name``; :class:`MissingKeysError` says how to create it."""
    _, secret_file = key_files(keys_dir, name)
    try:
        public, secret = zmq.auth.load_certificate(str(secret_file))
    except (OSError, ValueError) as exc:
        msg = f"no CURVE pair {name!r} in {keys_dir} ({exc}); create it with `panebus keys`"
        raise MissingKeysError(msg) from None
    if secret is None:
        msg = f"{secret_file} holds no secret key; create it with `panebus keys`"
        raise MissingKeysError(msg)
    return KeyPair(public=public, secret=secret)


def load_public(path: Path) -> bytes:
    """The Z85 public key of a ``.key`` file (one copied from another host)."""
    try:
        public, _secret = zmq.auth.load_certificate(str(path))
    except (OSError, ValueError) as exc:
        msg = f"cannot read a CURVE public key from {path} ({exc})"
        raise MissingKeysError(msg) from None
    if len(public) != 40:
        msg = f"{path} holds no CURVE public key"
        raise MissingKeysError(msg)
    return public


def load_keys(keys_dir: Path | None = None) -> CurveKeys:
    """Load both pairs; :class:`MissingKeysError` says to run ``panebus keys`` when absent."""
    directory = keys_dir or Paths.from_env().keys_dir
    pairs: dict[str, KeyPair] = {}
    for role in ROLES:
        _, secret_file = key_files(directory, role)
        try:
            public, secret = zmq.auth.load_certificate(str(secret_file))
        except (OSError, ValueError) as exc:
            msg = f"no CURVE keys in {directory} ({exc}); create them with `panebus keys`"
            raise MissingKeysError(msg) from None
        if secret is None:
            msg = f"{secret_file} holds no secret key; create the keys with `panebus keys`"
            raise MissingKeysError(msg)
        pairs[role] = KeyPair(public=public, secret=secret)
    return CurveKeys(broker=pairs["broker"], client=pairs["client"])
