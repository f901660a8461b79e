"""Claude Code statusLine JSON → exact figures and one short status line."""

from __future__ import annotations

import datetime as dt
import typing as t

import pytest

from bus.clock import UTC
from scraper.sources.statusline import render_status_line, usage_from_statusline

FIVE_HOUR_RESET = 1795701600  # 2026-11-26T14:00:00Z
WEEK_RESET = 1796040000  # 2026-11-30T12:00:00Z
OBSERVED = dt.datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


def statusline(**overrides: t.Any) -> dict[str, t.Any]:
    """A statusLine object shaped like Claude Code 2.1 writes it."""
    obj: dict[str, t.Any] = {
        "hook_event_name": "Status",
        "session_id": "5b3a9c1e-0d2f-4e8a-9c71-2f6b8d0e4a13",
        "transcript_path": "/home/u/.claude/projects/x/5b3a.jsonl",
        "cwd": "/home/u/src/app",
        "model": {"id": "claude-opus-4-5-20251101", "display_name": "Opus 4.5"},
        "workspace": {"current_dir": "/home/u/src/app/api", "project_dir": "/home/u/src/app"},
        "version": "2.1.197",
        "output_style": {"name": "default"},
        "cost": {"total_cost_usd": 1.2345, "total_duration_ms": 45000},
        "context_window": {"context_window_size": 200000, "remaining_percentage": 62.5},
        "exceeds_200k_tokens": False,
        "rate_limits": {
            "five_hour": {"used_percentage": 23.0, "resets_at": FIVE_HOUR_RESET},
            "seven_day": {"used_percentage": 41.5, "resets_at": WEEK_RESET},
        },
    }
    obj.update(overrides)
    return obj


def test_full_statusline_reads_every_figure() -> None:
    usage = usage_from_statusline(statusline(), OBSERVED)
    assert (usage.provider, usage.screen) == ("claude", "claude.statusline")
    assert usage.model == "Opus 4.5"
    assert usage.version == "2.1.197"
    assert usage.context_left_pct == 62.5
    assert [(lim.window, lim.scope, lim.used_pct, lim.resets_at) for lim in usage.limits] == [
        ("5h", None, 23.0, dt.datetime(2026, 11, 26, 14, 0, tzinfo=UTC)),
        ("weekly", None, 41.5, dt.datetime(2026, 11, 30, 12, 0, tzinfo=UTC)),
    ]
    assert usage.extra["session_id"] == "5b3a9c1e-0d2f-4e8a-9c71-2f6b8d0e4a13"
    assert usage.extra["cwd"] == "/home/u/src/app/api"
    assert usage.extra["project_dir"] == "/home/u/src/app"
    assert usage.extra["cost_usd"] == 1.2345
    assert usage.extra["observed_at"] == "2026-11-26T10:00:00.000Z"
    line = render_status_line(usage, UTC)
    assert line == "Opus 4.5 · 5h 23% (resets 14:00) · wk 41.5%"


class Partial(t.NamedTuple):
    test_id: str
    rate_limits: t.Any
    limits: list[tuple[str, str | None, float, bool]]


PARTIAL = [
    Partial("absent", None, []),
    Partial("empty", {}, []),
    Partial("five-hour-only", {"five_hour": {"used_percentage": 7}}, [("5h", None, 7.0, False)]),
    Partial(
        "no-used-percentage",
        {"five_hour": {"resets_at": FIVE_HOUR_RESET}, "seven_day": {"used_percentage": 3}},
        [("weekly", None, 3.0, False)],
    ),
    Partial("garbage-values", {"five_hour": "x", "seven_day": {"used_percentage": True}}, []),
    Partial(
        "scoped-week",
        {"seven_day_opus": {"used_percentage": 12.0, "resets_at": WEEK_RESET}},
        [("weekly", "opus", 12.0, True)],
    ),
    Partial(
        "iso-reset",
        {"five_hour": {"used_percentage": 50, "resets_at": "2026-11-26T14:00:00Z"}},
        [("5h", None, 50.0, True)],
    ),
]


@pytest.mark.parametrize("case", PARTIAL, ids=[c.test_id for c in PARTIAL])
def test_partial_rate_limits(case: Partial) -> None:
    obj = statusline(rate_limits=case.rate_limits)
    if case.rate_limits is None:
        del obj["rate_limits"]
    usage = usage_from_statusline(obj, OBSERVED)
    got = [(lim.window, lim.scope, lim.used_pct, lim.resets_at is not None) for lim in usage.limits]
    assert got == case.limits
    assert render_status_line(usage, UTC).startswith("Opus 4.5")


def test_no_limits_shows_cost() -> None:
    obj = statusline()
    del obj["rate_limits"]
    assert render_status_line(usage_from_statusline(obj), UTC) == "Opus 4.5 · $1.23"


@pytest.mark.parametrize("obj", [None, [], "text", 3, {}])
def test_odd_input_gives_a_usage_without_limits(obj: object) -> None:
    usage = usage_from_statusline(obj)
    assert usage.limits == []
    line = render_status_line(usage, UTC)
    assert line and "\n" not in line
