"""The parts of ``panebus up`` as the supervisor sees them (:mod:`panebus.supervisor`).

Each part builds its component afresh on every (re)start, so a restart never inherits the
broken state that made it crash, and each watches its component's threads: a component whose
worker died raises :class:`~panebus.supervisor.PartFailed` with the cause, and the supervisor
restarts it. What a part counts (frames handled, reconnects, …) goes to ``panebus status``.
"""

from __future__ import annotations

import threading
import time
import typing as t

from bus.broker import Broker
from bus.publisher import Publisher
from panebus.memory import CHECK_INTERVAL, Trimmer, can_release, resident_kb
from panebus.supervisor import BasePart, Context, PartFailed
from scraper.scrape import Scraper
from scraper.sources.rollout_tailer import RolloutTailer, rollout_frame
from sinks.base import SinkRunner, build_sink

if t.TYPE_CHECKING:
    from pathlib import Path

    from bus.auth import RemoteAccess
    from bus.endpoints import Endpoints
    from bus.paths import Paths
    from scraper.capture import ServerLink
    from scraper.config import ScraperConfig
    from scraper.parsers.model import Usage
    from sinks.config import SinksConfig

WATCH_INTERVAL = 0.5  # seconds between two looks at a component's threads
BROKER_BIND_TIMEOUT = 5.0


class BrokerPart(BasePart):
    """The broker, in its own thread; a new one (empty cache) after a crash."""

    name = "broker"

    def __init__(
        self, endpoints: Endpoints, heartbeat_interval: float, remote: RemoteAccess | None = None
    ) -> None:
        self.endpoints = endpoints
        self.heartbeat_interval = heartbeat_interval
        self.remote = remote  # other hosts' access over tcp + CURVE (bus.auth)
        self.broker: Broker | None = None

    def run(self, ctx: Context) -> None:
        broker = Broker(self.endpoints, heartbeat_interval=self.heartbeat_interval,
                        remote=self.remote)
        self.broker = broker
        broker.start(timeout=BROKER_BIND_TIMEOUT)  # raises what binding raised
        try:
            ctx.ready()
            while not ctx.stop.wait(WATCH_INTERVAL):
                if not broker.ready:
                    raise PartFailed("the broker loop ended on an error")
        finally:
            broker.stop()

    def detail(self) -> dict[str, t.Any]:
        broker = self.broker
        if broker is None:
            return {}
        remote = {} if self.remote is None else {
            "listen": self.remote.snapshot, "remote_hosts": broker.counters().get("remote_hosts"),
            "denied": broker.counters().get("denied"),
            "denied_keys": broker.counters().get("denied_keys"),
        }
        return {"forwarded": broker.forwarded, "rejected": broker.rejected,
                "cache_size": len(broker.cache) + len(broker.remote_cache), **remote}


class SinkPart(BasePart):
    """One sink and its runner; the sink is built anew on every start."""

    def __init__(
        self, sink_name: str, paths: Paths, config: SinksConfig, endpoints: Endpoints
    ) -> None:
        self.name = f"sink.{sink_name}"
        self.sink_name = sink_name
        self.paths = paths
        self.config = config
        self.endpoints = endpoints
        self.runner: SinkRunner | None = None

    def run(self, ctx: Context) -> None:
        runner = SinkRunner(
            build_sink(self.sink_name, self.paths, self.config), self.endpoints,
            paths=self.paths, health_interval=self.config.health_interval,
        )
        runner.on_ready = ctx.ready
        self.runner = runner
        runner.run(ctx.stop)

    def detail(self) -> dict[str, t.Any]:
        runner = self.runner
        if runner is None:
            return {}
        return {"handled": runner.handled, "errors": runner.errors,
                "duplicates": runner.duplicates}


class _RolloutPublisher:
    """Publishes the tailer's figures from its own socket (the tailer calls from watchdog's
    thread, so a lock keeps the socket single-threaded)."""

    def __init__(self, endpoints: Endpoints) -> None:
        self._publisher = Publisher(endpoints, name="rollout")
        self._lock = threading.Lock()

    def __call__(self, path: Path, usage: Usage) -> None:
        with self._lock:
            self._publisher.send(rollout_frame(usage))

    def close(self) -> None:
        with self._lock:
            self._publisher.close()


class RolloutPart(BasePart):
    """The Codex rollout tailer (watchdog observer plus its publisher)."""

    name = "rollout"

    def __init__(self, endpoints: Endpoints, extra_roots: t.Sequence[Path]) -> None:
        self.endpoints = endpoints
        self.extra_roots = tuple(extra_roots)
        self.tailer: RolloutTailer | None = None

    def run(self, ctx: Context) -> None:
        publisher = _RolloutPublisher(self.endpoints)
        tailer = RolloutTailer(publisher, extra_roots=self.extra_roots)
        self.tailer = tailer
        try:
            tailer.start()
            ctx.ready()
            while not ctx.stop.wait(WATCH_INTERVAL):
                observer = tailer._observer  # the tailer's one thread
                if observer is None or not observer.is_alive():
                    raise PartFailed("the rollout observer thread ended")
        finally:
            tailer.stop()
            publisher.close()

    def detail(self) -> dict[str, t.Any]:
        tailer = self.tailer
        if tailer is None:
            return {}
        return {"reported": tailer.reported, "bad_lines": tailer.bad_lines,
                "watching": [str(path) for path in tailer.watching]}


class ScraperPart(BasePart):
    """The scraper's worker and its triggers (timer, file, output), which feed its one queue.

    The control links to tmux live in the scraper too but are parts of their own
    (:class:`ControlPart`): a tmux server that goes away is not a scraper crash.
    """

    name = "scraper"

    def __init__(self, config: ScraperConfig, endpoints: Endpoints) -> None:
        self.config = config
        self.endpoints = endpoints
        self.scraper: Scraper | None = None
        self.started = threading.Event()

    def run(self, ctx: Context) -> None:
        publisher = Publisher(self.endpoints, name="scraper")
        try:
            scraper = Scraper(self.config, publisher)
            self.scraper = scraper
            scraper.start()
            self.started.set()
            try:
                ctx.ready()
                while not ctx.stop.wait(WATCH_INTERVAL):
                    cause = scraper.failure()
                    if cause is not None:
                        raise PartFailed(cause)
            finally:
                scraper.stop()
        finally:
            publisher.close()

    def detail(self) -> dict[str, t.Any]:
        scraper = self.scraper
        if scraper is None:
            return {}
        summary = scraper.summary()
        return {"agent_panes": summary.agent_panes, "raw_published": summary.stats.raw_published,
                "capture_errors": summary.capture_errors, "sweep_errors": summary.sweep_errors}


class ControlPart(BasePart):
    """The control-mode link to one tmux server.

    Running while a control client is attached. The link reconnects by itself with backoff
    (:class:`scraper.capture.ServerLink`); a client that goes away (the server was killed or
    restarted) is a crash here, so restarts and a flapping server show in ``panebus status``.
    A link whose own thread died is restarted.
    """

    def __init__(self, label: str, scraper_part: ScraperPart) -> None:
        self.name = f"tmux.{label}"
        self.label = label
        self.scraper_part = scraper_part

    def _link(self) -> ServerLink | None:
        scraper = self.scraper_part.scraper
        return None if scraper is None else scraper.links.get(self.label)

    def run(self, ctx: Context) -> None:
        attached: ServerLink | None = None
        while not ctx.stop.is_set():
            link = self._link()
            if link is not None and not link.alive and self.scraper_part.started.is_set():
                link.stop(timeout=1.0)
                link.start()
            if link is not None and link.control_up:
                if attached is not link:
                    attached = link
                    ctx.ready()
            elif attached is not None and attached is link:
                raise PartFailed(f"control client to tmux {self.label} went away")
            ctx.stop.wait(WATCH_INTERVAL)

    def detail(self) -> dict[str, t.Any]:
        link = self._link()
        if link is None:
            return {}
        return {"connected": link.control_up, "connects": link.connects,
                "fallback_calls": link.fallback_calls, "clients": link.client_pids()}


class ThreadPart(BasePart):
    """A component with ``start()``/``stop()`` and one thread to watch (the probe schedule)."""

    def __init__(self, name: str, build: t.Callable[[], t.Any]) -> None:
        self.name = name
        self.build = build

    def run(self, ctx: Context) -> None:
        component = self.build()
        component.start()
        try:
            ctx.ready()
            while not ctx.stop.wait(WATCH_INTERVAL):
                thread = getattr(component, "_thread", None)
                if isinstance(thread, threading.Thread) and not thread.is_alive():
                    raise PartFailed(f"the {self.name} thread ended")
        finally:
            component.stop()


class MemoryPart(BasePart):
    """Free allocator pages go back to the system (:mod:`panebus.memory`), so a burst of
    queued frames does not stay resident for days; ``panebus status`` shows the resident
    size, its peak and the trims."""

    name = "memory"

    def __init__(self, interval: float = CHECK_INTERVAL) -> None:
        self.interval = interval
        self.trimmer = Trimmer()

    def run(self, ctx: Context) -> None:
        ctx.ready()
        while not ctx.stop.wait(self.interval):
            self.trimmer.check(time.monotonic())

    def detail(self) -> dict[str, t.Any]:
        trimmer = self.trimmer
        return {"rss_kb": resident_kb(), "peak_kb": trimmer.peak_kb, "trims": trimmer.trims,
                "can_release": can_release()}
