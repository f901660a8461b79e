"""Where the broker binds and clients connect, and the privacy rules for it (docs/wire.md
"Endpoints and security").

Pane text can hold secrets, so nobody else on the machine may read the bus:

* default: ``ipc://`` sockets in the private (0700, owned by us) runtime dir; an ``ipc://`` path
  given in the config or environment must be in a dir only the user can enter (created 0700
  when missing; an existing one open to others is refused with the reason, never changed);
* ``tcp://`` only when configured, and then with CURVE keys (``panebus keys``), or with
  ``insecure = true`` on a loopback address only (127.0.0.0/8, ::1, localhost). Anything else is
  refused with :class:`InsecureEndpointError` before a socket is opened. Loopback without
  CURVE is still open to every local user: :meth:`Endpoints.warnings` says so, the broker logs
  it when it binds, and ``panebus doctor`` flags it.

Overrides, highest first: ``PANEBUS_BUS_PUBLISH`` / ``PANEBUS_BUS_SUBSCRIBE`` /
``PANEBUS_BUS_SNAPSHOT`` and ``PANEBUS_BUS_INSECURE=1`` in the environment, then the ``[bus]``
section of ``Paths.config_file`` (keys ``publish``, ``subscribe``, ``snapshot``, ``insecure``).
"""

from __future__ import annotations

import dataclasses
import ipaddress
import logging
import os
import stat
import typing as t
from pathlib import Path

from bus import keys
from bus.config import ConfigFileError, read_config_document
from bus.paths import Paths

logger = logging.getLogger(__name__)

IPC_PATH_MAX = 107  # sun_path of an AF_UNIX address, minus the terminating NUL
ROLES = ("publish", "subscribe", "snapshot")
ENV_PREFIX = "PANEBUS_BUS_"
TRUE_WORDS = ("1", "true", "yes", "on")


class EndpointError(ValueError):
    """An endpoint string panebus cannot use (unknown scheme, path too long, bad config)."""


class InsecureEndpointError(EndpointError):
    """A tcp endpoint without CURVE keys that is not on loopback with ``insecure``."""


def _tcp_host(endpoint: str) -> str:
    """The host part of ``tcp://HOST:PORT`` (``[::1]`` loses its brackets)."""
    address = endpoint[len("tcp://") :]
    host, _, _port = address.rpartition(":")
    return host.strip("[]")


def is_loopback(host: str) -> bool:
    """Whether ``host`` names only this machine (127.0.0.0/8, ::1 or ``localhost``)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_ipc_dir(directory: Path) -> None:
    """Refuse a socket directory another user can enter, list or own.

    Anyone who can enter the directory can connect to the sockets in it and read every pane's
    text; the default runtime dir is made 0700, but a path given in the config is the user's
    own and is checked, never changed. A directory that does not exist yet is not refused here:
    :meth:`Endpoints.default` creates it 0700.
    """
    try:
        info = directory.stat()
    except FileNotFoundError:
        return
    if info.st_uid != os.getuid():
        raise InsecureEndpointError(
            f"ipc socket dir {directory} is owned by uid {info.st_uid}, not by you: "
            "its owner could read the bus; use a dir of your own"
        )
    open_bits = stat.S_IMODE(info.st_mode) & 0o077
    if open_bits:
        raise InsecureEndpointError(
            f"ipc socket dir {directory} has mode {stat.S_IMODE(info.st_mode):04o}: other users "
            f"can enter it and connect to the bus (pane text can hold secrets); "
            f"run `chmod 700 {directory}` or choose a private dir"
        )


def check_endpoint(endpoint: str, *, curve: bool, insecure: bool) -> None:
    """Refuse an endpoint that would let others read the bus; see the module docstring."""
    if endpoint.startswith("ipc://"):
        path = endpoint[len("ipc://") :]
        if len(path.encode()) > IPC_PATH_MAX:
            raise EndpointError(
                f"ipc path too long for a unix socket ({len(path)} > {IPC_PATH_MAX}): {path}; "
                "set PANEBUS_HOME or XDG_RUNTIME_DIR to a shorter dir"
            )
        check_ipc_dir(Path(path).absolute().parent)
        return
    if endpoint.startswith("inproc://"):
        return
    if not endpoint.startswith("tcp://"):
        raise EndpointError(f"unsupported endpoint {endpoint!r}: use ipc:// or tcp://")
    if curve:
        return
    host = _tcp_host(endpoint)
    if not insecure:
        raise InsecureEndpointError(
            f"{endpoint}: tcp needs CURVE keys (run `panebus keys`), or `insecure` on loopback"
        )
    if not is_loopback(host):
        raise InsecureEndpointError(
            f"{endpoint}: insecure tcp is allowed on loopback only (127.0.0.1, ::1, localhost), "
            f"not on {host!r}; use CURVE keys (`panebus keys`)"
        )


@dataclasses.dataclass(frozen=True)
class Endpoints:
    """The three broker addresses, plus CURVE keys when they are tcp.

    ``publish``: the broker's XSUB binds, publishers connect. ``subscribe``: XPUB binds,
    subscribers connect. ``snapshot``: ROUTER binds (snapshot service and acked publish).
    """

    publish: str
    subscribe: str
    snapshot: str
    curve: keys.CurveKeys | None = None
    insecure: bool = False

    def __post_init__(self) -> None:
        for endpoint in (self.publish, self.subscribe, self.snapshot):
            check_endpoint(endpoint, curve=self.curve is not None, insecure=self.insecure)

    @property
    def readable_by_others(self) -> bool:
        """tcp without CURVE: every local user can connect (loopback is all it is limited to)."""
        return self.curve is None and any(
            endpoint.startswith("tcp://") for endpoint in (self.publish, self.subscribe)
        )

    def warnings(self) -> list[str]:
        """What a user must be told when a broker binds these endpoints."""
        if not self.readable_by_others:
            return []
        return [
            f"insecure tcp bus at {self.subscribe}: every local user can connect, read every "
            "pane's text (which can hold secrets) and publish frames; use the default ipc "
            "socket or CURVE keys (`panebus keys`) unless this machine is yours alone"
        ]

    @classmethod
    def ipc(cls, directory: Path) -> Endpoints:
        """Unix sockets in ``directory`` (which the caller made private)."""
        return cls(
            publish=f"ipc://{directory / 'publish.sock'}",
            subscribe=f"ipc://{directory / 'subscribe.sock'}",
            snapshot=f"ipc://{directory / 'snapshot.sock'}",
        )

    @classmethod
    def tcp(
        cls,
        host: str,
        port: int,
        *,
        curve: keys.CurveKeys | None = None,
        insecure: bool = False,
    ) -> Endpoints:
        """Three consecutive ports from ``port`` on ``host`` (publish, subscribe, snapshot)."""
        shown = f"[{host}]" if ":" in host else host
        return cls(
            publish=f"tcp://{shown}:{port}",
            subscribe=f"tcp://{shown}:{port + 1}",
            snapshot=f"tcp://{shown}:{port + 2}",
            curve=curve,
            insecure=insecure,
        )

    @classmethod
    def default(
        cls, paths: Paths | None = None, environ: t.Mapping[str, str] | None = None
    ) -> Endpoints:
        """Endpoints from the environment, the ``[bus]`` config section, else private ipc."""
        env = os.environ if environ is None else environ
        resolved = Paths.from_env(dict(env)) if paths is None else paths
        settings = _config_section(resolved.config_file)
        for role in (*ROLES, "insecure"):
            value = env.get(f"{ENV_PREFIX}{role.upper()}")
            if value:
                settings[role] = value
        given = [role for role in ROLES if settings.get(role)]
        if not given:
            return cls.ipc(resolved.private_runtime_dir())
        if len(given) != len(ROLES):
            missing = ", ".join(role for role in ROLES if role not in given)
            raise EndpointError(f"bus endpoints configured partly; also set: {missing}")
        addresses = [str(settings[role]) for role in ROLES]
        insecure = str(settings.get("insecure", "")).lower() in TRUE_WORDS
        uses_tcp = any(address.startswith("tcp://") for address in addresses)
        for address in addresses:
            if address.startswith("ipc://"):
                _make_private_dir(Path(address[len("ipc://") :]).absolute().parent)
        curve = keys.load_keys(resolved.keys_dir) if uses_tcp and not insecure else None
        publish, subscribe, snapshot = addresses
        return cls(publish, subscribe, snapshot, curve=curve, insecure=insecure)


def _make_private_dir(directory: Path) -> None:
    """Create a configured socket dir 0700 if missing; an existing one is only checked."""
    if not directory.exists():
        directory.mkdir(parents=True, mode=0o700, exist_ok=True)
    check_ipc_dir(directory)


def _config_section(config_file: Path) -> dict[str, t.Any]:
    """The ``[bus]`` table of the config file, or ``{}`` when there is no file or section."""
    try:
        section = read_config_document(config_file).get("bus", {})
    except ConfigFileError as exc:
        raise EndpointError(str(exc)) from None
    if not isinstance(section, dict):
        raise EndpointError(f"{config_file}: [bus] must be a table")
    return dict(section)
