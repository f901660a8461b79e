"""The embedded default: broker, scraper, rollout tailer, probes and every sink in one process.

``panebus up`` and ``panebus demo`` run this :class:`Stack`. Each component keeps its own
threads and its own ZeroMQ sockets (sockets are not thread-safe), and talks to the others only
through the bus, exactly as when each runs as its own process. Start order does not matter;
the broker starts first only so the first frames are not waiting for it.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import typing as t

from bus.broker import Broker
from bus.client import Publisher
from bus.endpoints import Endpoints
from scraper.probe import probe_idle_panes
from scraper.scrape import Scraper
from scraper.sources.rollout_tailer import RolloutTailer, rollout_frame
from sinks.base import SinkRunner, build_sink, sink_names
from sinks.config import SinksConfig

if t.TYPE_CHECKING:
    from pathlib import Path

    from bus.paths import Paths
    from scraper.config import ScraperConfig
    from scraper.parsers.model import Usage

logger = logging.getLogger(__name__)

Report = t.Callable[[str], None]


@dataclasses.dataclass
class StackOptions:
    """What to run. The defaults are ``panebus up`` with no flags."""

    broker: bool = True
    scraper: bool = True
    rollout: bool = True
    sinks: tuple[str, ...] = ()
    probe_every_minutes: float | None = None
    heartbeat_interval: float = 5.0


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


class _ProbeSchedule:
    """Probe idle agent panes every N minutes from a thread that owns its publisher."""

    def __init__(self, config: ScraperConfig, endpoints: Endpoints, minutes: float) -> None:
        self.config = config
        self.endpoints = endpoints
        self.interval = minutes * 60.0
        self.runs = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="probe-schedule", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 15.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def _loop(self) -> None:
        with Publisher(self.endpoints, name="probe") as publisher:
            while not self._stop.wait(self.interval):
                try:
                    outcomes = probe_idle_panes(
                        self.config.servers,
                        publisher,
                        targets=self.config.targets,
                        redact_patterns=self.config.redact_patterns,
                    )
                except Exception:  # a failed round must not end the schedule
                    logger.exception("scheduled probe failed")
                    continue
                self.runs += 1
                for outcome in outcomes:
                    logger.info(
                        "scheduled probe %s %s: %s",
                        outcome.provider,
                        outcome.pane.pane_id,
                        outcome.error or "captured",
                    )


class Stack:
    """Everything ``panebus up`` runs, started and stopped as one."""

    def __init__(
        self,
        paths: Paths,
        scraper_config: ScraperConfig,
        options: StackOptions | None = None,
        endpoints: Endpoints | None = None,
    ) -> None:
        self.paths = paths
        self.scraper_config = scraper_config
        self.options = options or StackOptions()
        self.endpoints = endpoints or Endpoints.default()
        self.broker: Broker | None = None
        self.scraper: Scraper | None = None
        self.tailer: RolloutTailer | None = None
        self.sink_runners: dict[str, SinkRunner] = {}
        self._scraper_publisher: Publisher | None = None
        self._rollout_publisher: _RolloutPublisher | None = None
        self._probes: _ProbeSchedule | None = None

    def start(self, report: Report = logger.info) -> None:
        """Start every component; ``report`` gets one line per component."""
        options = self.options
        if options.broker:
            self.broker = Broker(self.endpoints, heartbeat_interval=options.heartbeat_interval)
            self.broker.start()
            report(f"bus      broker at {self.endpoints.subscribe}")
        sinks_config = SinksConfig.load(self.paths)
        for name in options.sinks or tuple(sink_names()):
            runner = SinkRunner(build_sink(name, self.paths, sinks_config), self.endpoints,
                                paths=self.paths)
            runner.start()
            self.sink_runners[name] = runner
            report(f"sink     {name}")
        if options.rollout:
            self._rollout_publisher = _RolloutPublisher(self.endpoints)
            codex_paths = [
                watched.path
                for watched in self.scraper_config.watch_paths
                if watched.provider == "codex"
            ]
            self.tailer = RolloutTailer(self._rollout_publisher, extra_roots=codex_paths)
            self.tailer.start()
            roots = ", ".join(str(root) for root in self.tailer.roots)
            report(f"rollout  watching {roots}")
        if options.scraper:
            self._scraper_publisher = Publisher(self.endpoints, name="scraper")
            self.scraper = Scraper(self.scraper_config, self._scraper_publisher)
            self.scraper.start()
            servers = ", ".join(spec.label for spec in self.scraper_config.servers)
            if self.scraper.wait_connected(timeout=2.0):
                report(f"scraper  tmux {servers}")
            else:
                report(f"scraper  tmux {servers}: no server answering yet (retrying; "
                       "start tmux, or pass -L NAME / -S PATH)")
        if options.probe_every_minutes:
            self._probes = _ProbeSchedule(
                self.scraper_config, self.endpoints, options.probe_every_minutes
            )
            self._probes.start()
            report(f"probes   every {options.probe_every_minutes:g} min on idle panes")

    def stop(self) -> None:
        """Stop in reverse order so the last frames still reach the sinks."""
        if self._probes is not None:
            self._probes.stop()
        if self.scraper is not None:
            self.scraper.stop()
        if self._scraper_publisher is not None:
            self._scraper_publisher.close()
        if self.tailer is not None:
            self.tailer.stop()
        if self._rollout_publisher is not None:
            self._rollout_publisher.close()
        for runner in reversed(list(self.sink_runners.values())):
            runner.stop()
        if self.broker is not None:
            self.broker.stop()

    def __enter__(self) -> Stack:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
