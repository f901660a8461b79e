"""Properties of every registered parser over arbitrary and mutated real screens.

1. Nothing ever raises (a parser runs inside a long-lived scraper).
2. Never invented: every ``used_pct`` is a number printed on the screen — as printed, as
   ``100 - n`` for screens that print "% left", or (monitor estimates without a printed
   percentage) computed from a ``used`` and ``limit`` that are both printed, or 100 where the
   screen says a limit was hit.
3. Never null: no limit entry carries ``used_pct: null`` — a figure or no entry (docs/parsers.md).
"""

from __future__ import annotations

import datetime as dt
import re
import typing as t
import zoneinfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scraper.parsers import registry
from scraper.parsers.text import strip_ansi
from tests import FIXTURES

if t.TYPE_CHECKING:
    from scraper.parsers.model import Usage

SCREEN_FILES = sorted((FIXTURES / "screens").glob("*/*.txt")) + sorted(
    (FIXTURES / "codex" / "snapshots").glob("*.snap")
)
SCREENS = [path.read_text(encoding="utf-8", errors="replace") for path in SCREEN_FILES]
ZONES = [dt.timezone.utc, zoneinfo.ZoneInfo("America/New_York"), zoneinfo.ZoneInfo("Asia/Kolkata")]
VOCAB = [
    "\n", " ", "  ", "·", "%", "% used", "% left", "Current session", "Current week (all models)",
    "Current week (Opus)", "Usage credits", "Resets ", "4:59am", "Nov 28, 11:59am",
    "(America/New_York)", "(Mars/Base)", "You've used ", "You've hit your session limit",
    " of your session limit · resets ", "Esc to cancel", "Settings  Status   Config   Usage",
    "Claude Code v2.1.197", "CLAUDE CODE USAGE MONITOR", "💰 Cost Usage:", "📊 Token Usage:",
    "🎯 Tokens:", "⏱️  Time to Reset:", "Limit resets at:", "[ max5 | utc ]", "[", "]", "█", "░",
    "$", " / ", "~", "1h 26m", "8:00 AM", "No active session", ">_ OpenAI Codex (v0.169.0)",
    "5h limit:", "Weekly limit:", "resets 19:48", "⚠", "\x1b[1m", "\x1b[0m", "❯",
    "esc to interrupt",
    # issue 12 screens: the cached first render, credits, hit lines, exec, report tables
    "Refreshing…", "Scanning local sessions…", "Usage credits · ", "$12.34 / $50.00 spent",
    "You’ve hit your usage limit. ", "try again at 8:56 AM.", "You've hit your weekly limit",
    "OpenAI Codex v0.169.0\n--------\n", "Sign in with ChatGPT", "Update available · ",
    "│ ", " │ ", "- opus-4-7", "• claude-opus-4-7", "(inactive)", "PROJECTED", "2026-11-27",
    "Press Ctrl+C to exit", "Running in Compact Mode", "No usage data found for daily view",
    "37", "100", "107.0", "0.5", "12,345", "1234", "99999999999999999999",
]
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
#: Screens that say a limit was used up: 100% is then what they mean, printed or not.
_HIT = re.compile(r"hit your [\w .'’-]{0,40}limit|limit reached", re.IGNORECASE)
HIT_PCT = 100.0


def _printed_numbers(text: str) -> set[float]:
    numbers: set[float] = set()
    for match in _NUMBER.finditer(strip_ansi(text)):
        literal = match.group(0)
        for candidate in {literal.replace(",", ""), literal.replace(",", ".")}:
            try:
                numbers.add(float(candidate))
            except ValueError:
                continue
    return numbers


def _close_to_any(value: float, numbers: set[float]) -> bool:
    return any(abs(value - number) < 1e-6 for number in numbers)


def _check_never_null(usage: Usage) -> None:
    """A limit is a figure or nothing: neither the object nor its JSON carries a null."""
    for limit in usage.limits:
        assert isinstance(limit.used_pct, float), limit
    for entry in usage.to_dict()["limits"]:
        assert isinstance(entry["used_pct"], float), entry


def _check_never_invented(text: str, usage: Usage) -> None:
    _check_never_null(usage)
    printed = _printed_numbers(text)
    hit = _HIT.search(strip_ansi(text)) is not None
    for limit in usage.limits:
        pct = limit.used_pct
        if _close_to_any(pct, printed) or _close_to_any(100.0 - pct, printed):
            continue
        if hit and pct == HIT_PCT:
            continue
        computed = (
            limit.used is not None
            and limit.limit
            and _close_to_any(limit.used, printed)
            and _close_to_any(limit.limit, printed)
            and abs(round(limit.used / limit.limit * 100, 1) - pct) < 1e-6
        )
        assert computed, f"{usage.provider}: used_pct {pct} is not on the screen"


def _all_parsers_read(text: str, observed_at: dt.datetime, zone: dt.tzinfo) -> None:
    for parser in registry.default_registry().parsers():
        parser.detect(strip_ansi(text))
        usage = parser.parse(strip_ansi(text), observed_at, zone)
        assert usage.provider == parser.provider
        assert usage.state in ("idle", "working", "waiting", "unknown")
        usage.to_dict()
        _check_never_invented(text, usage)
    auto = registry.parse_screen(text, observed_at, zone)
    if auto is not None:
        _check_never_invented(text, auto)
    registry.pane_state(text)


moments = st.datetimes(
    min_value=dt.datetime(2001, 1, 1), max_value=dt.datetime(2098, 12, 31),
    timezones=st.just(dt.timezone.utc),
)
zones = st.sampled_from(ZONES)
screenish = st.lists(st.one_of(st.sampled_from(VOCAB), st.text(max_size=12)), max_size=60).map(
    "".join
)


@st.composite
def mutated_screens(draw: st.DrawFn) -> str:
    """A real screen with lines dropped, repeated, shuffled, cut or with digits changed."""
    lines = draw(st.sampled_from(SCREENS)).split("\n")
    for _ in range(draw(st.integers(0, 6))):
        if not lines:
            break
        op = draw(st.sampled_from(["drop", "dup", "swap", "cut", "digits", "insert", "join"]))
        i = draw(st.integers(0, len(lines) - 1))
        j = draw(st.integers(0, len(lines) - 1))
        if op == "drop":
            del lines[i]
        elif op == "dup":
            lines.insert(j, lines[i])
        elif op == "swap":
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "cut":
            lines[i] = lines[i][: draw(st.integers(0, max(0, len(lines[i]))))]
        elif op == "digits":
            digit = draw(st.sampled_from("0123456789"))
            lines[i] = re.sub(r"\d", digit, lines[i])
        elif op == "insert":
            lines.insert(i, draw(screenish))
        elif op == "join" and i + 1 < len(lines):
            lines[i : i + 2] = [lines[i] + lines[i + 1]]
    return "\n".join(lines)


SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@SETTINGS
@given(text=st.text(max_size=400), observed_at=moments, zone=zones)
def test_arbitrary_text(text: str, observed_at: dt.datetime, zone: dt.tzinfo) -> None:
    _all_parsers_read(text, observed_at, zone)


@SETTINGS
@given(text=screenish, observed_at=moments, zone=zones)
def test_screen_vocabulary(text: str, observed_at: dt.datetime, zone: dt.tzinfo) -> None:
    _all_parsers_read(text, observed_at, zone)


@SETTINGS
@given(text=mutated_screens(), observed_at=moments, zone=zones)
def test_mutated_real_screens(text: str, observed_at: dt.datetime, zone: dt.tzinfo) -> None:
    _all_parsers_read(text, observed_at, zone)


@pytest.mark.parametrize("index", range(len(SCREENS)), ids=[p.name for p in SCREEN_FILES])
def test_real_screens_unchanged(index: int) -> None:
    seen = dt.datetime(2026, 11, 25, 6, 30, tzinfo=dt.timezone.utc)
    _all_parsers_read(SCREENS[index], seen, dt.timezone.utc)
