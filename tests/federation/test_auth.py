"""Per-host keys on a broker that listens for other hosts: who gets in, who speaks for whom,
and what happens to a key removed while its host is connected."""

from __future__ import annotations

import typing as t

import pytest
import zmq

from bus.auth import authorized_dir
from bus.broker import Broker
from bus.keys import generate_pair
from bus.protocol import ERR
from bus.subscribers import Subscriber
from tests.bus.bodies import parsed
from tests.federation.helpers import HostSockets, authorize, central_access
from tests.waiting import wait_for

if t.TYPE_CHECKING:
    from pathlib import Path

    from bus.auth import RemoteAccess
    from bus.endpoints import Endpoints


@pytest.fixture
def central(
    endpoints: Endpoints, tmp_path: Path
) -> t.Iterator[tuple[Broker, RemoteAccess, Path]]:
    keys_dir = tmp_path / "central-keys"
    access, _listen = central_access(keys_dir)
    broker = Broker(endpoints, remote=access, heartbeat_interval=0.2)
    broker.start()
    _BROKERS[keys_dir] = broker
    try:
        yield broker, access, keys_dir
    finally:
        _BROKERS.pop(keys_dir, None)
        broker.stop()


def _host(access: RemoteAccess, tmp_path: Path, central_keys: Path, name: str,
          *, authorized: bool = True) -> HostSockets:
    host_keys = tmp_path / f"{name}-keys"
    pair = generate_pair(host_keys, name)
    if authorized:
        authorize(central_keys, host_keys, name)
        # A refused handshake is final for that connection (ZeroMQ does not retry it), so
        # connect once the broker has read the key.
        wait_for(lambda: name in _ring_hosts(central_keys), message=f"{name} authorized")
    return HostSockets(access, pair, name)


_BROKERS: dict[Path, Broker] = {}


def _ring_hosts(central_keys: Path) -> set[str]:
    broker = _BROKERS[central_keys]
    return set() if broker.ring is None else set(broker.ring.hosts)


def test_each_host_is_cached_beside_the_others(
    central: tuple[Broker, RemoteAccess, Path], endpoints: Endpoints, tmp_path: Path
) -> None:
    broker, access, keys_dir = central
    alpha = _host(access, tmp_path, keys_dir, "alpha")
    beta = _host(access, tmp_path, keys_dir, "beta")
    try:
        wait_for(lambda: broker.ring is not None and len(broker.ring.hosts) == 2)
        assert alpha.published(alpha.stamp(parsed(used_pct=10.0)), timeout=5)
        assert beta.published(beta.stamp(parsed(used_pct=20.0)), timeout=5)
        assert set(broker.remote_cache) == {("alpha", "parsed.codex.status"),
                                            ("beta", "parsed.codex.status")}
        with Subscriber(endpoints, ["parsed."], name="view") as view:
            values = view.snapshot("parsed.")
        figures = {body["producer"].split(":")[0]: body["limits"][0]["used_pct"]
                   for _topic, body in values}
        assert figures == {"alpha": 10.0, "beta": 20.0}
    finally:
        alpha.close()
        beta.close()


def test_a_host_cannot_speak_for_another(
    central: tuple[Broker, RemoteAccess, Path], tmp_path: Path
) -> None:
    broker, access, keys_dir = central
    alpha = _host(access, tmp_path, keys_dir, "alpha")
    try:
        reply = alpha.publish(alpha.stamp(parsed(), producer="beta:1:test"), timeout=5)
        assert reply is not None
        assert reply[0] == ERR
        assert b"'beta' is not the sending key's host 'alpha'" in reply[2]
        assert not broker.remote_cache
    finally:
        alpha.close()


def test_a_frame_sent_again_is_forwarded_once(
    central: tuple[Broker, RemoteAccess, Path], tmp_path: Path
) -> None:
    broker, access, keys_dir = central
    alpha = _host(access, tmp_path, keys_dir, "alpha")
    try:
        parts = alpha.stamp(parsed())
        assert alpha.published(parts, timeout=5)
        forwarded = broker.forwarded
        assert alpha.published(parts, timeout=5)  # a retransmission after a lost ack
        assert broker.remote_duplicates == 1
        assert broker.forwarded == forwarded
    finally:
        alpha.close()


def test_a_stranger_can_neither_publish_nor_subscribe(
    central: tuple[Broker, RemoteAccess, Path], tmp_path: Path
) -> None:
    broker, access, keys_dir = central
    alpha = _host(access, tmp_path, keys_dir, "alpha")
    stranger = _host(access, tmp_path, keys_dir, "mallory", authorized=False)
    try:
        wait_for(lambda: broker.ring is not None and broker.ring.denied >= 2,
                 message="the stranger's handshakes refused")
        assert stranger.publish(stranger.stamp(parsed()), timeout=0.5) is None
        sent = []
        for used in range(5):
            sent.append(alpha.stamp(parsed(used_pct=float(used))))
            assert alpha.published(sent[-1], timeout=5)
        seen: list[dict[str, t.Any]] = []
        wait_for(lambda: seen.extend(alpha.received()) or len(seen) >= 5,
                 message="the authorized host's subscriber got the frames")
        assert stranger.received() == []
        assert not any(host == "mallory" for host, _topic in broker.remote_cache)
    finally:
        alpha.close()
        stranger.close()


def test_a_removed_key_is_cut_off_live_and_a_restored_one_comes_back(
    central: tuple[Broker, RemoteAccess, Path], tmp_path: Path
) -> None:
    broker, access, keys_dir = central
    alpha = _host(access, tmp_path, keys_dir, "alpha")
    beta = _host(access, tmp_path, keys_dir, "beta")
    try:
        assert alpha.published(alpha.stamp(parsed()), timeout=5)
        seen: list[dict[str, t.Any]] = []
        wait_for(lambda: seen.extend(alpha.received()) or seen, message="alpha subscribed")
        key_file = authorized_dir(keys_dir) / "alpha.key"
        saved = key_file.read_bytes()
        key_file.unlink()
        wait_for(lambda: broker.revocations == 1, message="the revocation noticed")
        assert alpha.publish(alpha.stamp(parsed()), timeout=1.0) is None
        marker = beta.stamp(parsed(used_pct=77.0))
        marker_id = codec_id(marker)
        beta_seen: list[dict[str, t.Any]] = []

        def beta_got_marker() -> bool:
            beta.published(marker, timeout=1.0)  # beta reconnects after the rebind
            beta_seen.extend(beta.received())
            return any(body["id"] == marker_id for body in beta_seen)

        wait_for(beta_got_marker, message="beta (still authorized) receives again")
        assert all(body["id"] != marker_id for body in alpha.received())
        key_file.write_bytes(saved)
        wait_for(lambda: "alpha" in _ring_hosts(keys_dir), message="alpha's key read again")
        again = HostSockets(access, alpha.pair, "alpha")  # the refused link is not retried
        try:
            assert again.published(again.stamp(parsed()), timeout=5)
        finally:
            again.close()
    finally:
        alpha.close()
        beta.close()


def codec_id(parts: list[bytes]) -> str:
    from bus import codec

    return str(codec.loads(parts[1])["id"])


def test_zmq_user_id_is_the_key(central: tuple[Broker, RemoteAccess, Path]) -> None:
    broker, _access, _keys = central
    assert zmq.has("curve")
    assert broker.ring is not None
    assert broker.ring.host_of("not a key") is None
