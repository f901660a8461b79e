"""The scraper service: discover agent panes, capture them when something happens, publish.

``Scraper(config, publisher)`` is what ``panebus scrape`` runs and ``panebus up`` embeds::

    scraper = Scraper(config, publisher)
    scraper.start()          # threads: one worker, one supervisor per tmux server, triggers
    ...
    scraper.stop()           # detaches every control client; joins every thread

    Scraper(config, publisher).run_once()   # one sweep + one capture of every agent pane

Every capture, sweep and publish happens on the one worker thread, fed by a queue: triggers
(timer, file, output, events from tmux) only enqueue. That keeps the publisher on one thread,
serialises tmux commands, and makes a burst of triggers for one pane collapse into one job.
One bad pane (gone mid-capture, binary garbage, a parser error) is counted and logged; the
loop goes on.
"""

from __future__ import annotations

import dataclasses
import logging
import queue
import threading
import time
import typing as t

from bus.frames import draft, source
from scraper.agent_panes import CAPTURE_ERRORS, classify_server
from scraper.capture import ServerLink
from scraper.changes import known_from
from scraper.classify import Classification, ProcReader
from scraper.parsers import registry
from scraper.pipeline import Pipeline, PipelineStats, Publishing
from scraper.redact import Redactor
from scraper.triggers import FileTrigger, OutputGate

if t.TYPE_CHECKING:
    import datetime as dt

    from scraper.config import ScraperConfig
    from scraper.discovery import PaneInfo, PaneKey
    from scraper.pipeline import Outcome, ParseScreen

logger = logging.getLogger(__name__)

#: Seconds between two ``sys.scraper`` health frames (captures, frames, coalesced redraws);
#: none while the counters stand still (an idle scraper stays silent).
HEALTH_INTERVAL = 15.0
#: The timer skips a pane captured within this fraction of its interval (by output, a file
#: event, a probe): it already shows what the timer would capture.
TIMER_SKIP_FRACTION = 0.9


@dataclasses.dataclass(frozen=True)
class WatchedPane:
    """An agent pane and why it is one."""

    pane: PaneInfo
    classification: Classification

    @property
    def provider(self) -> str:
        """The agent it runs."""
        return self.classification.provider or "unknown"


@dataclasses.dataclass(frozen=True)
class _Job:
    kind: str  # "sweep" | "capture" | "routine" | "provider" | "stop"
    key: t.Any = None
    trigger: str = "timer"


@dataclasses.dataclass
class Summary:
    """What a run did, for the one-line report of ``panebus scrape``."""

    servers: int
    panes: int
    agent_panes: int
    stats: PipelineStats
    capture_errors: int
    sweep_errors: int

    def line(self) -> str:
        """``panebus scrape`` prints this."""
        stats = self.stats
        return (
            f"{self.agent_panes} agent pane(s) of {self.panes} on {self.servers} server(s); "
            f"raw {stats.raw_published} published, {stats.unchanged} unchanged; "
            f"parsed {stats.parsed_published}; states {stats.states_published}; "
            f"secrets masked {stats.secrets_masked}; "
            f"errors {self.capture_errors + self.sweep_errors + stats.publish_failures}"
        )


class Scraper:
    """Long-running scraper over every configured tmux server."""

    def __init__(
        self,
        config: ScraperConfig,
        publisher: Publishing,
        *,
        environ: t.Mapping[str, str] | None = None,
        zone: dt.tzinfo | None = None,
        parse_screen: ParseScreen | None = None,
        file_triggers: bool = True,
        output_triggers: bool = True,
    ) -> None:
        self.config = config
        self.pipeline = Pipeline(
            publisher,
            Redactor(config.redact_patterns),
            stale_after=config.stale_after,
            zone=zone,
            parse_screen=parse_screen,
        )
        self.links = {
            spec.label: ServerLink(
                spec,
                on_output=self._on_output if output_triggers else None,
                on_event=self._on_event,
                timeout=config.capture_timeout,
            )
            for spec in config.servers
        }
        self.capture_errors = 0
        self.sweep_errors = 0
        self.sweeps = 0
        self.timer_skipped = 0  # timer captures not made: the pane was captured just before
        self.captures_by_trigger: dict[str, int] = {}
        self._last_health: dict[str, t.Any] | None = None
        self.last_panes: list[PaneInfo] = []
        self._watched: dict[PaneKey, WatchedPane] = {}
        self._screen_checked: dict[tuple[str, str, int | None, str], Classification] = {}
        self._detect = registry.detect_provider
        self._jobs: queue.Queue[_Job] = queue.Queue()
        self._queued: set[tuple[str, t.Any]] = set()
        self._queued_lock = threading.Lock()
        self._routine: dict[PaneKey, None] = {}  # coalesced output captures due (under the lock)
        self._captured_at: dict[PaneKey, float] = {}  # monotonic time of each pane's last capture
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._output: OutputGate[PaneKey] = OutputGate(
            lambda key: self._enqueue(_Job("capture", key, "output")),
            quiet=config.output_debounce,
            max_wait=config.output_max_wait,
            min_gap=config.output_min_interval,
            fire_routine=self._routine_due,
            name="output-trigger",
        )
        self._files: FileTrigger | None = (
            FileTrigger(
                lambda provider: self._enqueue(_Job("provider", provider, "file")),
                extra=config.watch_paths,
                debounce=config.file_debounce,
                environ=environ,
            )
            if file_triggers
            else None
        )

    # -- service ---------------------------------------------------------------------------
    def start(self) -> None:
        """Start every thread; the first sweep captures each agent pane (trigger startup).

        A scraper is started once; build a new one to start again after :meth:`stop`.
        """
        if self._thread is not None:
            return
        self._stop.clear()
        for link in self.links.values():
            link.start()
        self._output.start()
        if self._files is not None:
            self._files.start()
        self._thread = threading.Thread(target=self._work, name="scraper", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop triggers, the worker and every control client (none is left running)."""
        self._stop.set()
        self._jobs.put(_Job("stop"))
        if self._files is not None:
            self._files.stop(timeout)
        self._output.stop(timeout)
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        for link in self.links.values():
            link.stop(timeout)

    def __enter__(self) -> Scraper:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def failure(self) -> str | None:
        """Which of the worker and trigger threads died, if one did (``up`` restarts us)."""
        if self._stop.is_set() or self._thread is None:
            return None
        if not self._thread.is_alive():
            return "the scraper worker thread ended"
        if not self._output.alive:
            return "the output-trigger thread ended"
        if self._files is not None and not self._files.alive:
            return "the file-trigger threads ended"
        return None

    def wait_connected(self, timeout: float = 5.0) -> bool:
        """Whether every server has a control client within ``timeout`` (for tests, benches)."""
        deadline = time.monotonic() + timeout
        return all(
            link.wait_connected(max(0.0, deadline - time.monotonic()))
            for link in self.links.values()
        )

    # -- requests (any thread) -------------------------------------------------------------
    def request_sweep(self) -> None:
        """Rediscover panes soon."""
        self._enqueue(_Job("sweep"))

    def request_capture(self, server: str, pane_id: str, trigger: str = "manual") -> None:
        """Capture one watched pane soon."""
        self._enqueue(_Job("capture", (server, pane_id), trigger))

    def request_provider(self, provider: str, trigger: str = "manual") -> None:
        """Capture every pane of one provider soon."""
        self._enqueue(_Job("provider", provider, trigger))

    def watched(self) -> list[WatchedPane]:
        """The agent panes known after the last sweep."""
        return list(self._watched.values())

    @property
    def stats(self) -> PipelineStats:
        """The pipeline's counters."""
        return self.pipeline.stats

    def summary(self) -> Summary:
        """Counters for the report line."""
        return Summary(
            servers=len(self.links),
            panes=len(self.last_panes),
            agent_panes=len(self._watched),
            stats=self.pipeline.stats,
            capture_errors=self.capture_errors,
            sweep_errors=self.sweep_errors,
        )

    # -- synchronous use (CLI --once, snap) ------------------------------------------------
    def run_once(self, trigger: str = "startup") -> Summary:
        """Sweep every server and capture every agent pane once, in the calling thread."""
        self._sweep_all(trigger=None)
        self._capture_batch(list(self._watched), trigger)
        return self.summary()

    def snap(self, target: str | None, trigger: str = "manual") -> list[Outcome]:
        """Capture one pane (``%3`` or ``session:window.pane``), or every agent pane."""
        self._sweep_all(trigger=None)
        if target is None:
            return [o for key in list(self._watched) if (o := self._capture(key, trigger))]
        for pane in self.last_panes:
            if target in (pane.pane_id, pane.target):
                key = (pane.server, pane.pane_id)
                if key not in self._watched:
                    verdict = Classification(None, "manual", "named on the command line")
                    self._watched[key] = WatchedPane(pane, verdict)
                outcome = self._capture(key, trigger, force=True)
                return [outcome] if outcome else []
        msg = f"no pane {target!r} on {', '.join(self.links)}"
        raise LookupError(msg)

    # -- worker ----------------------------------------------------------------------------
    def _enqueue(self, job: _Job) -> None:
        token = (job.kind, job.key)
        with self._queued_lock:
            if token in self._queued:
                return
            self._queued.add(token)
        self._jobs.put(job)

    def _routine_due(self, keys: list[PaneKey]) -> None:
        """Coalesced output captures fell due (gate thread): one job captures them together."""
        with self._queued_lock:
            self._routine.update(dict.fromkeys(keys))
        self._enqueue(_Job("routine", None, "output"))

    def _work(self) -> None:
        now = time.monotonic()
        next_sweep = now
        next_timer = {
            provider: now + self.config.interval_for(provider)
            for provider in ("codex", "claude", "claude-monitor")
        }
        next_health = now + HEALTH_INTERVAL
        while not self._stop.is_set():
            wait = max(0.0, min(next_sweep, next_health, *next_timer.values()) - time.monotonic())
            try:
                job: _Job | None = self._jobs.get(timeout=wait)
            except queue.Empty:
                job = None
            if job is not None:
                with self._queued_lock:
                    self._queued.discard((job.kind, job.key))
                if job.kind == "stop":
                    break
                self._run_job(job)
            now = time.monotonic()
            if now >= next_sweep:
                self._run_job(_Job("sweep"))  # captures panes seen for the first time
                if self._files is not None:
                    self._files.refresh()
                next_sweep = time.monotonic() + self.config.sweep_interval
            for provider, due in next_timer.items():
                if now >= due:
                    self._run_job(_Job("provider", provider, "timer"))
                    next_timer[provider] = time.monotonic() + self.config.interval_for(provider)
            if now >= next_health:
                self.publish_health()
                next_health = time.monotonic() + HEALTH_INTERVAL

    def _run_job(self, job: _Job) -> None:
        try:
            if job.kind == "sweep":
                self._sweep_all(trigger="startup")
            elif job.kind == "capture":
                self._capture(job.key, job.trigger)
            elif job.kind == "provider":
                self._capture_provider(job.key, job.trigger)
            elif job.kind == "routine":
                with self._queued_lock:
                    keys, self._routine = list(self._routine), {}
                self._capture_batch([key for key in keys if key in self._watched], job.trigger)
        except Exception:
            # Whatever one job does wrong, the scraper keeps running.
            self.capture_errors += 1
            logger.exception("scraper job failed", extra={"job": job.kind})

    def _capture_provider(self, provider: str, trigger: str) -> None:
        keys = [key for key, w in list(self._watched.items()) if w.provider == provider]
        if trigger == "timer":
            # The timer is the safety net for panes nothing else captured: a pane captured
            # within most of the interval (its output was followed) shows nothing new to it.
            recent = time.monotonic() - TIMER_SKIP_FRACTION * self.config.interval_for(provider)
            due = [key for key in keys if self._captured_at.get(key, -1e9) < recent]
            self.timer_skipped += len(keys) - len(due)
            keys = due
        self._capture_batch(keys, trigger)

    def _capture_batch(self, keys: t.Sequence[PaneKey], trigger: str) -> None:
        """Capture several panes, one pipelined round trip per server."""
        by_server: dict[str, list[PaneKey]] = {}
        for key in keys:
            by_server.setdefault(key[0], []).append(key)
        for server, server_keys in by_server.items():
            link = self.links.get(server)
            if link is None:
                continue
            texts = link.capture_many(
                [key[1] for key in server_keys], self.config.history_lines, self.config.escapes
            )
            for key in server_keys:
                self._publish(key, texts.get(key[1], LookupError(key[1])), trigger)

    def _capture(self, key: PaneKey, trigger: str, force: bool = False) -> Outcome | None:
        link = self.links.get(key[0])
        if key not in self._watched or link is None:
            return None
        try:
            text: str | Exception = link.capture(
                key[1], self.config.history_lines, self.config.escapes
            )
        except CAPTURE_ERRORS as exc:
            text = exc
        return self._publish(key, text, trigger, force)

    def _publish(
        self, key: PaneKey, text: str | Exception, trigger: str, force: bool = False
    ) -> Outcome | None:
        watched = self._watched.get(key)
        if watched is None:
            return None
        if isinstance(text, Exception):
            self.capture_errors += 1
            logger.warning(
                "capture failed: %s", text, extra={"pane_id": key[1], "server": key[0]}
            )
            self._enqueue(_Job("sweep"))  # the pane may be gone: find out
            return None
        self.captures_by_trigger[trigger] = self.captures_by_trigger.get(trigger, 0) + 1
        self._captured_at[key] = time.monotonic()
        outcome = self.pipeline.process(watched.pane, watched.provider, text, trigger, force=force)
        self._output.captured(
            key,
            known_from(text, visible=self.config.history_lines == 0),
            spinner_only=outcome.change in ("spinner", "same"),
        )
        return outcome

    def health(self) -> dict[str, t.Any]:
        """Counters of the ``sys.scraper`` health frame (``panebus tail sys.scraper``)."""
        stats = self.pipeline.stats
        return {
            "agent_panes": len(self._watched),
            "captures_by_trigger": dict(self.captures_by_trigger),
            "timer_skipped": self.timer_skipped,
            "output_notifications": self._output.pokes,
            "output_captures": self._output.fired,
            "output_captures_urgent": self._output.urgent_fired,
            "screens": stats.screens,
            "unchanged": stats.unchanged,
            "spinner_skipped": stats.spinner_skipped,
            "raw_published": stats.raw_published,
            "parsed_published": stats.parsed_published,
            "capture_errors": self.capture_errors,
        }

    def publish_health(self) -> None:
        """One ``sys.scraper`` frame with :meth:`health` (worker thread: it owns the socket)."""
        health = self.health()
        if health == self._last_health:
            return
        self._last_health = health
        body = draft("sys", "unknown", source("report", "official"), what="scraper", **health)
        try:
            self.pipeline.publisher.send(body)
        except Exception:
            logger.exception("could not publish the scraper's health")

    # -- discovery -------------------------------------------------------------------------
    def _sweep_all(self, trigger: str | None) -> None:
        """Rediscover; publish added/gone/respawned; capture new panes with ``trigger``."""
        self.sweeps += 1
        proc = ProcReader()
        panes: list[PaneInfo] = []
        watched: dict[PaneKey, WatchedPane] = {}
        for label, link in self.links.items():
            try:
                verdicts = classify_server(
                    link,
                    self.config.targets,
                    proc,
                    detect=self._detect,
                    screen_cache=self._screen_checked,
                )
            except CAPTURE_ERRORS as exc:
                self.sweep_errors += 1
                logger.info("sweep of %s failed: %s", label, exc)
                continue
            panes.extend(pane for pane, _ in verdicts)
            sessions = set()
            for pane, verdict in verdicts:
                if verdict.is_agent:
                    watched[(label, pane.pane_id)] = WatchedPane(pane, verdict)
                    sessions.add(pane.session)
            link.follow(sessions)
        self.last_panes = panes
        previous, self._watched = self._watched, watched
        fresh = [key for key in watched if key not in previous]
        for key, old in previous.items():
            new = watched.get(key)
            if new is None:
                self.pipeline.forget(key)
                self._output.forget(key)
                self._captured_at.pop(key, None)
                self.pipeline.publish_state(old.pane, old.provider, "gone", "pane left the sweep")
            elif new.pane.pid != old.pane.pid or new.provider != old.provider:
                self.pipeline.forget(key)
                self._output.forget(key)
                self._captured_at.pop(key, None)
                self.pipeline.publish_state(
                    new.pane, new.provider, "respawned", f"pid {old.pane.pid} → {new.pane.pid}"
                )
                fresh.append(key)
        for key in watched.keys() - previous.keys():
            new = watched[key]
            self.pipeline.publish_state(
                new.pane,
                new.provider,
                "added",
                f"{new.classification.rule}: {new.classification.detail}",
            )
        if trigger is not None and fresh:
            self._capture_batch(fresh, trigger)

    # -- trigger callbacks (reader / observer threads) -------------------------------------
    def _on_output(self, server: str, pane_id: str, data: bytes) -> None:
        key = (server, pane_id)
        if key in self._watched:
            self._output.poke(key, data)

    def _on_event(self, name: str) -> None:
        logger.debug("tmux event %s", name)
        self._enqueue(_Job("sweep"))
