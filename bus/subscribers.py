"""The subscribers: the only code that takes frames off the bus (docs/wire.md "Clients").

:class:`Subscriber` (one thread) and :class:`AsyncSubscriber` (``zmq.asyncio``) own the sockets
and share their semantics through :class:`~bus.subscriber_core.SubscriberCore`: validation,
dedup of cached values by id, ``seq`` gap detection, and a resync from the broker's snapshot
service after a gap.
"""

from __future__ import annotations

import logging
import time
import typing as t

import zmq
import zmq.asyncio

from bus.protocol import (
    HWM,
    SNAPSHOT,
    ClosesOnExit,
    Item,
    configure_curve_client,
    millis,
    snapshot_values,
)
from bus.subscriber_core import SubscriberCore
from bus.transport import NOBLOCK, recv_frames

if t.TYPE_CHECKING:
    import collections
    import threading
    import types

    from bus.endpoints import Endpoints

logger = logging.getLogger(__name__)

RESYNC_TIMEOUT = 5.0
"""Seconds a subscriber waits for the snapshot reply to a resync before it stops waiting."""


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
        wait_ms = millis(timeout)
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
            wait_ms = millis(deadline - time.monotonic())

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
            events = dict(self._poller.poll(millis(remaining) if remaining > 0 else 0))
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
                if self._dealer.poll(millis(remaining) or 1, zmq.POLLIN):
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
            events = dict(await self._poller.poll(millis(remaining) if remaining > 0 else 0))
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
                if await self._dealer.poll(millis(remaining) or 1):
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
