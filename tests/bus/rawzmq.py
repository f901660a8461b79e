"""A plain pyzmq PUB socket for tests that put hand-made (or broken) frames on the wire."""

from __future__ import annotations

import itertools
import typing as t

import zmq

from bus import codec
from tests.bus.bodies import stamped, sys_event
from tests.waiting import wait_for

if t.TYPE_CHECKING:
    from bus.frames import Body
    from bus.subscribers import Subscriber


class RawPublisher:
    """PUB that connects (to the broker's XSUB) or binds (standing in for the broker's XPUB)."""

    def __init__(self, endpoint: str, *, bind: bool = False) -> None:
        self.socket = zmq.Context.instance().socket(zmq.PUB)
        self.socket.setsockopt(zmq.LINGER, 0)
        if bind:
            self.socket.bind(endpoint)
        else:
            self.socket.connect(endpoint)
        self._probe_seq = itertools.count()

    def send_parts(self, parts: t.Sequence[bytes]) -> None:
        """Send exactly these frames."""
        self.socket.send_multipart(list(parts))

    def send(self, topic: str, body: Body) -> None:
        """Send a body as it is (only JSON-encoded), without validation."""
        self.send_parts([topic.encode(), codec.dumps(body)])

    def probe_until_received(self, sub: Subscriber, timeout: float = 10.0) -> None:
        """Send ``sys.probe`` frames until ``sub`` yields one: the link is up end to end."""

        def received() -> bool:
            probe = stamped(sys_event("probe"), next(self._probe_seq), "probe:0:raw")
            self.send("sys.probe", probe)
            item = sub.recv(timeout=0.05)
            return item is not None and item[0] == "sys.probe"

        wait_for(received, timeout=timeout, interval=0, message="a probe through the link")

    def probe_until_synced(self, sub: Subscriber, timeout: float = 10.0) -> None:
        """Probe until ``sub`` receives and has its gap-detection baseline from the broker."""
        self.probe_until_received(sub, timeout)
        wait_for(lambda: sub.recv(timeout=0.05) is None and sub.synced, timeout=timeout,
                 message="the subscriber's sequence baseline")

    def close(self) -> None:
        """Close the socket."""
        self.socket.close(linger=0)


def receive(sub: Subscriber, timeout: float = 10.0) -> tuple[str, Body]:
    """The next item ``sub`` yields; fails the test after ``timeout`` seconds."""
    item = wait_for(lambda: sub.recv(timeout=0.2), timeout=timeout, message="a frame")
    assert item is not None
    return item
