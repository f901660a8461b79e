"""claude-monitor realtime screens: the 4.0.0 fixtures plus 3.x and wrapped variants.

Expected values were written by reading the screens (fixtures README: the monitor ran in UTC).
"""

from __future__ import annotations

import datetime as dt
import typing as t
import zoneinfo

import pytest

from panebus.demo.screens import wrap_to
from scraper.parsers.claude_monitor import ClaudeMonitorParser, pane_state, screen_zone
from tests import FIXTURES

SCREENS = FIXTURES / "screens" / "claude"
UTC = dt.timezone.utc

# (metric, used_pct, used, limit, resets_at ISO or None, resets_text)
Expected = tuple[str, "float | None", "float | None", "float | None", "str | None", "str | None"]


def _at(iso: str) -> dt.datetime:
    return dt.datetime.fromisoformat(iso)


def _fixture(name: str) -> str:
    path = SCREENS / name
    return path.read_text(encoding="utf-8")


def _check(usage: t.Any, want: list[Expected]) -> None:
    got = [(lim.metric, lim.used_pct, lim.used, lim.limit, lim.resets_at, lim.resets_text)
           for lim in usage.limits]
    assert [g[:4] for g in got] == [w[:4] for w in want]
    for g, w in zip(got, want, strict=True):
        assert g[4] == (_at(w[4]) if w[4] else None), (g, w)
        assert g[5] == w[5]
    for lim in usage.limits:
        assert (lim.window, lim.scope, lim.estimate) == ("5h", None, True)


MAX5: list[Expected] = [
    ("cost", 58.3, 20.40, 35.00, "2026-11-25T08:00:00+00:00", "8:00 AM"),
    ("tokens", 107.0, 94175.0, 88000.0, "2026-11-25T08:00:00+00:00", "8:00 AM"),
    ("messages", 28.0, 280.0, 1000.0, "2026-11-25T08:00:00+00:00", "8:00 AM"),
]


class FixtureCase(t.NamedTuple):
    test_id: str
    name: str
    observed_at: str
    limits: list[Expected]
    state_reason: str
    warnings: list[str]


FIXTURE_CASES = [
    FixtureCase("4.0-max5", "claude-monitor-4.0.0-realtime-max5-1", "2026-11-25T06:33:35Z", MAX5,
                "active session", []),
    FixtureCase("4.0-idle", "claude-monitor-4.0.0-realtime-idle-1", "2026-11-25T06:35:04Z", [],
                "no active session", ["No active session"]),
]


@pytest.mark.parametrize("suffix", [".txt", ".ansi.txt"])
@pytest.mark.parametrize("case", FIXTURE_CASES, ids=[c.test_id for c in FIXTURE_CASES])
def test_fixture(case: FixtureCase, suffix: str) -> None:
    text = _fixture(case.name + suffix)
    parser = ClaudeMonitorParser()
    assert parser.detect(text)
    usage = parser.parse(text, _at(case.observed_at), UTC)
    assert (usage.provider, usage.screen) == ("claude-monitor", "claude-monitor.realtime")
    assert (usage.state, usage.state_reason) == ("idle", case.state_reason)
    assert usage.extra["plan"] == "max5"
    _check(usage, case.limits)
    assert usage.warnings == case.warnings


def test_screen_zone_wins_over_configured_zone() -> None:
    usage = ClaudeMonitorParser().parse(
        _fixture("claude-monitor-4.0.0-realtime-max5-1.txt"),
        _at("2026-11-25T06:33:35Z"),
        zoneinfo.ZoneInfo("America/New_York"),
    )
    _check(usage, MAX5)


V3 = """✦ ✧ ✦ ✧ CLAUDE CODE USAGE MONITOR ✦ ✧ ✦ ✧
============================================================
[ pro | america/new_york ]

💰 Cost Usage:           🟢 [████░░░░░░░░░░░░░░░░] 12.5%    $2.19 / $17.50

📊 Token Usage:          🟢 [██░░░░░░░░░░░░░░░░░░] 10.0%    1,900 / 19,000

📨 Messages Usage:       🟢 [█░░░░░░░░░░░░░░░░░░░] 5.0%    12 /
250
────────────────────────────────────────────────────────────
⏱️  Time to Reset:       ⏰ [████████░░░░░░░░░░░░] 3h 12m

🔥 Burn Rate:              41.2 tokens/min
💲 Cost Rate:              $0.0123 $/min

🔮 Predictions:
   Tokens will run out: 10:45 PM
   Limit resets at:
   11:00 PM

⏰ 6:48:00 PM 📝 Active session | Ctrl+C to exit 🟢
"""

V3_TOKENS_ONLY = """✦ ✧ ✦ ✧ CLAUDE CODE USAGE MONITOR ✦ ✧ ✦ ✧
============================================================

📊 Token Usage:    🟢 [███░░░░░░░░░░░░░░░░░] 12.3%

⏱️  Time to Reset:  ⏰ [██████░░░░░░░░░] 1h 5m

🎯 Tokens:         5,432 / ~44,000 (38,568 left)
🔥 Burn Rate:      123.4 tokens/min

⏰ 11:20:00 PM 📝 Active session | Ctrl+C to exit 🟢
"""

NO_PCT = """✦ ✧ ✦ ✧ CLAUDE CODE USAGE MONITOR ✦ ✧ ✦ ✧
[ custom | utc ]
💰 Cost Usage:           $5.00 / $20.00
📊 Token Usage:          ~1.2k / 19,000
⏱️  Time to Reset:       2h 0m
⏰ 6:48:00 AM 📝 Active session | Ctrl+C to exit 🟢
"""

WRAPPED_PCT = """✦ ✧ ✦ ✧ CLAUDE CODE USAGE MONITOR ✦ ✧ ✦ ✧
[ max20 | europe/berlin ]
💰 Cost Usage:           🟡 [███████████████████████████████
██████████░░░░░░░░░] 75.0%
$105.00 / $140.00
⏱️ Time to Reset:        🟡 [███████] 4h 59m
🔮 Predictions:
   Limit resets at:     12:00 AM
⏰ 7:01:00 PM 📝 Active session | Ctrl+C to exit 🟢
"""

NO_DATA = """✦ ✧ ✦ ✧ CLAUDE CODE USAGE MONITOR ✦ ✧ ✦ ✧
============================================================
[ pro | utc ]

No Claude data directory found

⏰ 6:35:01 AM 📝 No active session | Ctrl+C to exit 🟨
"""

EXITED = V3 + "^C\nuser@host:~$ \n"


OLD_SCRIPT = """✦ ✧ ✦ ✧ CLAUDE TOKEN MONITOR ✦ ✧ ✦ ✧
============================================================

📊 Token Usage:    🟢 [████░░░░░░░░░░░░░░░░] 12.3%

⏳ Time to Reset:  ⏰ [████░░░░░░░░░░░░] 2h 15m

🎯 Tokens:         5,432 / ~44,000 (38,568 left)
🔥 Burn Rate:      123.4 tokens/min

🏁 Predicted End: 14:30
🔄 Token Reset:   15:00

⏰ 12:45:00 📝 Smooth sailing... | Ctrl+C to exit 🟨
"""


class VariantCase(t.NamedTuple):
    test_id: str
    text: str
    observed_at: str
    limits: list[Expected]
    state: tuple[str, str]
    warnings: list[str]


VARIANT_CASES = [
    # header zone (lower-cased IANA name) wins; absolute "Limit resets at" (wrapped) wins
    VariantCase("3.x-two-space-label-wrapped-values", V3, "2026-11-25T23:48:00Z", [
        ("cost", 12.5, 2.19, 17.50, "2026-11-25T23:00:00-05:00", "11:00 PM"),
        ("tokens", 10.0, 1900.0, 19000.0, "2026-11-25T23:00:00-05:00", "11:00 PM"),
        ("messages", 5.0, 12.0, 250.0, "2026-11-25T23:00:00-05:00", "11:00 PM"),
    ], ("idle", "active session"), []),
    # tokens shown twice (3.x): percentage from the bar row, used/limit from "Tokens:";
    # only a relative reset → observed + 1h 5m, across midnight and the year end
    VariantCase("3.x-tokens-row-relative-reset", V3_TOKENS_ONLY, "2026-12-31T23:20:00Z", [
        ("tokens", 12.3, 5432.0, 44000.0, "2027-01-01T00:25:00+00:00", "1h 5m"),
    ], ("idle", "active session"), []),
    # no percentage printed: computed only from exact numbers (~1.2k is not exact, so the
    # tokens row has no figure and no entry: a limit never carries a null used_pct)
    VariantCase("no-percentage", NO_PCT, "2026-11-25T06:48:00Z", [
        ("cost", 25.0, 5.0, 20.0, "2026-11-25T08:48:00+00:00", "2h 0m"),
    ], ("idle", "active session"), []),
    # a bar wrapped by the monitor: the value continues on the next lines; midnight in Berlin
    VariantCase("wrapped-bar-berlin-midnight", WRAPPED_PCT, "2026-11-25T18:01:00Z", [
        ("cost", 75.0, 105.0, 140.0, "2026-11-26T00:00:00+01:00", "12:00 AM"),
    ], ("idle", "active session"), []),
    # the pre-3.x script: "Token Reset" is the absolute reset, "~44,000" is not exact
    VariantCase("old-script-token-reset", OLD_SCRIPT, "2026-11-25T12:45:00Z", [
        ("tokens", 12.3, 5432.0, 44000.0, "2026-11-25T15:00:00+00:00", "15:00"),
    ], ("idle", "monitor screen"), []),
    VariantCase("no-data", NO_DATA, "2026-11-25T06:35:04Z", [], ("idle", "no active session"),
                ["No Claude data directory found", "No active session"]),
    VariantCase("exited", EXITED, "2026-11-25T23:48:00Z", [
        ("cost", 12.5, 2.19, 17.50, "2026-11-25T23:00:00-05:00", "11:00 PM"),
        ("tokens", 10.0, 1900.0, 19000.0, "2026-11-25T23:00:00-05:00", "11:00 PM"),
        ("messages", 5.0, 12.0, 250.0, "2026-11-25T23:00:00-05:00", "11:00 PM"),
    ], ("unknown", "shell prompt (claude-monitor is not running)"), []),
]


@pytest.mark.parametrize("case", VARIANT_CASES, ids=[c.test_id for c in VARIANT_CASES])
def test_variant(case: VariantCase) -> None:
    parser = ClaudeMonitorParser()
    assert parser.detect(case.text)
    usage = parser.parse(case.text, _at(case.observed_at), UTC)
    _check(usage, case.limits)
    assert (usage.state, usage.state_reason) == case.state
    assert pane_state(case.text) == case.state
    assert usage.warnings == case.warnings


def test_screen_zone_names() -> None:
    assert screen_zone("utc") == UTC
    assert screen_zone("america/new_york") == zoneinfo.ZoneInfo("America/New_York")
    assert screen_zone("Europe/Berlin") == zoneinfo.ZoneInfo("Europe/Berlin")
    assert screen_zone("mars/olympus") is None


def test_unknown_screen_zone_leaves_absolute_reset_unknown() -> None:
    text = NO_PCT.replace("[ custom | utc ]", "[ custom | mars/olympus ]").replace(
        "⏱️  Time to Reset:       2h 0m", "🔮 Predictions:\n   Limit resets at:     8:00 AM"
    )
    usage = ClaudeMonitorParser().parse(text, _at("2026-11-25T06:48:00Z"), UTC)
    assert [lim.resets_at for lim in usage.limits] == [None]
    assert usage.warnings == ["unknown zone on screen: mars/olympus"]


def test_detect_rejects_claude_code_and_noise() -> None:
    parser = ClaudeMonitorParser()
    assert not parser.detect(_fixture("claude-code-2.1.197-usage-tab-max-120x40.txt"))
    assert not parser.detect("Token Usage: lots\n")


ERROR_SCREEN = """✦ ✧ ✦ ✧ CLAUDE CODE USAGE MONITOR ✦ ✧ ✦ ✧
============================================================
[ pro | europe/warsaw ]

Failed to get usage data

Possible causes:
  • You are not logged into Claude
  • Network connection issues

Retrying in 3 seconds... (Ctrl+C to exit)
"""

NOTIFIED = V3.replace(
    "⏰ 6:48:00 PM", "🔄 Token limit exceeded (21,000 tokens)\n"
    "⚠️  You have exceeded the maximum cost limit!\n\n⏰ 6:48:00 PM"
)


def test_error_screen_is_a_warning_without_limits() -> None:
    usage = ClaudeMonitorParser().parse(ERROR_SCREEN, _at("2026-11-25T06:35:04Z"), UTC)
    assert (usage.limits, usage.warnings) == ([], ["Failed to get usage data"])
    assert (usage.state, usage.state_reason) == ("idle", "monitor screen")


def test_notifications_become_warnings_and_keep_figures() -> None:
    usage = ClaudeMonitorParser().parse(NOTIFIED, _at("2026-11-25T23:48:00Z"), UTC)
    assert usage.warnings == ["Token limit exceeded (21,000 tokens)",
                              "You have exceeded the maximum cost limit"]
    assert [lim.used_pct for lim in usage.limits] == [12.5, 10.0, 5.0]


@pytest.mark.parametrize("width", [40, 50, 60, 80, 100])
def test_fixture_wrapped_by_the_monitor_at_any_width(width: int) -> None:
    text = _fixture("claude-monitor-4.0.0-realtime-max5-1.txt")
    wrapped = "\n".join(part for line in text.split("\n") for part in wrap_to(line, width))
    usage = ClaudeMonitorParser().parse(wrapped, _at("2026-11-25T06:33:35Z"), UTC)
    _check(usage, MAX5)
