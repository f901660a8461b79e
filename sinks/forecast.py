"""Run-out forecasts: when does a usage window run out at the pace the user is going?

Pure (no bus, no files, no clock): the caller hands in the exact figures of ONE window (the
current one, after its last reset) and a moment; :func:`forecast` returns the burn rate and the
time the window reaches 100 % at that rate, or says that it lasts until its reset, or that there
are too few points to say anything.

The method (docs/forecast.md has the back-test that chose it):

* Figures are step functions: an agent prints whole percentages, and a figure is observed when
  the agent shows it (a turn, a card, a hook call). Each distinct value is kept at the time it
  was FIRST observed, plus the latest observation of the current value, so a long flat stretch
  counts as "no burn" instead of vanishing.
* The burn rate is the least-squares slope of used % over time across the points of the last
  tenth of the window's length (:func:`lookback_for`: 30 minutes of a 5h window, about 17
  hours of a weekly one), never fewer than the last :data:`MIN_POINTS` points of the window.
  A recent stretch tracks a change of pace; the least-squares fit keeps one rounding step from
  swinging the rate. The back-test (tests/bench/bench_forecast.py) chose 30 minutes for 5h
  windows: 15-90 minutes were within a few minutes of each other, longer ones lag a change of
  pace.
* Run-out = the latest figure's time + (100 − latest used %) ÷ rate. When that is at or after
  the window's reset (or the rate is not positive), the window lasts until its reset.
* Fewer than :data:`MIN_POINTS` points, or points spanning less than :data:`MIN_SPAN`, give
  ``too-few-points`` and no number: a forecast from one turn is a guess, and panebus does not
  guess.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import typing as t

from bus.clock import parse_rfc3339, to_rfc3339

LOOKBACK = dt.timedelta(minutes=30)  # of a 5h window; see lookback_for
LOOKBACK_FRACTION = LOOKBACK / dt.timedelta(hours=5)
WINDOW_LENGTHS = {"5h": dt.timedelta(hours=5), "weekly": dt.timedelta(days=7)}
MIN_POINTS = 3
MIN_SPAN = dt.timedelta(minutes=5)
MAX_POINTS = 512  # per window: a 5h window at one change a minute is 300
FULL_PCT = 100.0

Status = t.Literal["runs-out", "lasts", "full", "too-few-points"]


@dataclasses.dataclass(frozen=True)
class Point:
    """One exact figure: ``used_pct`` as first observed at ``at``."""

    at: dt.datetime
    used_pct: float


@dataclasses.dataclass(frozen=True)
class Forecast:
    """The forecast of one window at one moment."""

    status: Status
    used_pct: float | None
    rate_pct_per_hour: float | None
    runs_out_at: dt.datetime | None
    resets_at: dt.datetime | None
    points: int
    span_minutes: float

    def to_dict(self) -> dict[str, t.Any]:
        """The wire fields of a ``forecast`` frame (times as RFC 3339 UTC)."""
        return {
            "status": self.status,
            "used_pct": self.used_pct,
            "rate_pct_per_hour": (
                None if self.rate_pct_per_hour is None else round(self.rate_pct_per_hour, 3)
            ),
            "runs_out_at": to_rfc3339(self.runs_out_at) if self.runs_out_at else None,
            "resets_at": to_rfc3339(self.resets_at) if self.resets_at else None,
            "points": self.points,
            "span_minutes": round(self.span_minutes, 1),
        }


class Series:
    """The figures of one window, kept as value steps plus the latest sighting of the last one.

    >>> import datetime as dt
    >>> t0 = dt.datetime(2026, 12, 3, 10, 0, tzinfo=dt.timezone.utc)
    >>> s = Series()
    >>> for minute, used in [(0, 10), (5, 10), (10, 12), (20, 12)]:
    ...     s.add(t0 + dt.timedelta(minutes=minute), used)
    >>> [(p.at.minute, p.used_pct) for p in s.points()]
    [(0, 10.0), (5, 10.0), (10, 12.0), (20, 12.0)]
    >>> s.add(t0 + dt.timedelta(minutes=30), 12)
    >>> [(p.at.minute, p.used_pct) for p in s.points()]
    [(0, 10.0), (5, 10.0), (10, 12.0), (30, 12.0)]
    """

    def __init__(self) -> None:
        self._steps: list[Point] = []  # first sighting of each value, in time order
        self._latest: Point | None = None  # latest sighting of the current value

    def add(self, at: dt.datetime, used_pct: float) -> None:
        """Take one figure; an older-than-latest figure is ignored (out of order)."""
        used = float(used_pct)
        latest = self._latest
        if latest is not None and at <= latest.at:
            return
        if not self._steps or used != self._steps[-1].used_pct:
            if latest is not None and self._steps and latest.at > self._steps[-1].at:
                self._steps.append(latest)  # close the flat stretch of the old value
            self._steps.append(Point(at, used))
            del self._steps[:-MAX_POINTS]
        self._latest = Point(at, used)

    def points(self) -> list[Point]:
        """Steps plus the latest sighting of the current value, in time order."""
        points = list(self._steps)
        if self._latest is not None and (not points or self._latest.at > points[-1].at):
            points.append(self._latest)
        return points

    def __len__(self) -> int:
        return len(self.points())


def _slope_per_hour(points: t.Sequence[Point]) -> float | None:
    """Least-squares slope of used % against hours; ``None`` when all times are equal."""
    origin = points[0].at
    xs = [(p.at - origin).total_seconds() / 3600 for p in points]
    ys = [p.used_pct for p in points]
    mean_x = sum(xs) / len(xs)
    mean_y = sum(ys) / len(ys)
    var = sum((x - mean_x) ** 2 for x in xs)
    if var <= 0:
        return None
    return sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / var


def lookback_for(window: str) -> dt.timedelta:
    """How far back the burn rate looks for a window kind (a tenth of its length).

    >>> lookback_for("5h"), lookback_for("weekly")
    (datetime.timedelta(seconds=1800), datetime.timedelta(seconds=60480))
    """
    length = WINDOW_LENGTHS.get(window)
    return LOOKBACK if length is None else length * LOOKBACK_FRACTION


def recent(points: t.Sequence[Point], lookback: dt.timedelta = LOOKBACK) -> list[Point]:
    """The points of the last ``lookback``, never fewer than the last :data:`MIN_POINTS`."""
    if not points:
        return []
    start = points[-1].at - lookback
    chosen = [p for p in points if p.at >= start]
    if len(chosen) < MIN_POINTS:
        chosen = list(points[-MIN_POINTS:])
    return chosen


def forecast(
    points: t.Sequence[Point],
    resets_at: dt.datetime | None,
    lookback: dt.timedelta = LOOKBACK,
) -> Forecast:
    """The forecast for one window from its exact figures (oldest first).

    >>> import datetime as dt
    >>> t0 = dt.datetime(2026, 12, 3, 10, 0, tzinfo=dt.timezone.utc)
    >>> pts = [Point(t0 + dt.timedelta(minutes=m), u) for m, u in [(0, 40), (10, 45), (20, 50)]]
    >>> f = forecast(pts, resets_at=t0 + dt.timedelta(hours=4))
    >>> f.status, f.rate_pct_per_hour, f.runs_out_at.strftime("%H:%M")
    ('runs-out', 30.0, '12:00')
    """
    ordered = sorted(points, key=lambda p: p.at)
    if not ordered:
        return Forecast("too-few-points", None, None, None, resets_at, 0, 0.0)
    last = ordered[-1]
    span = (last.at - ordered[0].at).total_seconds() / 60
    if last.used_pct >= FULL_PCT:
        reached = next(p.at for p in ordered if p.used_pct >= FULL_PCT)
        return Forecast("full", last.used_pct, None, reached, resets_at, len(ordered), span)
    window = recent(ordered, lookback)
    if len(window) < MIN_POINTS or window[-1].at - window[0].at < MIN_SPAN:
        return Forecast("too-few-points", last.used_pct, None, None, resets_at,
                        len(ordered), span)
    rate = _slope_per_hour(window)
    if rate is None or rate <= 0:
        return Forecast("lasts", last.used_pct, rate or 0.0, None, resets_at, len(ordered), span)
    runs_out = last.at + dt.timedelta(hours=(FULL_PCT - last.used_pct) / rate)
    if resets_at is not None and runs_out >= resets_at:
        return Forecast("lasts", last.used_pct, rate, None, resets_at, len(ordered), span)
    return Forecast("runs-out", last.used_pct, rate, runs_out, resets_at, len(ordered), span)


def short_text(fields: t.Mapping[str, t.Any], now: dt.datetime, zone: dt.tzinfo | None) -> str:
    """The few words a status line shows for a forecast frame's fields.

    >>> import datetime as dt
    >>> utc = dt.timezone.utc
    >>> now = dt.datetime(2026, 12, 3, 10, 0, tzinfo=utc)
    >>> short_text({"status": "runs-out", "runs_out_at": "2026-12-03T15:40:00Z"}, now, utc)
    'runs out ~15:40'
    >>> short_text({"status": "runs-out", "runs_out_at": "2026-12-05T09:05:00Z"}, now, utc)
    'runs out ~Dec 5 09:05'
    >>> [short_text({"status": status}, now, utc) for status in ("lasts", "too-few-points")]
    ['lasts until reset', 'too few points']
    """
    status = fields.get("status")
    if status == "lasts":
        return "lasts until reset"
    if status == "too-few-points":
        return "too few points"
    raw = fields.get("runs_out_at")
    if status not in ("runs-out", "full") or not isinstance(raw, str):
        return ""
    try:
        moment = parse_rfc3339(raw).astimezone(zone)
    except (ValueError, OverflowError):
        return ""
    words = "ran out" if status == "full" else "runs out ~"
    sep = " " if status == "full" else ""
    if moment.date() == now.astimezone(zone).date():
        return f"{words}{sep}{moment:%H:%M}"
    return f"{words}{sep}{moment:%b} {moment.day} {moment:%H:%M}"
