"""The forecast sink: exact figures in, one ``forecast.*`` frame per limit out.

It follows each provider's usage windows with its own :class:`sinks.windows.WindowTracker`
(the same rules as the window log: exact quota figures only, a window closes at its reset or
when the figure falls back with a new reset), keeps the figures of each *current* window as a
:class:`sinks.forecast.Series`, and publishes the forecast of a limit whenever it changes
materially. The broker caches ``forecast.*``, so ``panebus forecast``, the alias cache and
``panebus top`` get the current forecasts at once. At start it re-reads the window log, so a
restart keeps the points of the windows still open.
"""

from __future__ import annotations

import logging
import time
import typing as t

from bus.clock import parse_rfc3339_or_none, utcnow
from bus.frames import draft, source
from sinks.base import Emit, is_replay
from sinks.current import figure_of, first_seen
from sinks.forecast import Forecast, Series, forecast, lookback_for
from sinks.windows import TRACKED_WINDOWS, Key, WindowTracker
from sinks.windows_sink import read_window_log

if t.TYPE_CHECKING:
    import datetime as dt
    from pathlib import Path

    from bus.frames import Body
    from bus.paths import Paths
    from sinks.config import SinksConfig

logger = logging.getLogger(__name__)

TICK_INTERVAL = 60.0  # seconds: a reset passing or a window closing needs no frame to show
MOVE_MINUTES = 1.0  # a run-out time that moved less than this is not news


_time = parse_rfc3339_or_none  # a missing or broken time is None


def figure_time(body: Body, limit: t.Mapping[str, t.Any]) -> dt.datetime | None:
    """When a figure was first observed (a card re-read later keeps its first time)."""
    return first_seen(figure_of(limit, body))


def forecast_body(key: Key, window_id: str, result: Forecast) -> Body:
    """The ``forecast`` frame of one limit."""
    provider, window, scope = key
    return draft(
        "forecast", provider, source("report", "estimate"),
        window=window, scope=scope, window_id=window_id,
        lookback_minutes=round(lookback_for(window).total_seconds() / 60, 1),
        **result.to_dict(),
    )


def _news(old: Forecast | None, new: Forecast) -> bool:
    """Whether ``new`` says something ``old`` did not (status, points, or a moved run-out)."""
    if old is None or old.status != new.status or old.points != new.points:
        return True
    if old.runs_out_at is None or new.runs_out_at is None:
        return old.runs_out_at != new.runs_out_at
    return abs((new.runs_out_at - old.runs_out_at).total_seconds()) >= MOVE_MINUTES * 60


class ForecastSink:
    """Parsed frames in, ``forecast.<provider>.<window>[.<scope>]`` frames out."""

    name = "forecast"
    prefixes: tuple[str, ...] = ("parsed.",)

    def __init__(self, window_log: Path | None = None) -> None:
        self.tracker = WindowTracker()
        self.series: dict[str, Series] = {}
        self.shown: dict[Key, Forecast] = {}
        self.published = 0
        self._next_tick = time.monotonic() + TICK_INTERVAL
        if window_log is not None:
            self._restore(window_log)

    @classmethod
    def build(cls, paths: Paths, config: SinksConfig) -> ForecastSink:
        """Factory for the sink registry."""
        del paths
        return cls(config.window_log)

    def _restore(self, window_log: Path) -> None:
        """Rebuild the open windows and their points from the window log's events."""
        for record in read_window_log(window_log):
            self.tracker.restore(record)
            if record.get("event") in ("opened", "updated"):
                at = _time(record.get("observed_at"))
                used = record.get("used_pct")
                if at is not None and isinstance(used, (int, float)) and not isinstance(used, bool):
                    self.series.setdefault(str(record.get("window_id")), Series()).add(at, used)
        open_ids = {w.window_id for w in self.tracker.open_windows()}
        self.series = {wid: s for wid, s in self.series.items() if wid in open_ids}

    def handle(self, topic: str, body: Body, emit: Emit) -> None:
        """Feed one parsed frame; publish the forecasts it changed."""
        del topic
        if body.get("kind") != "parsed" or is_replay(body) or body.get("provider") == "ccusage":
            return
        self._closed(self.tracker.observe(body), emit)
        provider = str(body.get("provider"))
        for limit in body.get("limits") or []:
            if not isinstance(limit, dict) or limit.get("window") not in TRACKED_WINDOWS:
                continue
            used = limit.get("used_pct")
            if (limit.get("metric") != "quota" or limit.get("estimate")
                    or isinstance(used, bool) or not isinstance(used, (int, float))):
                continue
            key: Key = (provider, str(limit["window"]), limit.get("scope"))
            state = self.tracker.windows.get(key)
            at = figure_time(body, limit)
            if state is None or not state.is_open or at is None:
                continue
            self.series.setdefault(state.window_id, Series()).add(at, float(used))
            self._publish(key, emit)

    def _closed(self, events: t.Iterable[t.Any], emit: Emit) -> None:
        """Drop the points of closed windows and say the limit was reset."""
        for event in events:
            if event.event != "closed":
                continue
            self.series.pop(event.window.window_id, None)
            key = event.window.key
            result = Forecast("too-few-points", None, None, None, None, 0, 0.0)
            self.shown[key] = result
            emit(forecast_body(key, event.window.window_id, result))
            self.published += 1

    def _publish(self, key: Key, emit: Emit) -> None:
        state = self.tracker.windows[key]
        series = self.series.get(state.window_id)
        if series is None:
            return
        resets = _time(state.resets_at)
        result = forecast(series.points(), resets, lookback_for(key[1]))
        if not _news(self.shown.get(key), result):
            return
        self.shown[key] = result
        emit(forecast_body(key, state.window_id, result))
        self.published += 1

    def tick(self, emit: Emit) -> None:
        """Close windows whose reset passed, once a minute."""
        if time.monotonic() < self._next_tick:
            return
        self._next_tick = time.monotonic() + TICK_INTERVAL
        self._closed(self.tracker.expire(utcnow()), emit)

    def health(self) -> dict[str, t.Any]:
        """Windows followed and forecasts published."""
        return {"windows": len(self.series), "published": self.published}

    def drain(self, emit: Emit) -> None:
        """Nothing pending: every forecast is published when computed."""
        del emit

    def close(self) -> None:
        """Nothing to flush: the window log is the durable record."""
