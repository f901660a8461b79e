"""Acknowledged publish, CURVE over tcp, and the asyncio subscriber."""

from __future__ import annotations

import asyncio
import socket
import typing as t

import pytest

from bus import keys
from bus.broker import Broker, BrokerRunningError
from bus.endpoints import Endpoints
from bus.frames import FrameError
from bus.paths import Paths
from bus.publisher import Publisher
from bus.subscribers import AsyncSubscriber, Subscriber
from tests.bus.bodies import parsed, sys_event
from tests.bus.rawzmq import receive
from tests.waiting import wait_for

if t.TYPE_CHECKING:
    from pathlib import Path


def free_port_block() -> int:
    """A port P where P, P+1 and P+2 were free a moment ago (tcp tests only)."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = int(probe.getsockname()[1])
        if base + 2 < 65536 and all(_free(base + offset) for offset in (1, 2)):
            return base
    raise RuntimeError("no free port block")


def _free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def test_send_acked_true_with_a_broker(endpoints: Endpoints, broker: Broker) -> None:
    with Subscriber(endpoints, prefixes=["sys.tests"], name="ci") as sub:
        wait_for(lambda: broker.subscriptions >= 2, message="subscriber registered")
        with Publisher(endpoints, name="hook") as pub:
            assert pub.send_acked(sys_event("tests", passed=3, failed=0), timeout=5.0)
            sent = pub.last_stamped
        item = receive(sub)
        assert sent is not None
        assert item == ("sys.tests", sent)
        assert broker.acked == 1


def test_send_acked_false_without_a_broker(endpoints: Endpoints) -> None:
    with Publisher(endpoints, name="hook") as pub:
        assert not pub.send_acked(sys_event("tests"), timeout=0.3)
        assert pub.last_error
        assert not pub.wait_ready(timeout=0.2)


def test_invalid_body_raises_and_keeps_the_sequence(endpoints: Endpoints) -> None:
    with Publisher(endpoints, name="p") as pub:
        with pytest.raises(FrameError):
            pub.send({"kind": "parsed", "provider": "codex", "source": {}})
        with pytest.raises(FrameError):
            pub.send(parsed(), topic="raw.codex.3")
        assert pub.seq == 0


def test_a_second_broker_on_the_same_sockets_is_refused(
    endpoints: Endpoints, broker: Broker
) -> None:
    with pytest.raises(BrokerRunningError):
        Broker(endpoints).run()
    with Publisher(endpoints, name="still") as pub:
        assert pub.send_acked(sys_event("tests"), timeout=5.0)


def test_curve_tcp_round_trip_and_strangers_are_refused(panebus_home: Path) -> None:
    curve = keys.generate_keys(Paths.from_env().keys_dir)
    endpoints = Endpoints.tcp("127.0.0.1", free_port_block(), curve=curve)
    broker = Broker(endpoints, heartbeat_interval=0).start()
    try:
        with Subscriber(endpoints, prefixes=["parsed."], name="remote") as sub:
            wait_for(lambda: broker.subscriptions >= 2, message="CURVE subscriber registered")
            with Publisher(endpoints, name="remote-pub") as pub:
                assert pub.wait_ready(timeout=5.0)
                sent = pub.send(parsed())
                assert pub.send_acked(parsed(used_pct=7.0), timeout=5.0)
            item = receive(sub)
            assert item[1]["id"] == sent["id"]
        stranger_keys = keys.CurveKeys(
            broker=curve.broker, client=keys.KeyPair(*__import__("zmq").curve_keypair())
        )
        stranger = Endpoints(
            endpoints.publish, endpoints.subscribe, endpoints.snapshot, curve=stranger_keys
        )
        with Publisher(stranger, name="stranger") as pub:
            assert not pub.send_acked(parsed(), timeout=0.5)
            assert not pub.wait_ready(timeout=0.3)
    finally:
        broker.stop(timeout=5.0)


def test_async_subscriber_receives_and_gets_the_cache(endpoints: Endpoints, broker: Broker) -> None:
    async def scenario() -> None:
        with Publisher(endpoints, name="scraper") as pub:
            cached = pub.send(parsed())
            wait_for(lambda: "parsed.codex.status" in broker.cache, message="cached")
            async with AsyncSubscriber(endpoints, prefixes=["parsed."], name="aio") as sub:
                first = await sub.recv(timeout=5.0)
                assert first is not None
                assert first[1]["id"] == cached["id"]
                live = pub.send(parsed(used_pct=50.0))
                second = await sub.recv(timeout=5.0)
                assert second is not None
                assert second[1]["id"] == live["id"]
                values = await sub.snapshot("parsed.")
                assert [body["id"] for _topic, body in values] == [live["id"]]
                assert sub.rejected == 0

    asyncio.run(scenario())


def test_insecure_tcp_on_loopback_round_trip(panebus_home: Path) -> None:
    endpoints = Endpoints.tcp("127.0.0.1", free_port_block(), insecure=True)
    broker = Broker(endpoints, heartbeat_interval=0).start()
    try:
        with Subscriber(endpoints, prefixes=["sys.tests"], name="local") as sub:
            wait_for(lambda: broker.subscriptions >= 2, message="tcp subscriber registered")
            with Publisher(endpoints, name="local-pub") as pub:
                assert pub.send_acked(sys_event("tests", passed=1), timeout=5.0)
            assert receive(sub)[1]["passed"] == 1
    finally:
        broker.stop(timeout=5.0)
