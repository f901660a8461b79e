"""Usage windows from parsed frames: a pure tracker (no bus, no files, no clock).

Each provider has a 5-hour and a weekly window per scope (the main limit, ``sonnet only``, …).
A window is *opened* by the first figure seen for it, *updated* when its used % or reset time
changes (the peak is kept), and *closed* when its reset time has passed or when the used % fell
back together with a new reset time (the agent started a new window before we saw the reset).

Which figure a window takes is :func:`sinks.current.choose`, the rule the alias cache shows by
(docs/sinks.md "Which figure is shown"): per key the latest figure of each slot is kept, and a
figure is applied only when it becomes the current one — the most recently *first observed* exact
figure, ``official`` breaking ties within seconds. So an old card re-read from scrollback (first
seen before the newest log line) changes nothing. The tracker never opens a second window from a
duplicate or out-of-order frame: each key remembers the newest first observation it took, and a
figure whose reset time has already passed (a screen still showing the old card) can close a window
but never open one. Its whole state can be rebuilt from the events it produced
(:meth:`WindowTracker.restore`), which is how the sink continues after a restart from its JSONL log.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import typing as t

from bus.clock import parse_rfc3339, to_rfc3339
from sinks import current

if t.TYPE_CHECKING:
    from bus.frames import Body

TRACKED_WINDOWS = ("5h", "weekly")
Key = tuple[str, str, "str | None"]
RESET_TOLERANCE = dt.timedelta(minutes=5)  # screens print resets to the minute, logs exactly
FALL_BACK_MARGIN = 0.5  # percentage points: less is rounding noise, not a new window


@dataclasses.dataclass
class Window:
    """One usage window of one provider, window kind and scope."""

    provider: str
    window: str
    scope: str | None
    window_id: str
    opened_at: str
    used_pct: float
    peak_pct: float
    resets_at: str | None
    last_observed_at: str
    closed_at: str | None = None

    @property
    def key(self) -> Key:
        """``(provider, window, scope)``."""
        return (self.provider, self.window, self.scope)

    @property
    def is_open(self) -> bool:
        """Whether the window has not been closed yet."""
        return self.closed_at is None


@dataclasses.dataclass(frozen=True)
class WindowEvent:
    """Something that happened to a window, with the window's state right after it."""

    event: str  # opened | updated | closed
    window: Window
    observed_at: str
    reason: str
    frame_id: str | None = None
    extra: dict[str, t.Any] = dataclasses.field(default_factory=dict)

    @property
    def event_id(self) -> str:
        """Stable id of this event: the same frame never yields two events with one id."""
        return f"{self.window.window_id}/{self.event}/{self.frame_id or self.observed_at}"

    def to_record(self) -> dict[str, t.Any]:
        """The JSONL log line and the fields of the ``window`` frame."""
        state = self.window
        record: dict[str, t.Any] = {
            "event": self.event,
            "event_id": self.event_id,
            "provider": state.provider,
            "window": state.window,
            "scope": state.scope,
            "window_id": state.window_id,
            "used_pct": state.used_pct,
            "peak_pct": state.peak_pct,
            "resets_at": state.resets_at,
            "opened_at": state.opened_at,
            "closed_at": state.closed_at,
            "last_observed_at": state.last_observed_at,
            "observed_at": self.observed_at,
            "reason": self.reason,
            "frame_id": self.frame_id,
        }
        record.update(self.extra)
        return record


def _time(text: t.Any) -> dt.datetime | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        return parse_rfc3339(text)
    except ValueError:
        return None


def _stamp(moment: dt.datetime) -> str:
    return to_rfc3339(moment)


@dataclasses.dataclass(frozen=True)
class _Origin:
    """The observation an event comes from."""

    observed: dt.datetime
    frame_id: str | None
    extra: dict[str, t.Any]

    @property
    def stamp(self) -> str:
        return _stamp(self.observed)


class WindowTracker:
    """Feed parsed bodies to :meth:`observe` and the clock to :meth:`expire`; get events."""

    def __init__(self) -> None:
        self.windows: dict[Key, Window] = {}
        self.last_seen: dict[Key, dt.datetime] = {}
        self.candidates: dict[Key, dict[str, current.Figure]] = {}

    # -- state ---------------------------------------------------------------------------------
    def restore(self, record: t.Mapping[str, t.Any]) -> None:
        """Re-apply one logged event record (start-up: rebuild from the window log)."""
        if record.get("event") in ("ccusage", "forecast"):
            return  # a report or a forecast says nothing about the window's state
        try:
            state = Window(
                provider=str(record["provider"]),
                window=str(record["window"]),
                scope=record.get("scope"),
                window_id=str(record["window_id"]),
                opened_at=str(record["opened_at"]),
                used_pct=float(record["used_pct"]),
                peak_pct=float(record["peak_pct"]),
                resets_at=record.get("resets_at"),
                last_observed_at=str(record.get("last_observed_at") or record["observed_at"]),
                closed_at=record.get("closed_at"),
            )
        except (KeyError, TypeError, ValueError):
            return
        self.windows[state.key] = state
        seen = _time(state.last_observed_at)
        if seen is not None and (
            state.key not in self.last_seen or seen > self.last_seen[state.key]
        ):
            self.last_seen[state.key] = seen

    def open_windows(self) -> list[Window]:
        """Windows not closed yet."""
        return [state for state in self.windows.values() if state.is_open]

    # -- input ---------------------------------------------------------------------------------
    def observe(self, body: Body) -> list[WindowEvent]:
        """Events caused by one parsed frame (none for a duplicate or an older frame)."""
        observed = _time(body.get("observed_at"))
        if observed is None:
            return []
        provider = str(body.get("provider"))
        frame_id = body.get("id") if isinstance(body.get("id"), str) else None
        extra = {k: body[k] for k in ("raw_id", "pane", "screen", "source") if k in body}
        events: list[WindowEvent] = []
        for limit in body.get("limits") or []:
            if not isinstance(limit, dict) or limit.get("window") not in TRACKED_WINDOWS:
                continue
            used = limit.get("used_pct")
            if (
                limit.get("metric") != "quota"
                or limit.get("estimate")
                or isinstance(used, bool)
                or not isinstance(used, (int, float))
            ):
                continue
            key: Key = (provider, str(limit["window"]), limit.get("scope"))
            figure = current.figure_of(limit, body)
            seen = current.first_seen(figure) or observed
            last = self.last_seen.get(key)
            tie = current.OFFICIAL_TIE if current.slot(figure) == "official" else dt.timedelta(0)
            if last is not None and seen <= last - tie:
                continue  # duplicate, out of order or an old card re-read: never a second window
            slots = self.candidates.setdefault(key, {})
            if not current.offer(slots, figure):
                continue  # its slot holds a newer figure
            if current.choose(slots.values(), observed) is not figure:
                continue  # not the current figure of this limit
            self.last_seen[key] = seen if last is None else max(last, seen)
            origin = _Origin(seen, frame_id, extra)
            events.extend(self._apply(key, float(used), _time(limit.get("resets_at")), origin))
        return events

    def _apply(
        self, key: Key, used: float, resets: dt.datetime | None, origin: _Origin
    ) -> list[WindowEvent]:
        observed = origin.observed
        current = self.windows.get(key)
        events: list[WindowEvent] = []
        if current is not None and current.is_open:
            current_resets = _time(current.resets_at)
            if current_resets is not None and observed >= current_resets:
                events.append(self._close(current, current_resets, "reset passed", origin))
            elif (
                resets is not None
                and current_resets is not None
                and used < current.used_pct - FALL_BACK_MARGIN
                and abs(resets - current_resets) > RESET_TOLERANCE
            ):
                reason = "used fell back with a new reset time"
                events.append(self._close(current, observed, reason, origin))
            else:
                return self._update(current, used, resets, origin)
        if resets is not None and resets <= observed:
            return events  # a figure of a window that is already over: close, never open
        if current is not None and not current.is_open:
            closed = _time(current.closed_at)
            old_resets = _time(current.resets_at)
            if closed is not None and observed < closed:
                return events
            if (
                resets is not None
                and old_resets is not None
                and abs(resets - old_resets) <= RESET_TOLERANCE
            ):
                return events  # still the closed window's figure
        stamp = origin.stamp
        state = Window(
            provider=key[0],
            window=key[1],
            scope=key[2],
            window_id=f"{key[0]}/{key[1]}/{key[2] or 'main'}/{stamp}",
            opened_at=stamp,
            used_pct=used,
            peak_pct=used,
            resets_at=_stamp(resets) if resets else None,
            last_observed_at=stamp,
        )
        self.windows[key] = state
        events.append(self._event("opened", state, "first figure", origin))
        return events

    @staticmethod
    def _event(event: str, state: Window, reason: str, origin: _Origin) -> WindowEvent:
        return WindowEvent(
            event, dataclasses.replace(state), origin.stamp, reason, origin.frame_id, origin.extra
        )

    def _update(
        self, state: Window, used: float, resets: dt.datetime | None, origin: _Origin
    ) -> list[WindowEvent]:
        state.last_observed_at = origin.stamp
        new_resets = state.resets_at
        current_resets = _time(state.resets_at)
        if resets is not None and (
            current_resets is None or abs(resets - current_resets) > RESET_TOLERANCE
        ):
            new_resets = _stamp(resets)  # within the tolerance it is the same reset, reworded
        if used == state.used_pct and new_resets == state.resets_at:
            return []
        state.used_pct = used
        state.peak_pct = max(state.peak_pct, used)
        state.resets_at = new_resets
        return [self._event("updated", state, "new figure", origin)]

    def _close(
        self, state: Window, closed_at: dt.datetime, reason: str, origin: _Origin
    ) -> WindowEvent:
        state.closed_at = _stamp(closed_at)
        return self._event("closed", state, reason, origin)

    def expire(self, now: dt.datetime) -> list[WindowEvent]:
        """Close every open window whose reset time has passed by ``now``."""
        origin = _Origin(now, None, {})
        events = []
        for state in self.open_windows():
            resets = _time(state.resets_at)
            if resets is not None and now >= resets:
                events.append(self._close(state, resets, "reset passed", origin))
        return events


REPORT_WINDOWS = {
    "weekly": ("weekly", dt.timedelta(days=7)),
    "blocks": ("5h", dt.timedelta(hours=5)),
}


def _period_span(period: t.Mapping[str, t.Any]) -> tuple[dt.datetime, dt.datetime] | None:
    """A ccusage period as [start, end) in UTC; dates without a time cover whole days."""
    start, end = period.get("start"), period.get("end")
    if not isinstance(start, str) or not isinstance(end, str):
        return None
    try:
        first = dt.datetime.fromisoformat(start.replace("Z", "+00:00"))
        last = dt.datetime.fromisoformat(end.replace("Z", "+00:00"))
    except ValueError:
        return None
    if first.tzinfo is None:
        first = first.replace(tzinfo=dt.timezone.utc)
    if last.tzinfo is None:
        last = last.replace(tzinfo=dt.timezone.utc)
    if len(end) == 10:  # a date: the period runs to the end of that day
        last += dt.timedelta(days=1)
    return first, last


def correlate_report(windows: t.Iterable[Window], body: Body) -> list[dict[str, t.Any]]:
    """Match a ccusage report's periods to the usage windows they overlap.

    ccusage counts tokens and cost per calendar period; the agents count quota per rolling
    window. A weekly window spans the 7 days before its reset (a 5h block the 5 hours before
    it): every report period overlapping that span becomes one ``ccusage`` record beside the
    window's own events, so the window log answers "what did this window cost?".
    """
    report = body.get("report")
    if report not in REPORT_WINDOWS:
        return []
    window_kind, length = REPORT_WINDOWS[str(report)]
    agents = body.get("agents") or [body.get("agent")]
    records: list[dict[str, t.Any]] = []
    for state in windows:
        resets = _time(state.resets_at)
        if state.window != window_kind or state.provider not in agents or resets is None:
            continue
        opens = resets - length
        for period in body.get("periods") or []:
            if not isinstance(period, dict) or period.get("agent") not in (None, state.provider):
                continue
            span = _period_span(period)
            if span is None or span[1] <= opens or span[0] >= resets:
                continue
            overlap = min(span[1], resets) - max(span[0], opens)
            records.append({
                "event": "ccusage",
                "event_id": f"{state.window_id}/ccusage/{report}/{period.get('period')}",
                "provider": state.provider,
                "window": state.window,
                "scope": state.scope,
                "window_id": state.window_id,
                "report": report,
                "period": period.get("period"),
                "period_start": period.get("start"),
                "period_end": period.get("end"),
                "overlap_hours": round(overlap.total_seconds() / 3600, 2),
                "total_tokens": period.get("total_tokens"),
                "cost_usd": period.get("cost_usd"),
                "observed_at": body.get("observed_at"),
                "frame_id": body.get("id"),
            })
    return records
