"""The window log sink: parsed frames in, ``window.<provider>.<window>`` frames and JSONL out.

The JSONL log is the tracker's memory: each line is an event with the window's full state, and
on start the sink replays the log into a fresh :class:`sinks.windows.WindowTracker`. A line is
appended (and fsynced) before its frame is published, so a crash can lose a publish but never an
event, and a frame seen again after a restart finds its effect already in the log.

On a central host (``[bus] listen``, docs/guide.md "Several machines") the windows of other
hosts are their own sinks' business: their parsed frames are not tracked here (two hosts'
Codex figures are not one window), and the ``window.`` frames they forward are logged as they
come, with ``host`` added, so ``panebus history`` shows every host. A restart restores only
this host's windows.
"""

from __future__ import annotations

import logging
import typing as t

from bus.clock import utcnow
from bus.codec import dumps, loads
from bus.frames import draft
from sinks.alias_cache import central_host, host_of
from sinks.base import Emit, is_replay
from sinks.files import append_durable, cut_torn_tail
from sinks.windows import WindowEvent, WindowTracker, correlate_report

if t.TYPE_CHECKING:
    from pathlib import Path

    from bus.frames import Body
    from bus.paths import Paths
    from sinks.config import SinksConfig

logger = logging.getLogger(__name__)


def read_window_log(path: Path, repair: bool = False) -> list[dict[str, t.Any]]:
    """Every whole record of the log; with ``repair``, a torn last line is cut off."""
    if not path.exists():
        return []
    data = path.read_bytes()
    records: list[dict[str, t.Any]] = []
    good = 0
    for line in data.splitlines(keepends=True):
        if not line.endswith(b"\n"):
            break
        try:
            record = loads(line)
        except ValueError:
            logger.warning("skipped a bad window-log line", extra={"path": str(path)})
            good += len(line)
            continue
        if isinstance(record, dict):
            records.append(record)
        good += len(line)
    if repair and good < len(data):
        cut_torn_tail(path, good)
    return records


def window_body(event: WindowEvent) -> Body:
    """The ``window`` frame of one event (docs/wire.md "window": its fields plus the log record)."""
    record = event.to_record()
    src = record.pop("source", None) or {"kind": "report", "confidence": "parsed"}
    provider = record.pop("provider")
    return draft("window", provider, src, **record)


class WindowsSink:
    """Track 5h and weekly windows; log and publish each event once."""

    name = "windows"
    prefixes: tuple[str, ...] = ("parsed.", "forecast.")

    def __init__(self, log_path: Path, local_host: str | None = None) -> None:
        self.log_path = log_path
        self.local_host = local_host  # set on a central host: other hosts' windows logged only
        if local_host is not None:
            self.prefixes = (*type(self).prefixes, "window.")
        self.tracker = WindowTracker()
        self.matched: set[str] = set()
        for record in read_window_log(log_path, repair=True):
            if record.get("host"):
                continue  # another host's window, logged on a central host
            self.tracker.restore(record)
            if record.get("event") == "ccusage":
                self.matched.add(str(record.get("event_id")))
        self.events = 0

    @classmethod
    def build(cls, paths: Paths, config: SinksConfig) -> WindowsSink:
        """Factory for the sink registry."""
        return cls(config.window_log, central_host(paths))

    def handle(self, topic: str, body: Body, emit: Emit) -> None:
        """Feed one parsed frame (replays are history: skipped)."""
        del topic
        if is_replay(body):
            return
        other = host_of(body, self.local_host)
        if other is not None:
            if body.get("kind") == "window":
                self._log_remote(body, other)
            return
        if body.get("kind") == "window":
            return  # this host's own events, logged when they were made
        if body.get("kind") == "forecast":
            self._log_forecast(body)
            return
        if body.get("kind") != "parsed":
            return
        if body.get("provider") == "ccusage":
            self._match_report(body)
            return
        self._record(self.tracker.observe(body), emit)

    def _log_forecast(self, body: Body) -> None:
        """A forecast of a window, logged beside its events (``event: forecast``)."""
        record = {k: v for k, v in body.items() if k not in ("v", "kind", "seq", "producer")}
        record["event"] = "forecast"
        record["frame_id"] = record.pop("id", None)
        append_durable(self.log_path, dumps(record) + b"\n")
        self.events += 1

    def _log_remote(self, body: Body, host: str) -> None:
        """Another host's window event, as its own sink logged it, with ``host``."""
        record = {k: v for k, v in body.items() if k not in ("v", "kind", "seq", "producer")}
        record["host"] = host
        record["frame_id"] = record.pop("id", None)
        append_durable(self.log_path, dumps(record) + b"\n")
        self.events += 1

    def _match_report(self, body: Body) -> None:
        """Log each ccusage period next to the windows it overlaps, once per pair."""
        for record in correlate_report(self.tracker.windows.values(), body):
            if record["event_id"] in self.matched:
                continue
            append_durable(self.log_path, dumps(record) + b"\n")
            self.matched.add(record["event_id"])

    def tick(self, emit: Emit) -> None:
        """Close windows whose reset time passed even when no frame comes."""
        self._record(self.tracker.expire(utcnow()), emit)

    def _record(self, events: list[WindowEvent], emit: Emit) -> None:
        for event in events:
            append_durable(self.log_path, dumps(event.to_record()) + b"\n")
            self.events += 1
            emit(window_body(event))

    def health(self) -> dict[str, t.Any]:
        """Open windows and events written."""
        return {
            "log": str(self.log_path),
            "events": self.events,
            "open_windows": [w.window_id for w in self.tracker.open_windows()],
        }

    def drain(self, emit: Emit) -> None:
        """Nothing pending: every frame is on disk when ``handle`` returns."""
        del emit

    def close(self) -> None:
        """Nothing buffered: every event is fsynced when written."""
