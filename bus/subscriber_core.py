"""What the sync and asyncio subscribers share, without I/O (docs/wire.md "Clients").

A subscriber validates every frame (bad ones are counted in ``rejected`` / ``reject_reasons``
and skipped), drops cached-topic frames whose id it has seen (the broker's late-joiner replay
reaches every matching subscriber; uncached frames are never sent twice), and detects
per-producer ``seq`` gaps. After a gap it asks the snapshot service for the cached values and
yields the ones it missed, each once. Frames of uncached topics (``raw.``, ``sys.``) lost in
a gap cannot be recovered; the gap is still counted.

:class:`SubscriberCore` is that bookkeeping, pure: the socket owners
(:mod:`bus.subscribers`) feed it messages and send what it asks for, so the gap logic is
tested without processes.
"""

from __future__ import annotations

import collections
import itertools
import logging
import time
import typing as t
import uuid

from bus import codec, topics
from bus.frames import Body, FrameError
from bus.protocol import (
    JOIN_PREFIX,
    PRODUCERS_MAX,
    SNAPSHOT,
    VALUES,
    Item,
    RecentIds,
    Rejections,
    snapshot_values,
)

logger = logging.getLogger(__name__)

BASELINE_TIMEOUT = 2.0
"""Seconds after which gap detection starts even though no join marker came (no panebus broker)."""


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
        self._seen = RecentIds()
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
