"""Finding snapshots in the archive: by provider, pane, time and text.

Read-only and independent of the writer, so ``panebus archive`` and ``panebus replay`` work
while a sink is writing (an open segment's torn tail, if any, is simply not read).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import typing as t

from bus.clock import UTC, parse_rfc3339
from sinks import archive_format as fmt

if t.TYPE_CHECKING:
    from pathlib import Path

    from bus.frames import Body


@dataclasses.dataclass(frozen=True)
class Snapshot:
    """One archived raw frame and the segment it was read from."""

    path: Path
    body: Body

    @property
    def observed_at(self) -> str:
        """The frame's observation time (RFC 3339)."""
        return str(self.body.get("observed_at", ""))

    @property
    def pane_id(self) -> str:
        """The tmux pane id (``%3``)."""
        return str((self.body.get("pane") or {}).get("pane_id", ""))


@dataclasses.dataclass(frozen=True)
class Query:
    """Filters; ``None`` means any. ``pane`` matches ``%3`` or ``3``; ``text`` is a regex."""

    provider: str | None = None
    pane: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    trigger: str | None = None
    frame_id: str | None = None
    text: re.Pattern[str] | None = None

    def day_range(self) -> tuple[str, str]:
        """The first and last segment folder that can hold a match."""
        low = self.since.astimezone(UTC).date().isoformat() if self.since else "0000-00-00"
        high = self.until.astimezone(UTC).date().isoformat() if self.until else "9999-99-99"
        return low, high

    def matches(self, body: Body) -> bool:
        """Whether one archived frame passes every filter."""
        if self.provider and body.get("provider") != self.provider:
            return False
        if self.pane and (body.get("pane") or {}).get("pane_id", "").lstrip("%") != (
            self.pane.lstrip("%")
        ):
            return False
        if self.trigger and body.get("trigger") != self.trigger:
            return False
        if self.frame_id and not str(body.get("id", "")).startswith(self.frame_id):
            return False
        if self.since or self.until:
            try:
                observed = parse_rfc3339(str(body.get("observed_at")))
            except ValueError:
                return False
            if self.since and observed < self.since:
                return False
            if self.until and observed > self.until:
                return False
        return not (self.text and not self.text.search(str(body.get("text", ""))))


def find(root: Path, query: Query | None = None) -> t.Iterator[Snapshot]:
    """Matching snapshots, in observation order within each day, oldest day first."""
    wanted = query or Query()
    low, high = wanted.day_range()
    by_day: dict[str, list[Path]] = {}
    for path in fmt.segments(root):
        day = path.parent.name
        if low <= day <= high:
            by_day.setdefault(day, []).append(path)
    for day in sorted(by_day):
        found = [
            Snapshot(path, body)
            for path in by_day[day]
            for body in fmt.read_segment(path).bodies
            if wanted.matches(body)
        ]
        found.sort(key=lambda snap: snap.observed_at)
        yield from found


def segment_summaries(root: Path) -> list[dict[str, t.Any]]:
    """One entry per segment: path, records, first and last observation (for ``archive ls``)."""
    summaries = []
    for path in fmt.segments(root):
        bodies = fmt.read_segment(path).bodies
        summaries.append(
            {
                "path": str(path),
                "records": len(bodies),
                "first": bodies[0].get("observed_at") if bodies else None,
                "last": bodies[-1].get("observed_at") if bodies else None,
                "bytes": path.stat().st_size,
                "closed": path.name.endswith(fmt.CLOSED_SUFFIX),
            }
        )
    return summaries


_RELATIVE = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhdw])$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_when(text: str, now: dt.datetime) -> dt.datetime:
    """``--since``/``--until`` values: RFC 3339, a UTC date (``2026-11-25``), or ``2h`` ago.

    Raises ``ValueError`` with the accepted forms when ``text`` is none of them.
    """
    value = text.strip()
    match = _RELATIVE.match(value)
    if match:
        return now - dt.timedelta(seconds=float(match.group(1)) * _UNIT_SECONDS[match.group(2)])
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return dt.datetime.fromisoformat(value).replace(tzinfo=UTC)
    try:
        return parse_rfc3339(value)
    except ValueError:
        msg = f"bad time {text!r}: use RFC 3339, YYYY-MM-DD (UTC) or an age like 30m, 2h, 1d"
        raise ValueError(msg) from None
