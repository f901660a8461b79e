"""Three hosts and a central one, each in its own network namespace joined by veth pairs, each
with its own tmux server, stand-in agents, PANEBUS_HOME, keys and ``panebus up``; the hosts
federate to the central broker over tcp + CURVE (``--upstream``), set up with the commands of
docs/guide.md "Several machines".

Checks: every host's figures reach the central ``os``; a host's link down for 30 s loses no
parsed frame and keeps their order; a revoked key is cut off; a host without an authorized key
gets nothing. Where namespaces cannot be made, the same runs on loopback addresses (the
outage is then the central broker frozen for 30 s) and the reason is printed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import typing as t
from pathlib import Path

import pytest

from bus.endpoints import Endpoints
from bus.federation_config import upstream_addresses
from bus.publisher import Publisher
from bus.subscribers import Subscriber
from panebus.standins import agent_command
from tests.bus.bodies import parsed
from tests.bus.test_acked_curve_async import free_port_block
from tests.federation import netns
from tests.waiting import WaitTimeout, wait_for

if t.TYPE_CHECKING:
    from collections.abc import Iterator

    from bus.frames import Body

pytestmark = pytest.mark.slow

PORT = 7710
OUTAGE_SECONDS = float(os.environ.get("PANEBUS_TEST_OUTAGE", "30"))
HOSTS = 3


class Machine:
    """One host's dirs, environment and processes."""

    def __init__(self, name: str, root: Path, namespace: str | None, tag: str) -> None:
        self.name = name
        self.namespace = namespace
        self.home = root / name
        self.tmux = f"pb-{tag}-{name}"
        home = self.home / "home"
        for directory in (self.home, home, self.home / "run"):
            directory.mkdir(parents=True, mode=0o700, exist_ok=True)
        self.env = {
            "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '/usr/bin:/bin')}",
            "HOME": str(home), "SHELL": "/bin/sh", "LANG": "C.UTF-8",
            "PANEBUS_HOME": str(self.home / "pb"), "PANEBUS_HOST": name,
            "XDG_RUNTIME_DIR": str(self.home / "run"),
            "CODEX_HOME": str(home / ".codex"), "CLAUDE_CONFIG_DIR": str(home / ".claude"),
            "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
        }
        self.processes: list[subprocess.Popen[bytes]] = []
        self.logs: list[Path] = []

    @property
    def keys_dir(self) -> Path:
        return self.home / "pb" / "config" / "keys"

    @property
    def endpoints(self) -> Endpoints:
        return Endpoints.ipc(self.home / "pb" / "run")

    def panebus(self, *args: str, prefix: list[str] | None = None) -> str:
        """Run a panebus command to its end; its output (a failure raises)."""
        result = subprocess.run(
            [*(prefix or []), sys.executable, "-m", "panebus", *args], env=self.env,
            capture_output=True, text=True, timeout=60, check=False, stdin=subprocess.DEVNULL)
        assert result.returncode == 0, (args, result.stdout, result.stderr)
        return result.stdout

    def start(self, prefix: list[str], *args: str, log_name: str) -> Path:
        """Start a long-running command (its own session, ended by the finalizer)."""
        log = self.home / log_name
        with log.open("wb") as out:
            self.processes.append(subprocess.Popen(
                [*prefix, *args], env=self.env, stdout=out, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True))
        self.logs.append(log)
        return log

    def start_agents(self, seed: int) -> None:
        sessions = self.home / "home" / ".codex" / "sessions"
        sessions.mkdir(parents=True, exist_ok=True)
        command = agent_command("codex", seed=seed, fast=True,
                                extra=("--rollout-dir", str(sessions)))
        subprocess.run(["tmux", "-L", self.tmux, "-f", "/dev/null", "new-session", "-d",
                        "-x", "120", "-y", "40", "-s", "agents", command],
                       env=self.env, check=True, timeout=30)

    def health(self) -> dict[str, t.Any]:
        try:
            data = json.loads((self.home / "pb" / "run" / "health.json").read_text())
        except (OSError, ValueError):
            return {}
        return {part["name"]: part for part in data.get("parts", [])}

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGTERM)
                except ProcessLookupError:
                    continue
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        subprocess.run(["tmux", "-L", self.tmux, "kill-server"], capture_output=True,
                       check=False, timeout=10)


@pytest.fixture
def network() -> Iterator[netns.Network]:
    made = netns.make(HOSTS)
    if made.mode != "netns":
        print(f"\nfederation test on loopback addresses: {made.reason}")
    try:
        yield made
    finally:
        made.remove()


def _received(sub: Subscriber, into: list[Body], until: t.Callable[[], bool]) -> bool:
    item = sub.recv(0.1)
    if item is not None:
        into.append(item[1])
    return until()


def _hosts_in(values: t.Iterable[tuple[str, Body]]) -> set[str]:
    return {body["producer"].split(":", 1)[0] for _topic, body in values}


def test_several_hosts_federate_survive_an_outage_and_a_revocation(
    network: netns.Network, tmp_path: Path, panebus_home: Path
) -> None:
    tag = format(os.getpid() % 0xFFFF, "x")
    central = Machine("central", tmp_path, network.central_namespace, tag)
    hosts = [Machine(host.name, tmp_path, host.namespace, tag) for host in network.hosts]
    machines = [central, *hosts]
    try:
        for namespace in network.made:
            assert not [route for route in netns.routes(namespace) if "default" in route]
        # The guide's commands: keys on the central host, one pair per host, both ways copied.
        central.panebus("keys")
        for machine, host in zip(hosts, network.hosts, strict=False):
            machine.panebus("keys", "--host")
            machine.panebus("keys", "--upstream-key", str(central.keys_dir / "broker.key"))
            central.panebus("keys", "--authorize", str(machine.keys_dir / f"{host.name}.key"))
        port = PORT if network.mode == "netns" else free_port_block()  # a shared namespace
        listen = f"tcp://{network.listen_host}:{port}"
        central_log = central.start(
            network.prefix(network.central_namespace), sys.executable, "-m", "panebus", "up",
            "-L", central.tmux, "--listen", listen, log_name="up.log")
        wait_for(lambda: "running" in central_log.read_text(), timeout=60,
                 message="the central panebus up")
        central_pid = central.processes[0].pid
        for index, (machine, host) in enumerate(zip(hosts, network.hosts, strict=False)):
            machine.start_agents(seed=index + 1)
            log = machine.start(
                network.prefix(host.namespace), sys.executable, "-m", "panebus", "up",
                "-L", machine.tmux, "--upstream", f"tcp://{host.central_address}:{port}",
                log_name="up.log")
            wait_for(lambda log=log: "running" in log.read_text(), timeout=60,  # type: ignore[misc]
                     message=f"{host.name}'s panebus up")

        # A host without an authorized key, in the third host's namespace, for the whole run.
        stop_file = tmp_path / "stranger.stop"
        last = network.hosts[-1]
        subscribe, snapshot = upstream_addresses(f"tcp://{last.central_address}:{port}")
        stranger = subprocess.Popen(
            [*network.prefix(last.namespace), sys.executable, "-m", "tests.federation.stranger",
             "--keys", str(tmp_path / "stranger-keys"),
             "--server-key", str(central.keys_dir / "broker.key"),
             "--subscribe", subscribe, "--snapshot", snapshot, "--until", str(stop_file)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
            env=central.env, cwd=Path.cwd())
        central.processes.append(stranger)

        # 1. Every host's figures reach the central broker and its `os`.
        names = {host.name for host in network.hosts}
        with Subscriber(central.endpoints, ["parsed."], name="check") as view:
            wait_for(lambda: names <= _hosts_in(view.snapshot("parsed.")), timeout=120,
                     interval=1.0, message="every host's parsed figures on the central broker")

        # 2. The first host's link down for 30 s: a numbered series published meanwhile
        #    arrives whole and in order after it comes back.
        first, first_host = hosts[0], network.hosts[0]
        os.environ["PANEBUS_HOST"] = first_host.name
        try:
            publisher = Publisher(first.endpoints, name="outage-series")
        finally:
            del os.environ["PANEBUS_HOST"]
        got: list[Body] = []
        with Subscriber(central.endpoints, ["parsed.codex.outage"], name="outage") as view, \
                publisher:
            assert publisher.wait_ready(10)
            network.cut(first_host, central_pid)
            began = time.monotonic()
            sent = []
            index = 0
            while time.monotonic() - began < OUTAGE_SECONDS:  # the outage's pacing, not a wait
                sent.append(publisher.send(parsed(screen="codex.outage", used_pct=float(index))))
                index += 1
                item = view.recv(1.0)
                if item is not None:
                    got.append(item[1])
            during = [body for body in got if body["id"] in {s["id"] for s in sent}]
            network.restore(first_host, central_pid)
            back = time.monotonic()
            try:
                wait_for(lambda: _received(view, got, lambda: len(
                    [b for b in got if b["producer"] == publisher.producer]) >= len(sent)),
                    timeout=90, message="the outage series at the central broker")
            except WaitTimeout as exc:
                detail = first.health().get("upstream", {}).get("detail")
                seqs = [(b["producer"], b["seq"]) for b in got]
                raise AssertionError(f"{exc}; {len(got)} of {len(sent)} came ({seqs}, "
                                     f"gaps {view.gaps}, stale {view.core.stale}, "
                                     f"duplicates {view.duplicates}); the forwarder: {detail}; "
                                     f"dir {central.home}") from None
            reconnect_s = time.monotonic() - back
        ours = [body["id"] for body in got if body["producer"] == publisher.producer]
        assert ours == [body["id"] for body in sent]
        if network.mode == "netns":
            assert during == [], "frames crossed a link that was down"
        print(f"\noutage {OUTAGE_SECONDS:.0f}s, {len(sent)} frames, all at the central "
              f"{reconnect_s:.2f}s after the link came back ({network.mode})")

        # 3. The second host's key revoked: what it publishes from then on never arrives,
        #    while the third host's still does.
        second, third = hosts[1], hosts[2]
        central.panebus("keys", "--revoke", network.hosts[1].name)
        wait_for(lambda: (second.health().get("upstream", {}).get("detail", {})
                          .get("handshake_failure")), timeout=30,
                 message="the revoked host's forwarder refused")
        markers = {}
        for machine, host in ((second, network.hosts[1]), (third, network.hosts[2])):
            os.environ["PANEBUS_HOST"] = host.name
            try:
                with Publisher(machine.endpoints, name="marker") as marker:
                    assert marker.wait_ready(10)
                    markers[host.name] = marker.send(parsed(screen="codex.marker"))
            finally:
                del os.environ["PANEBUS_HOST"]
        seen: list[Body] = []
        with Subscriber(central.endpoints, ["parsed.codex.marker"], name="markers") as view:
            wait_for(lambda: _received(view, seen, lambda: any(
                body["id"] == markers[network.hosts[2].name]["id"] for body in seen)),
                timeout=60, message="the third host's marker")
            assert all(body["id"] != markers[network.hosts[1].name]["id"] for body in seen)
            snapshot_ids = {body["id"] for _t, body in view.snapshot("parsed.codex.marker")}
        assert markers[network.hosts[1].name]["id"] not in snapshot_ids
        failure = second.health()["upstream"]["detail"]["handshake_failure"]
        assert "refused this host's key" in failure

        # 4. The stranger got nothing and had nothing acknowledged.
        stop_file.touch()
        out, err = stranger.communicate(timeout=30)
        report = json.loads(out)
        assert report["received"] == 0 and report["replies"] == 0, (report, err)
        assert report["attempts"] == 0  # never even connected: the handshake was refused

        # 5. The central `os` names every host (the revoked one's last figures stay).
        def os_lines() -> str:
            return central.panebus("alias", "os")

        wait_for(lambda: all(f"{name}: codex" in os_lines() for name in names), timeout=60,
                 interval=1.0, message="every host in the central os")
        one = central.panebus("alias", "os", "--host", network.hosts[2].name)
        assert one.startswith("codex ") and network.hosts[0].name not in one, one
    finally:
        for machine in machines:
            machine.stop()
        for machine in machines:
            for log in machine.logs:
                text = log.read_text(errors="replace")
                if "Traceback" in text:
                    print(f"--- {log}\n{text[-3000:]}")
