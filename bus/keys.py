"""CURVE key pairs for ``tcp://`` endpoints (``panebus keys``).

Panes can hold secrets, so a bus reachable over TCP must be encrypted and must only let in
clients holding the key the broker trusts. ``panebus keys`` writes two pairs into the private
keys dir: ``broker`` (the broker's bound sockets) and ``client`` (every publisher and
subscriber). The broker admits only the ``client`` public key; clients pin the ``broker``
public key, so neither side can be impersonated by someone without the files.

Files use pyzmq's certificate format (``NAME.key`` public, ``NAME.key_secret`` both halves),
mode 0600 inside a 0700 dir.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import typing as t

import zmq
import zmq.auth

from bus.paths import Paths, ensure_private_dir

if t.TYPE_CHECKING:
    from pathlib import Path

logger = logging.getLogger(__name__)

ROLES = ("broker", "client")
KEY_FILE_MODE = 0o600


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
