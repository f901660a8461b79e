"""The bus protocol both sides speak: message shapes, stamping, rejection counting, CURVE.

The broker (:mod:`bus.broker`) and the clients (:mod:`bus.publisher`, :mod:`bus.subscribers`)
depend on this module, never on each other. It holds what both must agree on:

* the ROUTER commands and replies of the snapshot service and the acknowledged publish, and the
  decoding of a ``VALUES`` reply (docs/wire.md "Snapshot service");
* the join-marker prefix (docs/wire.md "Join marker");
* :class:`Stamper`, which stamps ``v``, ``id``, ``seq`` (gapless per producer), ``producer`` and
  ``observed_at`` and validates before anything leaves a process (publishers and the broker's
  own heartbeat use it alike; docs/wire.md "Envelope");
* :class:`Rejections`, the count of invalid frames by reason every reader keeps;
* :class:`RecentIds`, the bounded set of frame ids a reader has taken (subscribers drop cached
  values they have seen; the broker drops a remote host's retransmissions);
* :func:`configure_curve_client`, how a client socket pins the broker's key on CURVE tcp;
* the socket queue depth :data:`HWM`, and the ``with`` support the clients share.
"""

from __future__ import annotations

import collections
import logging
import os
import typing as t

from bus import WIRE_VERSION, codec, topics
from bus.clock import now_rfc3339
from bus.frames import Body, FrameError, validate
from bus.keys import this_host

if t.TYPE_CHECKING:
    import types

    import zmq

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
SEEN_IDS_MAX = 20_000
"""Frame ids a :class:`RecentIds` remembers by default."""
JOIN_PREFIX = "sys.join."
"""A subscription to ``sys.join.<token>`` makes the broker publish, on that topic and in order
with the data, where every producer stands at that moment
(see :class:`bus.subscriber_core.SubscriberCore`)."""
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


def host_of_producer(producer: str) -> str:
    """The host part of ``host:pid:name``."""
    return producer.split(":", 1)[0]


def configure_curve_client(sock: zmq.Socket[t.Any], endpoints: Endpoints) -> None:
    """Pin the broker's public key and present ours, when the endpoints are CURVE tcp."""
    if endpoints.curve is None:
        return
    sock.curve_serverkey = endpoints.curve.broker.public
    sock.curve_publickey = endpoints.curve.client.public
    sock.curve_secretkey = endpoints.curve.client.secret


def millis(seconds: float) -> int:
    """Seconds as the whole milliseconds ZeroMQ's timeouts take (never negative)."""
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


class RecentIds:
    """A bounded, in-memory set of frame ids: the oldest are forgotten first.

    Not persisted: a restarted reader starts empty (sinks keep theirs on disk, in
    ``sinks.base.PersistedIds``).
    """

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
