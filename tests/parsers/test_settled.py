"""``card_settled(provider, text)``: the probe's test that the card it opened is fully drawn.

Real screens (tests/fixtures/screens, captured in a tight loop right after Enter) and the
texts Claude Code 2.1.197 prints while ``/usage`` loads (strings of its binary).
"""

from __future__ import annotations

import typing as t

import pytest

from scraper.parsers.settled import card_settled
from tests import FIXTURES

SCREENS = FIXTURES / "screens"


class Case(t.NamedTuple):
    test_id: str
    provider: str
    source: str  # "file:<path under screens>" or the screen text
    settled: bool


def _text(source: str) -> str:
    if source.startswith("file:"):
        return (SCREENS / source.removeprefix("file:")).read_text(encoding="utf-8")
    return source


TABS = "  Settings  Status   Config   Usage   Stats\n\n"
ROW = "  Current session\n  █████████▌    37% used\n  Resets 6:08pm (UTC)\n\n"
END = "  Esc to cancel\n"
C = "claude/claude-code-2.1.197-"

CASES = [
    # real renders of one /usage, in the order Claude drew them
    Case("first-render-refreshing", "claude", f"file:{C}usage-refreshing-stale-120x40.txt", False),
    Case("first-render-refreshing-ansi", "claude",
         f"file:{C}usage-refreshing-stale-120x40.ansi.txt", False),
    Case("server-figures-still-scanning", "claude", f"file:{C}usage-scanning-120x40.txt", False),
    Case("settled", "claude", f"file:{C}usage-settled-120x40.txt", True),
    Case("refreshing-after-hit-60-cols", "claude",
         f"file:{C}usage-refreshing-after-hit-60x40.txt", False),
    Case("settled-credits-60-cols", "claude", f"file:{C}usage-credits-60x40.txt", True),
    Case("settled-credits-unlimited", "claude", f"file:{C}usage-credits-unlimited-120x40.txt",
         True),
    Case("2.0-card", "claude", "file:claude/claude-code-2.0.76-usage-tab-max-120x40.txt", True),
    Case("no-dialog-main-screen", "claude", f"file:{C}main-idle-max.txt", False),
    Case("hit-banner-no-dialog", "claude", f"file:{C}hit-session-limit-120x40.txt", False),
    # what Claude prints in other loading states (derived from the binary's strings)
    Case("loading-no-cached-figures", "claude", TABS + "  Loading usage data…\n\n" + END, False),
    Case("refresh-failed-keeps-snapshot", "claude",
         TABS + ROW + "  Could not refresh usage data\n  r to retry · Esc to cancel\n", True),
    Case("rate-limited-keeps-snapshot", "claude",
         TABS + ROW + "  Per-model breakdown unavailable (rate limited — try again in a moment)\n"
         + END, True),
    Case("load-failed", "claude", TABS + "  Error: Failed to load usage data\n\n" + END, True),
    Case("cut-before-esc", "claude", TABS + ROW, False),
    Case("status-tab-is-not-usage", "claude",
         TABS + "  Version: 2.1.197\n  Model: Opus 4.8\n" + END, False),
    Case("approximate-caption-stays-on-settled-card", "claude",
         TABS + ROW + "  What's contributing to your limits usage?\n  Approximate, based on local "
         "sessions on this machine — does not include other devices or claude.ai\n"
         "  Last 24h · these are independent characteristics of your usage, not a breakdown\n"
         + END, True),
    Case("older-settled-dialog-newer-refreshing", "claude",
         TABS + ROW + END + "\n❯ /usage\n" + TABS + ROW + "  Refreshing…\n" + END, False),
    # Codex draws /status once
    Case("codex-status-card", "codex",
         "file:codex/codex-0.169.0-status-chatgpt-plus-5h77-weekly42-noturn.txt", True),
    Case("codex-status-card-0.50", "codex",
         "file:codex/codex-0.50.0-status-apikey-after-turn-5h42used-weekly18used.txt", True),
    Case("codex-composer-no-card", "codex",
         "file:codex/codex-0.169.0-main-composer-chatgpt-fresh.txt", False),
    Case("codex-sign-in", "codex", "file:codex/codex-0.169.0-signin-choose-method.txt", False),
    # no probe card for these
    Case("monitor-has-no-card", "claude-monitor",
         "file:claude/claude-monitor-4.0.0-realtime-max5-1.txt", False),
    Case("claude-screen-asked-as-codex", "codex", f"file:{C}usage-settled-120x40.txt", False),
    Case("noise", "claude", "\x00\x1b[?\n│││\n", False),
]


@pytest.mark.parametrize("case", CASES, ids=[c.test_id for c in CASES])
def test_card_settled(case: Case) -> None:
    assert card_settled(case.provider, _text(case.source)) is case.settled
