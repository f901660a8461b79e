"""A host's forwarder against a central broker on loopback tcp + CURVE, in one process: what it
forwards, and an outage of the central broker that loses nothing and keeps the order."""

from __future__ import annotations

import shutil
import threading
import typing as t

import pytest

from bus.auth import authorized_dir
from bus.broker import Broker
from bus.endpoints import Endpoints
from bus.federation import Forwarder
from bus.keys import UPSTREAM_KEY, generate_pair, key_files
from bus.paths import ensure_private_dir
from bus.publisher import Publisher
from bus.subscribers import Subscriber
from tests.bus.bodies import parsed, raw
from tests.federation.helpers import authorize, central_access
from tests.waiting import wait_for

if t.TYPE_CHECKING:
    from pathlib import Path

    from bus.auth import RemoteAccess
    from bus.frames import Body

HOST = "alpha"


class Setup:
    """A central broker (the test's endpoints, plus tcp for hosts) and a host ``alpha``."""

    def __init__(self, endpoints: Endpoints, tmp_path: Path) -> None:
        self.central_endpoints = endpoints
        self.central_keys = tmp_path / "central-keys"
        self.access, self.listen = central_access(self.central_keys)
        self.central: Broker | None = None
        self.host_keys = tmp_path / "alpha-keys"
        generate_pair(self.host_keys, HOST)
        authorize(self.central_keys, self.host_keys, HOST)
        shutil.copyfile(key_files(self.central_keys, "broker")[0],
                        key_files(self.host_keys, UPSTREAM_KEY)[0])
        self.host_endpoints = Endpoints.ipc(ensure_private_dir(tmp_path / "alpha-run"))
        self.host_broker = Broker(self.host_endpoints, heartbeat_interval=0.5).start()
        self.spool_dir = tmp_path / "alpha-data" / "upstream"
        self.forwarder: Forwarder | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start_central(self, access: RemoteAccess | None = None) -> Broker:
        self.central = Broker(self.central_endpoints, remote=access or self.access,
                              heartbeat_interval=0.5).start()
        return self.central

    def start_forwarder(self, *, raw: bool = False) -> Forwarder:
        self.forwarder = Forwarder(self.host_endpoints, self.listen, HOST, self.host_keys,
                                   self.spool_dir, raw=raw)
        ready = threading.Event()
        self._thread = threading.Thread(target=self.forwarder.run, args=(self._stop, ready.set),
                                        daemon=True)
        self._thread.start()
        assert ready.wait(5)
        return self.forwarder

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
        self.host_broker.stop()
        if self.central is not None:
            self.central.stop()


@pytest.fixture
def setup(
    endpoints: Endpoints, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> t.Iterator[Setup]:
    monkeypatch.setenv("PANEBUS_HOST", HOST)
    made = Setup(endpoints, tmp_path)
    try:
        yield made
    finally:
        made.close()


def _collect(sub: Subscriber, into: list[Body], want: t.Callable[[list[Body]], bool]) -> bool:
    item = sub.recv(0.05)
    if item is not None:
        into.append(item[1])
    return want(into)


def test_this_hosts_frames_of_the_forwarded_kinds_reach_the_central_broker(
    setup: Setup, endpoints: Endpoints, monkeypatch: pytest.MonkeyPatch
) -> None:
    central = setup.start_central()
    forwarder = setup.start_forwarder()
    monkeypatch.setenv("PANEBUS_HOST", "beta")
    relayed = Publisher(setup.host_endpoints, name="relayed")  # another host's frames
    monkeypatch.setenv("PANEBUS_HOST", HOST)
    with Subscriber(endpoints, ["parsed.", "raw."], name="central-view") as view, \
            Publisher(setup.host_endpoints, name="scraper") as publisher, relayed:
        wait_for(lambda: central.subscriptions >= 2, message="central view subscribed")
        publisher.send(raw("secret pane text"))
        relayed.send(parsed(used_pct=1.0))
        sent = publisher.send(parsed(used_pct=33.0))
        got: list[Body] = []
        wait_for(lambda: _collect(view, got, lambda seen: any(
            body["id"] == sent["id"] for body in seen)), message="the parsed frame upstream")
        assert all(body["kind"] != "raw" for body in got)
        assert all(body["producer"].startswith("alpha:") for body in got)
        assert ("alpha", "parsed.codex.status") in central.remote_cache
    wait_for(lambda: forwarder.state.connected and forwarder.state.forwarded >= 1)
    wait_for(lambda: forwarder.state.skew_s is not None, message="the upstream's clock")
    assert abs(t.cast("float", forwarder.state.skew_s)) < 5


def test_an_outage_of_the_central_broker_loses_nothing_and_keeps_the_order(
    setup: Setup, endpoints: Endpoints
) -> None:
    central = setup.start_central()
    forwarder = setup.start_forwarder()
    with Publisher(setup.host_endpoints, name="scraper") as publisher:
        first = publisher.send(parsed(used_pct=0.5))
        wait_for(lambda: forwarder.state.forwarded >= 1, message="the link up")
        assert first["id"]
        central.stop()
        setup.central = None
        numbered = [publisher.send(parsed(screen=f"codex.n{index}", used_pct=float(index)))
                    for index in range(50)]
        wait_for(lambda: forwarder.spool.appended >= 51, message="the outage spooled")
        assert forwarder.spool.pending_bytes > 0
        # Back without alpha's key first, so the central view is listening before anything
        # arrives; then the key: the forwarder's refused link is retried with a new socket.
        key = authorized_dir(setup.central_keys) / f"{HOST}.key"
        saved = key.read_bytes()
        key.unlink()
        central = setup.start_central()
        with Subscriber(endpoints, ["parsed.codex.n"], name="central-view") as view:
            wait_for(lambda: central.subscriptions >= 2, message="central view subscribed")
            key.write_bytes(saved)
            got: list[Body] = []
            wait_for(lambda: _collect(view, got, lambda seen: len(seen) >= 50), timeout=30,
                     message="every numbered frame after the outage")
        assert [body["id"] for body in got] == [body["id"] for body in numbered]
        wait_for(lambda: forwarder.spool.pending_bytes == 0, message="the spool acked")
        assert forwarder.state.handshake_failure is None
