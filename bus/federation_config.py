"""Configuration of several hosts: ``[bus] host/listen/upstream`` and the keys they need.

What :class:`FederationConfig` reads and checks (docs/guide.md "Several machines"), the
addresses an upstream ``tcp://HOST:PORT`` stands for, and what key file is missing for it
(:func:`federation_keys_problem`, which names the command that makes it). No sockets here: the
forwarder is :mod:`bus.federation`, the reachability check :mod:`bus.federation_probe`.
"""

from __future__ import annotations

import dataclasses
import typing as t

from bus.auth import RemoteAccess, authorized_dir
from bus.config import ConfigFileError, read_config_document
from bus.endpoints import EndpointError, check_endpoint
from bus.keys import (
    HOST_ENV,
    UPSTREAM_KEY,
    MissingKeysError,
    check_host_name,
    key_files,
    load_pair,
    load_public,
    this_host,
)
from bus.spool import DEFAULT_MAX_BYTES

if t.TYPE_CHECKING:
    from collections.abc import Mapping

    from bus.paths import Paths

ENV_UPSTREAM = "PANEBUS_BUS_UPSTREAM"
ENV_LISTEN = "PANEBUS_BUS_LISTEN"


def upstream_addresses(address: str) -> tuple[str, str]:
    """``tcp://HOST:PORT`` → (subscribe ``PORT+1``, snapshot ``PORT+2``), as the central
    broker's ``listen`` binds them (:meth:`bus.auth.RemoteAccess.listen`)."""
    if not address.startswith("tcp://"):
        raise EndpointError(f"upstream must be tcp://HOST:PORT, not {address!r}")
    host, _, port = address[len("tcp://"):].rpartition(":")
    if not host or not port.isdigit():
        raise EndpointError(f"upstream must be tcp://HOST:PORT, not {address!r}")
    base = int(port)
    return f"tcp://{host}:{base + 1}", f"tcp://{host}:{base + 2}"


@dataclasses.dataclass(frozen=True)
class FederationConfig:
    """``[bus]`` keys ``host``, ``listen``, ``upstream``, ``upstream_raw``, ``spool_max_mb``;
    ``PANEBUS_HOST``, ``PANEBUS_BUS_LISTEN`` and ``PANEBUS_BUS_UPSTREAM`` win over them."""

    host: str | None = None
    listen: str | None = None
    upstream: str | None = None
    upstream_raw: bool = False
    spool_max_bytes: int = DEFAULT_MAX_BYTES

    @classmethod
    def load(cls, paths: Paths, environ: Mapping[str, str]) -> FederationConfig:
        """Read the config file and the environment; :class:`EndpointError` when invalid."""
        try:
            section = read_config_document(paths.config_file).get("bus", {})
        except ConfigFileError as exc:
            raise EndpointError(str(exc)) from None
        host = environ.get(HOST_ENV) or section.get("host")
        listen = environ.get(ENV_LISTEN) or section.get("listen")
        upstream = environ.get(ENV_UPSTREAM) or section.get("upstream")
        raw = section.get("upstream_raw", False)
        spool_mb = section.get("spool_max_mb", DEFAULT_MAX_BYTES / 1024 / 1024)
        for name, value in (("host", host), ("listen", listen), ("upstream", upstream)):
            if value is not None and not isinstance(value, str):
                raise EndpointError(f"[bus] {name} must be a string")
        if not isinstance(raw, bool):
            raise EndpointError("[bus] upstream_raw must be true or false")
        if isinstance(spool_mb, bool) or not isinstance(spool_mb, (int, float)) or spool_mb <= 0:
            raise EndpointError("[bus] spool_max_mb must be a positive number")
        config = cls(host, listen, upstream, raw, int(spool_mb * 1024 * 1024))
        config.check()
        return config

    def check(self) -> None:
        """Refuse a host name or address that cannot work, with the reason."""
        if self.host is not None:
            try:
                check_host_name(self.host)
            except ValueError as exc:
                raise EndpointError(str(exc)) from None
        if self.upstream is not None:
            for address in upstream_addresses(self.upstream):
                check_endpoint(address, curve=True, insecure=False)
        if self.listen is not None:
            upstream_addresses(self.listen)


def federation_keys_problem(config: FederationConfig, paths: Paths) -> str | None:
    """What key file is missing for ``listen``/``upstream``, and the command that makes it."""
    keys_dir = paths.keys_dir
    if config.listen:
        try:
            RemoteAccess.listen(config.listen, keys_dir)
        except EndpointError as exc:
            return f"{exc} (run `panebus keys` on this host)"
        authorized = authorized_dir(keys_dir)
        if not authorized.is_dir():
            authorized.mkdir(mode=0o700, parents=True)
    if config.upstream:
        host = config.host or this_host()
        try:
            load_pair(keys_dir, host)
        except MissingKeysError:
            return (f"no key pair for host {host!r} in {keys_dir}: run `panebus keys --host "
                    f"{host}` and copy {host}.key into the central host's keys/authorized/")
        try:
            load_public(key_files(keys_dir, UPSTREAM_KEY)[0])
        except MissingKeysError:
            return (f"no {UPSTREAM_KEY}.key in {keys_dir}: copy the central host's broker.key "
                    f"there (`panebus keys --upstream-key FILE`)")
    return None
