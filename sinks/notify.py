"""What a person should be told, once: events from parsed, state and forecast frames.

Pure (no bus, no files, no clock of its own): :class:`EventDetector` takes frames and the time,
and returns :class:`Event` objects; the notify sink (sinks/notify_sink.py) publishes and
delivers them. The events:

* ``limit`` — a limit crossed a threshold (default 80, 90, 100 %, per provider in the config),
  once per usage window and threshold; a jump over several announces the highest one only.
* ``reset`` — a usage window reset (its reset time passed, or the figure fell back with a new
  reset): the limit is available again.
* ``finished`` — an agent pane went from ``working`` to ``idle`` and stayed idle for
  :attr:`NotifySettings.settle_seconds` (a spinner that flickers to idle and back is not a
  finished turn).
* ``waiting`` — an agent asks the user (approval, question, login, model switch), held for the
  same settle time.
* ``probe-refused`` — probes of one pane were refused :attr:`NotifySettings.refusals` times in a
  row (the user is told why panebus cannot read that pane).

Every event has a stable ``key``: the sink remembers the keys it announced (on disk), so a
restart never announces a crossing twice.
"""

from __future__ import annotations

import dataclasses
import typing as t

from bus.clock import parse_rfc3339, to_rfc3339
from sinks.windows import TRACKED_WINDOWS, WindowTracker

if t.TYPE_CHECKING:
    import datetime as dt

    from bus.frames import Body

DEFAULT_THRESHOLDS = (80.0, 90.0, 100.0)
RESET_BUCKET_S = 900  # a window is named by its reset time to the quarter hour (and neighbours)
ACTIVITY = ("working", "idle", "waiting")


@dataclasses.dataclass(frozen=True)
class NotifySettings:
    """What to announce (delivery settings live in sinks.config.NotifyConfig)."""

    thresholds: t.Mapping[str, tuple[float, ...]] = dataclasses.field(default_factory=dict)
    settle_seconds: float = 2.0
    refusals: int = 3

    def thresholds_for(self, provider: str) -> tuple[float, ...]:
        """The thresholds of ``provider`` (or the defaults), ascending."""
        return tuple(sorted(self.thresholds.get(provider, DEFAULT_THRESHOLDS)))


@dataclasses.dataclass(frozen=True)
class Event:
    """One thing to tell: ``event`` kind, provider, a one-line ``text`` and its details."""

    event: str
    provider: str
    key: str
    text: str
    observed_at: str
    pane: dict[str, t.Any] | None = None
    details: dict[str, t.Any] = dataclasses.field(default_factory=dict)
    aliases: tuple[str, ...] = ()  # other keys that mean the same event (see window_keys)

    @property
    def keys(self) -> tuple[str, ...]:
        """The key and its aliases: announced once if any of them was."""
        return (self.key, *self.aliases)

    def fields(self) -> dict[str, t.Any]:
        """The body fields of its ``event`` frame (besides the envelope)."""
        return {"event": self.event, "key": self.key, "text": self.text,
                "pane": self.pane, **self.details}


def window_keys(state: t.Any) -> tuple[str, ...]:
    """Names of a usage window that survive a restart: its reset time to the quarter hour, and
    the neighbouring quarters (a screen prints the reset to the minute, a log to the second).
    Windows of one limit reset hours apart, so neighbours never name another window. Without
    a reset time, the tracker's window id.

    >>> import types
    >>> w = types.SimpleNamespace(provider="codex", window="5h", scope=None,
    ...                           resets_at="2026-12-03T10:14:59Z", window_id="x")
    >>> window_keys(w)[0], len(window_keys(w))
    ('codex/5h/main/1796292000', 3)
    """
    base = f"{state.provider}/{state.window}/{state.scope or 'main'}"
    try:
        resets = parse_rfc3339(str(state.resets_at)) if state.resets_at else None
    except (ValueError, OverflowError):
        resets = None
    if resets is None:
        return (f"{base}/{state.window_id}",)
    bucket = int(resets.timestamp()) // RESET_BUCKET_S * RESET_BUCKET_S
    return tuple(f"{base}/{bucket + shift * RESET_BUCKET_S}" for shift in (0, -1, 1))


def _label(provider: str, window: str, scope: str | None) -> str:
    return f"{provider} {window}" + (f" {scope}" if scope else "")


@dataclasses.dataclass
class _Pending:
    """An activity change waiting to prove it is not a flicker."""

    state: str
    since: dt.datetime
    pane: dict[str, t.Any]
    provider: str
    reason: str
    after_working: bool


class EventDetector:
    """Feed frames with :meth:`observe` and the time with :meth:`settle`; get events."""

    def __init__(self, settings: NotifySettings | None = None) -> None:
        self.settings = settings or NotifySettings()
        self.windows = WindowTracker()
        self._activity: dict[str, str] = {}  # pane key -> last settled state
        self._pending: dict[str, _Pending] = {}
        self._refusals: dict[str, int] = {}

    def observe(self, topic: str, body: Body) -> list[Event]:
        """Events caused by one frame (activity changes wait for :meth:`settle`)."""
        kind = body.get("kind")
        if kind == "parsed":
            return self._parsed(body)
        if kind == "state":
            self._state(body)
        elif kind == "sys" and body.get("what") == "probe":
            return self._probe(body)
        return []

    # -- limits --------------------------------------------------------------------------------
    def _parsed(self, body: Body) -> list[Event]:
        provider = str(body.get("provider"))
        if provider == "ccusage":
            return []
        events = [self._reset(e) for e in self.windows.observe(body) if e.event == "closed"]
        for limit in body.get("limits") or []:
            if not isinstance(limit, dict) or limit.get("window") not in TRACKED_WINDOWS:
                continue
            key = (provider, str(limit["window"]), limit.get("scope"))
            state = self.windows.windows.get(key)
            used = limit.get("used_pct")
            if (state is None or not state.is_open or limit.get("estimate")
                    or limit.get("metric") != "quota"
                    or isinstance(used, bool) or not isinstance(used, (int, float))):
                continue
            crossed = [x for x in self.settings.thresholds_for(provider) if used >= x]
            if not crossed:
                continue
            threshold = crossed[-1]
            label = _label(*key)
            names = [f"limit/{name}/{threshold:g}" for name in window_keys(state)]
            events.append(Event(
                "limit", provider, names[0],
                f"{label} at {used:g}% (crossed {threshold:g}%)",
                str(body.get("observed_at")), body.get("pane"),
                {"window": key[1], "scope": key[2], "window_id": state.window_id,
                 "threshold": threshold, "used_pct": float(used),
                 "resets_at": state.resets_at},
                tuple(names[1:]),
            ))
        return events

    def _reset(self, closed: t.Any) -> Event:
        window = closed.window
        label = _label(window.provider, window.window, window.scope)
        names = [f"reset/{name}" for name in window_keys(window)]
        return Event(
            "reset", window.provider, names[0],
            f"{label} reset (peak {window.peak_pct:g}%)", closed.observed_at, None,
            {"window": window.window, "scope": window.scope, "window_id": window.window_id,
             "peak_pct": window.peak_pct, "reason": closed.reason},
            tuple(names[1:]),
        )

    def expire(self, now: dt.datetime) -> list[Event]:
        """Resets that happened by ``now`` although no frame came."""
        return [self._reset(e) for e in self.windows.expire(now) if e.event == "closed"]

    # -- activity ------------------------------------------------------------------------------
    @staticmethod
    def _pane_key(body: Body) -> str | None:
        pane = body.get("pane")
        if not isinstance(pane, dict):
            return None
        return f"{pane.get('server')}/{pane.get('pane_id')}"

    def _state(self, body: Body) -> None:
        key = self._pane_key(body)
        state = body.get("state")
        if key is None or not isinstance(state, str):
            return
        if state == "gone":
            self._activity.pop(key, None)
            self._pending.pop(key, None)
            self._refusals.pop(key, None)
            return
        if state not in ACTIVITY:
            return
        settled = self._activity.get(key)
        pending = self._pending.get(key)
        if pending is not None and pending.state == state:
            return
        if state == settled:
            self._pending.pop(key, None)  # a flicker came back before it settled
            return
        try:
            since = parse_rfc3339(str(body.get("observed_at")))
        except (ValueError, OverflowError):
            return
        self._pending[key] = _Pending(
            state, since, dict(body["pane"]), str(body.get("provider")),
            str(body.get("reason") or ""),
            after_working=(settled == "working" or (pending is not None and (
                pending.state == "working" or pending.after_working))),
        )

    def settle(self, now: dt.datetime) -> list[Event]:
        """Activity changes that held for the settle time by ``now``."""
        events: list[Event] = []
        for key, pending in list(self._pending.items()):
            if (now - pending.since).total_seconds() < self.settings.settle_seconds:
                continue
            del self._pending[key]
            self._activity[key] = pending.state
            where = f"{pending.pane.get('session')}:{pending.pane.get('window')}"
            stamp = to_rfc3339(pending.since)
            if pending.state == "idle" and pending.after_working:
                events.append(Event(
                    "finished", pending.provider, f"finished/{key}/{stamp}",
                    f"{pending.provider} finished its turn in {where}", stamp, pending.pane, {}))
            elif pending.state == "waiting":
                why = f": {pending.reason}" if pending.reason else ""
                events.append(Event(
                    "waiting", pending.provider, f"waiting/{key}/{stamp}",
                    f"{pending.provider} is waiting for you in {where}{why}", stamp,
                    pending.pane, {"reason": pending.reason}))
        return events

    # -- probes --------------------------------------------------------------------------------
    def _probe(self, body: Body) -> list[Event]:
        """``sys.probe`` frames: ``outcome`` is ``captured`` or ``refused`` (with ``reason``)."""
        key = self._pane_key(body)
        if key is None:
            return []
        if body.get("outcome") != "refused":
            self._refusals.pop(key, None)
            return []
        count = self._refusals.get(key, 0) + 1
        self._refusals[key] = count
        if count != self.settings.refusals:
            return []
        provider = str(body.get("probe_provider") or body.get("provider"))
        reason = str(body.get("reason") or "")
        return [Event(
            "probe-refused", provider, f"probe-refused/{key}/{body.get('observed_at')}",
            f"{provider} probes refused {count} times in a row: {reason}",
            str(body.get("observed_at")), body["pane"], {"reason": reason, "refusals": count})]
