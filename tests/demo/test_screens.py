"""The screen templates and figures: pure functions, checked against the real layouts' rules."""

from __future__ import annotations

import datetime as dt
import typing as t

import pytest

from panebus.demo.agents import split_keys
from panebus.demo.figures import Clock
from panebus.demo.screens import (
    claude_bar,
    claude_reset_text,
    codex_bar,
    codex_reset_text,
    plain,
    wrap_to,
)
from panebus.standins import agent_command

UTC = dt.timezone.utc
NOW = dt.datetime(2026, 11, 25, 6, 30, tzinfo=UTC)


class ResetCase(t.NamedTuple):
    test_id: str
    resets_at: dt.datetime
    codex: str
    claude: str


RESETS = [
    ResetCase("same-day", NOW.replace(hour=8, minute=44), "08:44", "8:44am"),
    ResetCase("on-the-hour", NOW.replace(hour=21, minute=0), "21:00", "9pm"),
    ResetCase(
        "other-day",
        dt.datetime(2026, 11, 28, 11, 24, tzinfo=UTC),
        "11:24 on 28 Nov",
        "Nov 28, 11:24am",
    ),
    ResetCase(
        "next-month", dt.datetime(2026, 12, 1, 0, 5, tzinfo=UTC), "00:05 on 1 Dec", "Dec 1, 12:05am"
    ),
]


@pytest.mark.parametrize("case", RESETS, ids=[c.test_id for c in RESETS])
def test_reset_phrases_follow_each_agent(case: ResetCase) -> None:
    assert codex_reset_text(case.resets_at, NOW) == case.codex
    assert claude_reset_text(case.resets_at, NOW, None) == case.claude
    assert claude_reset_text(case.resets_at, NOW, "Etc/UTC") == f"{case.claude} (Etc/UTC)"


def test_bars_match_the_fixture_fill() -> None:
    # codex 0.169 fixture: 77% left → 15 of 20 cells; 42% left → 8.
    assert codex_bar(77) == "[" + "█" * 15 + "░" * 5 + "]"
    assert codex_bar(42) == "[" + "█" * 8 + "░" * 12 + "]"
    # claude 2.1 fixture: 37% → 18 full cells and a half, padded to 50.
    assert plain(claude_bar(37)) == "█" * 18 + "▌" + " " * 31
    assert len(plain(claude_bar(64))) == 50


def test_monitor_wraps_like_the_program() -> None:
    line = (
        "📊 Token Usage:          🔴 [" + "█" * 50 + "] 107.0% (local estimate)    94,175 / 88,000"
    )
    parts = wrap_to(line, 120)
    assert len(parts) == 2
    assert parts[1] == "88,000"


def test_figures_are_deterministic_and_move() -> None:
    started = NOW
    one, two = Clock(7, started, fast=True), Clock(7, started, fast=True)
    later = started + dt.timedelta(seconds=40)
    assert one.codex_five_hour(later) == two.codex_five_hour(later)
    assert one.codex_five_hour(later).used_pct > one.codex_five_hour(started).used_pct
    assert Clock(8, started).claude_session(started) != one.claude_session(started)
    window = one.codex_five_hour(started)
    assert window.resets_at > started
    after_reset = one.codex_five_hour(window.resets_at + dt.timedelta(seconds=1))
    assert after_reset.resets_at > window.resets_at
    assert after_reset.used_pct <= 5


def test_keys_from_the_terminal() -> None:
    assert split_keys("/status\r") == [*"/status", "enter"]
    assert split_keys("\x1b") == ["esc"]
    assert split_keys("a\x1b[Ab\x7f") == ["a", "b", "backspace"]


def test_agent_command_execs_the_stand_in() -> None:
    command = agent_command("codex", seed=3, fast=True)
    assert command.startswith("exec ")
    assert "panebus.demo.agents codex --seed 3 --fast" in command
    with pytest.raises(ValueError, match="unknown stand-in"):
        agent_command("gemini")
