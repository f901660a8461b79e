"""The feature log: one markdown table row per window event and per probe capture.

The file (``docs/Tasks/tracker_feature_log.md`` in the tracker layout) is shared with people,
who write notes around the table. So the sink only ever *inserts* rows at the end of its own
table (found by its header line), keeps every other line byte for byte, writes atomically
(temp + fsync + rename), and marks each row with a hidden id (``<!-- pb:ID -->``) so the same
event never gets a second row, across restarts too. When the file or the table is missing, it
is created.

A probe row waits a few seconds for the parsed frame of the capture (``raw_id``) so it can show
the figures the probe read; if none comes, the row is written without figures.
"""

from __future__ import annotations

import logging
import re
import time
import typing as t
from pathlib import Path

from bus.codec import dumps, loads
from sinks import archive_format
from sinks.base import Emit, is_replay
from sinks.files import atomic_write

if t.TYPE_CHECKING:
    from bus.frames import Body
    from bus.paths import Paths
    from sinks.config import SinksConfig

logger = logging.getLogger(__name__)

TITLE = "# Tracker feature log\n"
COLUMNS = ("time (UTC)", "provider", "window", "event", "figures", "archive", "tests")
HEADER = "| " + " | ".join(COLUMNS) + " |"
SEPARATOR = "|" + "|".join("---" for _ in COLUMNS) + "|"
ROW_ID = re.compile(r"<!-- pb:(\S+) -->")
PROBE_WAIT = 5.0  # seconds a probe row waits for the parsed figures of its capture


def _cell(value: t.Any) -> str:
    text = "" if value is None else str(value)
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").strip() or "—"


def _time(stamp: t.Any) -> str:
    text = str(stamp or "")
    return text[:19].replace("T", " ") if len(text) >= 19 else _cell(text)


def render_row(row_id: str, cells: t.Sequence[t.Any]) -> str:
    """One table line; the id hides in an HTML comment at the end of the last cell."""
    parts = [_cell(cell) for cell in cells]
    parts[-1] = f"{parts[-1]} <!-- pb:{row_id} -->"
    return "| " + " | ".join(parts) + " |"


def row_ids(text: str) -> set[str]:
    """Ids of the rows already in the file."""
    return set(ROW_ID.findall(text))


def insert_rows(text: str, rows: t.Sequence[str]) -> str:
    """``text`` with ``rows`` appended to the end of our table (created when missing)."""
    if not rows:
        return text
    lines = text.splitlines()
    header_at = next((i for i, line in enumerate(lines) if line.strip() == HEADER), None)
    if header_at is None:
        if not lines:
            lines = [TITLE.rstrip("\n")]
        if lines[-1].strip():
            lines.append("")
        lines.extend([HEADER, SEPARATOR, *rows])
    else:
        end = header_at + 1
        while end < len(lines) and lines[end].lstrip().startswith("|"):
            end += 1
        lines[end:end] = rows
    return "\n".join(lines) + "\n"


def figures_of(body: Body) -> str:
    """Short figures of a parsed frame: ``5h 23% · weekly 42% · weekly (opus) 10%``."""
    parts = []
    for limit in body.get("limits") or []:
        used = limit.get("used_pct")
        if not isinstance(used, (int, float)) or isinstance(used, bool):
            continue
        label = limit.get("window", "?")
        if limit.get("scope"):
            label = f"{label} ({limit['scope']})"
        if limit.get("metric") not in (None, "quota"):
            label = f"{label} {limit['metric']}"
        parts.append(f"{label} {used:g}%")
    return " · ".join(parts)


def tests_summary(body: Body) -> str:
    """One phrase for a ``sys.tests`` frame: its ``summary``, or its counters."""
    if isinstance(body.get("summary"), str):
        return str(body["summary"])
    counters = [
        f"{body[key]} {key}"
        for key in ("passed", "failed", "errors", "skipped", "total")
        if isinstance(body.get(key), int)
    ]
    if counters:
        return ", ".join(counters)
    envelope = {"v", "kind", "id", "seq", "producer", "observed_at", "provider", "source", "what"}
    rest = {k: v for k, v in body.items() if k not in envelope}
    return dumps(rest).decode("utf-8")[:80] if rest else "reported"


class FeatureLogSink:
    """Rows for window events and probe captures, with the latest test run."""

    name = "featurelog"
    prefixes: tuple[str, ...] = ("window.", "raw.", "parsed.", "sys.tests")

    def __init__(self, path: Path, archive_root: Path, state_file: Path | None = None) -> None:
        self.path = path
        self.archive_root = archive_root
        self.state_file = state_file
        self.tests = "—"
        self.rows_written = 0
        self._pending: dict[str, tuple[Body, float]] = {}
        if state_file is not None and state_file.exists():
            try:
                self.tests = str(loads(state_file.read_bytes()).get("tests", "—"))
            except (OSError, ValueError, AttributeError):
                logger.warning("unreadable feature-log state", extra={"path": str(state_file)})

    @classmethod
    def build(cls, paths: Paths, config: SinksConfig) -> FeatureLogSink:
        """Factory for the sink registry."""
        return cls(
            config.feature_log,
            config.archive.root,
            paths.state_dir / "sinks" / "featurelog.json",
        )

    # -- input ---------------------------------------------------------------------------------
    def handle(self, topic: str, body: Body, emit: Emit) -> None:
        """Window events and probe captures become rows; ``sys.tests`` updates the summary."""
        del emit
        if is_replay(body):
            return
        kind = body.get("kind")
        if kind == "sys" and topic == "sys.tests":
            self.tests = tests_summary(body)
            if self.state_file is not None:
                atomic_write(self.state_file, dumps({"tests": self.tests}))
        elif kind == "window":
            self._write([self._window_row(body)])
        elif kind == "raw" and body.get("trigger") == "probe":
            self._pending[str(body["id"])] = (body, time.monotonic() + PROBE_WAIT)
        elif kind == "parsed" and body.get("raw_id") in self._pending:
            raw, _ = self._pending.pop(str(body["raw_id"]))
            self._write([self._probe_row(raw, figures_of(body))])

    def tick(self, emit: Emit) -> None:
        """Write probe rows whose figures did not come in time."""
        del emit
        now = time.monotonic()
        late = [key for key, (_, deadline) in self._pending.items() if deadline <= now]
        self._write([self._probe_row(self._pending.pop(key)[0], "") for key in late])

    # -- rows ----------------------------------------------------------------------------------
    def _archive_file(self, body: Body) -> str:
        path = self.archive_root / archive_format.segment_relpath(body)
        try:
            return str(path.relative_to(Path.cwd()))
        except ValueError:
            return str(path)

    def _window_row(self, body: Body) -> tuple[str, str]:
        window = str(body.get("window"))
        if body.get("scope"):
            window = f"{window} ({body['scope']})"
        used, peak = body.get("used_pct"), body.get("peak_pct")
        figures = f"{used:g}% used" if isinstance(used, (int, float)) else ""
        if isinstance(peak, (int, float)) and peak != used:
            figures += f", peak {peak:g}%"
        if body.get("resets_at"):
            figures += f", resets {_time(body['resets_at'])}"
        archive = self._archive_file(body) if body.get("raw_id") and body.get("pane") else ""
        row_id = str(body.get("event_id") or body.get("id"))
        cells = [
            _time(body.get("observed_at")),
            body.get("provider"),
            window,
            body.get("event"),
            figures,
            archive,
            self.tests,
        ]
        return row_id, render_row(row_id, cells)

    def _probe_row(self, raw: Body, figures: str) -> tuple[str, str]:
        row_id = f"probe/{raw.get('id')}"
        cells = [
            _time(raw.get("observed_at")),
            raw.get("provider"),
            "probe",
            "capture",
            figures,
            self._archive_file(raw),
            self.tests,
        ]
        return row_id, render_row(row_id, cells)

    def _write(self, rows: list[tuple[str, str]]) -> None:
        if not rows:
            return
        text = self.path.read_text(encoding="utf-8") if self.path.exists() else ""
        known = row_ids(text)
        fresh = [line for row_id, line in rows if row_id not in known]
        if not fresh:
            return
        mode = self.path.stat().st_mode & 0o777 if self.path.exists() else 0o644
        atomic_write(self.path, insert_rows(text, fresh).encode("utf-8"), mode=mode)
        self.rows_written += len(fresh)

    def health(self) -> dict[str, t.Any]:
        """Where the log is and how many rows this run added."""
        return {"path": str(self.path), "rows_written": self.rows_written, "tests": self.tests}

    def drain(self, emit: Emit) -> None:
        """Probe rows still waiting are written by :meth:`close`."""
        del emit

    def close(self) -> None:
        """Write the probe rows still waiting for figures."""
        self._write([self._probe_row(body, "") for body, _ in self._pending.values()])
        self._pending.clear()

