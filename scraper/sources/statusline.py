"""Exact Claude limits from Claude Code's statusLine hook JSON.

Claude Code runs its configured ``statusLine`` command after every update and writes a JSON
object to its stdin: ``model``, ``workspace``, ``session_id``, ``cost``, ``context_window``,
``version`` and, for subscribers once the first answer came back, ``rate_limits.five_hour`` /
``seven_day`` with ``used_percentage`` and ``resets_at`` (Unix seconds). Those are the figures
``/usage`` draws, straight from Claude, so they are ``official``.

Pure: a decoded object (plus the observation time) in, :class:`Usage` or a status line out.
``panebus hook claude-statusline`` (:mod:`panebus.cli.hook`) is the I/O around it.
"""

from __future__ import annotations

import typing as t

from bus.clock import to_rfc3339
from scraper.parsers.model import Limit, Usage
from scraper.sources.values import moment, number, percent
from scraper.sources.values import text as _text

if t.TYPE_CHECKING:
    import datetime as dt

    from scraper.parsers.model import Window

PROVIDER = "claude"
SCREEN = "claude.statusline"
#: statusLine ``rate_limits`` keys and the window each one is.
RATE_LIMIT_WINDOWS: dict[str, Window] = {"five_hour": "5h", "seven_day": "weekly"}
WEEKLY_SCOPED_PREFIX = "seven_day_"


def _limit(window: Window, value: object, scope: str | None = None) -> Limit | None:
    if not isinstance(value, t.Mapping):
        return None
    used = percent(value.get("used_percentage"))
    if used is None:
        return None
    resets_at = moment(value.get("resets_at"))
    return Limit(window=window, used_pct=used, scope=scope, resets_at=resets_at)


def limits_from_rate_limits(rate_limits: object) -> list[Limit]:
    """``five_hour`` → 5h, ``seven_day`` → weekly, ``seven_day_<model>`` → weekly scoped."""
    if not isinstance(rate_limits, t.Mapping):
        return []
    limits: list[Limit] = []
    for key, window in RATE_LIMIT_WINDOWS.items():
        limit = _limit(window, rate_limits.get(key))
        if limit is not None:
            limits.append(limit)
    for key in sorted(rate_limits):
        if isinstance(key, str) and key.startswith(WEEKLY_SCOPED_PREFIX):
            scope = key[len(WEEKLY_SCOPED_PREFIX) :].replace("_", " ").strip().lower()
            limit = _limit("weekly", rate_limits[key], scope or None)
            if limit is not None:
                limits.append(limit)
    return limits


def usage_from_statusline(obj: object, observed_at: dt.datetime | None = None) -> Usage:
    """Read one statusLine object; missing or odd fields are left out, never guessed.

    A non-object input gives a :class:`Usage` with no limits and a warning, so the hook can
    always print a line.
    """
    if not isinstance(obj, t.Mapping):
        warning = "statusLine input is not a JSON object"
        return Usage(provider=PROVIDER, screen=SCREEN, warnings=[warning])
    model = obj.get("model")
    model_name = None
    if isinstance(model, t.Mapping):
        model_name = _text(model.get("display_name")) or _text(model.get("id"))
    workspace = obj.get("workspace")
    current_dir = None
    project_dir = None
    if isinstance(workspace, t.Mapping):
        current_dir = _text(workspace.get("current_dir"))
        project_dir = _text(workspace.get("project_dir"))
    cost = obj.get("cost")
    context = obj.get("context_window")
    context_left = None
    if isinstance(context, t.Mapping):
        context_left = percent(context.get("remaining_percentage"))
    extra: dict[str, t.Any] = {
        "session_id": _text(obj.get("session_id")),
        "cwd": current_dir or _text(obj.get("cwd")),
        "project_dir": project_dir,
        "model_id": _text(model.get("id")) if isinstance(model, t.Mapping) else None,
        "cost_usd": number(cost.get("total_cost_usd")) if isinstance(cost, t.Mapping) else None,
    }
    if observed_at is not None:
        extra["observed_at"] = to_rfc3339(observed_at)
    return Usage(
        provider=PROVIDER,
        screen=SCREEN,
        version=_text(obj.get("version")),
        model=model_name,
        limits=limits_from_rate_limits(obj.get("rate_limits")),
        context_left_pct=context_left,
        extra=extra,
    )


def _pct(value: float | None) -> str:
    return "?" if value is None else f"{value:.0f}%" if value == int(value) else f"{value:.1f}%"


def render_status_line(usage: Usage, zone: dt.tzinfo | None = None) -> str:
    """One short line for Claude's status bar: ``Opus 4.5 · 5h 23% (resets 14:00) · wk 41%``.

    Reset times are shown in ``zone`` (the local zone when ``None``).
    """
    parts = [usage.model or "Claude"]
    for limit in usage.limits:
        label = {"5h": "5h", "weekly": "wk"}.get(limit.window, limit.window)
        if limit.scope:
            label = f"{label} {limit.scope}"
        part = f"{label} {_pct(limit.used_pct)}"
        if limit.window == "5h" and limit.resets_at is not None:
            part += f" (resets {limit.resets_at.astimezone(zone):%H:%M})"
        parts.append(part)
    if not usage.limits:
        cost = usage.extra.get("cost_usd")
        if isinstance(cost, float):
            parts.append(f"${cost:.2f}")
    return " · ".join(parts)
