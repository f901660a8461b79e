"""The alias cache on real files: selection by freshness and confidence, rendering, ages."""

from __future__ import annotations

import datetime as dt
import typing as t

from bus.clock import utcnow
from sinks import alias_cache, alias_render
from tests.sinks.frames import limit, parsed, stamp

if t.TYPE_CHECKING:
    from pathlib import Path

M = dt.timedelta(minutes=1)


def codex(used5: float, used_week: float, at: dt.datetime, confidence: str = "parsed",
          stale_after: dt.datetime | None = None) -> dict[str, t.Any]:
    return stamp(
        parsed(
            [limit("5h", used5, at + 60 * M), limit("weekly", used_week, at + 3000 * M)],
            at=at,
            confidence=confidence,
            kind="log" if confidence == "official" else "screen",
            screen="codex.rollout" if confidence == "official" else "codex.status",
            stale_after=stale_after,
            model="gpt-5.1-codex",
        )
    )


def shown(alias_dir: Path, name: str, now: dt.datetime | None = None) -> list[str]:
    epoch = int((now or utcnow()).timestamp())
    lines = alias_cache.read_alias(alias_dir, name, epoch)
    assert lines is not None
    return lines


def test_occ_shows_figures_model_and_age_then_stale(tmp_path: Path) -> None:
    now = utcnow()
    body = codex(23, 42, now - 12 * dt.timedelta(seconds=1), stale_after=now + 10 * M)
    assert alias_cache.update(tmp_path, [body])
    (line,) = shown(tmp_path, "occ", now)
    assert line.startswith("codex 5h 23% (resets ")
    assert "weekly 42%" in line and "gpt-5.1-codex" in line and line.endswith("12s ago")
    (later,) = shown(tmp_path, "occ", now + 11 * M)
    assert later.endswith("11m ago [stale]")
    assert not alias_cache.update(tmp_path, [body])  # the same frame again changes nothing


def test_newer_exact_screen_beats_older_official_even_once_stale(tmp_path: Path) -> None:
    now = utcnow()
    official = codex(30, 50, now - 2 * M, confidence="official")
    screen = codex(31, 51, now - M, stale_after=now + 10 * M)
    alias_cache.update(tmp_path, [official, screen])
    state = alias_cache.load_state(tmp_path)
    figure = state["providers"]["codex"]["figures"]["5h||quota"]
    assert figure["used_pct"] == 31 and figure["source"]["kind"] == "screen"
    # twenty minutes on both are stale: the newer observation still wins (never roll back)
    alias_cache.select(state, now + 20 * M)
    assert state["providers"]["codex"]["figures"]["5h||quota"]["used_pct"] == 31
    newer_official = codex(33, 52, now + 19 * M, confidence="official")
    alias_cache.apply_frame(state, newer_official)
    alias_cache.select(state, now + 20 * M)
    assert state["providers"]["codex"]["figures"]["5h||quota"]["used_pct"] == 33


def test_acm_shows_session_week_scopes_and_monitor_and_os_both(tmp_path: Path) -> None:
    now = utcnow()
    claude = stamp(
        parsed(
            [
                limit("5h", 45, now + 60 * M),
                limit("weekly", 30, now + 3000 * M),
                limit("weekly", 12, now + 3000 * M, scope="sonnet only"),
            ],
            at=now,
            provider="claude",
            screen="claude.usage",
        )
    )
    monitor = stamp(
        parsed(
            [limit("5h", 61.5, now + 60 * M, metric="tokens", estimate=True)],
            at=now,
            provider="claude-monitor",
            screen="claude-monitor.realtime",
        )
    )
    alias_cache.update(tmp_path, [claude, monitor, codex(1, 2, now)])
    acm = shown(tmp_path, "acm", now)
    assert acm[0].startswith("claude session 45%") and "week 30%" in acm[0]
    assert "sonnet only 12%" in acm[0]
    assert acm[1].startswith("claude-monitor tokens 61.5%") and "(estimates)" in acm[1]
    os_lines = shown(tmp_path, "os", now)
    assert [line.split()[0] for line in os_lines] == ["codex", "claude"]


def test_missing_provider_says_no_data_and_render_matches_shell_rules() -> None:
    lines = alias_render.alias_lines({}, utcnow())
    assert [line.text for line in lines["os"]] == ["codex: no data yet", "claude: no data yet"]
    assert alias_render.render_at("100\t0\tx @age@", 100 + 3 * 3600 + 5) == "x 3h ago"
    assert alias_render.render_at("100\t150\tx @age@", 200) == "x 1m ago [stale]"
    assert alias_render.render_at("0\t0\tno data", 10**9) == "no data"
    assert alias_render.format_age(-5) == "0s ago" and alias_render.format_age(90000) == "1d ago"


def test_ccusage_totals_are_kept_per_report_with_recent_periods(tmp_path: Path) -> None:
    report = parsed([], at=utcnow(), provider="ccusage", screen="ccusage.weekly.claude")
    report.update(
        report="weekly",
        agent="claude",
        totals={"total_tokens": 1234, "cost_usd": 5.5},
        periods=[{"period": f"w{n}"} for n in range(20)],
    )
    assert alias_cache.update(tmp_path, [stamp(report)])
    kept = alias_cache.load_state(tmp_path)["providers"]["ccusage"]["screens"]
    assert kept["ccusage.weekly.claude"]["totals"] == {"total_tokens": 1234, "cost_usd": 5.5}
    periods = [p["period"] for p in kept["ccusage.weekly.claude"]["periods"]]
    assert periods == [f"w{n}" for n in range(6, 20)]


def test_only_files_whose_bytes_change_are_rewritten(tmp_path: Path) -> None:
    def inodes() -> dict[str, int]:
        return {p.name: p.stat().st_ino for p in tmp_path.iterdir() if not p.name.startswith(".")}

    now = utcnow()
    assert alias_cache.update(tmp_path, [codex(23, 42, now - M, stale_after=now + 10 * M)])
    first = inodes()
    assert set(first) == {"state.json", "occ", "acm", "os"}
    # The periodic re-render of a quiet cache (the sink's tick) replaces nothing.
    alias_cache.update(tmp_path, force=True)
    assert inodes() == first
    # A new Codex figure: occ, os and the state move; acm (Claude) is left alone.
    assert alias_cache.update(tmp_path, [codex(30, 42, now, stale_after=now + 10 * M)])
    second = inodes()
    assert second["acm"] == first["acm"]
    assert all(second[name] != first[name] for name in ("occ", "os", "state.json"))
    assert shown(tmp_path, "occ")[0].startswith("codex 5h 30% ")
    assert all((tmp_path / name).stat().st_mode & 0o777 == 0o600 for name in second)
    assert not [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    # A file someone removed comes back on the next re-render.
    (tmp_path / "acm").unlink()
    alias_cache.update(tmp_path, force=True)
    assert shown(tmp_path, "acm") == ["claude: no data yet"]
    assert inodes()["occ"] == second["occ"]
