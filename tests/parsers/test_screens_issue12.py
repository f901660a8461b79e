"""The real screens of issue 12, one row each: who the screen is, its state, every figure.

Each file under ``tests/fixtures/screens`` named here was rendered by the real program (see
that folder's README for how and when). A row is read at its capture time in UTC (the zone the
programs ran in); ``.ansi.txt`` twins, where present, must read the same.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import typing as t

import pytest

from scraper.parsers import registry
from tests import FIXTURES

SCREENS = FIXTURES / "screens"


class L(t.NamedTuple):
    """An expected limit: window, scope, used %, reset instant, estimate."""

    window: str
    scope: str | None
    used_pct: float
    resets_at: str
    estimate: bool = False


@dataclasses.dataclass(frozen=True)
class Row:
    name: str
    observed_at: str
    provider: str
    screen: str
    state: str
    limits: list[L]


ROWS = [
    Row("claude/claude-code-2.1.197-usage-refreshing-stale-120x40",
        "2026-12-03T15:37:57Z", "claude", "claude.usage", "idle", [
            L("5h", None, 37.0, "2026-12-03T18:08:00+00:00", estimate=True),
            L("weekly", None, 64.0, "2026-12-06T21:37:00+00:00", estimate=True),
        ]),
    Row("claude/claude-code-2.1.197-usage-scanning-120x40",
        "2026-12-03T15:37:57Z", "claude", "claude.usage", "idle", [
            L("5h", None, 66.0, "2026-12-03T18:08:00+00:00"),
            L("weekly", None, 35.0, "2026-12-06T21:37:00+00:00"),
            L("weekly", "sonnet only", 7.0, "2026-12-06T21:37:00+00:00"),
        ]),
    Row("claude/claude-code-2.1.197-usage-settled-120x40",
        "2026-12-03T15:37:57Z", "claude", "claude.usage", "idle", [
            L("5h", None, 66.0, "2026-12-03T18:08:00+00:00"),
            L("weekly", None, 35.0, "2026-12-06T21:37:00+00:00"),
            L("weekly", "sonnet only", 7.0, "2026-12-06T21:37:00+00:00"),
        ]),
    Row("claude/claude-code-2.1.197-usage-refreshing-after-hit-120x40",
        "2026-12-03T15:44:38Z", "claude", "claude.usage", "idle", [
            L("5h", None, 100.0, "2026-12-03T18:43:00+00:00", estimate=True),
            L("weekly", None, 35.0, "2026-12-06T21:37:00+00:00", estimate=True),
        ]),
    Row("claude/claude-code-2.1.197-usage-refreshing-after-hit-60x40",
        "2026-12-03T15:44:55Z", "claude", "claude.usage", "idle", [
            L("5h", None, 100.0, "2026-12-03T18:43:00+00:00", estimate=True),
            L("weekly", None, 35.0, "2026-12-06T21:37:00+00:00", estimate=True),
        ]),
    Row("claude/claude-code-2.1.197-usage-credits-120x40",
        "2026-12-03T15:44:38Z", "claude", "claude.usage", "idle", [
            L("5h", None, 42.0, "2026-12-03T18:04:00+00:00"),
            L("weekly", None, 64.0, "2026-12-06T21:44:00+00:00"),
            L("weekly", "sonnet only", 12.0, "2026-12-06T21:44:00+00:00"),
            L("monthly", "credits", 24.0, "2027-01-01T00:00:00+00:00"),
        ]),
    Row("claude/claude-code-2.1.197-usage-credits-80x40",
        "2026-12-03T15:44:42Z", "claude", "claude.usage", "idle", [
            L("5h", None, 42.0, "2026-12-03T18:04:00+00:00"),
            L("weekly", None, 64.0, "2026-12-06T21:44:00+00:00"),
            L("weekly", "sonnet only", 12.0, "2026-12-06T21:44:00+00:00"),
            L("monthly", "credits", 24.0, "2027-01-01T00:00:00+00:00"),
        ]),
    Row("claude/claude-code-2.1.197-usage-credits-64x40",
        "2026-12-03T15:44:47Z", "claude", "claude.usage", "idle", [
            L("5h", None, 42.0, "2026-12-03T18:04:00+00:00"),
            L("weekly", None, 64.0, "2026-12-06T21:44:00+00:00"),
            L("weekly", "sonnet only", 12.0, "2026-12-06T21:44:00+00:00"),
            L("monthly", "credits", 24.0, "2027-01-01T00:00:00+00:00"),
        ]),
    Row("claude/claude-code-2.1.197-usage-credits-63x40",
        "2026-12-03T15:44:51Z", "claude", "claude.usage", "idle", [
            L("5h", None, 42.0, "2026-12-03T18:04:00+00:00"),
            L("weekly", None, 64.0, "2026-12-06T21:44:00+00:00"),
            L("weekly", "sonnet only", 12.0, "2026-12-06T21:44:00+00:00"),
            L("monthly", "credits", 24.0, "2027-01-01T00:00:00+00:00"),
        ]),
    Row("claude/claude-code-2.1.197-usage-credits-60x40",
        "2026-12-03T15:44:55Z", "claude", "claude.usage", "idle", [
            L("5h", None, 42.0, "2026-12-03T18:04:00+00:00"),
            L("weekly", None, 64.0, "2026-12-06T21:44:00+00:00"),
            L("weekly", "sonnet only", 12.0, "2026-12-06T21:44:00+00:00"),
            L("monthly", "credits", 24.0, "2027-01-01T00:00:00+00:00"),
        ]),
    Row("claude/claude-code-2.1.197-usage-credits-unlimited-120x40",
        "2026-12-03T15:45:12Z", "claude", "claude.usage", "idle", [
            L("5h", None, 42.0, "2026-12-03T18:04:00+00:00"),
            L("weekly", None, 64.0, "2026-12-06T21:44:00+00:00"),
            L("weekly", "sonnet only", 12.0, "2026-12-06T21:44:00+00:00"),
        ]),
    Row("claude/claude-code-2.1.197-hit-session-limit-120x40",
        "2026-12-03T15:44:01Z", "claude", "claude.banner", "idle", [
            L("5h", None, 100.0, "2026-12-03T18:43:00+00:00"),
        ]),
    Row("claude/claude-code-2.1.197-hit-weekly-limit-60x40",
        "2026-12-03T15:58:30Z", "claude", "claude.banner", "idle", [
            L("5h", None, 100.0, "2026-12-03T18:43:00+00:00"),
            L("weekly", None, 100.0, "2026-12-05T18:58:00+00:00"),
        ]),
    Row("codex/codex-0.169.0-signin-choose-method",
        "2026-12-03T15:45:41Z", "codex", "codex.login", "waiting", []),
    Row("codex/codex-0.169.0-signin-another-way",
        "2026-12-03T15:45:44Z", "codex", "codex.login", "waiting", []),
    Row("codex/codex-0.169.0-signin-api-key-entry",
        "2026-12-03T15:45:49Z", "codex", "codex.login", "waiting", []),
    Row("codex/codex-0.169.0-signin-finish-in-browser",
        "2026-12-03T15:46:01Z", "codex", "codex.login", "waiting", []),
    Row("codex/codex-0.169.0-update-available-prompt",
        "2026-12-03T15:46:38Z", "codex", "codex.update", "waiting", []),
    Row("codex/codex-0.169.0-update-available-banner-main",
        "2026-12-03T15:46:47Z", "codex", "codex.main", "idle", []),
    Row("codex/codex-0.169.0-exec-output",
        "2026-12-03T15:47:23Z", "codex", "codex.exec", "unknown", []),
    Row("codex/codex-0.169.0-exec-untrusted-dir",
        "2026-12-03T15:47:10Z", "codex", "codex.exec", "unknown", []),
    Row("codex/codex-0.169.0-exec-usage-limit",
        "2026-12-03T15:47:35Z", "codex", "codex.exec", "unknown", []),
    Row("codex/codex-0.169.0-hit-usage-limit-main",
        "2026-12-03T15:44:12Z", "codex", "codex.main", "idle", [
            L("5h", None, 100.0, "2026-12-03T18:56:00+00:00"),
        ]),
    Row("codex/codex-0.169.0-status-below-hit-usage-limit",
        "2026-12-03T15:44:19Z", "codex", "codex.status", "idle", [
            L("5h", None, 100.0, "2026-12-03T18:56:00+00:00"),
            L("weekly", None, 58.0, "2026-12-07T20:37:00+00:00"),
        ]),
    Row("claude/claude-monitor-4.0.0-daily-120x40-title-scrolled-off",
        "2026-12-03T15:47:50Z", "claude-monitor", "claude-monitor.daily", "idle", []),
    Row("claude/claude-monitor-4.0.0-daily-120-with-scrollback",
        "2026-12-03T15:47:52Z", "claude-monitor", "claude-monitor.daily", "idle", []),
    Row("claude/claude-monitor-4.0.0-daily-80x40",
        "2026-12-03T15:48:34Z", "claude-monitor", "claude-monitor.report", "idle", []),
    Row("claude/claude-monitor-4.0.0-monthly-120x40",
        "2026-12-03T15:48:22Z", "claude-monitor", "claude-monitor.monthly", "idle", []),
    Row("claude/claude-monitor-4.0.0-monthly-80x40",
        "2026-12-03T15:48:41Z", "claude-monitor", "claude-monitor.monthly", "idle", []),
    Row("claude/claude-monitor-4.0.0-no-data-directory",
        "2026-12-03T15:49:11Z", "claude-monitor", "claude-monitor.no-data", "unknown", []),
    Row("claude/claude-monitor-4.0.0-no-data-daily",
        "2026-12-03T15:49:17Z", "claude-monitor", "claude-monitor.no-data", "unknown", []),
    Row("claude/claude-monitor-4.0.0-no-data-monthly",
        "2026-12-03T15:49:24Z", "claude-monitor", "claude-monitor.no-data", "unknown", []),
    Row("claude/claude-monitor-4.0.0-realtime-no-data",
        "2026-12-03T15:49:31Z", "claude-monitor", "claude-monitor.realtime", "idle", []),
    Row("ccusage/ccusage-20.0.24-daily-120x45",
        "2026-12-03T15:50:46Z", "ccusage", "ccusage.daily", "unknown", []),
    Row("ccusage/ccusage-20.0.24-daily-80x45",
        "2026-12-03T15:53:34Z", "ccusage", "ccusage.daily", "unknown", []),
    Row("ccusage/ccusage-20.0.24-weekly-120x45",
        "2026-12-03T15:51:18Z", "ccusage", "ccusage.weekly", "unknown", []),
    Row("ccusage/ccusage-20.0.24-weekly-80x45",
        "2026-12-03T15:54:06Z", "ccusage", "ccusage.weekly", "unknown", []),
    Row("ccusage/ccusage-20.0.24-monthly-120x45",
        "2026-12-03T15:51:51Z", "ccusage", "ccusage.monthly", "unknown", []),
    Row("ccusage/ccusage-20.0.24-monthly-80x45",
        "2026-12-03T15:54:38Z", "ccusage", "ccusage.monthly", "unknown", []),
    Row("ccusage/ccusage-20.0.24-session-120x45",
        "2026-12-03T15:52:24Z", "ccusage", "ccusage.session", "unknown", []),
    Row("ccusage/ccusage-20.0.24-session-80x45",
        "2026-12-03T15:55:10Z", "ccusage", "ccusage.session", "unknown", []),
    Row("ccusage/ccusage-20.0.24-blocks-120x45",
        "2026-12-03T15:52:56Z", "ccusage", "ccusage.blocks", "unknown", []),
    Row("ccusage/ccusage-20.0.24-blocks-80x45",
        "2026-12-03T15:55:42Z", "ccusage", "ccusage.blocks", "unknown", []),
    Row("ccusage/ccusage-17.2.1-blocks-live-120x45",
        "2026-12-03T15:56:02Z", "ccusage", "ccusage.live", "idle", []),
    Row("ccusage/ccusage-17.2.1-blocks-live-80x45",
        "2026-12-03T15:56:09Z", "ccusage", "ccusage.live", "idle", []),
    Row("ccusage/ccusage-17.2.1-daily-120x45",
        "2026-12-03T15:56:42Z", "ccusage", "ccusage.daily", "unknown", []),
    Row("ccusage/ccusage-17.2.1-blocks-120x45",
        "2026-12-03T15:57:16Z", "ccusage", "ccusage.blocks", "unknown", []),
]


def _read(row: Row, suffix: str) -> dict[str, t.Any] | None:
    path = SCREENS / f"{row.name}{suffix}"
    if not path.exists():
        return None
    seen = dt.datetime.fromisoformat(row.observed_at.replace("Z", "+00:00"))
    usage = registry.parse_screen(path.read_text(encoding="utf-8"), seen, dt.timezone.utc)
    assert usage is not None, f"{path.name}: not recognised"
    return usage.to_dict()


@pytest.mark.parametrize("row", ROWS, ids=[r.name.split("/")[1] for r in ROWS])
def test_real_screen(row: Row) -> None:
    for suffix in (".txt", ".ansi.txt"):
        out = _read(row, suffix)
        if out is None:
            assert suffix == ".ansi.txt"
            continue
        assert (out["provider"], out["screen"], out["state"]) == (
            row.provider, row.screen, row.state), out["state_reason"]
        assert out["state_reason"]
        got = [
            L(lim["window"], lim["scope"], lim["used_pct"],
              dt.datetime.fromisoformat(lim["resets_at"]).astimezone(dt.timezone.utc).isoformat(),
              lim["estimate"])
            for lim in out["limits"]
        ]
        assert got == row.limits


def test_every_row_is_a_real_file() -> None:
    """The table names files that exist, each once."""
    names = [row.name for row in ROWS]
    assert len(set(names)) == len(names)
    for name in names:
        assert (SCREENS / f"{name}.txt").is_file(), name
