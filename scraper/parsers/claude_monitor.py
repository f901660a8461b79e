"""claude-monitor (Claude Code Usage Monitor) realtime screens, 3.x and 4.x.

The monitor estimates a 5-hour session from Claude's local logs; every figure it shows is an
estimate (``estimate: true``) with a metric: ``cost`` (``$20.40 / $35.00``), ``tokens``
(``94,175 / 88,000``) or ``messages`` (``280 / 1,000``). ``used_pct`` is the percentage the
monitor prints; only without one is it computed, and only from exact numbers (``~88,000`` is
approximate, so a ``-- / ~88,000`` row gets no percentage at all).

Reading rules:

- The monitor wraps long lines itself, so a value can continue on the next line
  (``94,175 /`` then ``88,000``): lines are first joined into logical ``Label: value`` lines.
- 3.x writes ``⏱️  Time to Reset:`` (two spaces) and no ``(local estimate)`` label; 4.x adds
  the label. Labels are matched by their words, not by column.
- ``Limit resets at: 8:00 AM`` (absolute) wins over ``Time to Reset: 1h 26m`` (relative).
  Absolute times are read in the zone the header shows (``[ max5 | utc ]``), else the
  configured one.
- ``No active session`` and the no-data screens: no limits, a warning, state ``idle``.

The monitor is a display, never an agent: its pane is ``idle`` while the monitor runs and
``unknown`` once a shell prompt is back.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import re
import typing as t
import zoneinfo

from scraper.parsers import claude_monitor_reports
from scraper.parsers.model import Limit, Usage
from scraper.parsers.resets import resolve_reset, zone_named
from scraper.parsers.text import SHELL_PROMPT_RE, clean_lines, strip_ansi

if t.TYPE_CHECKING:
    import datetime as dt

    from scraper.parsers.model import Metric, State

logger = logging.getLogger(__name__)

PROVIDER = "claude-monitor"
SCREEN = "claude-monitor.realtime"

_LABEL = re.compile(
    r"^\s*(?:[^\w\s$~(\[.,/-]+\s+){0,3}(?P<label>[A-Z][A-Za-z ]{0,40}?)\s{0,8}:(?:\s+|$)"
    r"(?P<value>.*)$"
)
_SEPARATOR = re.compile(r"^\s*[─━=\-]{5,}\s*$")
_HEADER = re.compile(r"CLAUDE (?:CODE USAGE|TOKEN) MONITOR", re.IGNORECASE)
_PLAN_ZONE = re.compile(r"^\s*\[\s*(?P<plan>[\w.-]+)\s*\|\s*(?P<zone>[\w/+-]+)\s*\]\s*$")
_STATUS_LINE = re.compile(r"Ctrl\+C to exit", re.IGNORECASE)
_CONTINUATION_START = re.compile(r"^\s*[\w$~(/\[.,%█░▓▒▌▐-]")
_PCT = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)%")
_AMOUNT = r"(~?\$?[\d,]{0,20}\d(?:\.\d+)?[kKM]?)"
_USED_OF = re.compile(_AMOUNT + r"\s*/\s*" + _AMOUNT)
_NO_DATA = re.compile(
    r"No active session|No (?:Claude )?(?:usage )?data(?: directory)? found|No usage data"
    r"|Failed to (?:get|load|read)[^|(]*[^|(\s]|Error:[^|]*[^|\s]|Fetching Claude usage data"
    # the monitor's own notifications (estimates too, so warnings rather than figures)
    r"|Token limit exceeded \([^)]*\)|You have exceeded the maximum cost limit"
    r"|Cost limit will be exceeded before reset|Limit reached",
    re.IGNORECASE,
)
_TOKEN_ROW = re.compile(r"Token Usage:", re.IGNORECASE)
_RATE_OR_RESET_ROW = re.compile(r"Burn Rate:|Time to Reset:", re.IGNORECASE)

_METRICS: tuple[tuple[str, Metric], ...] = (
    ("cost usage", "cost"),
    ("token usage", "tokens"),
    ("messages usage", "messages"),
    ("message usage", "messages"),
    ("tokens", "tokens"),
)
_RELATIVE_RESET_LABELS = ("time to reset",)
_ABSOLUTE_RESET_LABELS = ("limit resets at", "token reset", "resets at", "reset time")


def _logical_lines(text: str) -> list[str]:
    """Join the lines the monitor wrapped itself back onto their label line."""
    logical: list[str] = []
    can_continue = False
    for line in clean_lines(text):
        if not line.strip() or _SEPARATOR.match(line):
            logical.append(line)
            can_continue = False
            continue
        if (
            can_continue
            and not _LABEL.match(line)
            and not _STATUS_LINE.search(line)
            and _CONTINUATION_START.match(line)
        ):
            logical[-1] = f"{logical[-1].rstrip()} {line.strip()}"
            continue
        logical.append(line)
        can_continue = bool(_LABEL.match(line))
    return logical


def _amount(text: str) -> tuple[float | None, bool]:
    """A shown amount and whether it is exact (no ``~``, no ``k``/``M`` rounding)."""
    exact = not text.startswith("~") and text[-1:] not in ("k", "K", "M")
    number = text.lstrip("~$").rstrip("kKM").replace(",", "")
    try:
        value = float(number)
    except ValueError:
        return None, False
    if text[-1:] in ("k", "K"):
        value *= 1_000
    elif text[-1:] == "M":
        value *= 1_000_000
    return value, exact


@functools.lru_cache(maxsize=1)
def _zone_names() -> dict[str, str]:
    return {name.lower(): name for name in zoneinfo.available_timezones()}


def screen_zone(name: str) -> dt.tzinfo | None:
    """The zone the monitor's header names (``utc``, ``america/new_york``), or None.

    The monitor prints the zone lower-cased, so the IANA name is looked up case-insensitively.
    """
    exact = zone_named(name)
    if exact is not None:
        return exact
    canonical = _zone_names().get(name.lower())
    if canonical is None:
        return None
    try:
        return zoneinfo.ZoneInfo(canonical)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


def _metric_of(label: str) -> Metric | None:
    lowered = label.lower()
    for name, metric in _METRICS:
        if lowered == name:
            return metric
    return None


@dataclasses.dataclass
class _Reading:
    """One metric row as read; a :class:`Limit` only once a percentage is known."""

    used_pct: float | None
    used: float | None
    limit: float | None

    def merged(self, other: _Reading) -> _Reading:
        """3.x shows tokens twice (``Token Usage: … 12.3%`` and ``Tokens: 5,432 / ~44,000``)."""
        return _Reading(
            self.used_pct if self.used_pct is not None else other.used_pct,
            self.used if self.used is not None else other.used,
            self.limit if self.limit is not None else other.limit,
        )

    def to_limit(self, metric: Metric) -> Limit | None:
        """No percentage, no entry: a limit without a figure is never published."""
        if self.used_pct is None:
            return None
        return Limit(window="5h", metric=metric, used_pct=self.used_pct, used=self.used,
                     limit=self.limit, estimate=True)


def _reading_from(value: str) -> _Reading | None:
    """One metric row: the shown percentage and ``used / limit`` after the bar."""
    after_bar = value.rsplit("]", 1)[-1]
    pct_match = _PCT.search(after_bar)
    used_of = _USED_OF.search(_PCT.sub(" ", after_bar))
    used = limit = None
    exact = False
    if used_of:
        used, used_exact = _amount(used_of.group(1))
        limit, limit_exact = _amount(used_of.group(2))
        exact = used_exact and limit_exact
    used_pct: float | None = None
    if pct_match:
        used_pct = float(pct_match.group(1))
    elif exact and used is not None and limit:
        used_pct = round(used / limit * 100, 1)
    if used_pct is None and used is None:
        return None
    return _Reading(used_pct, used, limit)


def pane_state(text: str) -> tuple[State, str]:
    """``idle`` while the monitor shows its screen, ``unknown`` once it has exited."""
    lines = [line for line in clean_lines(text) if line.strip()]
    if not lines:
        return "unknown", "empty screen"
    if SHELL_PROMPT_RE.match(lines[-1].strip()):
        return "unknown", "shell prompt (claude-monitor is not running)"
    joined = "\n".join(lines)
    if re.search(r"No active session", joined, re.IGNORECASE):
        return "idle", "no active session"
    if re.search(r"Active session", joined):
        return "idle", "active session"
    if _HEADER.search(joined):
        return "idle", "monitor screen"
    if _is_table_view(joined):
        if claude_monitor_reports.screen_of(joined) == claude_monitor_reports.SCREEN_NO_DATA:
            return "unknown", "no usage data (claude-monitor exits)"
        return "idle", "daily/monthly view"
    return "unknown", "no monitor screen recognised"


def _is_table_view(plain: str) -> bool:
    """A daily/monthly view (or its no-data exit), not the realtime screen."""
    realtime = _HEADER.search(plain) or (
        _TOKEN_ROW.search(plain) and _RATE_OR_RESET_ROW.search(plain)
    )
    return not realtime and claude_monitor_reports.is_report(plain)


class ClaudeMonitorParser:
    """:class:`~scraper.parsers.model.ScreenParser` for claude-monitor's realtime view."""

    provider = PROVIDER

    def detect(self, text: str) -> bool:
        """The monitor's title, or its Token Usage row with a burn rate or time to reset."""
        plain = strip_ansi(text)
        if _HEADER.search(plain):
            return True
        if _TOKEN_ROW.search(plain) and _RATE_OR_RESET_ROW.search(plain):
            return True
        return claude_monitor_reports.is_report(plain)

    def pane_state(self, text: str) -> tuple[State, str]:
        """See :func:`pane_state`."""
        return pane_state(text)

    def parse(self, text: str, observed_at: dt.datetime, zone: dt.tzinfo) -> Usage:
        """Read the monitor's estimates; never raises, never invents a figure."""
        state, reason = pane_state(text)
        usage = Usage(provider=PROVIDER, screen=SCREEN, state=state, state_reason=reason)
        plain = strip_ansi(text)
        if _is_table_view(plain):
            claude_monitor_reports.read_report(plain, usage)  # daily/monthly: no limits
            return usage
        lines = _logical_lines(text)
        reset_zone: dt.tzinfo | None = zone  # None: the screen names a zone we cannot load
        readings: dict[Metric, _Reading] = {}
        relative: str | None = None
        absolute: str | None = None
        for line in lines:
            header = _PLAN_ZONE.match(line)
            if header:
                usage.extra["plan"] = header.group("plan")
                shown = screen_zone(header.group("zone"))
                if shown is None:
                    usage.warnings.append(f"unknown zone on screen: {header.group('zone')}")
                reset_zone = shown
                continue
            for match in _NO_DATA.finditer(line):
                warning = match.group(0).strip()
                if warning not in usage.warnings:
                    usage.warnings.append(warning)
            label_match = _LABEL.match(line)
            if label_match is None:
                continue
            label = label_match.group("label").strip().lower()
            value = label_match.group("value").strip()
            metric = _metric_of(label)
            if metric is not None:
                reading = _reading_from(value)
                if reading is not None:
                    known = readings.get(metric)
                    readings[metric] = known.merged(reading) if known else reading
            elif label in _RELATIVE_RESET_LABELS:
                relative = _PCT.sub("", value.rsplit("]", 1)[-1]).strip() or None
            elif label in _ABSOLUTE_RESET_LABELS:
                absolute = value or None
            elif label == "burn rate":
                burn = re.match(r"([\d,]+(?:\.\d+)?)\s*tokens/min", value)
                if burn:
                    usage.extra["burn_rate_tokens_per_min"] = float(burn.group(1).replace(",", ""))
        if any(w.lower().startswith("no active session") for w in usage.warnings):
            return usage  # the monitor shows an empty template: no window, no figures
        resets_at, resets_text = _resets(absolute, relative, observed_at, zone, reset_zone)
        for metric, reading in readings.items():
            limit = reading.to_limit(metric)
            if limit is not None:
                limit.resets_at = resets_at
                limit.resets_text = resets_text
                usage.limits.append(limit)
        return usage


def _resets(
    absolute: str | None,
    relative: str | None,
    observed_at: dt.datetime,
    zone: dt.tzinfo,
    reset_zone: dt.tzinfo | None,
) -> tuple[dt.datetime | None, str | None]:
    """Absolute wins over relative; an absolute time is read in the zone the screen shows."""
    if absolute and reset_zone is not None:
        resolved = _resolve(absolute, observed_at, reset_zone)
        if resolved is not None:
            return resolved, absolute
    if relative:
        resolved = _resolve(relative, observed_at, zone)
        if resolved is not None:
            return resolved, relative
    return None, absolute or relative


def _resolve(phrase: str, observed_at: dt.datetime, zone: dt.tzinfo) -> dt.datetime | None:
    try:
        return resolve_reset(phrase, observed_at, zone)
    except Exception:  # an unreadable reset is unknown, never a reason to fail the screen
        logger.debug("unreadable reset phrase %r", phrase, exc_info=True)
        return None
