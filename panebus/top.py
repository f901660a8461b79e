"""What ``panebus top`` shows: agent panes, limits with bars and forecasts, recent events.

Pure: :class:`TopView` takes bus frames (``state.*``, ``parsed.*``, ``forecast.*``,
``event.*``) and renders lines for a given size and moment. The figure shown for a limit is
chosen by the same rule as the alias cache (:func:`sinks.alias_cache.apply_frame` and
:func:`~sinks.alias_cache.select` on an in-memory state), so ``top`` and ``occ`` never disagree.

Several hosts (a central host's bus, docs/guide.md "Several machines"): figures, forecasts and
panes are kept per host (the ``producer``'s first part); once more than one host is seen, each
row starts with its host. ``host`` keeps one host's frames only.
"""

from __future__ import annotations

import collections
import typing as t

from bus.clock import parse_rfc3339_or_none
from sinks import alias_cache
from sinks.alias_render import format_age
from sinks.forecast import short_text

if t.TYPE_CHECKING:
    import datetime as dt

    from bus.frames import Body

EVENTS_KEPT = 5
GONE = "gone"


_time = parse_rfc3339_or_none  # a missing or broken time is None


def _ago(since: dt.datetime | None, now: dt.datetime) -> str:
    if since is None:
        return "?"
    return format_age(int((now - since).total_seconds())).removesuffix(" ago")


def host_of(body: Body) -> str:
    """The host a frame came from: the first part of ``host:pid:name`` (else ``""``)."""
    producer = str(body.get("producer", ""))
    return producer.split(":", 1)[0] if producer.count(":") >= 2 else ""


def bar(used: float, width: int) -> str:
    """``[████░░░░]`` with ``width`` cells between the brackets.

    >>> bar(50, 8), bar(100, 4), bar(0, 4)
    ('[████░░░░]', '[████]', '[░░░░]')
    """
    filled = round(max(0.0, min(100.0, used)) / 100 * width)
    return "[" + "█" * filled + "░" * (width - filled) + "]"


class TopView:
    """The state ``panebus top`` draws, folded from bus frames."""

    def __init__(self, host: str | None = None) -> None:
        self.host = host
        self.panes: dict[str, Body] = {}
        self.hosted: dict[str, dict[str, t.Any]] = {}  # each host's figures (alias state)
        self.forecasts: dict[tuple[str, str, str, str | None], Body] = {}
        self.events: collections.deque[Body] = collections.deque(maxlen=EVENTS_KEPT)

    @property
    def figures(self) -> dict[str, t.Any]:
        """The figures of the first host seen (the only one, on a single host)."""
        return next(iter(self.hosted.values()), alias_cache.empty_state())

    def take(self, topic: str, body: Body) -> bool:
        """Fold one frame in; ``True`` when the view changed."""
        kind = body.get("kind")
        host = host_of(body)
        if self.host is not None and host != self.host:
            return False
        if kind == "state":
            pane = body.get("pane")
            if not isinstance(pane, dict):
                return False
            key = f"{host}/{pane.get('server')}/{pane.get('pane_id')}"
            if body.get("state") == GONE:
                return self.panes.pop(key, None) is not None
            self.panes[key] = body
            return True
        if kind == "parsed":
            return alias_cache.apply_frame(
                self.hosted.setdefault(host, alias_cache.empty_state()), body)
        if kind == "forecast":
            scope = body.get("scope")
            self.forecasts[(host, str(body.get("provider")), str(body.get("window")),
                            scope if isinstance(scope, str) else None)] = body
            return True
        if kind == "event":
            self.events.append(body)
            return True
        del topic
        return False

    def render(self, now: dt.datetime, width: int = 80, height: int = 24,
               zone: dt.tzinfo | None = None) -> list[str]:
        """The screen as lines, at most ``height`` of at most ``width`` characters."""
        for figures in self.hosted.values():
            alias_cache.select(figures, now)
        limits = self._limit_lines(now, width, zone)
        panes = self._pane_lines(now)
        events = [f" {self._clock(e, zone)} ⚑ {e.get('text', e.get('event'))}"
                  for e in reversed(self.events)]
        header = (f"panebus top · {now.astimezone(zone):%H:%M:%S} · {len(self.panes)} agent "
                  f"pane(s) · {len(limits)} limit(s)")
        lines = [header.ljust(max(0, width - 8)) + "q: quit", ""]
        budget = height - len(lines)
        for title, rows in (("LIMITS", limits), ("PANES", panes), ("EVENTS", events)):
            if budget < 2:
                break
            shown = rows[: budget - 2] or [" (none yet)"]
            lines += [title, *shown, ""]
            budget -= len(shown) + 2
        return [line[:width] for line in lines[:height]]

    @staticmethod
    def _clock(body: Body, zone: dt.tzinfo | None) -> str:
        moment = _time(body.get("observed_at"))
        return f"{moment.astimezone(zone):%H:%M}" if moment else "--:--"

    def _several(self) -> bool:
        """Whether rows must say their host (frames from more than one host)."""
        hosts = set(self.hosted) | {host_of(body) for body in self.panes.values()}
        return len(hosts) > 1

    def _pane_lines(self, now: dt.datetime) -> list[str]:
        rows = []
        several = self._several()
        for body in sorted(self.panes.values(), key=lambda b: (host_of(b), str(b.get("provider")),
                                                               str(b["pane"].get("pane_id")))):
            pane = body["pane"]
            where = f"{pane.get('session')}:{pane.get('window')} {pane.get('pane_id')}"
            if several:
                where = f"{host_of(body)} {where}"
            since = _ago(_time(body.get("observed_at")), now)
            rows.append(f" {body.get('provider', '?'):<15}{where:<18}{body.get('state', '?'):<9}"
                        f"{since}")
        return rows

    def _limit_lines(self, now: dt.datetime, width: int, zone: dt.tzinfo | None) -> list[str]:
        rows = []
        cells = max(5, min(20, width - 74))  # the rest of a row takes 74 columns
        several = self._several()
        rows_of = [(host, provider, entry) for host, figures in self.hosted.items()
                   for provider, entry in figures["providers"].items()]
        for host, provider, entry in sorted(rows_of, key=lambda row: (row[0], row[1])):
            for figure in sorted(entry.get("figures", {}).values(),
                                 key=lambda f: (str(f.get("window")), str(f.get("scope") or ""))):
                used = figure.get("used_pct")
                if figure.get("metric", "quota") != "quota" or not isinstance(used, (int, float)):
                    continue
                scope = figure.get("scope")
                name = f"{provider} {figure.get('window')}" + (f" {scope}" if scope else "")
                if several:
                    name = f"{host} {name}"
                seen = _time(figure.get("first_seen_at") or figure.get("observed_at"))
                ahead = self.forecasts.get((host, provider, str(figure.get("window")), scope))
                note = short_text(ahead, now, zone) if ahead else ""
                resets = _time(figure.get("resets_at"))
                reset = ""
                if resets is not None:
                    local = resets.astimezone(zone)
                    same_day = local.date() == now.astimezone(zone).date()
                    reset = f"resets {local:%H:%M}" if same_day else f"resets {local:%a %H:%M}"
                mark = "~" if figure.get("estimate") else ""
                rows.append(f" {name[:22]:<22} {bar(float(used), cells)} {mark}{used:>3g}% "
                            f"{_ago(seen, now):>4} {note:<18} {reset}".rstrip())
        return rows
