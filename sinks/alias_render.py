"""What ``occ``, ``acm`` and ``os`` print: figure selection and line rendering (pure).

An alias file holds one line per output line, tab-separated::

    <observed epoch s>\\t<stale epoch s or 0>\\t<text with @age@>

The text is rendered when the cache changes, but the age cannot be: it grows while nobody
writes. So the reader — a shell function using only builtins, the tmux status line, or
``panebus alias`` — substitutes ``@age@`` with ``12s ago`` computed from the first field and
its own clock, and appends `` [stale]`` once the clock passes the second field. That keeps a
read to a file read plus integer arithmetic (no interpreter start) and the age always true.

Which figure is shown per limit (window, scope, metric) is :func:`sinks.current.choose`: the
most recently *first observed* exact figure, whatever its source (``official`` breaks ties only
within seconds); estimates only where no fresh exact figure exists. The age printed is the
age of that first observation, so a card re-read from scrollback does not look new. A figure is
stale after its frame's ``stale_after`` or, when the frame has none (logs, hooks),
:data:`sinks.current.DEFAULT_TTL` after it was observed.
"""

from __future__ import annotations

import typing as t

from bus.clock import parse_rfc3339
from sinks.current import first_seen, stale_at
from sinks.forecast import short_text

if t.TYPE_CHECKING:
    import datetime as dt

AGE = "@age@"
STALE_MARK = " [stale]"
ALIASES = ("occ", "acm", "os")
Figure = dict[str, t.Any]


def figure_key(limit: t.Mapping[str, t.Any]) -> str:
    """``window|scope|metric``: the identity of a limit across sources."""
    return f"{limit.get('window')}|{limit.get('scope') or ''}|{limit.get('metric') or 'quota'}"


def format_age(seconds: int) -> str:
    """``12s ago``, ``5m ago``, ``3h ago``, ``2d ago`` (the shell functions do the same)."""
    seconds = max(seconds, 0)
    if seconds < 60:
        return f"{seconds}s ago"
    if seconds < 3600:
        return f"{seconds // 60}m ago"
    if seconds < 86400:
        return f"{seconds // 3600}h ago"
    return f"{seconds // 86400}d ago"


def render_at(line: str, now_epoch: int) -> str:
    """One alias-file line as the user sees it at ``now_epoch`` (the shells do the same)."""
    observed_text, stale_text, text = ([*line.split("\t", 2), "", ""])[:3]
    try:
        observed, stale = int(observed_text), int(stale_text)
    except ValueError:
        return line
    if observed > 0:
        text = text.replace(AGE, format_age(now_epoch - observed))
    if stale > 0 and now_epoch > stale:
        text += STALE_MARK
    return text


def _pct(value: t.Any) -> str:
    return f"{value:g}%" if isinstance(value, (int, float)) and not isinstance(value, bool) else "?"


def _reset(figure: Figure, now: dt.datetime, zone: dt.tzinfo | None) -> str:
    raw = figure.get("resets_at")
    if not raw:
        return ""
    try:
        moment = parse_rfc3339(str(raw)).astimezone(zone)
    except ValueError:
        return ""
    local_now = now.astimezone(zone)
    if moment.date() == local_now.date():
        return f" (resets {moment:%H:%M})"
    return f" (resets {moment:%b} {moment.day} {moment:%H:%M})"


class Line(t.NamedTuple):
    """One pre-rendered line: observation and staleness epochs, text with :data:`AGE`."""

    observed: int
    stale: int
    text: str

    def encode(self) -> str:
        """The alias-file form."""
        return f"{self.observed}\t{self.stale}\t{self.text}"


def labelled(line: Line, host: str) -> Line:
    """``line`` starting with the host it is about (the central view of several hosts)."""
    return line._replace(text=f"{host}: {line.text}")


def _line(label: str, parts: list[str], figures: list[Figure], suffix: str = "") -> Line:
    if not parts:
        return Line(0, 0, f"{label}: no data yet")
    observed = [seen for seen in (first_seen(f) for f in figures) if seen is not None]
    stales = [s for s in (stale_at(f) for f in figures) if s is not None]
    oldest = int(min(observed).timestamp()) if observed else 0
    stale = int(min(stales).timestamp()) if stales else 0
    text = f"{label} " + " · ".join(parts) + suffix + (f" · {AGE}" if oldest else "")
    return Line(oldest, stale, text)


def _runs_out(forecast: t.Mapping[str, t.Any] | None, now: dt.datetime,
              zone: dt.tzinfo | None) -> str:
    """``runs out ~16:50`` while a forecast says the window runs out ahead; else nothing."""
    if not forecast or forecast.get("status") != "runs-out":
        return ""
    try:
        moment = parse_rfc3339(str(forecast.get("runs_out_at")))
    except (ValueError, OverflowError):
        return ""
    return short_text(forecast, now, zone) if moment > now else ""


def _limit_parts(
    figures: t.Mapping[str, Figure],
    names: t.Mapping[str, str],
    now: dt.datetime,
    zone: dt.tzinfo | None,
    forecasts: t.Mapping[str, t.Any] | None = None,
) -> tuple[list[str], list[Figure]]:
    """Main windows in a fixed order, then scoped ones, each ``name used% (resets …)``, with
    the forecast's ``runs out ~HH:MM`` when the window runs out before its reset."""
    parts: list[str] = []
    used: list[Figure] = []
    main_resets: dict[str, str] = {}
    ordered = sorted(
        (f for f in figures.values() if f.get("metric", "quota") == "quota"),
        key=lambda f: (
            f.get("scope") is not None,
            list(names).index(f["window"]) if f.get("window") in names else 99,
            str(f.get("scope") or ""),
        ),
    )
    for figure in ordered:
        if figure.get("used_pct") is None:
            continue
        name = names.get(str(figure.get("window")), str(figure.get("window")))
        if figure.get("scope"):
            name = (
                f"{figure['scope']}"
                if figure.get("window") == "weekly"
                else (f"{figure['scope']} {name}")
            )
        reset = _reset(figure, now, zone)
        if figure.get("scope") and reset == main_resets.get(str(figure.get("window"))):
            reset = ""  # same reset as the main limit of that window: said once
        elif not figure.get("scope"):
            main_resets[str(figure.get("window"))] = reset
        ahead = _runs_out((forecasts or {}).get(figure_key(figure)), now, zone)
        if ahead:
            reset = f"{reset[:-1]}, {ahead})" if reset else f" ({ahead})"
        parts.append(f"{name} {_pct(figure['used_pct'])}{reset}")
        used.append(figure)
    return parts, used


def provider_lines(
    provider: str, entry: t.Mapping[str, t.Any], now: dt.datetime, zone: dt.tzinfo | None = None
) -> list[Line]:
    """The lines of one provider from its ``state.json`` entry."""
    figures: dict[str, Figure] = entry.get("figures") or {}
    forecasts: dict[str, t.Any] = entry.get("forecasts") or {}
    model = entry.get("model")
    suffix = f" · {model}" if model else ""
    if provider == "codex":
        parts, used = _limit_parts(figures, {"5h": "5h", "weekly": "weekly"}, now, zone,
                                   forecasts)
        return [_line("codex", parts, used, suffix)]
    if provider == "claude":
        parts, used = _limit_parts(figures, {"5h": "session", "weekly": "week"}, now, zone,
                                   forecasts)
        return [_line("claude", parts, used, suffix)]
    if provider == "claude-monitor":
        parts, used = [], []
        for figure in figures.values():
            if figure.get("used_pct") is None:
                continue
            label = str(figure.get("metric")) if figure.get("metric") != "quota" else "quota"
            text = f"{label} {_pct(figure['used_pct'])}"
            if figure.get("used") is not None and figure.get("limit") is not None:
                text += f" ({figure['used']:g}/{figure['limit']:g})"
            parts.append(text + _reset(figure, now, zone))
            used.append(figure)
        estimate = " (estimates)" if any(f.get("estimate") for f in used) else ""
        return [_line("claude-monitor", parts, used, estimate)] if parts else []
    parts, used = _limit_parts(figures, {"5h": "5h", "weekly": "weekly"}, now, zone)
    return [_line(provider, parts, used, suffix)] if parts else []


def alias_lines(
    providers: t.Mapping[str, t.Mapping[str, t.Any]],
    now: dt.datetime,
    zone: dt.tzinfo | None = None,
) -> dict[str, list[Line]]:
    """Every alias file: ``occ`` (Codex), ``acm`` (Claude + monitor), ``os`` (one line each)."""
    empty: dict[str, t.Any] = {}
    codex = provider_lines("codex", providers.get("codex", empty), now, zone)
    claude = provider_lines("claude", providers.get("claude", empty), now, zone)
    monitor = (
        provider_lines("claude-monitor", providers["claude-monitor"], now, zone)
        if "claude-monitor" in providers
        else []
    )
    return {"occ": codex, "acm": claude + monitor, "os": codex[:1] + claude[:1]}
