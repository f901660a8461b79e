"""Which remote hosts may use this broker: a directory of their CURVE public keys.

The user's side is docs/guide.md "Several machines"; the design, docs/architecture.md "Several
hosts: identities, federation, revocation"; the wire rules, docs/wire.md "Several hosts".

A broker that accepts other hosts (``[bus] listen``) binds its tcp endpoints as a CURVE server
and asks ZeroMQ's ZAP handler (pyzmq's :class:`~zmq.auth.thread.ThreadAuthenticator`) about
every handshake. The handler asks :class:`KeyRing`, which holds the public keys found in the
``authorized`` dir of the keys dir, in ZeroMQ's certificate-store layout: one ``NAME.key`` per
host, ``NAME`` being the host's name. The file name is what a key may speak for: frames sent
with the key of ``laptop.key`` must have a ``producer`` starting with ``laptop:``.

The ring re-reads the directory when its listing changes (the broker asks every
:data:`RELOAD_INTERVAL` seconds), so adding a key lets the host in and removing one shuts it
out within a second, without a restart. ZAP runs only at the handshake, so a removed key's
*established* connection is cut by the broker: every message it takes from a remote peer
carries the ZAP user id (the peer's public key, ZeroMQ's ``User-Id`` message property) and is
refused when that key is no longer in the ring, and the broker unbinds and rebinds its tcp
endpoints, which closes every remote connection; the hosts still authorized reconnect through
the handshake, the revoked one is refused there (see docs/architecture.md "Several hosts").
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
import typing as t

import zmq
import zmq.auth

from bus.endpoints import EndpointError
from bus.keys import KeyPair, MissingKeysError, key_files, load_pair

if t.TYPE_CHECKING:
    from pathlib import Path

logger = logging.getLogger(__name__)

AUTHORIZED_DIR = "authorized"
RELOAD_INTERVAL = 0.5
ZAP_DOMAIN = "panebus"
LOCAL = "local"
"""The ZAP user id of this host's own ``client`` key (local tools over tcp)."""
DENIALS_KEPT = 16


def authorized_dir(keys_dir: Path) -> Path:
    """The dir of the public keys of hosts allowed on this broker's tcp endpoints."""
    return keys_dir / AUTHORIZED_DIR


def _listing(directory: Path) -> tuple[tuple[str, int, int, int], ...]:
    """What changes when a key file is added, removed or rewritten (name, inode, mtime, size)."""
    try:
        entries = sorted(directory.glob("*.key"))
    except OSError:
        return ()
    signature = []
    for path in entries:
        try:
            info = path.stat()
        except OSError:
            continue
        signature.append((path.name, info.st_ino, info.st_mtime_ns, info.st_size))
    return tuple(signature)


def read_authorized(directory: Path) -> dict[bytes, str]:
    """``{z85 public key: host name}`` of every readable ``NAME.key`` in ``directory``.

    An unreadable or malformed file is logged and skipped (it admits nobody), never fatal.
    """
    keys: dict[bytes, str] = {}
    try:
        files = sorted(directory.glob("*.key"))
    except OSError:
        return keys
    for path in files:
        try:
            public, _secret = zmq.auth.load_certificate(str(path))
        except (OSError, ValueError) as exc:
            logger.warning("unreadable key file skipped", extra={"file": str(path),
                                                                  "error": str(exc)})
            continue
        if len(public) != 40:
            logger.warning("key file without a CURVE public key skipped",
                           extra={"file": str(path)})
            continue
        keys[public] = path.name[: -len(".key")]
    return keys


@dataclasses.dataclass(frozen=True)
class Denial:
    """A handshake refused: which key (Z85) and when (``time.time()``)."""

    key: str
    at: float


class KeyRing:
    """The keys a broker admits, and the host each one speaks for.

    ``callback`` is the ZAP credentials provider (called from the authenticator's thread);
    the broker's loop calls :meth:`reload` and :meth:`host_of`. The mapping is replaced
    whole, never mutated, so both threads always see one consistent set.
    """

    def __init__(self, directory: Path | None = None, local_key: bytes | None = None) -> None:
        self.directory = directory
        self.local_key = local_key
        self._keys: dict[bytes, str] = {}
        self._listing: tuple[tuple[str, int, int, int], ...] = ()
        self._lock = threading.Lock()
        self.denials: list[Denial] = []
        self.denied = 0
        self.reload()

    # -- ZAP ---------------------------------------------------------------------------------
    def callback(self, domain: str, key: bytes) -> bool:
        """Admit the local client key and every authorized host key (Z85 ``key``)."""
        if key == self.local_key or key in self._keys:
            return True
        with self._lock:
            self.denied += 1
            self.denials = [*self.denials[-(DENIALS_KEPT - 1):],
                            Denial(key.decode("ascii", "replace"), time.time())]
        logger.warning("CURVE handshake refused: key not authorized",
                       extra={"key": key.decode("ascii", "replace"), "domain": domain})
        return False

    # -- the broker's side ---------------------------------------------------------------------
    def host_of(self, user_id: str) -> str | None:
        """The host a ZAP user id (a Z85 key) speaks for: :data:`LOCAL`, a name, or None
        when the key is not (or no longer) admitted."""
        key = user_id.encode("ascii", "replace")
        if key == self.local_key:
            return LOCAL
        return self._keys.get(key)

    @property
    def hosts(self) -> dict[str, str]:
        """``{host: z85 key}`` of the authorized hosts."""
        return {host: key.decode() for key, host in self._keys.items()}

    def reload(self) -> set[bytes]:
        """Re-read the dir when its listing changed; return the keys that were removed."""
        if self.directory is None:
            return set()
        listing = _listing(self.directory)
        if listing == self._listing:
            return set()
        self._listing = listing
        before = self._keys
        after = read_authorized(self.directory)
        self._keys = after
        removed = set(before) - set(after)
        changed = {key for key in set(after) & set(before) if after[key] != before[key]}
        if before or after:
            logger.info("authorized host keys reloaded", extra={
                "hosts": sorted(after.values()), "revoked": sorted(before[k] for k in removed)})
        return removed | changed


def user_id(part: bytes | zmq.Frame) -> str | None:
    """The ZAP user id of the peer that sent a message (a Z85 key), None without ZAP.

    ZAP stamps every message taken from a CURVE peer with it; :meth:`KeyRing.host_of` maps it
    to the host the key speaks for."""
    if not isinstance(part, zmq.Frame):
        return None
    try:
        value = part.get("User-Id")
    except zmq.ZMQError:
        return None
    return value if isinstance(value, str) else None


@dataclasses.dataclass(frozen=True)
class RemoteAccess:
    """The tcp endpoints a broker opens to other hosts, its server pair and the key ring.

    ``publish`` is not opened: remote hosts deliver through the acknowledged publish of the
    snapshot endpoint (:mod:`bus.federation`), which says what arrived.
    """

    subscribe: str
    snapshot: str
    server: KeyPair
    authorized: Path

    @classmethod
    def listen(cls, address: str, keys_dir: Path) -> RemoteAccess:
        """``tcp://HOST:PORT``: subscribe on ``PORT + 1``, snapshot/acked publish on
        ``PORT + 2`` (the ports :meth:`bus.endpoints.Endpoints.tcp` gives the same base)."""

        if not address.startswith("tcp://") or ":" not in address[len("tcp://"):]:
            raise EndpointError(f"listen address must be tcp://HOST:PORT, not {address!r}")
        host, _, port = address[len("tcp://"):].rpartition(":")
        try:
            base = int(port)
        except ValueError:
            raise EndpointError(f"listen address {address!r}: port is not a number") from None
        try:
            server = load_pair(keys_dir, "broker")
        except MissingKeysError as exc:
            msg = f"listening on {address} needs the broker key pair: {exc}"
            raise EndpointError(msg) from None
        return cls(
            subscribe=f"tcp://{host}:{base + 1}",
            snapshot=f"tcp://{host}:{base + 2}",
            server=server,
            authorized=authorized_dir(keys_dir),
        )


def public_key_file(keys_dir: Path, name: str) -> Path:
    """Where the public half of the pair ``name`` is."""
    return key_files(keys_dir, name)[0]
