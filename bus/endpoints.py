"""Where the broker binds and clients connect, and the privacy rules for it (DESIGN §7).

Pane text can hold secrets, so nobody else on the machine may read the bus:

* default: ``ipc://`` sockets in the private (0700, owned by us) runtime dir;
* ``tcp://`` only when configured, and then with CURVE keys (``panebus keys``), or with
  ``insecure = true`` on a loopback address only (127.0.0.0/8, ::1, localhost). Anything else is
  refused with :class:`InsecureEndpointError` before a socket is opened.

Overrides, highest first: ``PANEBUS_BUS_PUBLISH`` / ``PANEBUS_BUS_SUBSCRIBE`` /
``PANEBUS_BUS_SNAPSHOT`` and ``PANEBUS_BUS_INSECURE=1`` in the environment, then the ``[bus]``
section of ``Paths.config_file`` (keys ``publish``, ``subscribe``, ``snapshot``, ``insecure``).
"""

from __future__ import annotations

import dataclasses
import ipaddress
import logging
import os
import typing as t

from bus import keys
from bus.config import ConfigFileError, read_config_document
from bus.paths import Paths

if t.TYPE_CHECKING:
    from pathlib import Path

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


def check_endpoint(endpoint: str, *, curve: bool, insecure: bool) -> None:
    """Refuse an endpoint that would let others read the bus; see the module docstring."""
    if endpoint.startswith("ipc://"):
        path = endpoint[len("ipc://") :]
        if len(path.encode()) > IPC_PATH_MAX:
            raise EndpointError(
                f"ipc path too long for a unix socket ({len(path)} > {IPC_PATH_MAX}): {path}; "
                "set PANEBUS_HOME or XDG_RUNTIME_DIR to a shorter dir"
            )
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
        if any(address.startswith("ipc://") for address in addresses):
            resolved.private_runtime_dir()
        curve = keys.load_keys(resolved.keys_dir) if uses_tcp and not insecure else None
        publish, subscribe, snapshot = addresses
        return cls(publish, subscribe, snapshot, curve=curve, insecure=insecure)


def _config_section(config_file: Path) -> dict[str, t.Any]:
    """The ``[bus]`` table of the config file, or ``{}`` when there is no file or section."""
    try:
        section = read_config_document(config_file).get("bus", {})
    except ConfigFileError as exc:
        raise EndpointError(str(exc)) from None
    if not isinstance(section, dict):
        raise EndpointError(f"{config_file}: [bus] must be a table")
    return dict(section)
