"""What a sink is, how sinks are found, and the runner that feeds one from the bus.

A sink is a small object behind the :class:`Sink` protocol: it names the topic prefixes it
wants, handles one frame at a time, does periodic work on :meth:`Sink.tick`, and reports its
health. Everything about the bus — subscribing, resynchronising after a gap (the
:class:`bus.subscribers.Subscriber` does it), dropping a frame id seen before, publishing what the
sink emits and the periodic ``sys.sink.<name>`` health frame — lives once, in
:class:`SinkRunner`. So ``panebus sink NAME`` (one sink in the foreground) and ``panebus up``
(all sinks in one process) run exactly the same code::

    from sinks.base import SinkRunner, build_sink
    runner = SinkRunner(build_sink("archive", paths), endpoints, paths=paths)
    runner.start()          # background thread
    ...
    runner.stop(timeout=5.0)

Third parties add sinks without touching ours through the ``panebus.sinks`` entry-point group
(``name = "package.module:factory"``, factory ``(paths, config) -> Sink``).
"""

from __future__ import annotations

import collections
import importlib
import importlib.metadata
import logging
import queue
import threading
import time
import typing as t

from bus.clock import now_rfc3339
from bus.frames import Body, draft, source
from bus.topics import sys as sys_topic
from sinks.config import SinksConfig
from sinks.files import atomic_write

if t.TYPE_CHECKING:
    from pathlib import Path

    from bus.endpoints import Endpoints
    from bus.paths import Paths
    from bus.publisher import Publisher
    from bus.subscribers import Subscriber

logger = logging.getLogger(__name__)


class SinkFailed(RuntimeError):
    """A sink cannot go on (its files are gone, its state is broken): the runner stops and the
    supervisor of ``panebus up`` restarts it. Any other exception skips one frame only."""


class Emit(t.Protocol):
    """Publish a body a sink produced (``topic`` derived from the body when omitted)."""

    def __call__(self, body: Body, topic: str | None = None) -> None: ...


@t.runtime_checkable
class Sink(t.Protocol):
    """One consumer of the bus. Implementations must never raise on one bad frame.

    A sink may set ``tick_interval`` (seconds between two :meth:`tick` calls while no frame
    comes, default :data:`TICK_INTERVAL`): idle, every wakeup of every sink is CPU the user pays
    for, so only a sink whose periodic work is time-critical (the archive's interval fsync and
    its acknowledgements) asks for more.
    """

    name: str
    prefixes: tuple[str, ...]

    def handle(self, topic: str, body: Body, emit: Emit) -> None:
        """Take one validated, not-yet-seen frame."""

    def tick(self, emit: Emit) -> None:
        """Periodic work (fsync on interval, closing windows whose reset passed, …)."""

    def health(self) -> dict[str, t.Any]:
        """Sink-specific figures merged into the ``sys.sink.<name>`` frame."""

    def drain(self, emit: Emit) -> None:
        """Last work while the bus is still up (the archive fsyncs and acknowledges)."""

    def close(self) -> None:
        """Flush and release files; called once when the runner stops."""


SinkFactory = t.Callable[["Paths", SinksConfig], Sink]

BUILTIN_SINKS: dict[str, str] = {
    "archive": "sinks.archive:ArchiveSink.build",
    "alias": "sinks.alias_cache:AliasSink.build",
    "windows": "sinks.windows_sink:WindowsSink.build",
    "featurelog": "sinks.feature_log:FeatureLogSink.build",
    "forecast": "sinks.forecast_sink:ForecastSink.build",
    "notify": "sinks.notify_sink:NotifySink.build",
}
ENTRY_POINT_GROUP = "panebus.sinks"
JOIN_TIMEOUT = 3.0  # seconds to wait for the broker to confirm our subscription
REPEAT_QUIET = 60.0  # seconds a repeated failure of the same kind stays out of the log
SEEN_SAVE_INTERVAL = 2.0  # seconds between saves of the seen ids (and once more on stop)
HEALTH_INTERVAL = 30.0  # seconds between two sys.sink.<name> frames (every subscriber reads them)
TICK_INTERVAL = 1.0  # seconds between two ticks of a sink that did not ask for another pace
INBOX_FRAMES = 10_000  # wanted frames read off the bus ahead of a busy sink (see _read)
READ_TIMEOUT = 1.0  # seconds a reader waits on the bus before looking at its stop events
READER_JOIN_TIMEOUT = 5.0


def _resolve(target: str) -> SinkFactory:
    module_name, _, attribute = target.partition(":")
    value: t.Any = importlib.import_module(module_name)
    for part in attribute.split("."):
        value = getattr(value, part)
    return t.cast("SinkFactory", value)


def sink_names() -> list[str]:
    """Built-in sink names first, then those third parties registered."""
    names = list(BUILTIN_SINKS)
    for entry in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        if entry.name not in names:
            names.append(entry.name)
    return names


def build_sink(name: str, paths: Paths, config: SinksConfig | None = None) -> Sink:
    """Build the sink called ``name`` with the config file's settings (or ``config``)."""
    resolved = SinksConfig.load(paths) if config is None else config
    if name in BUILTIN_SINKS:
        return _resolve(BUILTIN_SINKS[name])(paths, resolved)
    for entry in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        if entry.name == name:
            return t.cast("SinkFactory", entry.load())(paths, resolved)
    msg = f"unknown sink {name!r}; known: {', '.join(sink_names())}"
    raise KeyError(msg)


def is_replay(body: Body) -> bool:
    """A frame re-published by ``panebus replay``: history, not news. Counting sinks skip it."""
    return bool(body.get("replay")) or body.get("trigger") == "replay"


def sys_body(what: str, **fields: t.Any) -> Body:
    """A ``sys`` frame body of a sink (source: a report of the sink's own)."""
    return draft("sys", "unknown", source("report", "official"), what=what, **fields)


class PersistedIds:
    """The last ``capacity`` frame ids a sink handled, persisted so a restart still knows them.

    The broker hands a late subscriber the cached value of every cached topic; after a restart
    that is a frame the sink already handled. Ids are kept in memory and saved atomically on
    :meth:`save` (the runner saves every :data:`SEEN_SAVE_INTERVAL` s when something changed,
    and on stop). Its in-memory counterpart, for readers that may start afresh, is
    :class:`bus.protocol.RecentIds`.
    """

    def __init__(self, path: Path | None, capacity: int = 4096) -> None:
        self.path = path
        self.capacity = capacity
        self._ids: collections.OrderedDict[str, None] = collections.OrderedDict()
        self._dirty = False
        if path is not None and path.exists():
            try:
                for line in path.read_text(encoding="utf-8").splitlines()[-capacity:]:
                    if line:
                        self._ids[line] = None
            except (OSError, UnicodeDecodeError):
                logger.warning(
                    "unreadable seen-ids file, starting empty", extra={"path": str(path)}
                )

    def __contains__(self, frame_id: object) -> bool:
        return frame_id in self._ids

    def __len__(self) -> int:
        return len(self._ids)

    def add(self, frame_id: str) -> None:
        """Remember ``frame_id`` (the oldest is forgotten past ``capacity``)."""
        self._ids[frame_id] = None
        self._ids.move_to_end(frame_id)
        while len(self._ids) > self.capacity:
            self._ids.popitem(last=False)
        self._dirty = True

    def save(self) -> None:
        """Write the ids atomically when they changed since the last save."""
        if self.path is None or not self._dirty:
            return
        atomic_write(self.path, ("\n".join(self._ids) + "\n").encode("utf-8"))
        self._dirty = False


class RepeatedFailures:
    """Log a failure once with its traceback, not once per frame while it lasts.

    A full disk or a missing directory fails every frame the same way; a traceback per frame
    (50 a second) buries everything else in the log. The first of a kind is logged in full; the
    same kind (exception type and errno) again within :data:`REPEAT_QUIET` seconds only counts,
    and a summary line says how many were skipped when the quiet period ends.
    """

    def __init__(self, sink: str) -> None:
        self.sink = sink
        self._last: tuple[str, int | None] | None = None
        self._since = 0.0
        self._suppressed = 0

    def first(self, exc: BaseException) -> bool:
        """Whether ``exc`` should be logged in full."""
        kind = (type(exc).__name__, getattr(exc, "errno", None))
        now = time.monotonic()
        if kind == self._last and now - self._since < REPEAT_QUIET:
            self._suppressed += 1
            return False
        if self._suppressed:
            logger.warning("the same failure repeated %d more times: %s", self._suppressed,
                           self._last[0] if self._last else "?",
                           extra={"sink": self.sink, "repeated": self._suppressed})
        self._last, self._since, self._suppressed = kind, now, 0
        return True


class SinkRunner:
    """Feed one sink from the bus: subscribe, dedup by id, emit, tick, report health."""

    def __init__(
        self,
        sink: Sink,
        endpoints: Endpoints,
        *,
        paths: Paths | None = None,
        health_interval: float = HEALTH_INTERVAL,
        tick_interval: float | None = None,
    ) -> None:
        self.sink = sink
        self.endpoints = endpoints
        self.health_interval = health_interval
        self._fixed_tick_interval = tick_interval
        seen_path = None if paths is None else paths.state_dir / "sinks" / f"{sink.name}.seen"
        self.seen = PersistedIds(seen_path)
        self.handled = 0
        self.duplicates = 0
        self.errors = 0
        self.started_at = now_rfc3339()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._next_save = 0.0
        #: Called once the subscription is confirmed (the supervisor marks the sink running).
        self.on_ready: t.Callable[[], None] | None = None
        self._repeats = RepeatedFailures(sink.name)
        self._reader_error: BaseException | None = None

    @property
    def tick_interval(self) -> float:
        """Seconds between two ticks: the runner's own setting, else what the sink asks for
        now (it may ask for a faster pace only while it has work pending)."""
        if self._fixed_tick_interval is not None:
            return self._fixed_tick_interval
        return float(getattr(self.sink, "tick_interval", TICK_INTERVAL))

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> SinkRunner:
        """Run in a daemon thread; return once the broker confirmed the subscription (<= 7 s)."""
        self._thread = threading.Thread(
            target=self.run, name=f"sink-{self.sink.name}", daemon=True
        )
        self._thread.start()
        self._ready.wait(timeout=2 * JOIN_TIMEOUT + 1.0)
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the loop to end and wait for it (the sink is closed by the loop)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=timeout)
            if self._thread.is_alive():
                logger.warning("sink did not stop in time", extra={"sink": self.sink.name})

    def run(self, stop: threading.Event | None = None) -> None:
        """The loop, in the calling thread (``panebus sink NAME`` runs it in the foreground)."""
        from bus.publisher import Publisher  # noqa: PLC0415 - keep import light
        from bus.subscribers import Subscriber  # noqa: PLC0415 - keep import light

        stop_event = self._stop if stop is None else stop
        name = self.sink.name
        on_ready = self.on_ready
        try:
            prefixes = [*self.sink.prefixes, self._own_topic]
            with (
                Publisher(self.endpoints, name=f"sink.{name}") as pub,
                Subscriber(self.endpoints, prefixes=prefixes, name=name) as sub,
            ):
                backlog = self._join(pub, sub, stop_event)
                self._ready.set()
                if on_ready is not None:
                    on_ready()
                self._loop(pub, sub, stop_event, backlog)
        finally:
            self._ready.set()
            self.seen.save()
            self.sink.close()

    # -- internals -----------------------------------------------------------------------------
    def _emitter(self, pub: Publisher) -> Emit:
        def emit(body: Body, topic: str | None = None) -> None:
            try:
                if topic is None:
                    pub.send(body)
                else:
                    pub.send(body, topic=topic)
            except Exception:
                self.errors += 1
                logger.exception("could not publish", extra={"sink": self.sink.name})

        return emit

    @property
    def _own_topic(self) -> str:
        return sys_topic(f"sink.{self.sink.name}")

    def _join(
        self, pub: Publisher, sub: Subscriber, stop: threading.Event
    ) -> list[tuple[str, Body]]:
        """Wait until our subscription is live: our own health frame comes back to us.

        A SUB socket's subscription reaches the broker a little after ``connect``; frames
        published before that would be missed. ``start()`` returns only after this, so a caller
        that publishes right after starting a runner loses nothing. Frames that arrive
        meanwhile are kept and handled first.
        """
        backlog: list[tuple[str, Body]] = []
        pub.wait_ready(timeout=JOIN_TIMEOUT)
        deadline = time.monotonic() + JOIN_TIMEOUT
        producer = pub.producer
        next_echo = 0.0
        while not stop.is_set() and time.monotonic() < deadline:
            if time.monotonic() >= next_echo:  # again now and then: the first may be lost
                next_echo = time.monotonic() + 0.25
                pub.send(self.health_body(sub), topic=self._own_topic)
            item = sub.recv(timeout=0.05)
            if item is None:
                continue
            if item[0] == self._own_topic and item[1].get("producer") == producer:
                return backlog
            backlog.append(item)
        logger.warning("sink subscription not confirmed", extra={"sink": self.sink.name})
        return backlog

    def _loop(
        self,
        pub: Publisher,
        sub: Subscriber,
        stop: threading.Event,
        backlog: list[tuple[str, Body]],
    ) -> None:
        emit = self._emitter(pub)
        for topic, body in backlog:
            self._handle(topic, body, emit)
        inbox: queue.Queue[tuple[str, Body]] = queue.Queue(maxsize=INBOX_FRAMES)
        reading = threading.Event()
        reader = threading.Thread(target=self._read, args=(sub, inbox, stop, reading),
                                  name=f"sink-{self.sink.name}-reader", daemon=True)
        reader.start()
        try:
            self._handle_loop(pub, sub, stop, inbox, reader)
        finally:
            reading.set()
            reader.join(timeout=READER_JOIN_TIMEOUT)
        self._tick(emit)
        try:
            self.sink.drain(emit)
        except Exception:
            self.errors += 1
            logger.exception("sink drain failed", extra={"sink": self.sink.name})
        emit(self.health_body(sub, stopping=True), sys_topic(f"sink.{self.sink.name}"))

    def _read(
        self,
        sub: Subscriber,
        inbox: queue.Queue[tuple[str, Body]],
        stop: threading.Event,
        done: threading.Event,
    ) -> None:
        """Take frames off the socket as they come, whatever the sink is busy with.

        Every subscriber receives every frame (gap detection needs each producer's whole
        sequence), but a sink wants a few of them: the alias sink the parsed frames, not the
        5 KB raw screens. Read in the handling thread, a sink slowed by its disk left all of
        those queued in ZeroMQ (hundreds of MB in a burst); read here, only the frames it wants
        wait, in ``inbox`` (and the socket fills again only past :data:`INBOX_FRAMES` of them).
        """
        while not stop.is_set() and not done.is_set():
            try:
                item = sub.recv(timeout=READ_TIMEOUT)
            except Exception as exc:  # the handling thread fails the sink with this cause
                self._reader_error = exc
                return
            if item is None:
                continue
            while not stop.is_set() and not done.is_set():
                try:
                    inbox.put(item, timeout=READ_TIMEOUT)
                    break
                except queue.Full:
                    continue

    def _handle_loop(
        self,
        pub: Publisher,
        sub: Subscriber,
        stop: threading.Event,
        inbox: queue.Queue[tuple[str, Body]],
        reader: threading.Thread,
    ) -> None:
        emit = self._emitter(pub)
        next_tick = time.monotonic()
        next_health = time.monotonic() + self.health_interval
        while not stop.is_set():
            try:
                topic, body = inbox.get(timeout=self.tick_interval)
            except queue.Empty:
                if not reader.is_alive() and not stop.is_set():
                    raise SinkFailed("the bus reader ended") from self._reader_error
            else:
                self._handle(topic, body, emit)
            now = time.monotonic()
            if now >= next_tick:
                next_tick = now + self.tick_interval
                self._tick(emit)
            if now >= next_health:
                next_health = now + self.health_interval
                emit(self.health_body(sub), sys_topic(f"sink.{self.sink.name}"))

    def _handle(self, topic: str, body: Body, emit: Emit) -> None:
        if topic == self._own_topic and not topic.startswith(self.sink.prefixes):
            return  # health frames (ours or another instance's) are not the sink's input
        frame_id = body.get("id")
        if not isinstance(frame_id, str) or frame_id in self.seen:
            self.duplicates += 1
            return
        try:
            self.sink.handle(topic, body, emit)
        except SinkFailed:
            raise
        except Exception as exc:
            self.errors += 1
            extra = {"sink": self.sink.name, "topic": topic, "frame_id": frame_id}
            if self._repeats.first(exc):
                logger.exception("sink failed on a frame; skipped", extra=extra)
            else:  # the same failure again (a full disk fails every frame): counted, quiet
                logger.debug("sink failed on a frame again; skipped: %s", exc, extra=extra)
        self.seen.add(frame_id)
        self.handled += 1

    def _tick(self, emit: Emit) -> None:
        try:
            self.sink.tick(emit)
            if time.monotonic() >= self._next_save:
                self._next_save = time.monotonic() + SEEN_SAVE_INTERVAL
                self.seen.save()
        except SinkFailed:
            raise
        except Exception:
            self.errors += 1
            logger.exception("sink tick failed", extra={"sink": self.sink.name})

    def health_body(self, sub: t.Any = None, *, stopping: bool = False) -> Body:
        """The ``sys.sink.<name>`` frame: runner counters plus the sink's own figures."""
        fields: dict[str, t.Any] = {
            "sink": self.sink.name,
            "status": "stopping" if stopping else "running",
            "started_at": self.started_at,
            "handled": self.handled,
            "duplicates": self.duplicates,
            "errors": self.errors,
            "rejected": getattr(sub, "rejected", 0),
            "gaps": getattr(sub, "gaps", 0),
        }
        try:
            fields.update(self.sink.health())
        except Exception:
            logger.exception("sink health failed", extra={"sink": self.sink.name})
        return sys_body(f"sink.{self.sink.name}", **fields)
