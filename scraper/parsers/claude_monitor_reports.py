"""claude-monitor's ``--view daily`` / ``--view monthly`` tables and its no-data screens.

These views list tokens and cost per day or month: no limit, no window, so no figures (the
realtime view's estimates are read by :mod:`scraper.parsers.claude_monitor`). They must still
say who they are:

- ``claude-monitor.daily`` / ``claude-monitor.monthly``: the title ``Claude Code Token Usage
  Report - Daily (UTC)``, the summary ``📊 Daily Usage Summary - …``, the header's first
  column (``Date`` / ``Month``), or first-column cells (``2026-11-27`` / ``2026-11``). The
  monitor keeps redrawing the table (``Press Ctrl+C to exit``), so a long one has its title
  and header scrolled off; then it is recognised by its rows: models listed with bullets
  (``• claude-opus-4-7``; ccusage writes ``- opus-4-7``) and the ``Press Ctrl+C to exit``
  footer. A narrow pane cuts the dates (``2026-…``): such a table is ``claude-monitor.report``.
- ``claude-monitor.no-data``: ``No usage data found for daily view`` or ``No Claude data
  directory found`` (… ``run claude-monitor again``); the monitor has exited.
"""

from __future__ import annotations

import re
import typing as t

from scraper.parsers import tables

if t.TYPE_CHECKING:
    from scraper.parsers.model import Usage

PROVIDER = "claude-monitor"
SCREEN_REPORT = "claude-monitor.report"
SCREEN_NO_DATA = "claude-monitor.no-data"

_TITLE_RE = re.compile(
    r"Claude Code Token Usage Report - (?P<kind>Daily|Monthly) \([^)]*\)"
    r"|(?P<summary>Daily|Monthly) Usage Summary - ",
)
_NO_VIEW_DATA_RE = re.compile(r"No usage data found for (?:daily|monthly) view")
#: Only the monitor's message when the screen names the monitor ("run claude-monitor again").
_NO_DIR_RE = re.compile(r"No Claude data directory found")
_FOOTER_RE = re.compile(r"^[ \t]*Press Ctrl\+C to exit[ \t]*$", re.MULTILINE)
_DAY_CELL = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MONTH_CELL = re.compile(r"^\d{4}-\d{2}$")
_FIRST_HEADER = {"date": "daily", "month": "monthly"}


def no_data_message(text: str) -> str | None:
    """The no-data message a daily/monthly run printed before exiting, else None."""
    match = _NO_VIEW_DATA_RE.search(text)
    if match is None and "claude-monitor" in text:
        match = _NO_DIR_RE.search(text)
    return match.group(0) if match else None


def _bullet_table(text: str) -> bool:
    rows = tables.rows(text)
    return bool(_FOOTER_RE.search(text)) and any(
        cell.startswith("•") for row in rows for cell in row
    )


def is_report(text: str) -> bool:
    """A daily/monthly view or its no-data screen (escapes already stripped)."""
    return bool(_TITLE_RE.search(text) or no_data_message(text) or _bullet_table(text))


def report_kind(text: str) -> str | None:
    """``daily`` or ``monthly`` when the screen says so for certain, else None."""
    titles = list(_TITLE_RE.finditer(text))
    if titles:
        last = titles[-1]
        return (last.group("kind") or last.group("summary") or "").lower() or None
    rows = tables.rows(text)
    for row in rows:
        kind = _FIRST_HEADER.get(row[0].lower())
        if kind is not None:
            return kind
    firsts = [row[0] for row in rows]
    if any(_DAY_CELL.match(cell) for cell in firsts):
        return "daily"
    if any(_MONTH_CELL.match(cell) for cell in firsts):
        return "monthly"
    return None


def screen_of(text: str) -> str:
    """The screen name of a report view (see the module docstring)."""
    if no_data_message(text) is not None and not _bullet_table(text):
        return SCREEN_NO_DATA
    kind = report_kind(text)
    return f"{PROVIDER}.{kind}" if kind else SCREEN_REPORT


def read_report(text: str, usage: Usage) -> None:
    """Name the screen; the table has no limits, the no-data message becomes a warning."""
    usage.screen = screen_of(text)
    message = no_data_message(text)
    if usage.screen == SCREEN_NO_DATA and message is not None:
        usage.warnings.append(message)
    kind = report_kind(text)
    if kind and usage.screen != SCREEN_NO_DATA:
        usage.extra["report"] = kind
