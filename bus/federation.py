"""Forward this host's frames to a central broker over tcp + CURVE (docs/guide.md "Several
machines").

The :class:`Forwarder` subscribes to the local bus, keeps the frames this host produced
(``producer`` starting with this host's name, so frames that came from elsewhere are never sent
back) of the forwarded kinds, appends them to the :class:`~bus.spool.Spool` and sends them from
there to the upstream broker's ROUTER by acknowledged publish (``[PUB, req, topic, body]`` →
``[OK, req]``, docs/wire.md), presenting this host's own key pair and pinning the upstream's
public key. Up to :data:`WINDOW` requests are in flight; the acked offset advances only on the
reply to the oldest one. A reply that does not come within :data:`ACK_TIMEOUT` (the link went
down, the broker restarted) sends everything again from the acked offset: the upstream drops
the ids it already took, so a frame arrives once and in order.

ZeroMQ heartbeats (``ZMQ_HEARTBEAT_*``) notice a dead link within seconds even when no packet
says so (a cable pulled, a veth down) and the socket reconnects by itself. A socket monitor
tells the handshake's outcome (refused key, wrong upstream key, unreachable), and a
subscription to the upstream's ``sys.heartbeat`` gives its clock: what ``panebus doctor``
reports.

The ``[bus]`` settings of several hosts are read by :mod:`bus.federation_config`; ``panebus
doctor``'s one-off connection attempt is :mod:`bus.federation_probe`.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import time
import typing as t

import zmq
from zmq.utils.monitor import recv_monitor_message

from bus import codec
from bus.clock import now_rfc3339, parse_rfc3339, utcnow
from bus.federation_config import upstream_addresses
from bus.keys import UPSTREAM_KEY, check_host_name, key_files, load_pair, load_public
from bus.protocol import ERR, OK, PUBLISH
from bus.spool import DEFAULT_MAX_BYTES, Spool
from bus.subscribers import Subscriber

if t.TYPE_CHECKING:
    import threading
    from pathlib import Path

    from bus.endpoints import Endpoints

logger = logging.getLogger(__name__)

FORWARDED = ("parsed.", "state.", "window.", "forecast.", "event.")
RAW = "raw."
WINDOW = 256
"""Acknowledged publishes in flight at once."""
ACK_TIMEOUT = 3.0
RETRY_REFUSED = 2.0
"""Seconds before a link whose handshake was refused is tried again with a new socket."""
HEARTBEAT_IVL_MS = 1000
HEARTBEAT_TIMEOUT_MS = 3000
RECONNECT_IVL_MS = 100
RECONNECT_IVL_MAX_MS = 1000
POLL_MS = 50
TAKE_MAX = 2000
"""Local frames taken per loop turn, so acknowledgements are read between bursts."""
HANDSHAKE_FAILED = (zmq.EVENT_HANDSHAKE_FAILED_AUTH, zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL,
                    zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL)


@dataclasses.dataclass
class LinkState:
    """What the forwarder knows of its link; ``panebus status``/``doctor`` show it."""

    upstream: str
    host: str
    connected: bool = False
    handshakes: int = 0
    handshake_failure: str | None = None
    tcp_connects: int = 0
    connect_retries: int = 0
    forwarded: int = 0
    refused: int = 0
    resends: int = 0
    last_ack_at: str | None = None
    connected_at: str | None = None
    disconnected_at: str | None = None
    skew_s: float | None = None
    last_error: str | None = None

    def as_dict(self) -> dict[str, t.Any]:
        """The state as plain values for the health file."""
        return dataclasses.asdict(self)


class Forwarder:
    """Take this host's frames from the local bus and deliver them upstream, in order, once.

    :meth:`run` blocks until ``stop`` is set. One thread owns every socket and the spool.
    """

    def __init__(
        self,
        local: Endpoints,
        upstream: str,
        host: str,
        keys_dir: Path,
        spool_dir: Path,
        *,
        raw: bool = False,
        spool_max_bytes: int = DEFAULT_MAX_BYTES,
        context: zmq.Context[t.Any] | None = None,
    ) -> None:
        self.local = local
        self.upstream = upstream
        self.host = check_host_name(host)
        self.prefixes = (*FORWARDED, RAW) if raw else FORWARDED
        self.subscribe_address, self.snapshot_address = upstream_addresses(upstream)
        self.pair = load_pair(keys_dir, host)
        self.server_key = load_public(key_files(keys_dir, UPSTREAM_KEY)[0])
        self.spool = Spool(spool_dir, spool_max_bytes)
        self.state = LinkState(upstream, host)
        self._own = f"{host}:"
        self._context = context or zmq.Context.instance()
        self._requests = itertools.count()
        self._in_flight: list[tuple[bytes, int, float]] = []  # (request, end offset, sent at)
        self._send_offset = self.spool.acked
        self._reopen_at: float | None = None
        self._sockets: tuple[zmq.Socket[t.Any], zmq.Socket[t.Any], zmq.Socket[t.Any]]
        self._poller: zmq.Poller

    # -- sockets -------------------------------------------------------------------------------
    def _curve(self, sock: zmq.Socket[t.Any]) -> None:
        sock.curve_serverkey = self.server_key
        sock.curve_publickey = self.pair.public
        sock.curve_secretkey = self.pair.secret
        sock.setsockopt(zmq.LINGER, 0)
        sock.setsockopt(zmq.HEARTBEAT_IVL, HEARTBEAT_IVL_MS)
        sock.setsockopt(zmq.HEARTBEAT_TIMEOUT, HEARTBEAT_TIMEOUT_MS)
        sock.setsockopt(zmq.RECONNECT_IVL, RECONNECT_IVL_MS)
        sock.setsockopt(zmq.RECONNECT_IVL_MAX, RECONNECT_IVL_MAX_MS)

    def _open(self) -> None:
        dealer = self._context.socket(zmq.DEALER)
        self._curve(dealer)
        dealer.setsockopt(zmq.IMMEDIATE, 1)  # nothing queued for a link that is not up
        monitor = dealer.get_monitor_socket()
        dealer.connect(self.snapshot_address)
        clock = self._context.socket(zmq.SUB)
        self._curve(clock)
        clock.setsockopt(zmq.SUBSCRIBE, b"sys.heartbeat")
        clock.connect(self.subscribe_address)
        self._sockets = (dealer, monitor, clock)
        self._poller = zmq.Poller()
        for sock in self._sockets:
            self._poller.register(sock, zmq.POLLIN)

    def _close(self) -> None:
        dealer, monitor, clock = self._sockets
        dealer.disable_monitor()
        for sock in (monitor, dealer, clock):
            sock.close(linger=0)
        self.state.connected = False

    # -- the loop ------------------------------------------------------------------------------
    def run(self, stop: threading.Event, on_ready: t.Callable[[], None] | None = None) -> None:
        """Forward until ``stop`` is set."""
        local = Subscriber(self.local, self.prefixes, name="upstream")
        self._open()
        logger.info("forwarding to upstream", extra={"upstream": self.upstream,
                                                     "host": self.host})
        if on_ready is not None:
            on_ready()
        try:
            while not stop.is_set():
                self._turn(local)
        finally:
            self._close()
            local.close()
            self.spool.close()

    def _turn(self, local: Subscriber) -> None:
        self._take_local(local)
        dealer, monitor, clock = self._sockets
        events = dict(self._poller.poll(POLL_MS if not self._sendable() else 0))
        if monitor in events:
            self._on_monitor(monitor)
        if dealer in events:
            self._on_replies(dealer)
        if clock in events:
            self._on_clock(clock)
        if self._reopen_at is not None and time.monotonic() >= self._reopen_at:
            # ZeroMQ does not retry a connection whose handshake was refused: a key
            # authorized later, or a corrected upstream.key, needs a new socket.
            self._reopen_at = None
            self._close()
            self._open()
            self._resend("reconnecting after a refused handshake")
        self._check_timeout()
        self._send(self._sockets[0])

    def _take_local(self, local: Subscriber) -> None:
        """Append this host's new frames to the spool (a short wait only when idle)."""
        wait = 0.0 if self._sendable() else 0.01
        for _ in range(TAKE_MAX):
            item = local.recv(wait)
            if item is None:
                return
            wait = 0.0
            topic, body = item
            if not body["producer"].startswith(self._own) or "via" in body:
                continue
            body["via"] = self.host  # relayed: subscribers upstream do not count seq holes
            self.spool.append(topic.encode(), codec.dumps(body))

    def _sendable(self) -> bool:
        return len(self._in_flight) < WINDOW and self._send_offset < self.spool.size

    def _send(self, dealer: zmq.Socket[t.Any]) -> None:
        room = WINDOW - len(self._in_flight)
        if room <= 0 or self._send_offset >= self.spool.size:
            return
        for end, topic, body in self.spool.read(self._send_offset, room):
            request = str(next(self._requests)).encode()
            try:
                dealer.send_multipart([PUBLISH, request, topic, body], zmq.NOBLOCK)
            except zmq.Again:
                return  # no link yet: the spool keeps it
            self._in_flight.append((request, end, time.monotonic()))
            self._send_offset = end

    def _on_replies(self, dealer: zmq.Socket[t.Any]) -> None:
        """Take every queued reply; the acked offset is written once for the batch."""
        acked_to: int | None = None
        while True:
            try:
                reply = dealer.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                break
            if len(reply) < 2 or not self._in_flight:
                continue
            request = reply[1]
            head, end, _sent = self._in_flight[0]
            if request != head:
                if any(request == entry[0] for entry in self._in_flight):
                    self._resend("a reply out of order")
                continue  # a late reply to a request already sent again
            self._in_flight.pop(0)
            if reply[0] == OK:
                self.state.forwarded += 1
            elif reply[0] == ERR:
                # Refused for good (invalid, or not this host's): sending it again cannot help.
                self.state.refused += 1
                reason = b" ".join(reply[2:]).decode("utf-8", "replace")
                self.state.last_error = f"upstream refused a frame: {reason}"
                logger.warning("upstream refused a frame", extra={"reason": reason})
            acked_to = end
        if acked_to is None:
            return
        shift = self.spool.ack(acked_to)
        self.state.last_ack_at = now_rfc3339()
        if shift:  # compacted: every offset moved back by ``shift``
            self._in_flight = [(req, at - shift, sent) for req, at, sent in self._in_flight]
            self._send_offset -= shift

    def _check_timeout(self) -> None:
        if self._in_flight and time.monotonic() - self._in_flight[0][2] > ACK_TIMEOUT:
            self._resend("no acknowledgement")

    def _resend(self, why: str) -> None:
        self.state.resends += 1
        logger.info("resending from the acked offset", extra={
            "why": why, "in_flight": len(self._in_flight), "acked": self.spool.acked})
        self._in_flight.clear()
        self._send_offset = self.spool.acked

    def _on_monitor(self, monitor: zmq.Socket[t.Any]) -> None:
        while monitor.poll(0, zmq.POLLIN):
            event = recv_monitor_message(monitor)
            kind = event["event"]
            now = now_rfc3339()
            if kind == zmq.EVENT_CONNECTED:
                self.state.tcp_connects += 1
            elif kind == zmq.EVENT_CONNECT_RETRIED:
                self.state.connect_retries += 1
            elif kind == zmq.EVENT_HANDSHAKE_SUCCEEDED:
                self.state.connected = True
                self.state.handshakes += 1
                self.state.handshake_failure = None
                self.state.connected_at = now
            elif kind == zmq.EVENT_DISCONNECTED:
                if self.state.connected:
                    self.state.disconnected_at = now
                self.state.connected = False
            if kind in HANDSHAKE_FAILED and self._reopen_at is None:
                self._reopen_at = time.monotonic() + RETRY_REFUSED
            if kind == zmq.EVENT_HANDSHAKE_FAILED_AUTH:
                self.state.handshake_failure = (
                    f"the upstream refused this host's key (ZAP status {event['value']}): "
                    f"is {self.host}.key in the upstream's keys/authorized dir?")
            elif kind in HANDSHAKE_FAILED:
                self.state.handshake_failure = (
                    "the CURVE handshake failed: is upstream.key the upstream broker's "
                    "broker.key?")

    def _on_clock(self, clock: zmq.Socket[t.Any]) -> None:
        while True:
            try:
                parts = clock.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return
            try:
                _topic, body = codec.decode(parts)
                theirs = parse_rfc3339(body["observed_at"])
            except (ValueError, KeyError):
                continue
            self.state.skew_s = round((utcnow() - theirs).total_seconds(), 3)

    def detail(self) -> dict[str, t.Any]:
        """Figures for ``panebus status`` and ``panebus doctor``."""
        return {
            **self.state.as_dict(),
            "pending_bytes": self.spool.pending_bytes,
            "in_flight": len(self._in_flight),
            "spooled": self.spool.appended,
            "spool_dropped": self.spool.dropped,
        }
