"""What ``panebus top`` shows: agent panes, limits with bars and forecasts, recent events.

Pure: :class:`TopView` takes bus frames (``state.*``, ``parsed.*``, ``forecast.*``,
``event.*``) and renders lines for a given size and moment. The figure shown for a limit is
chosen by the same rule as the alias cache (:func:`sinks.alias_cache.apply_frame` and
:func:`~sinks.alias_cache.select` on an in-memory state), so ``top`` and ``occ`` never disagree.
"""

from __future__ import annotations

import collections
import typing as t

from bus.clock import parse_rfc3339
from sinks import alias_cache
from sinks.alias_render import format_age
from sinks.forecast import short_text

if t.TYPE_CHECKING:
    import datetime as dt

    from bus.frames import Body

EVENTS_KEPT = 5
GONE = "gone"


def _time(value: t.Any) -> dt.datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return parse_rfc3339(value)
    except (ValueError, OverflowError):
        return None


def _ago(since: dt.datetime | None, now: dt.datetime) -> str:
    if since is None:
        return "?"
    return format_age(int((now - since).total_seconds())).removesuffix(" ago")


def bar(used: float, width: int) -> str:
    """``[████░░░░]`` with ``width`` cells between the brackets.

    >>> bar(50, 8), bar(100, 4), bar(0, 4)
    ('[████░░░░]', '[████]', '[░░░░]')
    """
    filled = round(max(0.0, min(100.0, used)) / 100 * width)
    return "[" + "█" * filled + "░" * (width - filled) + "]"


class TopView:
    """The state ``panebus top`` draws, folded from bus frames."""

    def __init__(self) -> None:
        self.panes: dict[str, Body] = {}
        self.figures = alias_cache.empty_state()
        self.forecasts: dict[tuple[str, str, str | None], Body] = {}
        self.events: collections.deque[Body] = collections.deque(maxlen=EVENTS_KEPT)

    def take(self, topic: str, body: Body) -> bool:
        """Fold one frame in; ``True`` when the view changed."""
        kind = body.get("kind")
        if kind == "state":
            pane = body.get("pane")
            if not isinstance(pane, dict):
                return False
            key = f"{pane.get('server')}/{pane.get('pane_id')}"
            if body.get("state") == GONE:
                return self.panes.pop(key, None) is not None
            self.panes[key] = body
            return True
        if kind == "parsed":
            return alias_cache.apply_frame(self.figures, body)
        if kind == "forecast":
            scope = body.get("scope")
            self.forecasts[(str(body.get("provider")), str(body.get("window")),
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
        alias_cache.select(self.figures, now)
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

    def _pane_lines(self, now: dt.datetime) -> list[str]:
        rows = []
        for body in sorted(self.panes.values(), key=lambda b: (str(b.get("provider")),
                                                               str(b["pane"].get("pane_id")))):
            pane = body["pane"]
            where = f"{pane.get('session')}:{pane.get('window')} {pane.get('pane_id')}"
            since = _ago(_time(body.get("observed_at")), now)
            rows.append(f" {body.get('provider', '?'):<15}{where:<18}{body.get('state', '?'):<9}"
                        f"{since}")
        return rows

    def _limit_lines(self, now: dt.datetime, width: int, zone: dt.tzinfo | None) -> list[str]:
        rows = []
        cells = max(5, min(20, width - 74))  # the rest of a row takes 74 columns
        for provider, entry in sorted(self.figures["providers"].items()):
            for figure in sorted(entry.get("figures", {}).values(),
                                 key=lambda f: (str(f.get("window")), str(f.get("scope") or ""))):
                used = figure.get("used_pct")
                if figure.get("metric", "quota") != "quota" or not isinstance(used, (int, float)):
                    continue
                scope = figure.get("scope")
                name = f"{provider} {figure.get('window')}" + (f" {scope}" if scope else "")
                seen = _time(figure.get("first_seen_at") or figure.get("observed_at"))
                ahead = self.forecasts.get((provider, str(figure.get("window")), scope))
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
