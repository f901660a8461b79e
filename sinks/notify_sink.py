"""The notify sink: publish each event once on the bus and tell the person where they look.

Events come from :class:`sinks.notify.EventDetector`. Each is announced once, ever: its key goes
into a small file under the state dir before it is delivered, so a restart (which replays the
cached frames) does not announce a crossing again. Delivery, in order of how cheap it is to
ignore:

1. the bus: ``event.<kind>.<provider>`` (always);
2. the status-line marker: ``<alias dir>/notice``, one line the tmux status-line snippet shows
   for ten minutes (always);
3. ``tmux display-message`` on every client attached to the session of the pane the event is
   about (for a limit or reset: every session with a pane of that provider), and the terminal
   bell of those clients when ``bell = true``;
4. a desktop notification (``notify-send``) when a desktop session bus exists;
5. ``notify.command``, run with the event as JSON on stdin.

3-5 are held back during ``quiet_hours``. Every outside call has a timeout; a failing one is
counted and logged, never fatal.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import shutil
import subprocess
import time
import typing as t

from bus.clock import local_zone, utcnow
from bus.codec import dumps
from bus.frames import draft, source
from sinks.base import PersistedIds, is_replay
from sinks.files import atomic_write
from sinks.notify import ACTIVITY, EventDetector, NotifySettings

if t.TYPE_CHECKING:
    from pathlib import Path

    from bus.frames import Body
    from bus.paths import Paths
    from sinks.base import Emit
    from sinks.config import NotifyConfig, SinksConfig
    from sinks.notify import Event

logger = logging.getLogger(__name__)

ANNOUNCED_FILE = "notify-announced"
MARKER_FILE = "notice"
MARKER_SECONDS = 600  # the status line shows an event this long
TMUX_TIMEOUT = 2.0
COMMAND_TIMEOUT = 10.0
EXPIRE_INTERVAL = 30.0
DISPLAY_MS = 5000


def tmux_server_args(server: str) -> list[str]:
    """``-S path`` for a socket path, ``-L name`` for a socket name, nothing for the default."""
    if "/" in server:
        return ["-S", server]
    return [] if server == "default" else ["-L", server]


def in_quiet_hours(hours: tuple[str, str] | None, now: dt.datetime) -> bool:
    """Whether ``now`` (local time) falls in ``start-end`` (which may wrap midnight).

    >>> import datetime as dt
    >>> at = lambda h, m: dt.datetime(2026, 12, 3, h, m)
    >>> [in_quiet_hours(("22:00", "07:00"), at(h, 0)) for h in (21, 22, 3, 7)]
    [False, True, True, False]
    >>> in_quiet_hours(("12:00", "13:00"), at(12, 30)), in_quiet_hours(None, at(12, 30))
    (True, False)
    """
    if hours is None:
        return False
    start, end = hours
    clock = f"{now.hour:02d}:{now.minute:02d}"
    if start <= end:
        return start <= clock < end
    return clock >= start or clock < end


class NotifySink:
    """Parsed, state and probe frames in; ``event.*`` frames and notifications out."""

    name = "notify"
    prefixes: tuple[str, ...] = ("parsed.", "state.", "sys.probe")
    tick_interval = 0.5  # "finished" is announced once activity settled (2 s): soon after

    def __init__(self, config: NotifyConfig, state_dir: Path, alias_dir: Path) -> None:
        self.config = config
        self.detector = EventDetector(NotifySettings(
            thresholds=config.thresholds, settle_seconds=config.settle_seconds,
            refusals=config.refusals))
        state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.announced = PersistedIds(state_dir / ANNOUNCED_FILE, capacity=4096)
        self.alias_dir = alias_dir
        self.sessions: dict[str, dict[tuple[str, str], None]] = {}  # provider -> (server, session)
        self.delivered: dict[str, int] = {}
        self.failures = 0
        self._commands: list[tuple[subprocess.Popen[bytes], float]] = []  # with start time
        self._next_expire = 0.0

    @classmethod
    def build(cls, paths: Paths, config: SinksConfig) -> NotifySink:
        """Factory for the sink registry."""
        return cls(config.notify, paths.state_dir, config.alias_dir)

    # -- input ---------------------------------------------------------------------------------
    def handle(self, topic: str, body: Body, emit: Emit) -> None:
        """Feed one frame; announce what it caused."""
        if is_replay(body):
            return
        self._remember_session(body)
        self._announce(self.detector.observe(topic, body), emit)

    def tick(self, emit: Emit) -> None:
        """Settled activity changes, resets without a frame, finished user commands."""
        now = utcnow()
        events = self.detector.settle(now)
        if time.monotonic() >= self._next_expire:
            self._next_expire = time.monotonic() + EXPIRE_INTERVAL
            events += self.detector.expire(now)
        self._announce(events, emit)
        self._reap()

    def _remember_session(self, body: Body) -> None:
        pane = body.get("pane")
        if body.get("kind") != "state" or not isinstance(pane, dict):
            return
        where = (str(pane.get("server")), str(pane.get("session")))
        known = self.sessions.setdefault(str(body.get("provider")), {})
        if body.get("state") == "gone":
            known.pop(where, None)
        elif body.get("state") in (*ACTIVITY, "added"):
            known[where] = None

    # -- output --------------------------------------------------------------------------------
    def _announce(self, events: list[Event], emit: Emit) -> None:
        for event in events:
            if any(key in self.announced for key in event.keys):
                continue
            self.announced.add(event.key)
            self.announced.save()  # before delivery: a crash never announces twice
            body = draft("event", event.provider, source("report", "parsed"),
                         observed_at=event.observed_at, **event.fields())
            emit(body)
            self._mark(event)
            self.delivered["bus"] = self.delivered.get("bus", 0) + 1
            if in_quiet_hours(self.config.quiet_hours, dt.datetime.now(local_zone())):
                continue
            self._deliver(event, body)

    def _mark(self, event: Event) -> None:
        """The status-line marker: ``<epoch>\\t<until epoch>\\t⚑ text``."""
        now = int(time.time())
        line = f"{now}\t{now + MARKER_SECONDS}\t⚑ {event.text}\n"
        try:
            self.alias_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            atomic_write(self.alias_dir / MARKER_FILE, line.encode("utf-8"))
        except OSError:
            self._failed("marker", event)

    def _deliver(self, event: Event, body: Body) -> None:
        if self.config.display or self.config.bell:
            for server, session in self._targets(event):
                self._tmux_clients(server, session, event)
        if self.config.desktop and os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
            notifier = shutil.which("notify-send")
            if notifier is not None:
                self._spawn([notifier, "panebus", event.text], None, "desktop", event)
        if self.config.command:
            self._spawn(["/bin/sh", "-c", self.config.command], dumps(body), "command", event)

    def _targets(self, event: Event) -> list[tuple[str, str]]:
        pane = event.pane
        if isinstance(pane, dict) and pane.get("session") is not None:
            return [(str(pane.get("server")), str(pane.get("session")))]
        return list(self.sessions.get(event.provider, {}))

    def _tmux(self, server: str, *args: str) -> list[str] | None:
        try:
            done = subprocess.run(
                ["tmux", *tmux_server_args(server), *args], capture_output=True, text=True,
                timeout=TMUX_TIMEOUT, check=False)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return done.stdout.splitlines() if done.returncode == 0 else None

    def _tmux_clients(self, server: str, session: str, event: Event) -> None:
        """display-message (and the bell) on every client attached to ``session``."""
        lines = self._tmux(server, "list-clients", "-F",
                           "#{client_name}\t#{client_tty}\t#{session_name}")
        if lines is None:
            self._failed("display", event)
            return
        for line in lines:
            client, tty, attached = [*line.split("\t"), "", ""][:3]
            if attached != session:
                continue
            if self.config.display:
                shown = self._tmux(server, "display-message", "-c", client, "-d", str(DISPLAY_MS),
                                   f"panebus: {event.text}")
                if shown is None:
                    self._failed("display", event)
                else:
                    self.delivered["display"] = self.delivered.get("display", 0) + 1
            if self.config.bell and tty:
                try:
                    with open(tty, "wb", buffering=0) as terminal:  # noqa: PTH123 - a tty
                        terminal.write(b"\a")
                    self.delivered["bell"] = self.delivered.get("bell", 0) + 1
                except OSError:
                    self._failed("bell", event)

    def _spawn(self, argv: list[str], stdin: bytes | None, how: str, event: Event) -> None:
        try:
            process = subprocess.Popen(
                argv, stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        except OSError:
            self._failed(how, event)
            return
        if stdin is not None and process.stdin is not None:
            try:
                process.stdin.write(stdin)
                process.stdin.close()
            except OSError:
                self._failed(how, event)
        self._commands.append((process, time.monotonic()))
        self.delivered[how] = self.delivered.get(how, 0) + 1

    def _reap(self) -> None:
        """Collect finished commands; kill one that ran past :data:`COMMAND_TIMEOUT`."""
        running = []
        for process, started in self._commands:
            if process.poll() is not None:
                continue
            if time.monotonic() - started > COMMAND_TIMEOUT:
                process.kill()
                process.wait(timeout=TMUX_TIMEOUT)
                self.failures += 1
                logger.warning("notify command timed out and was killed",
                               extra={"pid": process.pid, "timeout_s": COMMAND_TIMEOUT})
                continue
            running.append((process, started))
        self._commands = running

    def _failed(self, how: str, event: Event) -> None:
        self.failures += 1
        logger.warning("notification not delivered",
                       extra={"via": how, "event": event.event, "key": event.key})

    # -- protocol ------------------------------------------------------------------------------
    def health(self) -> dict[str, t.Any]:
        """Events delivered per channel and failures."""
        return {"delivered": dict(self.delivered), "failures": self.failures,
                "announced": len(self.announced)}

    def drain(self, emit: Emit) -> None:
        """Announce what settled by now."""
        self._announce(self.detector.settle(utcnow()), emit)

    def close(self) -> None:
        """Save what was announced; wait briefly for running commands."""
        self.announced.save()
        for process, _started in self._commands:
            try:
                process.wait(timeout=TMUX_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
