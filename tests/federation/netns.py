"""Hosts for the multi-host test: network namespaces joined to a central one by veth pairs, or
distinct loopback addresses where namespaces cannot be made (the reason is kept).

Only the addresses given here are used (``10.231.N.0/24`` on the veths, nothing else): no
namespace gets a default route, so nothing can leave them. Names carry a random tag so two
runs never meet, and :meth:`Network.remove` deletes what was made, even after a failure.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import secrets
import shutil
import signal
import subprocess

SUBNET = "10.231"
COMMAND_TIMEOUT = 10.0


def _ip(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", *args], capture_output=True, text=True,
                          timeout=COMMAND_TIMEOUT, check=False)


@dataclasses.dataclass
class Host:
    """One host: its namespace (None on loopback), its link's two ends, its addresses."""

    name: str
    namespace: str | None
    address: str  # the host's own address
    central_address: str  # where it reaches the central broker
    veth: str | None = None  # the host's end (inside its namespace)


@dataclasses.dataclass
class Network:
    """The central host and the others; ``mode`` is ``netns`` or ``loopback``."""

    mode: str
    reason: str
    central_namespace: str | None
    hosts: list[Host]
    made: list[str] = dataclasses.field(default_factory=list)
    stopped: list[int] = dataclasses.field(default_factory=list)

    def prefix(self, namespace: str | None) -> list[str]:
        """The words that run a command in ``namespace`` (none on loopback)."""
        return [] if namespace is None else ["ip", "netns", "exec", namespace]

    @property
    def listen_host(self) -> str:
        """Where the central broker binds."""
        return "0.0.0.0" if self.mode == "netns" else "127.0.0.10"

    def cut(self, host: Host, central_pid: int) -> None:
        """Take the host's link down (loopback: freeze the central broker instead)."""
        if self.mode == "netns":
            assert host.namespace and host.veth
            _check(_ip("-n", host.namespace, "link", "set", "dev", host.veth, "down"))
        else:
            os.kill(central_pid, signal.SIGSTOP)
            self.stopped.append(central_pid)

    def restore(self, host: Host, central_pid: int) -> None:
        """Bring the link back."""
        if self.mode == "netns":
            assert host.namespace and host.veth
            _check(_ip("-n", host.namespace, "link", "set", "dev", host.veth, "up"))
        else:
            os.kill(central_pid, signal.SIGCONT)
            self.stopped.remove(central_pid)

    def remove(self) -> None:
        """Delete every namespace made (their veths go with them); thaw what was frozen."""
        for pid in self.stopped:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)
        for namespace in reversed(self.made):
            _ip("netns", "del", namespace)
        self.made.clear()


def _check(result: subprocess.CompletedProcess[str]) -> None:
    if result.returncode != 0:
        raise RuntimeError(f"ip failed: {result.stderr.strip()}")


FORCE_LOOPBACK = "PANEBUS_TEST_FORCE_LOOPBACK"


def netns_unavailable() -> str | None:
    """Why namespaces cannot be made here, or None."""
    if os.environ.get(FORCE_LOOPBACK):
        return f"{FORCE_LOOPBACK} is set"
    if shutil.which("ip") is None:
        return "the ip command (iproute2) is not installed"
    if os.geteuid() != 0:
        return "not root: ip netns needs CAP_SYS_ADMIN"
    return None


def make(count: int) -> Network:
    """A central namespace and ``count`` host namespaces, each joined by a veth pair; on
    loopback addresses with the reason when namespaces cannot be made."""
    reason = netns_unavailable()
    if reason is None:
        network = Network("netns", "", None, [])
        try:
            _make_namespaces(network, count)
            return network
        except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
            network.remove()
            reason = f"ip netns failed: {exc}"
    hosts = [Host(f"h{index}", None, f"127.0.0.{index + 1}", "127.0.0.10")
             for index in range(1, count + 1)]
    return Network("loopback", reason, None, hosts)


def _make_namespaces(network: Network, count: int) -> None:
    tag = secrets.token_hex(3)
    central = f"pbc-{tag}"
    _check(_ip("netns", "add", central))
    network.made.append(central)
    network.central_namespace = central
    _check(_ip("-n", central, "link", "set", "dev", "lo", "up"))
    for index in range(1, count + 1):
        namespace = f"pbh{index}-{tag}"
        _check(_ip("netns", "add", namespace))
        network.made.append(namespace)
        _check(_ip("-n", namespace, "link", "set", "dev", "lo", "up"))
        host_end, central_end = f"pb{tag}h{index}", f"pb{tag}c{index}"
        # Made inside the host's namespace, so no interface ever appears in the root one.
        _check(_ip("-n", namespace, "link", "add", host_end, "type", "veth",
                   "peer", "name", central_end, "netns", central))
        host_address, central_address = f"{SUBNET}.{index}.2", f"{SUBNET}.{index}.1"
        _check(_ip("-n", namespace, "addr", "add", f"{host_address}/24", "dev", host_end))
        _check(_ip("-n", central, "addr", "add", f"{central_address}/24", "dev", central_end))
        _check(_ip("-n", namespace, "link", "set", "dev", host_end, "up"))
        _check(_ip("-n", central, "link", "set", "dev", central_end, "up"))
        network.hosts.append(Host(f"h{index}", namespace, host_address, central_address,
                                  veth=host_end))


def routes(namespace: str) -> list[str]:
    """The routes of a namespace (the test checks there is no default route)."""
    return _ip("-n", namespace, "route", "show").stdout.splitlines()

