"""Issue 12, item 3: a limit hit is 100 % used. The real agents' limit-hit screens (served
used >= 100, then a turn) must give that window used_pct 100, and no limit entry anywhere may
carry a null used_pct (a figure or no entry)."""

from __future__ import annotations

import typing as t

from tests.waiting import wait_for

if t.TYPE_CHECKING:
    from tests.live.conftest import Harness, Panebus


def null_entries(panebus: Panebus, provider: str) -> list[tuple[str, dict[str, t.Any]]]:
    return [
        (body["screen"], limit) for body in panebus.parsed(provider)
        for limit in body.get("limits") or [] if limit.get("used_pct") is None
    ]


def banner_frames(panebus: Panebus, provider: str, banner: str) -> list[dict[str, t.Any]]:
    """Parsed frames of screens that show ``banner``, newest last."""
    return [
        body for body in panebus.parsed(provider)
        if (raw := panebus.raw(body.get("raw_id") or "")) is not None
        and banner in raw.get("text", "")
    ]


def test_claude_session_limit_hit_is_100_used(harness: Harness, panebus: Panebus) -> None:
    banner = "You've hit your session limit"
    harness.clear("claude")
    harness.set_limits("claude", "session=100", "week=41")
    try:
        harness.turn("claude", "hello at the session limit")
        assert banner in harness.screen("claude"), harness.screen("claude")
        frames = wait_for(lambda: banner_frames(panebus, "claude", banner), timeout=20,
                          message="a parsed frame of the limit-hit screen")
        assert not null_entries(panebus, "claude"), null_entries(panebus, "claude")
        five_hour = [lim for lim in frames[-1]["limits"] if lim["window"] == "5h"]
        assert [lim["used_pct"] for lim in five_hour] == [100.0], frames[-1]["limits"]
        panebus.wait_shows("acm", "claude", {"5h": 100.0}, "acm showing the hit limit")
    finally:
        harness.set_limits("claude", "session=20")
        harness.clear("claude")


def test_codex_5h_limit_hit_is_100_used(harness: Harness, panebus: Panebus) -> None:
    banner = "hit your usage limit"
    harness.clear("codex")
    harness.set_limits("codex", "5h=100", "weekly=31")
    try:
        harness.turn("codex", "hello at the 5h limit")
        assert banner in harness.screen("codex"), harness.screen("codex")
        frames = wait_for(lambda: banner_frames(panebus, "codex", banner), timeout=20,
                          message="a parsed frame of the limit-hit screen")
        assert not null_entries(panebus, "codex"), null_entries(panebus, "codex")
        for body in frames:
            for limit in body["limits"]:
                if limit["window"] == "5h":
                    assert limit["used_pct"] >= 99.0, body["limits"]
        panebus.wait_shows("occ", "codex", {"5h": 100.0}, "occ showing the hit limit")
    finally:
        harness.set_limits("codex", "5h=20")
        harness.clear("codex")
