"""Usage history from the window log: one series per limit, and a terminal chart of it.

The window log (sinks/windows_sink.py) records every change of every usage window (opened,
updated, closed), so it is the time series of the exact figures: no archive scan needed. A
:class:`LimitHistory` holds one limit's points across windows and the moments it reset;
:func:`chart` draws it as a small block chart with the forecast of the current window drawn
ahead of "now" (the same method as ``panebus forecast``, :mod:`sinks.forecast`).

On a central host the log also holds other hosts' window events (``host`` in the record,
docs/guide.md "Several machines"): each host's limits are their own histories, labelled with
the host; ``host`` keeps one host's (this host's records have no ``host``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import typing as t

from bus.clock import parse_rfc3339_or_none
from sinks.forecast import Point, Series, forecast, lookback_for, short_text

Key = tuple[str, str, "str | None"]
FULL = "█"
HALF = "▄"
AHEAD = "░"
RESET = "^"


_time = parse_rfc3339_or_none  # a missing or broken time is None


@dataclasses.dataclass
class LimitHistory:
    """One limit's exact figures over time, the resets between windows, the open window."""

    key: Key
    points: list[tuple[dt.datetime, float, str]] = dataclasses.field(default_factory=list)
    resets: list[dt.datetime] = dataclasses.field(default_factory=list)
    open_window: str | None = None
    resets_at: dt.datetime | None = None
    host: str | None = None  # another host's limit (a central host's log)

    @property
    def label(self) -> str:
        """``codex 5h`` or ``claude weekly sonnet only`` (``laptop codex 5h`` for a host)."""
        provider, window, scope = self.key
        name = f"{provider} {window}" + (f" {scope}" if scope else "")
        return f"{self.host} {name}" if self.host else name

    def current_points(self) -> list[Point]:
        """The points of the open window, for the forecast."""
        series = Series()
        for at, used, window_id in self.points:
            if window_id == self.open_window:
                series.add(at, used)
        return series.points()

    def to_dict(self) -> dict[str, t.Any]:
        """The ``--json`` form, with the forecast of the open window."""
        ahead = None
        if self.open_window is not None:
            ahead = forecast(self.current_points(), self.resets_at,
                             lookback_for(self.key[1])).to_dict()
        return {
            **({"host": self.host} if self.host else {}),
            "provider": self.key[0], "window": self.key[1], "scope": self.key[2],
            "points": [{"at": at.isoformat(), "used_pct": used, "window_id": wid}
                       for at, used, wid in self.points],
            "resets": [at.isoformat() for at in self.resets],
            "forecast": ahead,
        }


def histories(
    records: t.Iterable[t.Mapping[str, t.Any]],
    since: dt.datetime | None = None,
    provider: str | None = None,
    window: str | None = None,
    *,
    host: str | None = None,
    local_host: str | None = None,
) -> list[LimitHistory]:
    """Group window-log records into one history per limit (filtered), oldest point first.

    ``host``: only that host's records (``local_host`` names this host, whose records carry
    no ``host``).
    """
    found: dict[tuple[str, Key], LimitHistory] = {}
    for record in records:
        event = record.get("event")
        if event not in ("opened", "updated", "closed"):
            continue
        key: Key = (str(record.get("provider")), str(record.get("window")), record.get("scope"))
        if (provider and key[0] != provider) or (window and key[1] != window):
            continue
        other = record.get("host")
        other = other if isinstance(other, str) and other else None
        if host is not None and (other or local_host) != host:
            continue
        history = found.setdefault((other or "", key), LimitHistory(key, host=other))
        window_id = str(record.get("window_id"))
        if event == "closed":
            closed = _time(record.get("closed_at"))
            if closed is not None and (since is None or closed >= since):
                history.resets.append(closed)
            if history.open_window == window_id:
                history.open_window, history.resets_at = None, None
            continue
        at = _time(record.get("observed_at"))
        used = record.get("used_pct")
        if at is None or isinstance(used, bool) or not isinstance(used, (int, float)):
            continue
        history.open_window = window_id
        history.resets_at = _time(record.get("resets_at"))
        if since is None or at >= since:
            history.points.append((at, float(used), window_id))
    for history in found.values():
        history.points.sort(key=lambda p: p[0])
        history.resets.sort()
    return [found[key] for key in
            sorted(found, key=lambda k: (k[0], k[1][0], k[1][1], k[1][2] or ""))]


def _value_at(history: LimitHistory, moment: dt.datetime) -> float | None:
    """The used % shown at ``moment`` (the last figure before it, unless a reset came since)."""
    value: float | None = None
    last_at: dt.datetime | None = None
    for at, used, _wid in history.points:
        if at > moment:
            break
        value, last_at = used, at
    if last_at is not None and any(last_at < reset <= moment for reset in history.resets):
        return None  # reset since: no figure of the new window yet (never a guessed 0)
    return value


def _cell(value: float | None, row: int, height: int, glyph: str) -> str:
    if value is None:
        return " "
    filled = value / 100 * height
    if filled >= row + 1:
        return glyph
    if filled >= row + 0.5:
        return HALF if glyph == FULL else glyph
    return " "


def chart(history: LimitHistory, now: dt.datetime, width: int = 60, height: int = 6,
          zone: dt.tzinfo | None = None) -> list[str]:
    """The chart lines of one limit: title, ``height`` rows, the time axis.

    Past columns are filled blocks, the forecast of the open window is drawn ahead of now in
    light shade up to its run-out or reset, and each reset is a ``^`` under the axis.
    """
    ahead = None
    if history.open_window is not None:
        ahead = forecast(history.current_points(), history.resets_at, lookback_for(history.key[1]))
    start = history.points[0][0] if history.points else now - dt.timedelta(hours=1)
    start = min([start, *history.resets])
    end = now
    if ahead is not None and ahead.rate_pct_per_hour and ahead.status == "runs-out":
        end = max(now, t.cast("dt.datetime", ahead.runs_out_at))
    elif ahead is not None and ahead.status == "lasts" and history.resets_at is not None:
        end = max(now, min(history.resets_at, now + (now - start) / 3))
    span = max((end - start).total_seconds(), 60.0)
    columns = [start + dt.timedelta(seconds=span * (c + 0.5) / width) for c in range(width)]
    values: list[tuple[float | None, str]] = []
    for moment in columns:
        if moment <= now or ahead is None or ahead.rate_pct_per_hour is None:
            values.append((_value_at(history, moment) if moment <= now else None, FULL))
            continue
        last = history.current_points()[-1]
        hours = (moment - last.at).total_seconds() / 3600
        values.append((min(100.0, last.used_pct + ahead.rate_pct_per_hour * hours), AHEAD))
    title = history.label
    if ahead is not None:
        title += f" · {ahead.used_pct:g}% · " if ahead.used_pct is not None else " · "
        title += short_text(ahead.to_dict(), now, zone)
    lines = [title]
    for row in reversed(range(height)):
        label = "100%" if row == height - 1 else (" 50%" if row == height // 2 else "    ")
        lines.append(f"{label} ┤" + "".join(_cell(v, row, height, g) for v, g in values))
    marks = [" "] * width
    for reset in history.resets:
        column = int((reset - start).total_seconds() / span * width)
        if 0 <= column < width:
            marks[column] = RESET
    lines.append("   0 └" + "".join(marks).replace(" ", "─"))
    left = start.astimezone(zone).strftime("%b %d %H:%M")
    right = end.astimezone(zone).strftime("%b %d %H:%M")
    lines.append("      " + left + right.rjust(width - len(left)))
    return lines
