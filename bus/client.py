"""Publishers and subscribers: the only code that puts frames on the bus or takes them off.

Guarantees, so callers need not think about ZeroMQ:

* A :class:`Publisher` stamps ``v``, ``id``, ``seq`` (gapless per producer), ``producer`` and
  ``observed_at`` and validates before anything leaves the process: an invalid body raises
  :class:`~bus.frames.FrameError` and consumes no ``seq``.
* Slow joiner: the publisher socket is an XPUB, so it *sees* the broker's subscription arrive.
  :meth:`Publisher.wait_ready` returns True once it has; the first :meth:`Publisher.send` calls
  it with a short cap, so a frame sent right after construction reaches a running broker.
  Backpressure instead of silent loss: when the broker falls behind, ``send`` blocks up to
  ``send_timeout`` and then counts the frame in ``dropped``.
* :meth:`Publisher.send_acked` goes through the broker's ROUTER and returns True only once the
  broker validated, forwarded and cached the frame.
* A subscriber validates every frame (bad ones are counted in ``rejected`` / ``reject_reasons``
  and skipped), drops frame ids it has seen (the broker's late-joiner replay reaches every
  matching subscriber), and detects per-producer ``seq`` gaps. After a gap it asks the snapshot
  service for the cached values and yields the ones it missed, each once. Frames of uncached
  topics (``raw.``, ``sys.``) lost in a gap cannot be recovered; the gap is still counted.
"""

from __future__ import annotations

import collections
import itertools
import logging
import os
import socket
import threading
import time
import typing as t
import uuid

import zmq
import zmq.asyncio

from bus import WIRE_VERSION, codec, topics
from bus.clock import now_rfc3339
from bus.frames import Body, FrameError, validate

if t.TYPE_CHECKING:
    import types

    from bus.endpoints import Endpoints

logger = logging.getLogger(__name__)

# Snapshot/ack protocol on the broker's ROUTER (docs/wire.md). Every request carries a request
# id that the replies repeat, so a late reply to an abandoned request is recognised and dropped.
# A snapshot is one multipart reply, so it arrives whole or not at all (never half a cache).
SNAPSHOT = b"SNAPSHOT"  # [SNAPSHOT, req, prefix...] -> [VALUES, req, seqs, topic, body, ...]
SEQS = b"SEQS"  # [SEQS, req] -> [VALUES, req, seqs]
PUBLISH = b"PUB"  # [PUB, req, topic, body] -> [OK, req] | [ERR, req, reason]
VALUES = b"VALUES"
OK = b"OK"
ERR = b"ERR"

HWM = 100_000
"""Queue depth per socket: ~5 s of the 20k frames/s benchmark, so bursts are absorbed."""
PUBLISHER_LINGER_MS = 500
FIRST_SEND_READY_CAP = 1.0
SEEN_IDS_MAX = 20_000
PRODUCERS_MAX = 4_096
SUBSCRIBE = 1
UNSUBSCRIBE = 0

Item = tuple[str, Body]


def producer_name(name: str) -> str:
    """``host:pid:name``: unique per process, so a restarted producer starts a new sequence."""
    return f"{socket.gethostname()}:{os.getpid()}:{name}"


def configure_curve_client(sock: zmq.Socket[t.Any], endpoints: Endpoints) -> None:
    """Pin the broker's public key and present ours, when the endpoints are CURVE tcp."""
    if endpoints.curve is None:
        return
    sock.curve_serverkey = endpoints.curve.broker.public
    sock.curve_publickey = endpoints.curve.client.public
    sock.curve_secretkey = endpoints.curve.client.secret


def _ms(seconds: float) -> int:
    return max(0, int(seconds * 1000))


class Stamper:
    """Stamp the producer fields and encode; one per producer (publishers and the broker)."""

    def __init__(self, name: str) -> None:
        self.producer = producer_name(name)
        self.seq = 0

    def stamp(
        self, body: t.Mapping[str, t.Any], topic: str | None = None
    ) -> tuple[Body, list[bytes]]:
        """Return the stamped body and its two frames; ``seq`` advances only on success."""
        stamped: Body = dict(body)
        stamped["v"] = WIRE_VERSION
        stamped["id"] = uuid.uuid4().hex
        stamped["seq"] = self.seq
        stamped["producer"] = self.producer
        stamped.setdefault("observed_at", now_rfc3339())
        validate(stamped)
        parts = codec.encode(topics.for_body(stamped) if topic is None else topic, stamped)
        self.seq += 1
        return stamped, parts


class Publisher:
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
        self._context = context or zmq.Context.instance()
        self._lock = threading.Lock()
        self._subscriptions = 0
        self._first_send = True
        self._requests = itertools.count()
        self._socket = self._context.socket(zmq.XPUB)
        self._socket.setsockopt(zmq.SNDHWM, HWM)
        self._socket.setsockopt(zmq.LINGER, linger_ms)
        self._socket.setsockopt(zmq.XPUB_VERBOSE, 1)
        self._socket.setsockopt(zmq.XPUB_NODROP, 1)
        self._socket.setsockopt(zmq.SNDTIMEO, _ms(send_timeout))
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
        while self._socket.poll(0, zmq.POLLIN):
            message = self._socket.recv(zmq.NOBLOCK)
            if message[:1] == bytes([SUBSCRIBE]):
                self._subscriptions += 1
            elif message[:1] == bytes([UNSUBSCRIBE]):
                self._subscriptions = max(0, self._subscriptions - 1)

    def wait_ready(self, timeout: float = 5.0) -> bool:
        """True once the broker's subscription reached this publisher (frames will be kept)."""
        deadline = time.monotonic() + timeout
        while True:
            self._drain_subscriptions()
            if self._subscriptions > 0:
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            self._socket.poll(_ms(min(remaining, 0.1)) or 1, zmq.POLLIN)

    # -- sending ---------------------------------------------------------------------------
    def send(self, body: t.Mapping[str, t.Any], topic: str | None = None) -> Body:
        """Stamp, validate and publish ``body``; return the stamped body.

        Raises :class:`FrameError` for an invalid body. A frame the broker cannot take within
        ``send_timeout`` is counted in ``dropped`` and logged (its ``seq`` is then a gap).
        """
        with self._lock:
            if self._first_send:
                self._first_send = False
                if not self.wait_ready(FIRST_SEND_READY_CAP):
                    logger.warning(
                        "no broker subscription yet; frames may be lost",
                        extra={"endpoint": self.endpoints.publish},
                    )
            stamped, parts = self._stamper.stamp(body, topic)
            try:
                self._socket.send_multipart(parts)
            except zmq.Again:
                self.dropped += 1
                logger.warning(
                    "broker not taking frames; dropped",
                    extra={"topic": parts[0].decode(), "seq": stamped["seq"]},
                )
            else:
                self.sent += 1
            return stamped

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
            if not dealer.poll(_ms(timeout), zmq.POLLOUT):
                self.last_error = "no broker connection"
                return False
            try:
                dealer.send_multipart([PUBLISH, request, *parts], zmq.NOBLOCK)
            except zmq.Again:
                self.last_error = "no broker connection"
                return False
            while (remaining := deadline - time.monotonic()) > 0:
                if not dealer.poll(_ms(remaining) or 1, zmq.POLLIN):
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
            if self._ack_socket is not None:
                self._ack_socket.close(linger=0)
                self._ack_socket = None
            self._socket.close()

    def __enter__(self) -> Publisher:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: types.TracebackType | None,
    ) -> None:
        self.close()


class SeenIds:
    """A bounded set of frame ids: the oldest are forgotten first."""

    def __init__(self, limit: int = SEEN_IDS_MAX) -> None:
        self.limit = limit
        self._ids: collections.OrderedDict[str, None] = collections.OrderedDict()

    def __contains__(self, frame_id: object) -> bool:
        return frame_id in self._ids

    def add(self, frame_id: str) -> None:
        """Remember ``frame_id``."""
        self._ids[frame_id] = None
        if len(self._ids) > self.limit:
            self._ids.popitem(last=False)


class SubscriberCore:
    """What sync and async subscribers share: validation, dedup, gap detection, resync.

    Pure bookkeeping, no I/O: the socket owners feed it messages and send what it asks for.
    """

    def __init__(self, prefixes: t.Sequence[str], name: str) -> None:
        self.prefixes = tuple(prefixes) or ("",)
        self.name = name
        self.rejected = 0
        self.reject_reasons: collections.Counter[str] = collections.Counter()
        self.duplicates = 0
        self.stale = 0
        self.gaps = 0
        self.resynced = 0
        self.pending: collections.deque[Item] = collections.deque()
        self._wanted = tuple(prefix.encode() for prefix in self.prefixes)
        self._seen = SeenIds()
        self._last_seq: collections.OrderedDict[str, int] = collections.OrderedDict()
        self._latest: dict[str, tuple[str, int]] = {}
        self._requests = itertools.count()

    def socket_subscriptions(self, track_gaps: bool) -> list[bytes]:
        """What the SUB socket subscribes to.

        Gap detection needs every frame of a producer (its seq spans all its topics), so with
        ``track_gaps`` the socket takes everything and frames outside ``prefixes`` are only
        looked at for their seq. The empty subscription does not make the broker replay its
        cache, so each wanted cached prefix is subscribed to explicitly as well.
        """
        wanted: list[bytes] = [b""] if track_gaps else []
        for prefix in self.prefixes:
            if prefix:
                wanted.append(prefix.encode())
            else:
                wanted.extend(cached.encode() for cached in topics.CACHED_PREFIXES)
        return list(dict.fromkeys(wanted))

    def request_id(self) -> bytes:
        """A fresh request id for the snapshot service."""
        return f"{self.name}:{next(self._requests)}".encode()

    def resync_request(self) -> list[bytes]:
        """The snapshot request that fetches what this subscriber may have missed."""
        return [SNAPSHOT, self.request_id(), *(prefix.encode() for prefix in self.prefixes)]

    def wants(self, topic: bytes) -> bool:
        """Whether a topic matches one of this subscriber's prefixes."""
        return topic.startswith(self._wanted)

    def _reject(self, reason: str, topic: bytes) -> None:
        self.rejected += 1
        self.reject_reasons[reason] += 1
        logger.warning(
            "rejected frame",
            extra={"subscriber": self.name, "reason": reason, "topic": topic[:80]},
        )

    def _track(self, producer: str, seq: int) -> bool:
        """Record ``seq`` for ``producer``; True when frames were skipped (a gap)."""
        last = self._last_seq.get(producer)
        if last is not None and seq <= last:
            return False  # replayed or reordered: no gap, the dedup decides
        self._last_seq[producer] = seq
        self._last_seq.move_to_end(producer)
        if len(self._last_seq) > PRODUCERS_MAX:
            self._last_seq.popitem(last=False)
        return last is not None and seq > last + 1

    def _fresh(self, topic: str, body: Body) -> bool:
        """False for an older value of a cached topic than one already yielded (same producer)."""
        if not topics.is_cached(topic):
            return True
        stamp = (body["producer"], body["seq"])
        previous = self._latest.get(topic)
        if previous is not None and previous[0] == stamp[0] and previous[1] > stamp[1]:
            self.stale += 1
            return False
        self._latest[topic] = stamp
        return True

    def accept(self, topic: str, body: Body) -> bool:
        """Dedup and staleness check of a valid frame; True when it should be yielded."""
        if body["id"] in self._seen:
            self.duplicates += 1
            return False
        self._seen.add(body["id"])
        return self._fresh(topic, body)

    def on_bus(self, parts: t.Sequence[bytes]) -> tuple[Item | None, bool]:
        """Handle one bus message; return (item to yield or None, gap detected)."""
        if len(parts) != 2:
            self._reject(f"expected 2 frames, got {len(parts)}", parts[0] if parts else b"")
            return None, False
        if not self.wants(parts[0]):
            return None, self._track_foreign(parts[1])
        try:
            topic, body = codec.decode(parts)
        except FrameError as exc:
            self._reject(exc.reason, parts[0])
            return None, False
        if body["id"] in self._seen:
            self.duplicates += 1
            return None, False
        gap = self._track(body["producer"], body["seq"])
        if gap:
            self.gaps += 1
            logger.info(
                "sequence gap", extra={"producer": body["producer"], "seq": body["seq"]}
            )
        return ((topic, body) if self.accept(topic, body) else None), gap

    def _track_foreign(self, raw_body: bytes) -> bool:
        """Seq tracking for a frame outside our prefixes (not validated, never yielded)."""
        try:
            body = codec.loads(raw_body)
        except ValueError:
            return False
        if not isinstance(body, dict):
            return False
        producer, seq = body.get("producer"), body.get("seq")
        if not isinstance(producer, str) or not isinstance(seq, int) or isinstance(seq, bool):
            return False
        gap = self._track(producer, seq)
        if gap:
            self.gaps += 1
        return gap

    def on_snapshot(self, reply: t.Sequence[bytes]) -> None:
        """Handle a snapshot-service reply: queue the values we missed, merge the seq map."""
        for topic, body in snapshot_values(reply):
            if self.wants(topic.encode()) and self.accept(topic, body):
                self.resynced += 1
                self.pending.append((topic, body))
        if len(reply) < 3 or reply[0] != VALUES:
            return
        try:
            seqs = codec.loads(reply[2])
        except ValueError:
            return
        if isinstance(seqs, dict):
            for producer, seq in seqs.items():
                if isinstance(producer, str) and isinstance(seq, int):
                    self._track(producer, seq)


def snapshot_values(reply: t.Sequence[bytes]) -> list[Item]:
    """Decode the (topic, body) pairs of a VALUES reply; invalid ones are logged and skipped."""
    if len(reply) < 3 or reply[0] != VALUES:
        return []
    values: list[Item] = []
    pairs = reply[3:]
    for index in range(0, len(pairs) - 1, 2):
        try:
            values.append(codec.decode(pairs[index : index + 2]))
        except FrameError as exc:
            logger.warning("invalid snapshot value", extra={"reason": exc.reason})
    return values


class _SubscriberBase:
    """Counters and socket setup shared by :class:`Subscriber` and :class:`AsyncSubscriber`."""

    core: SubscriberCore

    @property
    def rejected(self) -> int:
        """Frames that failed validation (skipped)."""
        return self.core.rejected

    @property
    def reject_reasons(self) -> collections.Counter[str]:
        """Why frames were rejected, with counts."""
        return self.core.reject_reasons

    @property
    def gaps(self) -> int:
        """Sequence gaps detected (each triggered a resync)."""
        return self.core.gaps

    @property
    def duplicates(self) -> int:
        """Frames dropped because their id was seen before."""
        return self.core.duplicates

    @staticmethod
    def _setup(
        sub: zmq.Socket[t.Any],
        dealer: zmq.Socket[t.Any],
        endpoints: Endpoints,
        subscriptions: t.Sequence[bytes],
        hwm: int,
    ) -> None:
        sub.setsockopt(zmq.RCVHWM, hwm)
        sub.setsockopt(zmq.LINGER, 0)
        dealer.setsockopt(zmq.LINGER, 0)
        for sock in (sub, dealer):
            configure_curve_client(sock, endpoints)
        for subscription in subscriptions:
            sub.setsockopt(zmq.SUBSCRIBE, subscription)
        sub.connect(endpoints.subscribe)
        dealer.connect(endpoints.snapshot)


class Subscriber(_SubscriberBase):
    """Receive validated frames whose topic starts with one of ``prefixes``. One thread only."""

    def __init__(
        self,
        endpoints: Endpoints,
        prefixes: t.Sequence[str] = ("",),
        name: str = "subscriber",
        *,
        context: zmq.Context[t.Any] | None = None,
        track_gaps: bool = True,
        hwm: int = HWM,
    ) -> None:
        self.endpoints = endpoints
        self.core = SubscriberCore(prefixes, name)
        self._context = context or zmq.Context.instance()
        self._sub = self._context.socket(zmq.SUB)
        self._dealer = self._context.socket(zmq.DEALER)
        self._setup(
            self._sub, self._dealer, endpoints, self.core.socket_subscriptions(track_gaps), hwm
        )
        self._poller = zmq.Poller()
        self._poller.register(self._sub, zmq.POLLIN)
        self._poller.register(self._dealer, zmq.POLLIN)
        # Where each producer stands, so frames sent before we joined are not taken for a gap.
        self._dealer.send_multipart([SEQS, self.core.request_id()])

    def _resync(self) -> None:
        self._dealer.send_multipart(self.core.resync_request())

    def recv(self, timeout: float = 1.0) -> Item | None:
        """The next valid frame as ``(topic, body)``, or None after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            if self.core.pending:
                return self.core.pending.popleft()
            remaining = deadline - time.monotonic()
            events = dict(self._poller.poll(_ms(remaining) if remaining > 0 else 0))
            if self._dealer in events:
                while self._dealer.poll(0, zmq.POLLIN):
                    self.core.on_snapshot(self._dealer.recv_multipart(zmq.NOBLOCK))
            if self._sub in events and (item := self._drain_bus()) is not None:
                return item
            if remaining <= 0:
                return self.core.pending.popleft() if self.core.pending else None

    def _drain_bus(self) -> Item | None:
        """Take queued bus messages until one is worth yielding (one poll for a burst)."""
        while True:
            try:
                parts = self._sub.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return None
            item, gap = self.core.on_bus(parts)
            if gap:
                self._resync()
            if item is not None:
                return item

    def iter(self, timeout: float = 0.5, stop: threading.Event | None = None) -> t.Iterator[Item]:
        """Yield frames until ``stop`` is set; ``timeout`` is how often ``stop`` is checked."""
        while stop is None or not stop.is_set():
            item = self.recv(timeout)
            if item is not None:
                yield item

    def snapshot(self, prefix: str = "", timeout: float = 2.0) -> list[Item]:
        """The broker's cached values under ``prefix`` (empty list if it does not answer)."""
        request = self.core.request_id()
        self._dealer.send_multipart([SNAPSHOT, request, prefix.encode()])
        deadline = time.monotonic() + timeout
        while (remaining := deadline - time.monotonic()) > 0:
            if not self._dealer.poll(_ms(remaining) or 1, zmq.POLLIN):
                continue
            reply = self._dealer.recv_multipart(zmq.NOBLOCK)
            if len(reply) >= 2 and reply[1] == request:
                return snapshot_values(reply)
            self.core.on_snapshot(reply)
        logger.warning("snapshot service did not answer", extra={"timeout": timeout})
        return []

    def close(self) -> None:
        """Close both sockets."""
        self._sub.close(linger=0)
        self._dealer.close(linger=0)

    def __enter__(self) -> Subscriber:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: types.TracebackType | None,
    ) -> None:
        self.close()


class AsyncSubscriber(_SubscriberBase):
    """:class:`Subscriber` for asyncio (``zmq.asyncio``), with the same semantics."""

    def __init__(
        self,
        endpoints: Endpoints,
        prefixes: t.Sequence[str] = ("",),
        name: str = "subscriber",
        *,
        context: zmq.asyncio.Context | None = None,
        track_gaps: bool = True,
        hwm: int = HWM,
    ) -> None:
        self.endpoints = endpoints
        self.core = SubscriberCore(prefixes, name)
        self._context = context or zmq.asyncio.Context.instance()
        self._sub = self._context.socket(zmq.SUB)
        self._dealer = self._context.socket(zmq.DEALER)
        self._setup(
            self._sub, self._dealer, endpoints, self.core.socket_subscriptions(track_gaps), hwm
        )
        self._poller = zmq.asyncio.Poller()
        self._poller.register(self._sub, zmq.POLLIN)
        self._poller.register(self._dealer, zmq.POLLIN)
        self._started = False

    async def _start(self) -> None:
        if not self._started:
            self._started = True
            await self._dealer.send_multipart([SEQS, self.core.request_id()])

    async def recv(self, timeout: float = 1.0) -> Item | None:
        """The next valid frame as ``(topic, body)``, or None after ``timeout`` seconds."""
        await self._start()
        deadline = time.monotonic() + timeout
        while True:
            if self.core.pending:
                return self.core.pending.popleft()
            remaining = deadline - time.monotonic()
            events = dict(await self._poller.poll(_ms(remaining) if remaining > 0 else 0))
            if self._dealer in events:
                self.core.on_snapshot(await self._dealer.recv_multipart())
            if self._sub in events:
                item, gap = self.core.on_bus(await self._sub.recv_multipart())
                if gap:
                    await self._dealer.send_multipart(self.core.resync_request())
                if item is not None:
                    return item
            if remaining <= 0:
                return self.core.pending.popleft() if self.core.pending else None

    async def iter(
        self, timeout: float = 0.5, stop: threading.Event | None = None
    ) -> t.AsyncIterator[Item]:
        """Yield frames until ``stop`` is set; ``timeout`` is how often ``stop`` is checked."""
        while stop is None or not stop.is_set():
            item = await self.recv(timeout)
            if item is not None:
                yield item

    async def snapshot(self, prefix: str = "", timeout: float = 2.0) -> list[Item]:
        """The broker's cached values under ``prefix`` (empty list if it does not answer)."""
        await self._start()
        request = self.core.request_id()
        await self._dealer.send_multipart([SNAPSHOT, request, prefix.encode()])
        deadline = time.monotonic() + timeout
        while (remaining := deadline - time.monotonic()) > 0:
            if not await self._dealer.poll(_ms(remaining) or 1):
                continue
            reply = await self._dealer.recv_multipart()
            if len(reply) >= 2 and reply[1] == request:
                return snapshot_values(reply)
            self.core.on_snapshot(reply)
        logger.warning("snapshot service did not answer", extra={"timeout": timeout})
        return []

    def close(self) -> None:
        """Close both sockets."""
        self._sub.close(linger=0)
        self._dealer.close(linger=0)

    async def __aenter__(self) -> AsyncSubscriber:
        await self._start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: types.TracebackType | None,
    ) -> None:
        self.close()
