"""The publisher: the only code that puts frames on the bus (docs/wire.md "Clients").

Guarantees, so callers need not think about ZeroMQ:

* A :class:`Publisher` stamps ``v``, ``id``, ``seq`` (gapless per producer), ``producer`` and
  ``observed_at`` and validates before anything leaves the process: an invalid body raises
  :class:`~bus.frames.FrameError` and consumes no ``seq``.
* Slow joiner and start order: the publisher socket is an XPUB, so it *sees* the broker's
  subscription arrive. :meth:`Publisher.wait_ready` returns True once it has; the first
  :meth:`Publisher.send` waits for it with a short cap. Until a broker is subscribed, frames
  are held (up to ``HELD_MAX``, oldest give way) and sent, in order, as soon as one is: by the
  next ``send``, ``wait_ready`` or ``close`` (which waits up to ``linger_ms`` for a broker).
  Backpressure instead of silent loss: when the broker falls behind, ``send`` blocks up to
  ``send_timeout`` and then counts the frame in ``dropped``.
* :meth:`Publisher.send_acked` goes through the broker's ROUTER and returns True only once the
  broker validated, forwarded and cached the frame.
"""

from __future__ import annotations

import collections
import itertools
import logging
import threading
import time
import typing as t

import zmq

from bus.protocol import (
    HWM,
    OK,
    PUBLISH,
    SUBSCRIBE,
    UNSUBSCRIBE,
    ClosesOnExit,
    Stamper,
    configure_curve_client,
    millis,
)
from bus.transport import send_parts

if t.TYPE_CHECKING:
    from bus.endpoints import Endpoints
    from bus.frames import Body

logger = logging.getLogger(__name__)

PUBLISHER_LINGER_MS = 500
FIRST_SEND_READY_CAP = 1.0
SUBSCRIPTION_CHECK = 0.001
"""Seconds between checks, while sending, that the broker is still subscribed."""
HELD_MAX = 5_000
"""Frames a publisher keeps while no broker is subscribed (then the oldest give way)."""


class Publisher(ClosesOnExit):
    """Publish frames to the broker. Not shareable across processes; thread-safe via a lock."""

    def __init__(
        self,
        endpoints: Endpoints,
        name: str,
        *,
        context: zmq.Context[t.Any] | None = None,
        send_timeout: float = 1.0,
        linger_ms: int = PUBLISHER_LINGER_MS,
    ) -> None:
        self.endpoints = endpoints
        self.name = name
        self.sent = 0
        self.dropped = 0
        self.last_error: str | None = None
        self.last_stamped: Body | None = None
        self._stamper = Stamper(name)
        # An own context unless given: closing it waits (up to ``linger_ms``) until queued
        # frames have left, so a short-lived tool that sends and exits loses nothing.
        self._own_context = context is None
        self._context = zmq.Context() if context is None else context
        self._lock = threading.RLock()  # send() calls wait_ready() with the lock held
        self._subscriptions = 0
        self._first_send = True
        self._drained_at = 0.0
        self._held: collections.deque[list[bytes]] = collections.deque(maxlen=HELD_MAX)
        self._requests = itertools.count()
        self._socket = self._context.socket(zmq.XPUB)
        self._socket.setsockopt(zmq.SNDHWM, HWM)
        self._socket.setsockopt(zmq.LINGER, linger_ms)
        self._linger_ms = linger_ms
        self._socket.setsockopt(zmq.XPUB_VERBOSE, 1)
        self._socket.setsockopt(zmq.XPUB_NODROP, 1)
        self._socket.setsockopt(zmq.SNDTIMEO, millis(send_timeout))
        configure_curve_client(self._socket, endpoints)
        self._socket.connect(endpoints.publish)
        self._ack_socket: zmq.Socket[t.Any] | None = None

    @property
    def producer(self) -> str:
        """This publisher's ``producer`` field."""
        return self._stamper.producer

    @property
    def seq(self) -> int:
        """The ``seq`` the next frame will carry."""
        return self._stamper.seq

    # -- readiness -------------------------------------------------------------------------
    def _drain_subscriptions(self) -> None:
        """Follow the broker's (un)subscriptions; once subscribed, send what was held."""
        while int(self._socket.get(zmq.EVENTS)) & zmq.POLLIN:
            message = self._socket.recv(zmq.NOBLOCK)
            if message[:1] == bytes([SUBSCRIBE]):
                self._subscriptions += 1
            elif message[:1] == bytes([UNSUBSCRIBE]):
                self._subscriptions = max(0, self._subscriptions - 1)
        while self._subscriptions > 0 and self._held:
            self._transmit(self._held.popleft())

    def wait_ready(self, timeout: float = 5.0) -> bool:
        """True once the broker's subscription reached this publisher (frames will be kept)."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                self._drain_subscriptions()
                if self._subscriptions > 0:
                    return True
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._socket.poll(millis(min(remaining, 0.1)) or 1, zmq.POLLIN)

    # -- sending ---------------------------------------------------------------------------
    def send(self, body: t.Mapping[str, t.Any], topic: str | None = None) -> Body:
        """Stamp, validate and publish ``body``; return the stamped body.

        Raises :class:`FrameError` for an invalid body. A frame the broker cannot take within
        ``send_timeout`` is counted in ``dropped`` and logged (its ``seq`` is then a gap).
        """
        with self._lock:
            if self._first_send:
                self._first_send = False
                self.wait_ready(FIRST_SEND_READY_CAP)
            stamped, parts = self._stamper.stamp(body, topic)
            # Following the broker's (un)subscriptions costs ~3 µs (a getsockopt): at bus
            # rates once a millisecond is enough; until a broker is there, every time.
            now = time.monotonic()
            if self._subscriptions == 0 or now - self._drained_at > SUBSCRIPTION_CHECK:
                self._drained_at = now
                self._drain_subscriptions()  # sends what was held once a broker is there
            if self._subscriptions > 0:
                self._transmit(parts)
            else:
                self._hold(parts)
            return stamped

    def _transmit(self, parts: list[bytes]) -> None:
        try:
            send_parts(self._socket, parts)
        except zmq.Again:
            self.dropped += 1
            logger.warning("broker not taking frames; dropped", extra={"topic": parts[0][:80]})
        else:
            self.sent += 1

    def _hold(self, parts: list[bytes]) -> None:
        """Keep a frame until a broker subscribes (start order must not matter)."""
        if len(self._held) == self._held.maxlen:
            self.dropped += 1  # the oldest held frame gives way
        elif not self._held:
            logger.info("no broker yet; holding frames", extra={"endpoint": self.endpoints.publish})
        self._held.append(parts)

    @property
    def held(self) -> int:
        """Frames kept until a broker subscribes."""
        return len(self._held)

    def _acks(self) -> zmq.Socket[t.Any]:
        if self._ack_socket is None:
            dealer = self._context.socket(zmq.DEALER)
            dealer.setsockopt(zmq.LINGER, 0)
            dealer.setsockopt(zmq.IMMEDIATE, 1)  # no queueing towards a broker that is not there
            configure_curve_client(dealer, self.endpoints)
            dealer.connect(self.endpoints.snapshot)
            self._ack_socket = dealer
        return self._ack_socket

    def send_acked(
        self, body: t.Mapping[str, t.Any], topic: str | None = None, timeout: float = 1.0
    ) -> bool:
        """Publish through the broker's ROUTER; True once the broker accepted the frame.

        False when no broker answered within ``timeout`` or it refused the frame (reason in
        ``last_error``). Raises :class:`FrameError` for a body that is invalid here already.
        """
        with self._lock:
            deadline = time.monotonic() + timeout
            stamped, parts = self._stamper.stamp(body, topic)
            self.last_stamped = stamped
            request = str(next(self._requests)).encode()
            dealer = self._acks()
            if not dealer.poll(millis(timeout), zmq.POLLOUT):
                self.last_error = "no broker connection"
                return False
            try:
                dealer.send_multipart([PUBLISH, request, *parts], zmq.NOBLOCK)
            except zmq.Again:
                self.last_error = "no broker connection"
                return False
            while (remaining := deadline - time.monotonic()) > 0:
                if not dealer.poll(millis(remaining) or 1, zmq.POLLIN):
                    continue
                reply = dealer.recv_multipart(zmq.NOBLOCK)
                if len(reply) < 2 or reply[1] != request:
                    continue  # a late answer to an earlier, abandoned request
                if reply[0] == OK:
                    self.sent += 1
                    return True
                self.last_error = b" ".join(reply[2:]).decode("utf-8", "replace")
                logger.warning(
                    "broker refused frame", extra={"reason": self.last_error, "seq": stamped["seq"]}
                )
                return False
            self.last_error = "timeout"
            return False

    # -- lifecycle -------------------------------------------------------------------------
    def close(self) -> None:
        """Close the sockets (queued frames get ``linger_ms`` to leave)."""
        with self._lock:
            if self._held and not self.wait_ready(self._linger_ms / 1000):
                logger.warning("no broker came; frames not delivered", extra={"held": self.held})
            if self._ack_socket is not None:
                self._ack_socket.close(linger=0)
                self._ack_socket = None
            self._socket.close()
            if self._own_context:
                self._context.term()  # bounded by the socket's linger
