"""Bad frames are rejected with a reason, counted, never forwarded, and crash nothing."""

from __future__ import annotations

import typing as t

import pytest
import zmq

from bus import codec
from bus.protocol import OK, PUBLISH
from bus.subscribers import Subscriber
from tests.bus.bodies import parsed, raw, stamped
from tests.bus.rawzmq import RawPublisher, receive
from tests.waiting import wait_for

if t.TYPE_CHECKING:
    from bus.broker import Broker
    from bus.endpoints import Endpoints

BAD_FRAMES: list[tuple[str, list[bytes], str]] = [
    ("malformed body", [b"parsed.codex.status", b"{not json"], "body is not JSON"),
    (
        "wrong version",
        [b"parsed.codex.status", codec.dumps(dict(stamped(parsed(), 0), v=2))],
        "unsupported wire version 2",
    ),
    (
        "non-UTF-8 topic",
        [b"parsed.codex.\xff\xfe", codec.dumps(stamped(parsed(), 0))],
        "topic is not UTF-8",
    ),
    ("three frames", [b"parsed.codex.status", b"{}", b"extra"], "expected 2 frames, got 3"),
    (
        "topic of another kind",
        [b"parsed.codex.status", codec.dumps(stamped(raw(), 0))],
        "does not match kind",
    ),
]


def test_broker_rejects_counts_and_keeps_forwarding(endpoints: Endpoints, broker: Broker) -> None:
    with Subscriber(endpoints, prefixes=["parsed.", "sys.probe"], name="watcher") as sub:
        wait_for(lambda: broker.subscriptions >= 3, message="subscriber registered")
        pub = RawPublisher(endpoints.publish)
        try:
            pub.probe_until_received(sub)
            for _name, parts, _reason in BAD_FRAMES:
                pub.send_parts(parts)
            good = stamped(parsed(), seq=0, producer="good:1:one")
            pub.send("parsed.codex.status", good)
            item = receive(sub)
            assert item[1]["id"] == good["id"]
        finally:
            pub.close()
        assert broker.rejected == len(BAD_FRAMES)
        reasons = " | ".join(broker.reject_reasons)
        for _name, _parts, reason in BAD_FRAMES:
            assert reason in reasons
        assert sub.rejected == 0  # nothing bad was forwarded
        assert "parsed.codex.status" in broker.cache
        assert broker.forwarded >= 2


@pytest.mark.parametrize(("name", "parts", "reason"), BAD_FRAMES, ids=[b[0] for b in BAD_FRAMES])
def test_subscriber_rejects_bad_frames_from_a_rogue_publisher(
    endpoints: Endpoints, name: str, parts: list[bytes], reason: str
) -> None:
    """No broker: a raw PUB bound where the broker would be feeds the subscriber directly."""
    rogue = RawPublisher(endpoints.subscribe, bind=True)
    try:
        with Subscriber(endpoints, prefixes=["parsed.", "sys.probe"], name="victim") as sub:
            rogue.probe_until_received(sub)
            rogue.send_parts(parts)
            good = stamped(parsed(), seq=0, producer="good:1:one")
            rogue.send("parsed.codex.status", good)
            item = receive(sub)
            assert item[1]["id"] == good["id"]
            assert sub.rejected == 1
            assert reason in " ".join(sub.reject_reasons)
    finally:
        rogue.close()


def test_acked_publish_of_a_bad_frame_gets_err(endpoints: Endpoints, broker: Broker) -> None:
    dealer = zmq.Context.instance().socket(zmq.DEALER)
    dealer.setsockopt(zmq.LINGER, 0)
    dealer.connect(endpoints.snapshot)
    try:
        dealer.send_multipart([PUBLISH, b"r1", b"parsed.codex.status", b"{not json"])
        assert dealer.poll(5000)
        reply = dealer.recv_multipart()
        assert reply[:2] == [b"ERR", b"r1"]
        assert b"not JSON" in reply[2]
        good = codec.encode("parsed.codex.status", stamped(parsed(), 0))
        dealer.send_multipart([PUBLISH, b"r2", *good])
        assert dealer.poll(5000)
        assert dealer.recv_multipart() == [OK, b"r2"]
        assert broker.rejected == 1
        assert broker.acked == 1
    finally:
        dealer.close()
