"""ccusage periods are matched to the usage windows they overlap, once per pair."""

from __future__ import annotations

import typing as t

from sinks.windows import Window, correlate_report


def weekly_window(resets_at: str) -> Window:
    return Window(
        provider="claude", window="weekly", scope=None, window_id="claude-weekly-1",
        opened_at="2026-11-22T12:00:00.000Z", used_pct=41.0, peak_pct=41.0,
        resets_at=resets_at, last_observed_at="2026-11-25T10:00:00.000Z",
    )


def report(*periods: tuple[str, str, str]) -> dict[str, t.Any]:
    return {
        "report": "weekly", "agent": "claude", "agents": ["claude"], "id": "f1",
        "observed_at": "2026-11-25T10:00:00.000Z",
        "periods": [
            {"period": name, "start": start, "end": end, "total_tokens": 10, "cost_usd": 1.5,
             "agent": "claude"}
            for name, start, end in periods
        ],
    }


def test_weeks_overlapping_the_window_are_matched_with_their_overlap() -> None:
    window = weekly_window("2026-11-28T12:00:00.000Z")  # spans Nov 21 12:00 → Nov 28 12:00
    body = report(("2026-11-08", "2026-11-08", "2026-11-14"),
                  ("2026-11-15", "2026-11-15", "2026-11-21"),
                  ("2026-11-22", "2026-11-22", "2026-11-28"))
    records = correlate_report([window], body)
    assert [r["period"] for r in records] == ["2026-11-15", "2026-11-22"]
    assert records[0]["overlap_hours"] == 12.0  # Nov 21 12:00 → Nov 22 00:00
    assert records[1]["overlap_hours"] == 6 * 24 + 12
    assert len({r["event_id"] for r in records}) == 2


def test_other_providers_windows_and_reports_are_not_matched() -> None:
    window = weekly_window("2026-11-28T12:00:00.000Z")
    body = report(("2026-11-22", "2026-11-22", "2026-11-28"))
    assert correlate_report([window], {**body, "agents": ["codex"], "agent": "codex"}) == []
    assert correlate_report([window], {**body, "report": "daily"}) == []
    no_reset = weekly_window("2026-11-28T12:00:00.000Z")
    no_reset.resets_at = None
    assert correlate_report([no_reset], body) == []
