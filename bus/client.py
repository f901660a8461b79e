"""Publishers and subscribers: the only code that puts frames on the bus or takes them off.

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
* A subscriber validates every frame (bad ones are counted in ``rejected`` / ``reject_reasons``
  and skipped), drops cached-topic frames whose id it has seen (the broker's late-joiner replay
  reaches every matching subscriber; uncached frames are never sent twice), and detects
  per-producer ``seq`` gaps. After a gap it asks the snapshot service for the cached values and
  yields the ones it missed, each once. Frames of uncached topics (``raw.``, ``sys.``) lost in
  a gap cannot be recovered; the gap is still counted.
"""

from __future__ import annotations

import collections
import itertools
import logging
import os
import threading
import time
import typing as t
import uuid

import zmq
import zmq.asyncio

from bus import WIRE_VERSION, codec, topics
from bus.clock import now_rfc3339
from bus.frames import Body, FrameError, validate
from bus.keys import this_host
from bus.transport import NOBLOCK, recv_frames, send_parts

if t.TYPE_CHECKING:
    import types

    from bus.endpoints import Endpoints

logger = logging.getLogger(__name__)

# Snapshot/ack protocol on the broker's ROUTER (docs/wire.md). Every request carries a request
# id that the replies repeat, so a late reply to an abandoned request is recognised and dropped.
# A snapshot is one multipart reply, so it arrives whole or not at all (never half a cache).
SNAPSHOT = b"SNAPSHOT"  # [SNAPSHOT, req, prefix...] -> [VALUES, req, seqs, topic, body, ...]
PUBLISH = b"PUB"  # [PUB, req, topic, body] -> [OK, req] | [ERR, req, reason]
VALUES = b"VALUES"
OK = b"OK"
ERR = b"ERR"

HWM = 100_000
"""Queue depth per socket: ~5 s of the 20k frames/s benchmark, so bursts are absorbed."""
PUBLISHER_LINGER_MS = 500
FIRST_SEND_READY_CAP = 1.0
SUBSCRIPTION_CHECK = 0.001
"""Seconds between checks, while sending, that the broker is still subscribed."""
HELD_MAX = 5_000
"""Frames a publisher keeps while no broker is subscribed (then the oldest give way)."""
SEEN_IDS_MAX = 20_000
BASELINE_TIMEOUT = 2.0
RESYNC_TIMEOUT = 5.0
"""Seconds a subscriber waits for the snapshot reply to a resync before it stops waiting."""
JOIN_PREFIX = "sys.join."
"""A subscription to ``sys.join.<token>`` makes the broker publish, on that topic and in order
with the data, where every producer stands at that moment (see :class:`SubscriberCore`)."""
PRODUCERS_MAX = 4_096
SUBSCRIBE = 1
UNSUBSCRIBE = 0

Item = tuple[str, Body]


def producer_name(name: str) -> str:
    """``host:pid:name``: unique per process, so a restarted producer starts a new sequence.

    ``host`` is ``PANEBUS_HOST`` when set (:func:`bus.keys.this_host`): the name a central
    broker knows this host's key by.
    """
    return f"{this_host()}:{os.getpid()}:{name}"


def configure_curve_client(sock: zmq.Socket[t.Any], endpoints: Endpoints) -> None:
    """Pin the broker's public key and present ours, when the endpoints are CURVE tcp."""
    if endpoints.curve is None:
        return
    sock.curve_serverkey = endpoints.curve.broker.public
    sock.curve_publickey = endpoints.curve.client.public
    sock.curve_secretkey = endpoints.curve.client.secret


def _ms(seconds: float) -> int:
    return max(0, int(seconds * 1000))


class Rejections:
    """Count rejected frames by reason; log each new reason once as a warning.

    A flood of the same bad frame must neither stop the reader nor drown the log.
    """

    def __init__(self, reader: str) -> None:
        self.reader = reader
        self.count = 0
        self.reasons: collections.Counter[str] = collections.Counter()

    def record(self, reason: str, topic: bytes) -> None:
        """Count one rejected frame."""
        self.count += 1
        self.reasons[reason] += 1
        level = logging.WARNING if self.reasons[reason] == 1 else logging.DEBUG
        logger.log(
            level, "rejected frame",
            extra={"reader": self.reader, "reason": reason, "topic": bytes(topic[:80])},
        )


class Stamper:
    """Stamp the producer fields and encode; one per producer (publishers and the broker)."""

    def __init__(self, name: str) -> None:
        self.producer = producer_name(name)
        self.seq = 0
        # Frame ids: 80 random bits drawn once per producer, then the seq in 12 hex digits.
        # Unique like a uuid4 (a restarted producer draws anew) without a random draw per
        # frame, which costs a sixth of stamping a 5 KB frame.
        self._id_prefix = os.urandom(10).hex()

    def stamp(
        self, body: t.Mapping[str, t.Any], topic: str | None = None
    ) -> tuple[Body, list[bytes]]:
        """Return the stamped body and its two frames; ``seq`` advances only on success."""
        stamped: Body = dict(body)
        stamped["v"] = WIRE_VERSION
        stamped["id"] = f"{self._id_prefix}{self.seq:012x}"
        stamped["seq"] = self.seq
        stamped["producer"] = self.producer
        stamped.setdefault("observed_at", now_rfc3339())
        if topic is None:
            try:
                topic = topics.for_body(stamped)
            except (KeyError, TypeError, AttributeError):
                validate(stamped)  # raises FrameError with the reason
                raise
        parts = codec.encode(topic, stamped)  # validates
        self.seq += 1
        return stamped, parts


_Closable = t.TypeVar("_Closable", bound="ClosesOnExit")


class ClosesOnExit:
    """``with`` support for the clients: leaving the block closes the sockets."""

    def close(self) -> None:
        """Close the sockets."""
        raise NotImplementedError

    def __enter__(self: _Closable) -> _Closable:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: types.TracebackType | None,
    ) -> None:
        self.close()


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
            if self._held and not self.wait_ready(self._linger_ms / 1000):
                logger.warning("no broker came; frames not delivered", extra={"held": self.held})
            if self._ack_socket is not None:
                self._ack_socket.close(linger=0)
                self._ack_socket = None
            self._socket.close()
            if self._own_context:
                self._context.term()  # bounded by the socket's linger



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

    def __init__(self, prefixes: t.Sequence[str], name: str, *, track_gaps: bool = True) -> None:
        self.prefixes = tuple(prefixes) or ("",)
        self.name = name
        self.track_gaps = track_gaps
        self.rejections = Rejections(name)
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
        # Gap detection starts at the join marker: subscribed to last, it reaches us after
        # everything sent before we joined (and after the cache replay), in order with the
        # data, carrying the broker's sequence map at that point. Frames lost after it are gaps.
        self.join_topic = f"{JOIN_PREFIX}{uuid.uuid4().hex}"
        self._join_bytes = self.join_topic.encode()
        self._created = time.monotonic()
        self._baseline = False

    def socket_subscriptions(self) -> list[bytes]:
        """What the SUB socket subscribes to.

        Gap detection needs every frame of a producer (its seq spans all its topics), so with
        ``track_gaps`` the socket takes everything and frames outside ``prefixes`` are only
        looked at for their seq. The empty subscription does not make the broker replay its
        cache, so each wanted cached prefix is subscribed to explicitly as well.
        """
        wanted: list[bytes] = [b""] if self.track_gaps else []
        for prefix in self.prefixes:
            if prefix:
                wanted.append(prefix.encode())
            else:
                wanted.extend(cached.encode() for cached in topics.CACHED_PREFIXES)
        if self.track_gaps:
            wanted.append(self.join_topic.encode())  # last: the marker follows the replay
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

    @property
    def synced(self) -> bool:
        """Whether gap detection is on: the join marker arrived (or never will)."""
        if not self._baseline and time.monotonic() - self._created > BASELINE_TIMEOUT:
            self._baseline = True  # something else than a panebus broker: detect anyway
        return self._baseline

    def _join(self, topic_bytes: bytes, raw_body: bytes | memoryview) -> None:
        """Take the broker's sequence map from our join marker as the gap baseline."""
        try:
            _topic, body = codec.decode_message(topic_bytes, raw_body)
        except FrameError as exc:
            self.rejections.record(exc.reason, topic_bytes)
            return
        seqs = body.get("seqs")
        if isinstance(seqs, dict):
            self.merge_seqs(seqs)
        self._advance(body["producer"], body["seq"])  # the marker is a broker frame too
        self._baseline = True

    def merge_seqs(self, seqs: t.Mapping[t.Any, t.Any]) -> None:
        """Advance each producer to where the broker says it stands."""
        for producer, seq in seqs.items():
            if isinstance(producer, str) and isinstance(seq, int):
                self._advance(producer, seq)

    def _advance(self, producer: str, seq: int) -> int | None:
        """Record ``seq`` for ``producer`` if newer; return the previous seq (None: new)."""
        last = self._last_seq.get(producer)
        if last is None or seq > last:
            self._last_seq[producer] = seq
            self._last_seq.move_to_end(producer)
            if len(self._last_seq) > PRODUCERS_MAX:
                self._last_seq.popitem(last=False)
        return last

    def check_seqs(self, seqs: t.Any) -> bool:
        """Compare a broker frame's map of where each producer stands with what arrived.

        The broker sends it (heartbeat, join markers) in order with the data, so every frame it
        forwarded before has arrived by now unless it was lost: a producer standing further than
        its last frame here is a gap. This is the only way to see a loss at the end of a burst.
        Producers never seen here are skipped (nothing to compare with: never a false gap).
        """
        if not isinstance(seqs, dict) or not self.track_gaps or not self.synced:
            return False
        behind = [
            producer
            for producer, seq in seqs.items()
            if type(seq) is int
            and (last := self._last_seq.get(producer)) is not None
            and seq > last
        ]
        self.merge_seqs(seqs)
        if not behind:
            return False
        self.gaps += 1
        logger.info("sequence gap at the end of a burst", extra={"producers": behind})
        return True

    def _track(self, producer: str, seq: int) -> bool:
        """Record a frame's ``seq``; True (and counted) when frames were skipped: a gap."""
        last = self._advance(producer, seq)
        if last is None or seq <= last + 1 or not self.synced:
            return False  # new producer, in order, replayed/reordered, or no baseline yet
        self.gaps += 1
        logger.info("sequence gap", extra={"producer": producer, "seq": seq, "after": last})
        return True

    def _track_frame(self, body: t.Mapping[str, t.Any], producer: str, seq: int) -> bool:
        """:meth:`_track` a frame; a broker frame's sequence map is checked too.

        A frame relayed from another host (``via``, :mod:`bus.federation`) is not tracked:
        only some kinds are relayed, so its producer's seq has holes by design, and the
        relay itself is acknowledged frame by frame.
        """
        if "via" in body:
            return False
        gap = self._track(producer, seq)
        if body.get("kind") == "sys" and "seqs" in body:
            gap = self.check_seqs(body["seqs"]) or gap
        return gap

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

    def on_bus(self, parts: t.Sequence[bytes | memoryview]) -> tuple[Item | None, bool]:
        """Handle one bus message; return (item to yield or None, gap detected)."""
        if len(parts) != 2:
            reason = f"expected 2 frames, got {len(parts)}"
            self.rejections.record(reason, bytes(parts[0]) if parts else b"")
            return None, False
        topic_bytes, raw_body = bytes(parts[0]), parts[1]
        if topic_bytes == self._join_bytes:
            self._join(topic_bytes, raw_body)
            return None, False
        if not self.wants(topic_bytes):
            return None, self._track_foreign(raw_body)
        try:
            topic, body = codec.decode_message(topic_bytes, raw_body)
        except FrameError as exc:
            self.rejections.record(exc.reason, topic_bytes)
            return None, False
        cached = topics.is_cached(topic)
        if cached and body["id"] in self._seen:
            self.duplicates += 1
            return None, False
        gap = self._track_frame(body, body["producer"], body["seq"])
        if not cached:
            # Only cached values come twice (replayed to late joiners, resent in snapshots):
            # an uncached frame needs no id bookkeeping, which at bus rates is not free.
            return (topic, body), gap
        return ((topic, body) if self.accept(topic, body) else None), gap

    def _track_foreign(self, raw_body: bytes | memoryview) -> bool:
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
        return self._track_frame(body, producer, seq)

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
            self.merge_seqs(seqs)


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


class _SubscriberBase(ClosesOnExit):
    """Counters, socket setup and closing shared by the sync and asyncio subscribers."""

    core: SubscriberCore
    endpoints: Endpoints
    _sub: zmq.Socket[t.Any]
    _dealer: zmq.Socket[t.Any]

    @property
    def rejected(self) -> int:
        """Frames that failed validation (skipped)."""
        return self.core.rejections.count

    @property
    def reject_reasons(self) -> collections.Counter[str]:
        """Why frames were rejected, with counts."""
        return self.core.rejections.reasons

    @property
    def gaps(self) -> int:
        """Sequence gaps detected (each triggered a resync)."""
        return self.core.gaps

    @property
    def duplicates(self) -> int:
        """Frames dropped because their id was seen before."""
        return self.core.duplicates

    @property
    def synced(self) -> bool:
        """True once gap detection runs (the broker's sequence map arrived after joining)."""
        return self.core.synced

    def _connect(self, poller: zmq.Poller, hwm: int) -> None:
        """Configure and connect ``_sub`` and ``_dealer``; register both with ``poller``."""
        self._sub.setsockopt(zmq.RCVHWM, hwm)
        for sock in (self._sub, self._dealer):
            sock.setsockopt(zmq.LINGER, 0)
            configure_curve_client(sock, self.endpoints)
            poller.register(sock, zmq.POLLIN)
        for subscription in self.core.socket_subscriptions():
            self._sub.setsockopt(zmq.SUBSCRIBE, subscription)
        self._sub.connect(self.endpoints.subscribe)
        self._dealer.connect(self.endpoints.snapshot)

    def _snapshot_reply(self, reply: list[bytes], request: bytes) -> list[Item] | None:
        """The values when ``reply`` answers ``request``; any other reply goes to the core."""
        if len(reply) >= 2 and reply[1] == request:
            return snapshot_values(reply)
        self.core.on_snapshot(reply)
        return None

    def close(self) -> None:
        """Close both sockets."""
        self._sub.close(linger=0)
        self._dealer.close(linger=0)


def _not_queued(subscriber: SubscriberCore) -> bool:
    logger.debug("snapshot request not queued", extra={"subscriber": subscriber.name})
    return False


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
        self.core = SubscriberCore(prefixes, name, track_gaps=track_gaps)
        context = context or zmq.Context.instance()
        self._sub = context.socket(zmq.SUB)
        self._dealer = context.socket(zmq.DEALER)
        self._poller = zmq.Poller()
        # When the snapshot reply to a resync is given up; None while no resync is awaited.
        self._resync_deadline: float | None = None
        self._wait_ms = -1  # the socket's RCVTIMEO: block until a frame comes
        self._connect(self._poller, hwm)

    def _request(self, parts: list[bytes]) -> bool:
        """Send a snapshot-service request without blocking (False: none queued, no broker)."""
        try:
            self._dealer.send_multipart(parts, zmq.NOBLOCK)
        except zmq.Again:
            return _not_queued(self.core)
        return True

    def recv(self, timeout: float = 1.0) -> Item | None:
        """The next valid frame as ``(topic, body)``, or None after ``timeout`` seconds."""
        if self.core.pending:
            return self.core.pending.popleft()
        if self._resync_deadline is not None and time.monotonic() > self._resync_deadline:
            self._resync_deadline = None
            logger.warning(
                "snapshot service did not answer a resync", extra={"subscriber": self.core.name}
            )
        if self._resync_deadline is not None:
            return self._recv_polling(timeout)
        return self._recv_blocking(timeout)

    def _recv_blocking(self, timeout: float) -> Item | None:
        """Wait on the bus socket alone: the cheap path, taken unless a resync is awaited.

        A blocking receive with a timeout costs a third of a non-blocking one that finds
        nothing (pyzmq raises ``Again``) followed by a poll, and the subscriber that keeps up
        with the bus pays that for every frame.
        """
        deadline = time.monotonic() + timeout
        wait_ms = _ms(timeout)
        while True:
            self._set_wait(wait_ms)
            try:
                item = self._take_bus_message(0)
            except zmq.Again:
                # Quiet bus: a snapshot reply that came after its resync may be waiting.
                self._take_snapshot_replies()
                return self.core.pending.popleft() if self.core.pending else None
            if item is not None:
                return item
            if self.core.pending:
                return self.core.pending.popleft()
            if self._resync_deadline is not None:
                return self._recv_polling(deadline - time.monotonic())
            wait_ms = _ms(deadline - time.monotonic())

    def _set_wait(self, wait_ms: int) -> None:
        """Set the bus socket's receive timeout unless it is within a tenth (+1 ms) already.

        A setsockopt per frame would cost much of what the blocking receive saves.
        """
        if self._wait_ms < 0 or abs(self._wait_ms - wait_ms) > wait_ms // 10 + 1:
            self._sub.setsockopt(zmq.RCVTIMEO, wait_ms)
            self._wait_ms = wait_ms

    def _recv_polling(self, timeout: float) -> Item | None:
        """Wait on the bus and the snapshot service together (while a resync is awaited)."""
        deadline = time.monotonic() + timeout
        while True:
            if self.core.pending:
                return self.core.pending.popleft()
            remaining = deadline - time.monotonic()
            events = dict(self._poller.poll(_ms(remaining) if remaining > 0 else 0))
            if self._dealer in events:
                self._take_snapshot_replies()
            if self._sub in events and (item := self._drain_bus()) is not None:
                return item
            if remaining <= 0:
                return self.core.pending.popleft() if self.core.pending else None

    def _take_snapshot_replies(self) -> None:
        """Hand every queued snapshot-service reply to the core."""
        while self._dealer.poll(0, zmq.POLLIN):
            self._resync_deadline = None
            self.core.on_snapshot(self._dealer.recv_multipart(zmq.NOBLOCK))

    def _take_bus_message(self, flags: int) -> Item | None:
        """Receive and handle one bus message; raises :class:`zmq.Again` when none came.

        Parsed straight from ZeroMQ's buffers, never copied into bytes objects.
        """
        frames = recv_frames(self._sub, flags)
        item, gap = self.core.on_bus([frame.buffer for frame in frames])
        if gap:
            queued = self._request(self.core.resync_request())
            self._resync_deadline = time.monotonic() + RESYNC_TIMEOUT if queued else None
        return item

    def _drain_bus(self) -> Item | None:
        """Take queued bus messages until one is worth yielding (one poll for a burst)."""
        while True:
            try:
                item = self._take_bus_message(NOBLOCK)
            except zmq.Again:
                return None
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
        deadline = time.monotonic() + timeout
        if self._request([SNAPSHOT, request, prefix.encode()]):
            while (remaining := deadline - time.monotonic()) > 0:
                if self._dealer.poll(_ms(remaining) or 1, zmq.POLLIN):
                    values = self._snapshot_reply(self._dealer.recv_multipart(), request)
                    if values is not None:
                        return values
        logger.warning("snapshot service did not answer", extra={"timeout": timeout})
        return []



class AsyncSubscriber(_SubscriberBase):
    """:class:`Subscriber` for asyncio (``zmq.asyncio``), with the same semantics."""

    _sub: zmq.asyncio.Socket
    _dealer: zmq.asyncio.Socket

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
        self.core = SubscriberCore(prefixes, name, track_gaps=track_gaps)
        context = context or zmq.asyncio.Context.instance()
        self._sub = context.socket(zmq.SUB)
        self._dealer = context.socket(zmq.DEALER)
        self._poller = zmq.asyncio.Poller()
        self._connect(self._poller, hwm)

    async def _request(self, parts: list[bytes]) -> bool:
        """Send a snapshot-service request without blocking (False: none queued, no broker)."""
        try:
            await self._dealer.send_multipart(parts, zmq.NOBLOCK)
        except zmq.Again:
            return _not_queued(self.core)
        return True

    async def recv(self, timeout: float = 1.0) -> Item | None:
        """The next valid frame as ``(topic, body)``, or None after ``timeout`` seconds."""
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
                    await self._request(self.core.resync_request())
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
        request = self.core.request_id()
        deadline = time.monotonic() + timeout
        if await self._request([SNAPSHOT, request, prefix.encode()]):
            while (remaining := deadline - time.monotonic()) > 0:
                if await self._dealer.poll(_ms(remaining) or 1):
                    values = self._snapshot_reply(await self._dealer.recv_multipart(), request)
                    if values is not None:
                        return values
        logger.warning("snapshot service did not answer", extra={"timeout": timeout})
        return []

    async def __aenter__(self) -> AsyncSubscriber:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: types.TracebackType | None,
    ) -> None:
        self.close()
