"""ccusage and claude-monitor report screens: recognised by title, header or rows; no limits.

Rows derived from the real captures' format rules (tests/fixtures/screens/ccusage and the
claude-monitor daily/monthly files): the same tables cut at other places, other widths.
"""

from __future__ import annotations

import datetime as dt
import typing as t

import pytest

from scraper.parsers import registry

SEEN = dt.datetime(2026, 12, 3, 16, 0, tzinfo=dt.timezone.utc)

CC_ROWS = """\
│ 2026     │ All        │              │     1,269 │    230,203 │    $20.29 │
│ 11-27    │            │              │           │            │           │
├──────────┼────────────┼──────────────┼───────────┼────────────┼───────────┤
│          │ - Claude   │ - haiku-4-5  │     1,269 │    230,203 │    $20.29 │
│          │            │ - opus-4-7   │           │            │           │
├──────────┼────────────┼──────────────┼───────────┼────────────┼───────────┤
"""
CC_NEXT_DAY = """\
│ 2026     │ All        │              │       772 │    149,944 │    $10.71 │
│ 11-28    │            │              │           │            │           │
├──────────┼────────────┼──────────────┼───────────┼────────────┼───────────┤
"""
CC_NEXT_WEEK = CC_NEXT_DAY.replace("11-28", "12-04")
MONITOR_ROWS = """\
│ 2026-11-27  │ •                   │       1,269 │      94,142 │    $18.15 │
│             │ claude-haiku-4-5-2… │             │             │           │
│             │ • claude-opus-4-7   │             │             │           │
├─────────────┼─────────────────────┼─────────────┼─────────────┼───────────┤
│ 2026-11-28  │ •                   │         772 │      63,575 │     $9.61 │
└─────────────┴─────────────────────┴─────────────┴─────────────┴───────────┘
Press Ctrl+C to exit
"""
PROMPT = "bash-5.2# \n"


class Case(t.NamedTuple):
    test_id: str
    text: str
    provider: str | None
    screen: str | None
    state: str | None


CASES = [
    # ccusage: rows alone (title and header scrolled off)
    Case("cc-daily-rows-a-day-apart", CC_ROWS + CC_NEXT_DAY + PROMPT, "ccusage", "ccusage.daily",
         "unknown"),
    Case("cc-rows-a-week-apart-daily-or-weekly", CC_ROWS + CC_NEXT_WEEK + PROMPT, "ccusage",
         "ccusage.report", "unknown"),
    Case("cc-one-date-unknown-kind", CC_ROWS + PROMPT, "ccusage", "ccusage.report", "unknown"),
    Case("cc-monthly-cells", CC_ROWS.replace("│ 2026     │", "│ 2026-11  │").replace(
        "│ 11-27    │", "│          │"), "ccusage", "ccusage.monthly", "unknown"),
    Case("cc-session-ids", CC_ROWS.replace("│ 2026     │", "│ 2996be5… │").replace(
        "│ 11-27    │", "│          │"), "ccusage", "ccusage.session", "unknown"),
    Case("cc-blocks-projected-row",
         "│ 12/3/2026, 12:00:00 PM      │ ACTIVE     │ - opus-4-7  │  4,979 │  67.5% │  $1.17 │\n"
         "│ (assuming current burn rate)│ PROJECTED  │             │  5,806 │  91.3% │  $1.58 │\n",
         "ccusage", "ccusage.blocks", "unknown"),
    Case("cc-header-only",
         "│ Month    │ Agent       │ Models        │     Input │     Output │ Cost (USD) │\n",
         "ccusage", "ccusage.monthly", "unknown"),
    Case("cc-title-17", " │  Claude Code Token Usage Report - Session Blocks  │\n", "ccusage",
         "ccusage.blocks", "unknown"),
    Case("cc-title-20", "│  Coding (Agent) CLI Usage Report - Weekly   │\n", "ccusage",
         "ccusage.weekly", "unknown"),
    Case("cc-live-box-running",
         " │   CLAUDE CODE - LIVE TOKEN USAGE MONITOR   │\n │ ⏱️  SESSION  [███░░]  78.7%  │\n"
         " │  ↻ Refreshing every 1s  •  Press Ctrl+C to stop  │\n",
         "ccusage", "ccusage.live", "idle"),
    # claude-monitor tables: bullets and its footer, never ccusage
    Case("monitor-rows-alone", MONITOR_ROWS, "claude-monitor", "claude-monitor.daily", "idle"),
    Case("monitor-rows-cut-dates", MONITOR_ROWS.replace("2026-11-27 ", "2026-…     ").replace(
        "2026-11-28 ", "2026-…     "), "claude-monitor", "claude-monitor.report", "idle"),
    Case("monitor-title", "  Claude Code Token Usage Report - Monthly (Europe/Warsaw)  \n",
         "claude-monitor", "claude-monitor.monthly", "idle"),
    Case("monitor-no-data-exited",
         "$ claude-monitor --view monthly\nNo usage data found for monthly view\n$ \n",
         "claude-monitor", "claude-monitor.no-data", "unknown"),
    # not reports
    Case("one-number-row-is-not-a-report", "│ total │ 12 │ 13 │\n", None, None, None),
    Case("a-table-without-model-items", "│ a │ 1 │ 2 │\n│ b │ 3 │ 4 │\n", None, None, None),
    Case("no-data-words-without-the-monitor", "No Claude data directory found.\n", None, None,
         None),
]


@pytest.mark.parametrize("case", CASES, ids=[c.test_id for c in CASES])
def test_report_screen(case: Case) -> None:
    usage = registry.parse_screen(case.text, SEEN, dt.timezone.utc)
    if case.provider is None:
        assert usage is None
        return
    assert usage is not None
    assert (usage.provider, usage.screen, usage.state) == (case.provider, case.screen,
                                                           case.state), usage.state_reason
    assert usage.limits == []  # report percentages are projections, never a quota
