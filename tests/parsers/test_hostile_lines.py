"""Hostile lines found by the fuzzers: a number's tail is no figure, a huge line costs little."""

from __future__ import annotations

import datetime as dt

from scraper.parsers.registry import MAX_LINE_CHARS, bounded_lines, parse_screen
from tests import FIXTURES

NOW = dt.datetime(2026, 11, 25, 6, 39, 11, tzinfo=dt.timezone.utc)
USAGE = FIXTURES / "screens/claude/claude-code-2.1.197-usage-tab-max-120x40.txt"


def test_the_tail_of_a_float_is_not_a_percentage() -> None:
    text = USAGE.read_text(encoding="utf-8")
    usage = parse_screen(text, NOW, dt.timezone.utc, provider="claude")
    assert usage is not None
    first = usage.limits[0]
    assert first.window == "5h"
    shown = f"{first.used_pct:g}% used"
    hostile = text.replace(shown, "1.7976931348623157e308% used", 1)
    assert hostile != text
    again = parse_screen(hostile, NOW, dt.timezone.utc, provider="claude")
    assert again is not None
    assert "5h" not in [lim.window for lim in again.limits]  # left out, never 308 %
    assert all(0 <= lim.used_pct <= 100 for lim in again.limits)


def test_a_huge_line_is_cut_before_the_parsers_see_it() -> None:
    text = USAGE.read_text(encoding="utf-8")
    huge = text + "\n" + "9" * 200_000 + "\n"
    usage = parse_screen(huge, NOW, dt.timezone.utc)  # was seconds of regex scanning
    assert usage is not None and usage.screen == "claude.usage"
    assert max(len(line) for line in bounded_lines(huge).split("\n")) == MAX_LINE_CHARS
