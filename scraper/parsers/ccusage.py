"""ccusage's terminal reports: who they are, never limits.

ccusage (``daily``, ``weekly``, ``monthly``, ``session``, ``blocks``; ``blocks --live`` up to
17.x) prints token and cost tables from the local logs. Its percentages (``27.5%`` of a block,
``78.7%`` in the live box) are projections against a token limit it guesses from past usage,
not the provider's quota, so this parser reports NO limits (docs/parsers.md: never guess); the
``--json`` reports are read by ``scraper.sources.ccusage``.

A report longer than the pane has its title and column header scrolled off, so a table is
recognised by its rows too (:mod:`scraper.parsers.tables`):

- the title ``… Usage Report - Daily`` (``Claude Code Token Usage Report`` up to 17.x,
  ``Coding (Agent) CLI Usage Report`` in 20.x) or the live box ``LIVE TOKEN USAGE MONITOR``;
- a column header with ``Models``, ``Input``/``Tokens`` and ``Cost``;
- rows alone: model lists written ``- sonnet-4-6`` beside number cells (claude-monitor writes
  ``• claude-…``, and is not read here), ``(inactive)`` / ``PROJECTED`` / ``REMAINING`` block
  rows, or ``Running in Compact Mode`` under the table.

Screens: ``ccusage.daily``, ``.weekly``, ``.monthly``, ``.session``, ``.blocks``, ``.live``,
and ``ccusage.report`` when the title and header are gone and the rows do not tell (a daily and
a weekly table look alike when every row is a week apart). State: ``idle`` while the live box
runs, else ``unknown`` (a report is not an agent; ccusage has exited).
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import re
import typing as t

from scraper.parsers import tables
from scraper.parsers.model import Usage
from scraper.parsers.text import clean_lines, ends_at_shell_prompt, strip_ansi

if t.TYPE_CHECKING:
    from scraper.parsers.model import State

logger = logging.getLogger(__name__)

PROVIDER = "ccusage"
SCREEN_REPORT = "ccusage.report"
SCREEN_LIVE = "ccusage.live"
KINDS = ("daily", "weekly", "monthly", "session", "blocks")

_TITLE_RE = re.compile(
    r"(?:Claude Code Token|Coding \(Agent\) CLI|Codex Token|(?<![\w(])[\w()]{1,30} CLI)"
    r" Usage Report[ \t]*-[ \t]*"
    r"(?P<kind>[A-Za-z][A-Za-z ]{0,30}?)[ \t]*(?:\(|│|$)",
    re.MULTILINE,
)
_LIVE_RE = re.compile(r"LIVE TOKEN USAGE MONITOR")
_COMPACT_RE = re.compile(r"^[ \t]*Running in Compact Mode[ \t]*$", re.MULTILINE)
_MODEL_ITEM = re.compile(r"^- [\w.@/:-]+…?$")
_BLOCK_CELLS = frozenset({"(inactive)", "PROJECTED", "REMAINING", "ACTIVE"})
_BLOCK_START = re.compile(r"^\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4},\s+\d{1,2}:\d{2}")
_MONTH_CELL = re.compile(r"^\d{4}-\d{2}$")
_DATE_CELL = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_YEAR_CELL = re.compile(r"^\d{4}$")
_MONTH_DAY_CELL = re.compile(r"^\d{2}-\d{2}$")
_SESSION_CELL = re.compile(r"^[0-9a-f]{6,}…?$")
_HEADER_FIRST = {"date": "daily", "week": "weekly", "month": "monthly", "session": "session",
                 "block start": "blocks"}
WEEK = 7
#: Rows with figures a table needs before its rows alone count as a ccusage report.
MIN_FIGURE_ROWS = 2
MIN_NUMBER_CELLS = 2


def _kind_word(text: str) -> str | None:
    """``Daily`` → daily, ``Session Blocks`` → blocks, ``By Session`` → session."""
    lowered = text.lower()
    for word, kind in (("block", "blocks"), ("session", "session"), ("daily", "daily"),
                       ("week", "weekly"), ("month", "monthly")):
        if word in lowered:
            return kind
    return None


def _is_header(row: list[str]) -> bool:
    lowered = {cell.lower() for cell in row}
    return "models" in lowered and bool(lowered & {"input", "tokens"}) and any(
        cell.startswith("cost") for cell in lowered
    )


def _figure_rows(rows: list[list[str]]) -> int:
    return sum(
        1 for row in rows if sum(1 for cell in row if tables.NUMBER_CELL.match(cell)) >= 2
    )


def looks_like_report(text: str) -> bool:
    """A ccusage title, live box, header, or rows shaped like a ccusage table."""
    if _TITLE_RE.search(text) or _LIVE_RE.search(text):
        return True
    rows = tables.rows(text)
    if any(cell.startswith("•") for row in rows for cell in row):
        return False  # claude-monitor's tables list models with bullets
    if any(_is_header(row) for row in rows):
        return True
    if _figure_rows(rows) < MIN_FIGURE_ROWS:
        return False
    cells = {cell for row in rows for cell in row}
    return bool(
        any(_MODEL_ITEM.match(cell) for cell in cells)
        or cells & _BLOCK_CELLS
        or _COMPACT_RE.search(text)
    )


def _dates(rows: list[list[str]]) -> list[dt.date]:
    """First-column dates, joining ``2026`` / ``11-27`` split over two lines by a narrow cell."""
    found: list[dt.date] = []
    for index, row in enumerate(rows):
        first = row[0]
        text = None
        if _DATE_CELL.match(first):
            text = first
        elif _YEAR_CELL.match(first) and index + 1 < len(rows):
            following = rows[index + 1][0]
            if _MONTH_DAY_CELL.match(following):
                text = f"{first}-{following}"
        if text is not None:
            try:
                found.append(dt.date.fromisoformat(text))
            except ValueError:
                continue
    return found


def kind_from_rows(rows: list[list[str]]) -> str | None:
    """What a table without title or header reports, when its rows say so for certain."""
    for row in rows:
        if _is_header(row):
            return _HEADER_FIRST.get(row[0].lower())
    cells = [cell for row in rows for cell in row]
    if any(cell in _BLOCK_CELLS or _BLOCK_START.match(cell) for cell in cells):
        return "blocks"
    firsts = [row[0] for row in rows if row[0]]
    if any(_MONTH_CELL.match(cell) for cell in firsts):
        return "monthly"
    if any(_SESSION_CELL.match(cell) for cell in firsts):
        return "session"
    dates = _dates(rows)
    gaps = [(later - earlier).days for earlier, later in itertools.pairwise(dates)]
    if any(gap % WEEK for gap in gaps):
        return "daily"  # two rows fewer than a week apart (or not a whole number of weeks)
    return None


def pane_state(text: str) -> tuple[State, str]:
    """``idle`` while the live box runs; a printed report is no agent (``unknown``)."""
    lines = clean_lines(text)
    if not any(line.strip() for line in lines):
        return "unknown", "empty screen"
    if ends_at_shell_prompt(lines):
        return "unknown", "shell prompt (ccusage has exited)"
    if _LIVE_RE.search(text):
        return "idle", "ccusage live view"
    return "unknown", "ccusage report (not an agent)"


class CcusageParser:
    """:class:`~scraper.parsers.model.ScreenParser` for ccusage's terminal reports."""

    provider = PROVIDER

    def detect(self, text: str) -> bool:
        """A ccusage report or live box (see :func:`looks_like_report`)."""
        return looks_like_report(strip_ansi(text))

    def pane_state(self, text: str) -> tuple[State, str]:
        """See :func:`pane_state`."""
        return pane_state(strip_ansi(text))

    def parse(self, text: str, observed_at: dt.datetime, zone: dt.tzinfo) -> Usage:
        """Name the report; never any limit (ccusage's percentages are projections)."""
        plain = strip_ansi(text)
        state, reason = pane_state(plain)
        usage = Usage(provider=PROVIDER, screen=SCREEN_REPORT, state=state, state_reason=reason)
        try:
            kind = self._kind(plain)
        except Exception:  # an odd table is still a ccusage screen; its kind is unknown
            logger.exception("ccusage parser failed", extra={"provider": PROVIDER})
            kind = None
        if _LIVE_RE.search(plain):
            usage.screen = SCREEN_LIVE
            usage.extra["report"] = "blocks-live"
        elif kind is not None:
            usage.screen = f"{PROVIDER}.{kind}"
            usage.extra["report"] = kind
        if _COMPACT_RE.search(plain):
            usage.extra["compact"] = True
        return usage

    @staticmethod
    def _kind(plain: str) -> str | None:
        titles = list(_TITLE_RE.finditer(plain))
        if titles:
            kind = _kind_word(titles[-1].group("kind"))
            if kind is not None:
                return kind
        return kind_from_rows(tables.rows(plain))
