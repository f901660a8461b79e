"""The broker: XSUB ⇄ XPUB forwarding with a last-value cache, snapshots and a heartbeat.

A hand-written poll loop rather than ``zmq.proxy`` because the broker must look at every frame:
it validates (an invalid frame is counted and dropped, never forwarded), keeps the last value of
each ``parsed.``/``state.``/``window.``/``forecast.`` topic
(:data:`bus.topics.CACHED_PREFIXES`), replays matching cached values when a subscription arrives
(XPUB_VERBOSE shows every one; the replay reaches every subscriber of that prefix, and
subscribers drop the ids they have seen), and serves the ROUTER protocol (snapshot, sequence
map, acknowledged publish) documented in docs/wire.md.

Several hosts (:mod:`bus.auth`, :mod:`bus.federation`): with ``remote`` the broker also binds
its XPUB and ROUTER on tcp as a CURVE server that admits the keys of the ``authorized`` dir.
A remote host delivers its frames by acknowledged publish; the broker checks that each frame's
``producer`` starts with the host the sending key belongs to, drops a frame id it already took
(a retransmission after a lost ack), and caches remote values by ``(host, topic)`` so two
hosts' ``parsed.codex.status`` live side by side. A key removed from the dir is refused on its
next message, and the tcp endpoints are rebound so its open connections close.

Why one module of about 500 lines: everything here runs in the broker's one thread and shares
its state (the sockets, the last-value cache, the sequence map, the counters the heartbeat
reports), and each handler both reads and writes it. Cut apart, every piece would take that
state as arguments and a reader would follow one frame across files. What the broker shares
with the clients is :mod:`bus.protocol`; who may speak for which host is :mod:`bus.auth`.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import os
import threading
import time
import typing as t

import zmq
import zmq.auth.thread

from bus import codec, topics
from bus.auth import LOCAL, RELOAD_INTERVAL, ZAP_DOMAIN, KeyRing, RemoteAccess, user_id
from bus.clock import now_rfc3339
from bus.frames import Body, FrameError, draft, source
from bus.protocol import (
    ERR,
    HWM,
    JOIN_PREFIX,
    OK,
    PRODUCERS_MAX,
    PUBLISH,
    SNAPSHOT,
    SUBSCRIBE,
    VALUES,
    RecentIds,
    Rejections,
    Stamper,
    configure_curve_client,
    host_of_producer,
)
from bus.transport import recv_copied, recv_frames, send_parts

if t.TYPE_CHECKING:
    from bus.endpoints import Endpoints

logger = logging.getLogger(__name__)

MAX_WAIT_MS = 5_000
"""Longest sleep of an idle loop; it wakes earlier for a frame, a heartbeat due or :meth:`stop`."""
BATCH = 2_000
"""Messages taken from one socket per loop turn, so one busy socket cannot starve the others."""
ALIVE_PROBE_TIMEOUT = 0.3
STATE_PREFIX = "state."
GONE = "gone"  # the state of a pane that left the sweep: its cached state.* topic is dropped


class BrokerRunningError(RuntimeError):
    """Another broker already answers on these endpoints."""


REBIND_TRIES = 50
REBIND_PAUSE = 0.02


def _as_bytes(part: bytes | zmq.Frame) -> bytes:
    return part.bytes if isinstance(part, zmq.Frame) else part


def broker_answers(endpoints: Endpoints, timeout: float = ALIVE_PROBE_TIMEOUT) -> bool:
    """Whether a broker already serves ``endpoints.snapshot`` (binding again would steal it)."""
    context = zmq.Context.instance()
    dealer = context.socket(zmq.DEALER)
    dealer.setsockopt(zmq.LINGER, 0)
    dealer.setsockopt(zmq.IMMEDIATE, 1)
    try:
        configure_curve_client(dealer, endpoints)
        dealer.connect(endpoints.snapshot)
        if not dealer.poll(int(timeout * 1000), zmq.POLLOUT):
            return False
        dealer.send_multipart([SNAPSHOT, b"probe", b"\x00nothing"], zmq.NOBLOCK)
        return bool(dealer.poll(int(timeout * 1000), zmq.POLLIN))
    except zmq.ZMQError:
        return False
    finally:
        dealer.close(linger=0)


class Broker:
    """Run the bus. ``start()`` in a thread, or ``run()`` in the foreground (``panebus bus``)."""

    def __init__(
        self,
        endpoints: Endpoints,
        *,
        heartbeat_interval: float = 5.0,
        name: str = "broker",
        hwm: int = HWM,
        remote: RemoteAccess | None = None,
    ) -> None:
        self.endpoints = endpoints
        self.remote = remote
        self.remote_cache: dict[tuple[str, str], tuple[bytes, bytes]] = {}
        self.remote_duplicates = 0
        self.revocations = 0
        self.ring: KeyRing | None = None
        self._remote_seen = RecentIds()
        self._remote_ready = threading.Event()
        self.hwm = hwm
        self.heartbeat_interval = heartbeat_interval
        self.forwarded = 0
        self.rejections = Rejections("broker")
        self.acked = 0
        self.replayed = 0
        self.subscriptions = 0
        self.snapshots = 0
        self.cache: dict[str, tuple[bytes, bytes]] = {}
        self.seqs: collections.OrderedDict[str, int] = collections.OrderedDict()
        self._stamper = Stamper(name)
        self._stop = threading.Event()
        # Written by stop(): wakes an idle loop at once instead of it polling every 100 ms
        # (idle, that poll was the broker's whole CPU cost). A pipe: safe from a signal handler.
        # Open while the loop runs; the lock keeps a stop from writing to a closed (reused) fd.
        self._wake: tuple[int, int] | None = None
        self._wake_lock = threading.RLock()
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None
        self._started_at = now_rfc3339()
        self._started = time.monotonic()
        self._xpub: zmq.Socket[t.Any] | None = None

    # -- lifecycle -------------------------------------------------------------------------
    def start(self, timeout: float = 5.0) -> Broker:
        """Run in a daemon thread; return once bound. Raises what binding raised."""
        self._thread = threading.Thread(target=self._run_thread, name="panebus-broker", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise TimeoutError(f"broker did not bind within {timeout}s")
        if self._error is not None:
            raise self._error
        return self

    def _run_thread(self) -> None:
        try:
            self.run()
        except BaseException as exc:
            self._error = exc
            self._ready.set()
            logger.exception("broker stopped on an error")

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the loop to end and wait up to ``timeout`` for it."""
        self.request_stop()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                logger.warning("broker did not stop within %ss", timeout)

    def request_stop(self) -> None:
        """Make :meth:`run` return soon (safe from a signal handler)."""
        self._stop.set()
        with self._wake_lock:
            if self._wake is not None:
                with contextlib.suppress(OSError):  # full: the loop is being woken already
                    os.write(self._wake[1], b"x")

    @property
    def rejected(self) -> int:
        """Invalid frames counted and dropped."""
        return self.rejections.count

    @property
    def reject_reasons(self) -> collections.Counter[str]:
        """Why frames were rejected, with counts."""
        return self.rejections.reasons

    @property
    def ready(self) -> bool:
        """True once the sockets are bound."""
        return self._ready.is_set() and self._error is None

    def counters(self) -> dict[str, t.Any]:
        """The figures the heartbeat carries."""
        return {
            "forwarded": self.forwarded,
            "rejected": self.rejections.count,
            "reject_reasons": dict(self.rejections.reasons),
            "acked": self.acked,
            "replayed": self.replayed,
            "subscriptions": self.subscriptions,
            "snapshots": self.snapshots,
            "cache_size": len(self.cache) + len(self.remote_cache),
            "producers": len(self.seqs),
            **self._remote_counters(),
            "started_at": self._started_at,
            "uptime_s": round(time.monotonic() - self._started, 3),
        }

    def _remote_counters(self) -> dict[str, t.Any]:
        if self.remote is None or self.ring is None:
            return {}
        return {
            "remote_hosts": sorted(self.ring.hosts),
            "remote_duplicates": self.remote_duplicates,
            "revocations": self.revocations,
            "denied": self.ring.denied,
            "denied_keys": [denial.key for denial in self.ring.denials[-3:]],
        }

    def cached_items(self) -> t.Iterator[tuple[str, tuple[bytes, bytes]]]:
        """Every cached value as ``(topic, (topic, body))``: this host's, then the others'."""
        yield from list(self.cache.items())
        for (_host, topic), cached in list(self.remote_cache.items()):
            yield topic, cached

    # -- the loop --------------------------------------------------------------------------
    def run(self) -> None:
        """Bind and forward until :meth:`stop`/:meth:`request_stop`; every wait is bounded."""
        snapshot = self.endpoints.snapshot
        # Binding ipc replaces the socket file: refuse rather than steal a live broker's.
        if snapshot.startswith("ipc://") and broker_answers(self.endpoints):
            raise BrokerRunningError(f"a broker already answers at {snapshot}")
        context: zmq.Context[t.Any] = zmq.Context()
        auth = self._start_auth(context)
        xsub = context.socket(zmq.XSUB)
        xpub = context.socket(zmq.XPUB)
        router = context.socket(zmq.ROUTER)
        try:
            self._bind(xsub, xpub, router)
            for warning in self.endpoints.warnings():  # insecure tcp: every local user can read
                logger.warning(warning, extra={"subscribe": self.endpoints.subscribe})
            self._xpub = xpub
            self._ready.set()
            logger.info("broker up", extra={"subscribe": self.endpoints.subscribe})
            self._loop(xsub, xpub, router)
        finally:
            self._xpub = None
            for sock in (xsub, xpub, router):
                sock.close(linger=0)
            if auth is not None:
                auth.stop()
            context.term()
            logger.info("broker stopped", extra=self.counters())

    def _start_auth(
        self, context: zmq.Context[t.Any]
    ) -> zmq.auth.thread.ThreadAuthenticator | None:
        """ZAP for the CURVE endpoints: the local client key, and the authorized host keys."""
        curve = self.endpoints.curve
        if curve is None and self.remote is None:
            return None
        self.ring = KeyRing(
            self.remote.authorized if self.remote is not None else None,
            local_key=curve.client.public if curve is not None else None,
        )
        auth = zmq.auth.thread.ThreadAuthenticator(context)
        auth.start()
        # pyzmq looks a provider up by the exact ZAP domain ("*" only stands for none).
        for domain in ("*", ZAP_DOMAIN):
            auth.configure_curve_callback(domain=domain, credentials_provider=self.ring)
        return auth

    def _bind(
        self, xsub: zmq.Socket[t.Any], xpub: zmq.Socket[t.Any], router: zmq.Socket[t.Any]
    ) -> None:
        for sock in (xsub, xpub, router):
            sock.setsockopt(zmq.LINGER, 0)
            # ``hwm`` is the forwarding queue depth; the ROUTER keeps the full one, as its
            # replies are what repairs the losses a short forwarding queue causes.
            hwm = HWM if sock is router else self.hwm
            sock.setsockopt(zmq.SNDHWM, hwm)
            sock.setsockopt(zmq.RCVHWM, hwm)
            if self.endpoints.curve is not None:
                sock.curve_server = True
                sock.curve_publickey = self.endpoints.curve.broker.public
                sock.curve_secretkey = self.endpoints.curve.broker.secret
        xpub.setsockopt(zmq.XPUB_VERBOSE, 1)
        xsub.bind(self.endpoints.publish)
        xpub.bind(self.endpoints.subscribe)
        router.bind(self.endpoints.snapshot)
        xsub.send(bytes([SUBSCRIBE]))  # take every topic from every publisher
        if self.remote is not None:
            # Security options are taken at bind time: the local endpoints above keep theirs.
            for sock in (xpub, router):
                sock.curve_server = True
                sock.curve_publickey = self.remote.server.public
                sock.curve_secretkey = self.remote.server.secret
                sock.zap_domain = ZAP_DOMAIN.encode()
            xpub.bind(self.remote.subscribe)
            router.bind(self.remote.snapshot)
            self._remote_ready.set()

    def _rebind_remote(self, xpub: zmq.Socket[t.Any], router: zmq.Socket[t.Any]) -> None:
        """Close every remote connection: unbinding a tcp endpoint ends the sessions it
        accepted. The hosts still authorized reconnect through a new handshake (ZAP)."""
        assert self.remote is not None
        for sock, address in ((xpub, self.remote.subscribe), (router, self.remote.snapshot)):
            try:
                sock.unbind(address)
            except zmq.ZMQError as exc:
                logger.warning("unbind failed", extra={"endpoint": address, "error": str(exc)})
            for attempt in range(REBIND_TRIES):  # the old listener closes in ZeroMQ's io thread
                try:
                    sock.bind(address)
                    break
                except zmq.ZMQError:
                    if attempt == REBIND_TRIES - 1:
                        raise
                    time.sleep(REBIND_PAUSE)

    def _check_keys(self, xpub: zmq.Socket[t.Any], router: zmq.Socket[t.Any]) -> None:
        """Re-read the authorized dir; cut the connections of a key that was removed."""
        if self.ring is None or self.remote is None:
            return
        revoked = self.ring.reload()
        if revoked:
            self.revocations += len(revoked)
            logger.warning("host keys revoked; closing remote connections",
                           extra={"revoked": sorted(key.decode() for key in revoked)})
            self._rebind_remote(xpub, router)

    def _loop(
        self, xsub: zmq.Socket[t.Any], xpub: zmq.Socket[t.Any], router: zmq.Socket[t.Any]
    ) -> None:
        poller = zmq.Poller()
        for sock in (xsub, xpub, router):
            poller.register(sock, zmq.POLLIN)
        wake_read, wake_write = os.pipe()
        os.set_blocking(wake_write, False)
        with self._wake_lock:
            self._wake = (wake_read, wake_write)
        poller.register(wake_read, zmq.POLLIN)
        try:
            self._turns(xsub, xpub, router, poller)
        finally:
            with self._wake_lock:
                self._wake = None
                os.close(wake_read)
                os.close(wake_write)

    def _turns(
        self,
        xsub: zmq.Socket[t.Any],
        xpub: zmq.Socket[t.Any],
        router: zmq.Socket[t.Any],
        poller: zmq.Poller,
    ) -> None:
        next_heartbeat = time.monotonic()
        next_key_check = time.monotonic() + RELOAD_INTERVAL
        while not self._stop.is_set():
            due = [next_key_check] if self.remote is not None else []
            if self.heartbeat_interval > 0:
                due.append(next_heartbeat)
            wait = min((moment - time.monotonic() for moment in due), default=MAX_WAIT_MS)
            wait_ms = max(0, min(MAX_WAIT_MS, int(wait * 1000) + 1)) if due else MAX_WAIT_MS
            events = dict(poller.poll(wait_ms))
            if xsub in events:
                # The hot path: received without a copy, parsed from ZeroMQ's buffer and
                # forwarded as the same frames (a 5 KB body is never copied in Python).
                self._drain(xsub, self._accept, receive=recv_frames)
            if xpub in events:
                self._drain(xpub, self._on_subscription)
            if router in events:
                self._drain(
                    router, lambda parts: self._on_request(router, parts),
                    receive=recv_frames if self.remote is not None else recv_copied,
                )
            if self.remote is not None and time.monotonic() >= next_key_check:
                next_key_check = time.monotonic() + RELOAD_INTERVAL
                self._check_keys(xpub, router)
            if self.heartbeat_interval > 0 and time.monotonic() >= next_heartbeat:
                next_heartbeat = time.monotonic() + self.heartbeat_interval
                self._heartbeat()

    @staticmethod
    def _drain(
        sock: zmq.Socket[t.Any],
        handle: t.Callable[[t.Any], object],
        *,
        receive: t.Callable[[zmq.Socket[t.Any]], t.Sequence[t.Any]] = recv_copied,
    ) -> None:
        """Handle up to :data:`BATCH` queued messages, each on its own (one bad is skipped)."""
        for _ in range(BATCH):
            try:
                parts = receive(sock)
            except zmq.Again:
                return
            try:
                handle(parts)
            except Exception:
                logger.exception(
                    "broker: a message could not be handled; skipped",
                    extra={"frames": len(parts), "topic": bytes(parts[0])[:80] if parts else b""},
                )

    # -- handlers --------------------------------------------------------------------------
    def _accept(
        self, parts: t.Sequence[bytes | zmq.Frame], host: str | None = None
    ) -> str | None:
        """Validate, forward and cache one message; the reason it was refused, else None.

        ``host``: the remote host whose key sent it; its ``producer`` must be that host's,
        and an id already taken from a remote host is acknowledged but not forwarded again.
        """
        views = [part.buffer if isinstance(part, zmq.Frame) else part for part in parts]
        try:
            topic, body = codec.decode(views)
        except FrameError as exc:
            self.rejections.record(exc.reason, bytes(views[0]) if views else b"")
            return exc.reason
        if host is not None:
            claimed = host_of_producer(body["producer"])
            if claimed != host:
                reason = f"producer host {claimed!r} is not the sending key's host {host!r}"
                self.rejections.record("producer host differs from the key's host",
                                      bytes(views[0]))
                return reason
            if body["id"] in self._remote_seen:
                self.remote_duplicates += 1
                return None
            self._remote_seen.add(body["id"])
        self._forward(topic, body, parts, host=host)
        return None

    def _forward(
        self,
        topic: str,
        body: Body,
        parts: t.Sequence[bytes | zmq.Frame],
        host: str | None = None,
    ) -> None:
        assert self._xpub is not None
        # Book-keeping first: whoever sees the frame may already ask for the cache or counters.
        self.forwarded += 1
        if topics.is_cached(topic):
            gone = body.get("state") == GONE and topic.startswith(STATE_PREFIX)
            if host is not None:
                # Each remote host's values side by side: the key includes the host.
                if gone:
                    self.remote_cache.pop((host, topic), None)
                else:
                    self.remote_cache[(host, topic)] = (_as_bytes(parts[0]), _as_bytes(parts[1]))
            elif gone:
                # A pane that is gone leaves nothing behind: panes come and go by the hundred
                # over days, and a late subscriber has no use for the news of a dead one.
                self.cache.pop(topic, None)
            else:
                self.cache[topic] = (_as_bytes(parts[0]), _as_bytes(parts[1]))
        producer, seq = body["producer"], body["seq"]
        # Another host's producer is relayed in part (some kinds only): its seq is not mapped.
        if host is None and seq >= self.seqs.get(producer, -1):
            self.seqs[producer] = seq
            self.seqs.move_to_end(producer)
            if len(self.seqs) > PRODUCERS_MAX:
                self.seqs.popitem(last=False)
        send_parts(self._xpub, parts)

    def _on_subscription(self, parts: list[bytes]) -> None:
        message = parts[0]
        if message[:1] != bytes([SUBSCRIBE]):
            return
        self.subscriptions += 1
        prefix = message[1:]
        if not prefix:
            return  # the empty subscription (gap tracking) does not replay the whole cache
        if prefix.startswith(JOIN_PREFIX.encode()):
            self._publish_sys(prefix.decode("utf-8", "replace"), what="join", seqs=dict(self.seqs))
            return
        assert self._xpub is not None
        for topic, cached in self.cached_items():
            if topic.encode().startswith(prefix):
                self._xpub.send_multipart(list(cached))
                self.replayed += 1

    def _on_request(
        self, router: zmq.Socket[t.Any], frames: t.Sequence[bytes | zmq.Frame]
    ) -> None:
        if len(frames) < 3:
            logger.warning("malformed snapshot-service request", extra={"frames": len(frames)})
            return
        host: str | None = None
        peer = user_id(frames[0]) if self.remote is not None else None
        if peer is not None and self.ring is not None:
            host = self.ring.host_of(peer)
            if host is None:
                # A key removed from the authorized dir, on a connection opened before: its
                # requests are refused until the rebind closes the connection.
                self.rejections.record("key revoked", b"")
                return
            if host == LOCAL:
                host = None
        parts = [_as_bytes(frame) for frame in frames]
        identity, command, request, *rest = parts
        if command == SNAPSHOT:
            self.snapshots += 1
            prefixes = tuple(rest) or (b"",)
            values = [
                part
                for topic, cached in self.cached_items()
                if topic.encode().startswith(prefixes)
                for part in cached
            ]
            router.send_multipart([identity, VALUES, request, self._seqs_json(), *values])
        elif command == PUBLISH:
            reason = self._accept(rest, host=host)
            if reason is None:
                self.acked += 1
                router.send_multipart([identity, OK, request])
            else:
                router.send_multipart([identity, ERR, request, reason.encode()])
        else:
            router.send_multipart([identity, ERR, request, b"unknown command"])

    def _seqs_json(self) -> bytes:
        """Where each producer stands: the highest seq forwarded for it."""
        return codec.dumps(dict(self.seqs))

    def _heartbeat(self) -> None:
        # ``seqs`` lets subscribers notice frames lost at the end of a burst, which no later
        # frame of the same producer would reveal (see SubscriberCore.check_seqs in
        # bus.subscriber_core).
        self._publish_sys(
            topics.sys("heartbeat"), what="heartbeat", seqs=dict(self.seqs), **self.counters()
        )

    def _publish_sys(self, topic: str, **fields: t.Any) -> None:
        """Publish a frame of the broker's own (heartbeat, join marker)."""
        body = draft("sys", "unknown", source("report", "official"), **fields)
        stamped, parts = self._stamper.stamp(body, topic=topic)
        self._forward(topic, stamped, parts)
