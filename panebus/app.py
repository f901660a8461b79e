"""The embedded default: broker, scraper, rollout tailer, probes and every sink in one process.

``panebus up`` and ``panebus demo`` run this :class:`Stack`. Each component keeps its own
threads and its own ZeroMQ sockets (sockets are not thread-safe), and talks to the others only
through the bus, exactly as when each runs as its own process. Start order does not matter;
the broker starts first only so the first frames are not waiting for it.

Every component runs as a part of one :class:`panebus.supervisor.Supervisor` (the parts are
in :mod:`panebus.parts`): a part that crashes is logged once, restarted with backoff, and its
health (state, restarts, last error) is written to ``health.json`` in the runtime dir, which
``panebus status`` and ``panebus doctor`` read.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import typing as t

from bus.auth import RemoteAccess
from bus.endpoints import Endpoints
from bus.keys import this_host
from bus.publisher import Publisher
from panebus.parts import (
    BrokerPart,
    ControlPart,
    MemoryPart,
    RolloutPart,
    ScraperPart,
    SinkPart,
    ThreadPart,
)
from panebus.supervisor import HEALTH_FILE, PartHealth, Policy, Supervisor
from panebus.upstream import UpstreamPart
from scraper.probe import probe_idle_panes
from scraper.sources.codex_appserver import AppServerUnavailable, CodexAppServer, appserver_frame
from sinks.base import sink_names
from sinks.config import SinksConfig

if t.TYPE_CHECKING:
    from bus.broker import Broker
    from bus.federation_config import FederationConfig
    from bus.paths import Paths
    from scraper.config import ScraperConfig
    from scraper.scrape import Scraper
    from scraper.sources.rollout_tailer import RolloutTailer
    from sinks.base import SinkRunner

logger = logging.getLogger(__name__)

Report = t.Callable[[str], None]
SINK_JOIN_TIMEOUT = 8.0  # a sink's subscription is confirmed within 7 s (SinkRunner.start)
SCRAPER_CONNECT_TIMEOUT = 2.0
PART_START_TIMEOUT = 5.0  # the broker binds, the tailer and the scraper start


@dataclasses.dataclass
class StackOptions:
    """What to run. The defaults are ``panebus up`` with no flags."""

    broker: bool = True
    scraper: bool = True
    rollout: bool = True
    sinks: tuple[str, ...] = ()
    probe_every_minutes: float | None = None
    heartbeat_interval: float = 5.0
    policy: Policy = dataclasses.field(default_factory=Policy)
    federation: FederationConfig | None = None
    """Several hosts: ``listen`` for other hosts, forward to an ``upstream`` (bus.federation)."""


class _ProbeSchedule:
    """Every N minutes, from a thread that owns its publisher: official Codex figures from
    ``codex app-server`` (nothing typed), then probes of idle agent panes — Claude's, and
    Codex's only when the app-server could not answer."""

    def __init__(self, config: ScraperConfig, endpoints: Endpoints, minutes: float) -> None:
        self.config = config
        self.endpoints = endpoints
        self.interval = minutes * 60.0
        self.runs = 0
        self.appserver = CodexAppServer()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="probe-schedule", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 15.0) -> None:
        self._stop.set()
        self.appserver.cancel()  # a read in progress ends now, with its process
        self._thread.join(timeout)

    def _read_codex(self, publisher: Publisher) -> bool:
        """Publish the app-server's figures; False when the Codex panes must be probed."""
        try:
            reading = self.appserver.read()
        except AppServerUnavailable as exc:
            logger.info("scheduled codex app-server read: %s; probing Codex panes", exc)
            return False
        publisher.send(appserver_frame(reading.usage))
        return True

    def _loop(self) -> None:
        with Publisher(self.endpoints, name="probe") as publisher:
            while not self._stop.wait(self.interval):
                try:
                    providers = ("claude",) if self._read_codex(publisher) else ("codex", "claude")
                    outcomes = probe_idle_panes(
                        self.config.servers,
                        publisher,
                        providers=providers,
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
    """Everything ``panebus up`` runs, started and stopped as one, under one supervisor."""

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
        self.supervisor = Supervisor(
            paths.private_runtime_dir() / HEALTH_FILE, policy=self.options.policy
        )
        self._broker: BrokerPart | None = None
        self._scraper: ScraperPart | None = None
        self._rollout: RolloutPart | None = None
        self._sinks: dict[str, SinkPart] = {}
        self._upstream: UpstreamPart | None = None

    # -- the current components (a restart replaces them) ----------------------------------
    @property
    def broker(self) -> Broker | None:
        """The running broker, if this stack runs one."""
        return None if self._broker is None else self._broker.broker

    @property
    def scraper(self) -> Scraper | None:
        """The running scraper."""
        return None if self._scraper is None else self._scraper.scraper

    @property
    def tailer(self) -> RolloutTailer | None:
        """The running rollout tailer."""
        return None if self._rollout is None else self._rollout.tailer

    @property
    def sink_runners(self) -> dict[str, SinkRunner]:
        """The runner of each sink that has started."""
        return {name: part.runner for name, part in self._sinks.items() if part.runner}

    def health(self) -> list[PartHealth]:
        """Every part's health (what ``health.json`` holds)."""
        return self.supervisor.health()

    # -- lifecycle -------------------------------------------------------------------------
    def start(self, report: Report = logger.info) -> None:
        """Start every part; ``report`` gets one line per part (and why it is not up yet)."""
        options = self.options
        supervisor = self.supervisor
        federation = options.federation
        if options.broker:
            remote = None
            if federation is not None and federation.listen:
                remote = RemoteAccess.listen(federation.listen, self.paths.keys_dir)
            self._broker = BrokerPart(self.endpoints, options.heartbeat_interval, remote)
            supervisor.add(self._broker)
            self._report_start(report, "broker", "bus", f"broker at {self.endpoints.subscribe}")
            if remote is not None:
                report(f"hosts    listening at {federation.listen if federation else ''} "
                       f"(keys in {remote.authorized})")
        sinks_config = SinksConfig.load(self.paths)
        for name in options.sinks or tuple(sink_names()):
            part = SinkPart(name, self.paths, sinks_config, self.endpoints)
            self._sinks[name] = part
            supervisor.add(part)
        for name, part in self._sinks.items():
            self._report_start(report, part.name, "sink", name, timeout=SINK_JOIN_TIMEOUT)
        if options.rollout:
            codex_paths = [
                watched.path
                for watched in self.scraper_config.watch_paths
                if watched.provider == "codex"
            ]
            self._rollout = RolloutPart(self.endpoints, codex_paths)
            supervisor.add(self._rollout)
            health = supervisor.wait_started(self._rollout.name, PART_START_TIMEOUT)
            roots = ", ".join(str(root) for root in self.tailer.roots) if self.tailer else "?"
            report(f"rollout  watching {roots}" + _failed(health))
        if options.scraper:
            self._scraper = ScraperPart(self.scraper_config, self.endpoints)
            supervisor.add(self._scraper)
            supervisor.wait_started(self._scraper.name, PART_START_TIMEOUT)
            for spec in self.scraper_config.servers:
                supervisor.add(ControlPart(spec.label, self._scraper))
            servers = ", ".join(spec.label for spec in self.scraper_config.servers)
            scraper = self.scraper
            if scraper is not None and scraper.wait_connected(timeout=SCRAPER_CONNECT_TIMEOUT):
                report(f"scraper  tmux {servers}")
            else:
                report(f"scraper  tmux {servers}: no server answering yet (retrying; "
                       "start tmux, or pass -L NAME / -S PATH)")
        if federation is not None and federation.upstream:
            self._upstream = UpstreamPart(self.paths, self.endpoints, federation, this_host())
            supervisor.add(self._upstream)
            self._report_start(report, "upstream", "upstream",
                               f"{federation.upstream} as host {this_host()}")
        if options.probe_every_minutes:
            minutes = options.probe_every_minutes
            supervisor.add(ThreadPart(
                "probes", lambda: _ProbeSchedule(self.scraper_config, self.endpoints, minutes)
            ))
            report(f"probes   every {minutes:g} min: codex app-server, idle panes")
        supervisor.add(MemoryPart())  # free pages back to the system after a burst

    def _report_start(
        self, report: Report, part: str, label: str, line: str, timeout: float = PART_START_TIMEOUT
    ) -> None:
        health = self.supervisor.wait_started(part, timeout)
        report(f"{label:<8} {line}" + _failed(health))

    def stop(self) -> None:
        """Stop in reverse order so the last frames still reach the sinks."""
        self.supervisor.stop()

    def __enter__(self) -> Stack:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()



def _failed(health: PartHealth) -> str:
    """The tail of a start-up line for a part that is not running."""
    if health.state == "running":
        return ""
    if health.last_error:
        return f": FAILED ({health.last_error}); restarting with backoff"
    return f": {health.state}"
